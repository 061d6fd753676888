"""Fixtures for the differential tests: one shared pool runs every process.

Each differential test is parametrized with a ``case`` (reference.Case) and a
``variant`` (reference.Variant). At the first use of the ``differential``
fixture, the runs that the *selected* tests need (both tools, every selected
case and variant) are all submitted to a small thread pool, so the slow part,
starting ~600 processes, overlaps; a test then only waits for its own two
results. Running one test with ``-k`` starts only that test's processes.
"""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import threading

import pytest

import reference
from reference import Case, Variant

WORKERS = int(os.environ.get("DOCKYARD_CONFORMANCE_WORKERS", "4"))


def pytest_report_header(config: pytest.Config) -> list[str]:
    binary = reference.find_reference()
    version = reference.reference_version() if binary else None
    return [
        f"reference: {binary or 'not installed'} (version {version or 'unknown'}, "
        f"expected {reference.REFERENCE_VERSION})",
        f"dockyard: {' '.join(reference.dockyard_command())}",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if reference.find_reference() is not None:
        return
    if os.environ.get("CI"):  # `make test` installs it; CI must never skip these
        raise pytest.UsageError("Docker Compose v2 (the reference) is not installed")
    skip = pytest.mark.skip(reason="Docker Compose v2 is not installed (pip install -e '.[test]')")
    for item in items:
        if item.get_closest_marker("reference"):
            item.add_marker(skip)


class Differential:
    """Runs (tool, case, variant) once each, in a thread pool, on demand."""

    def __init__(self, home: str, workers: int) -> None:
        self._home = home
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
        self._futures: dict[tuple[str, str, tuple[str, ...]], concurrent.futures.Future] = {}
        self._lock = threading.Lock()

    def submit(self, tool: str, case: Case, variant: Variant) -> concurrent.futures.Future:
        key = (tool, case.id, variant.args)
        with self._lock:
            if key not in self._futures:
                self._futures[key] = self._pool.submit(
                    reference.RUNNERS[tool], case.command(variant.args), case.cwd,
                    case.env(), self._home,
                )
            return self._futures[key]

    def run(self, tool: str, case: Case, variant: Variant) -> subprocess.CompletedProcess[str]:
        return self.submit(tool, case, variant).result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@pytest.fixture(scope="session")
def differential(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    # One HOME for both tools and every case: `~` in a compose file must
    # expand to the same path on both sides.
    home = str(tmp_path_factory.mktemp("home"))
    runner = Differential(home, WORKERS)
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        case, variant = params.get("case"), params.get("variant")
        if isinstance(case, Case) and isinstance(variant, Variant):
            for tool in reference.RUNNERS:
                runner.submit(tool, case, variant)
    yield runner
    runner.close()

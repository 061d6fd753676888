"""End-to-end: the ``dockyard`` CLI as a subprocess, against a real daemon
in a network namespace of the test's own (tests/api/conftest.py's
``daemon``), with unique project names; every project is taken down in
``finally`` and the daemon fixture's leak check runs after it."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.conftest import daemon  # noqa: F401 - the fixture

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


@dataclass
class Project:
    directory: Path
    name: str
    env: dict
    daemon: object

    def write(self, text: str, filename: str = "compose.yaml") -> Path:
        path = self.directory / filename
        path.write_text(textwrap.dedent(text))
        return path

    def run(self, *args: str, timeout: float = 120, input: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([DOCKYARD, "-p", self.name, *args], cwd=self.directory, env=self.env,
                              capture_output=True, timeout=timeout, input=input)

    def ok(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        done = self.run(*args, **kwargs)
        assert done.returncode == 0, (args, done.stdout.decode(), done.stderr.decode())
        return done


@pytest.fixture
def project(daemon, tmp_path):  # noqa: F811 - the fixture above
    directory = tmp_path / "project"
    directory.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DOCKYARD_HOST": f"unix://{daemon.socket}"}
    made = Project(directory, f"e2e{uuid.uuid4().hex[:8]}", env, daemon)
    try:
        yield made
    finally:
        if (directory / "compose.yaml").exists():
            made.run("down", "-v", "-t", "0", "--remove-orphans")

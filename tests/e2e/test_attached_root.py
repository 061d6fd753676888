"""Attached ``up``: prefixed output, Ctrl-C (in a pty) stops the project
gracefully, ``--abort-on-container-exit`` and ``--exit-code-from``."""
from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import time

import pytest

from tests.e2e.conftest import DOCKYARD

pytestmark = pytest.mark.root


def _state(project, name: str) -> dict:
    return json.loads(project.daemon.docker("inspect", name).stdout)[0]["State"]


def test_ctrl_c_stops_the_project_gracefully(project):
    project.write("""
        services:
          talker:
            image: busybox
            command: ["sh", "-c", "trap 'echo bye; exit 0' TERM; echo hello; while :; do sleep 0.1; done"]
        """)
    main, child = pty.openpty()
    process = subprocess.Popen([DOCKYARD, "-p", project.name, "--ansi", "never", "up"], cwd=project.directory,
                               env=project.env, stdin=child, stdout=child, stderr=child, start_new_session=True)
    os.close(child)
    seen = b""
    deadline = time.monotonic() + 30
    while b"talker-1  | hello" not in seen and time.monotonic() < deadline:
        seen += os.read(main, 65536)
    assert b"talker-1  | hello" in seen, seen
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does in a terminal
    while True:  # all it wrote, also after it ended (the terminal keeps it)
        ready, _, _ = select.select([main], [], [], 0.5)
        if not ready:
            if process.poll() is not None or time.monotonic() > deadline:
                break
            continue
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: no writer is left
            break
        if not chunk:
            break
        seen += chunk
    assert process.wait(timeout=30) == 130
    assert b"Gracefully stopping..." in seen and b"talker-1  | bye" in seen, seen
    assert _state(project, f"{project.name}-talker-1")["ExitCode"] == 0  # it got SIGTERM and ended well
    os.close(main)


def test_abort_on_container_exit_and_exit_code_from(project):
    project.write("""
        services:
          job:
            image: busybox
            command: ["sh", "-c", "echo working; sleep 0.5; exit 3"]
          server:
            image: busybox
            command: ["sleep", "600"]
        """)
    done = project.run("up", "--abort-on-container-exit")
    assert done.returncode == 3, done.stderr
    assert b"job-1     | working" in done.stdout and b"exited with code 3" in done.stdout
    assert _state(project, f"{project.name}-server-1")["Running"] is False
    done = project.run("up", "--exit-code-from", "server", "--no-log-prefix")
    assert done.returncode == 137 or done.returncode == 143 or done.returncode == 0, done
    assert b"working\n" in done.stdout  # no prefix

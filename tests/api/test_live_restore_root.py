"""Live restore: containers do not depend on the daemon. kill -9 it with
containers running, start it again: nothing lost."""
from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.api.conftest import REPO, _wait_for

pytestmark = pytest.mark.root


def _restart(daemon, tmp_path) -> None:
    daemon.process.send_signal(signal.SIGKILL)
    daemon.process.wait(timeout=10)
    daemon.socket.unlink(missing_ok=True)  # a killed daemon leaves its socket
    log = tmp_path / "daemon-again.log"
    argv = list(daemon.process.args)
    daemon.process = subprocess.Popen(argv, cwd=REPO, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    _wait_for(daemon.socket, daemon.process, log)


def test_kill_9_of_the_daemon_loses_nothing(daemon, tmp_path):
    assert daemon.docker("run", "-d", "--name", "long", "busybox", "sh", "-c",
                         "echo one; sleep 30").returncode == 0
    assert daemon.docker("run", "-d", "--name", "short", "busybox", "sh", "-c",
                         "echo two; sleep 1; echo three; exit 7").returncode == 0
    pid = daemon.docker("inspect", "-f", "{{.State.Pid}}", "long").stdout.strip()
    _restart(daemon, tmp_path)
    # still running, same process, reachable
    assert daemon.docker("inspect", "-f", "{{.State.Status}} {{.State.Pid}}", "long").stdout.split() == \
        [b"running", pid]
    assert daemon.docker("logs", "long").stdout == b"one\n"
    # the one that exited while the daemon was down: its real exit code, its whole log
    deadline = time.monotonic() + 10
    while daemon.docker("inspect", "-f", "{{.State.Status}}", "short").stdout != b"exited\n":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert daemon.docker("inspect", "-f", "{{.State.ExitCode}}", "short").stdout == b"7\n"
    assert daemon.docker("logs", "short").stdout == b"two\nthree\n"
    # and the new daemon runs new containers
    done = daemon.docker("run", "--rm", "busybox", "echo", "after")
    assert (done.returncode, done.stdout) == (0, b"after\n")


def test_a_container_created_before_the_restart_still_starts(daemon, tmp_path):
    assert daemon.docker("create", "--name", "later", "busybox", "echo", "late").returncode == 0
    _restart(daemon, tmp_path)
    done = daemon.docker("start", "-a", "later")
    assert (done.returncode, done.stdout) == (0, b"late\n")


def test_sigterm_leaves_containers_running(daemon, tmp_path):
    assert daemon.docker("run", "-d", "--name", "stay", "busybox", "sleep", "30").returncode == 0
    pid = int(daemon.docker("inspect", "-f", "{{.State.Pid}}", "stay").stdout)
    daemon.process.send_signal(signal.SIGTERM)
    assert daemon.process.wait(timeout=10) == 0
    assert not daemon.socket.exists()
    import os
    os.kill(pid, 0)  # still there
    log = tmp_path / "daemon-again.log"
    daemon.process = subprocess.Popen(list(daemon.process.args), cwd=REPO, stdout=open(log, "wb"),
                                      stderr=subprocess.STDOUT)
    _wait_for(daemon.socket, daemon.process, log)
    assert daemon.docker("inspect", "-f", "{{.State.Status}}", "stay").stdout == b"running\n"

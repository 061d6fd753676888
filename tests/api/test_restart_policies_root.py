"""Restart policies enforced by the daemon, with docker's back-off: on-failure
with a limit, always until a user stops it, unless-stopped across a daemon
restart, and what docker refuses."""
from __future__ import annotations

import json
import subprocess
import time

import pytest


pytestmark = pytest.mark.root


def _state(daemon, name: str) -> dict:
    found = json.loads(daemon.docker("inspect", name).stdout)[0]
    return {**found["State"], "RestartCount": found["RestartCount"]}


def _until(daemon, name: str, test, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while not test(state := _state(daemon, name)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert test(state), state
    return state


def test_on_failure_restarts_up_to_its_limit_with_a_growing_delay(daemon):
    started = time.monotonic()
    assert daemon.docker("run", "-d", "--name", "flaky", "--network", "none", "--restart", "on-failure:3",
                         "busybox", "sh", "-c", "exit 3").returncode == 0
    state = _until(daemon, "flaky", lambda s: s["RestartCount"] == 3 and s["Status"] == "exited")
    assert state["ExitCode"] == 3
    assert time.monotonic() - started >= 0.1 + 0.2 + 0.4  # docker's back-off: 100 ms, doubling
    time.sleep(1)
    assert _state(daemon, "flaky")["RestartCount"] == 3  # and no more
    assert daemon.docker("run", "-d", "--name", "fine", "--network", "none", "--restart", "on-failure",
                         "busybox", "true").returncode == 0
    time.sleep(0.5)
    assert _state(daemon, "fine")["RestartCount"] == 0  # exit 0 is no failure


def test_always_restarts_until_a_user_stops_it(daemon):
    assert daemon.docker("run", "-d", "--name", "loop", "--network", "none", "--restart", "always",
                         "busybox", "sh", "-c", "sleep 0.2").returncode == 0
    _until(daemon, "loop", lambda s: s["RestartCount"] >= 2)
    assert daemon.docker("stop", "-t", "1", "loop").returncode == 0
    count = _state(daemon, "loop")["RestartCount"]
    time.sleep(1.5)
    state = _state(daemon, "loop")
    assert state["Status"] == "exited" and state["RestartCount"] == count
    assert daemon.docker("start", "loop").returncode == 0  # a user's start: the policy holds again
    _until(daemon, "loop", lambda s: s["RestartCount"] > count)


def test_unless_stopped_across_a_daemon_restart(daemon):
    for name in ("kept", "stopped"):
        assert daemon.docker("run", "-d", "--name", name, "--network", "none", "--restart", "unless-stopped",
                             "busybox", "sleep", "600").returncode == 0
    assert daemon.docker("stop", "-t", "0", "stopped").returncode == 0
    daemon.process.kill()
    daemon.process.wait()
    pid = _pid_of_container_process(daemon, "kept")
    subprocess.run(["kill", "-9", str(pid)], check=True)  # it dies while no daemon watches
    daemon.relaunch()
    state = _until(daemon, "kept", lambda s: s["Running"] and s["Pid"] != pid, timeout=20)
    assert state["RestartCount"] == 1
    assert _state(daemon, "stopped")["Status"] == "exited"


def _pid_of_container_process(daemon, name: str) -> int:
    for record in (daemon.run.parent / "root" / "runs").glob("*.json"):
        found = json.loads(record.read_text())
        containers = json.loads((daemon.run.parent / "root" / "containers" / record.name).read_text())
        if containers["name"] == name:
            return found["pid"]
    raise AssertionError(f"no run record for {name}")


def test_what_docker_refuses(daemon):
    import socket
    for body, words in [({"RestartPolicy": {"Name": "sometimes"}}, b"invalid restart policy 'sometimes'"),
                        ({"RestartPolicy": {"Name": "always", "MaximumRetryCount": 2}}, b"only be used with"),
                        ({"RestartPolicy": {"Name": "always"}, "AutoRemove": True}, b"--restart and --rm")]:
        payload = json.dumps({"Image": "busybox", "HostConfig": {**body, "NetworkMode": "none"}}).encode()
        with socket.socket(socket.AF_UNIX) as connection:
            connection.connect(str(daemon.socket))
            connection.sendall(b"POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: "
                               b"application/json\r\nConnection: close\r\nContent-Length: "
                               + str(len(payload)).encode() + b"\r\n\r\n" + payload)
            answer = b"".join(iter(lambda: connection.recv(65536), b""))
        assert answer.startswith(b"HTTP/1.1 400") and words in answer, answer

"""The real docker CLI (28.x, on PATH) against our daemon."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.root


def test_version_negotiates_api_1_45(daemon):
    done = daemon.docker("version", "--format", "{{json .Server}}")
    assert done.returncode == 0, done.stderr
    server = json.loads(done.stdout)
    assert server["ApiVersion"] == "1.45" and server["Version"] == "0.1.0"


def test_run_rm_prints_the_output_and_leaves_nothing(daemon):
    done = daemon.docker("run", "--rm", "busybox", "echo", "hi")
    assert (done.returncode, done.stdout, done.stderr) == (0, b"hi\n", b"")
    assert daemon.docker("ps", "-aq").stdout == b""


def test_run_gives_the_exit_code_and_both_streams(daemon):
    done = daemon.docker("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (done.returncode, done.stdout, done.stderr) == (3, b"out\n", b"err\n")


def test_detached_container_ps_logs_inspect_stop_rm(daemon):
    done = daemon.docker("run", "-d", "--name", "web", "busybox", "sh", "-c", "echo started; sleep 30")
    assert done.returncode == 0, done.stderr
    cid = done.stdout.decode().strip()
    listed = [json.loads(line) for line in daemon.docker("ps", "--format", "{{json .}}").stdout.splitlines()]
    assert [(c["ID"], c["Names"], c["State"]) for c in listed] == [(cid[:12], "web", "running")]
    assert listed[0]["Status"].startswith("Up ")
    assert daemon.docker("logs", "web").stdout == b"started\n"
    assert daemon.docker("inspect", "-f", "{{.State.Status}}", "web").stdout == b"running\n"
    assert daemon.docker("stop", "-t", "1", "web").returncode == 0
    state = daemon.docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "web").stdout.split()
    assert state == [b"exited", b"137"]  # sh as PID 1 ignores TERM: killed after the grace time
    assert b"Exited (137)" in daemon.docker("ps", "-a").stdout
    assert daemon.docker("rm", "web").returncode == 0
    assert daemon.docker("ps", "-aq").stdout == b""


def test_errors_carry_dockers_words(daemon):
    done = daemon.docker("rm", "nosuch")
    assert done.returncode == 1 and b"No such container: nosuch" in done.stderr
    daemon.docker("run", "-d", "--name", "busy", "busybox", "sleep", "30")
    done = daemon.docker("rm", "busy")
    assert done.returncode == 1 and b"cannot remove container" in done.stderr
    done = daemon.docker("run", "-d", "--name", "busy", "busybox", "true")
    assert done.returncode == 125 and b'name "/busy" is already in use' in done.stderr


def test_bad_requests_get_dockers_status_and_the_daemon_keeps_serving(daemon):
    too_new = daemon.raw(b"GET /v9.99/version HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
    assert too_new.startswith(b"HTTP/1.1 400") and b"client version 9.99 is too new" in too_new
    body = b"{not json"
    bad = daemon.raw(b"POST /containers/create HTTP/1.1\r\nHost: d\r\nConnection: close\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    assert bad.startswith(b"HTTP/1.1 400") and b"invalid JSON" in bad
    garbage = daemon.raw(b"\x00\x01 nonsense\r\n\r\n")
    assert garbage.startswith(b"HTTP/1.1 400")
    missing = daemon.raw(b"GET /no/such/path HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
    assert missing.startswith(b"HTTP/1.1 404")
    assert daemon.docker("version").returncode == 0


def test_dockyard_engine_serve_runs_the_daemon_in_the_foreground(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path
    sock = tmp_path / "run" / "engine.sock"
    dockyard = Path(sys.executable).parent / "dockyard"
    process = subprocess.Popen([str(dockyard), "engine", "serve", "--root", str(tmp_path / "root"),
                                "--run", str(tmp_path / "run")], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not sock.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        env = {"PATH": os.environ["PATH"], "DOCKER_HOST": f"unix://{sock}", "HOME": str(tmp_path)}
        done = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], env=env,
                              capture_output=True, timeout=30)
        assert (done.returncode, done.stdout) == (0, b"0.1.0\n"), done.stderr
        assert oct(sock.stat().st_mode & 0o777) == "0o660"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert not sock.exists()  # removed on the way out


def test_a_second_daemon_on_the_same_runtime_dir_refuses_to_start(daemon, tmp_path):
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "engine.daemon", "--root", str(tmp_path / "root"),
                           "--run", str(daemon.run)], capture_output=True, timeout=30)
    assert done.returncode == 1
    assert f"another engine daemon (pid {daemon.process.pid})".encode() in done.stderr
    assert daemon.docker("version").returncode == 0  # the first one still serves


def test_a_wait_whose_client_left_stops_waiting(daemon):
    """docker run -d drops the wait it opened: the daemon stops waiting too
    (each waiting call holds a pidfd on the container's process)."""
    import os
    import socket
    import time
    assert daemon.docker("run", "-d", "--name", "sleeper", "busybox", "sleep", "30").returncode == 0

    def waiting() -> int:
        fds = f"/proc/{daemon.process.pid}/fd"
        return sum(1 for fd in os.listdir(fds) if "pidfd" in os.readlink(f"{fds}/{fd}"))
    baseline = 1  # the daemon's own watch of the container (its die event)
    clients = []
    for _ in range(5):
        client = socket.socket(socket.AF_UNIX)
        client.connect(str(daemon.socket))
        client.sendall(b"POST /containers/sleeper/wait HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 200")  # the headers come at once
        clients.append(client)
    deadline = time.monotonic() + 5
    while waiting() < baseline + 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert waiting() >= baseline + 5  # (the CLI's own dropped wait may still be there too)
    for client in clients:
        client.close()
    deadline = time.monotonic() + 5
    while waiting() > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    assert waiting() == baseline


def test_logs_follow_ends_cleanly_when_the_container_is_removed(daemon):
    import subprocess
    import time
    assert daemon.docker("run", "-d", "--name", "talk", "busybox", "sh", "-c",
                         "echo hello; sleep 30").returncode == 0
    follower = subprocess.Popen(["docker", "logs", "-f", "talk"], env=daemon.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    time.sleep(0.5)
    assert daemon.docker("rm", "-f", "talk").returncode == 0
    out, err = follower.communicate(timeout=10)
    assert (follower.returncode, out) == (0, b"hello\n"), err


def test_info_and_kill(daemon):
    done = daemon.docker("info", "--format", "{{json .}}")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["OSType"] == "linux" and info["Images"] == 1 and info["CgroupDriver"] == "cgroupfs"
    assert daemon.docker("run", "-d", "--name", "victim", "busybox", "sleep", "30").returncode == 0
    assert daemon.docker("kill", "victim").returncode == 0
    assert daemon.docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "victim").stdout == b"exited 137\n"
    done = daemon.docker("kill", "victim")
    assert done.returncode == 1 and b"is not running" in done.stderr
    assert daemon.docker("run", "-d", "--name", "victim2", "busybox", "sleep", "30").returncode == 0
    assert daemon.docker("kill", "-s", "TERM", "victim2").returncode == 0  # PID 1 ignores TERM
    assert daemon.docker("inspect", "-f", "{{.State.Status}}", "victim2").stdout == b"running\n"

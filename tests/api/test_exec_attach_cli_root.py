"""docker exec (-i, -t, -d, -u, errors) and docker run -i/-t through our daemon."""
from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.root


@pytest.fixture
def web(daemon):
    assert daemon.docker("run", "-d", "--name", "web", "busybox", "sleep", "60").returncode == 0
    return daemon


def test_exec_gives_both_streams_and_the_exit_code(web):
    done = web.docker("exec", "web", "sh", "-c", "echo out; echo err >&2; exit 4")
    assert (done.returncode, done.stdout, done.stderr) == (4, b"out\n", b"err\n")


def test_exec_with_stdin_user_workdir_and_env(web):
    done = web.docker("exec", "-i", "-u", "nobody", "-w", "/tmp", "-e", "GREETING=hi", "web",
                      "sh", "-c", "read line; echo $line $GREETING $(id -u) $(pwd)", input=b"abc\n")
    assert (done.returncode, done.stdout) == (0, b"abc hi 65534 /tmp\n")


def test_exec_with_a_tty_gets_the_containers_terminal(web):
    done = web.docker("exec", "-t", "web", "tty")
    assert (done.returncode, done.stdout) == (0, b"/dev/pts/0\r\n")


def test_exec_of_a_missing_program_fails_as_dockerd(web):
    done = web.docker("exec", "web", "nosuchcmd")
    assert done.returncode == 127
    assert b'exec: "nosuchcmd": executable file not found in $PATH' in done.stdout + done.stderr


def test_detached_exec_runs_and_is_reported(web):
    assert web.docker("exec", "-d", "web", "sh", "-c", "echo done > /tmp/mark").returncode == 0
    deadline = time.monotonic() + 5
    while web.docker("exec", "web", "cat", "/tmp/mark").stdout != b"done\n" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert web.docker("exec", "web", "cat", "/tmp/mark").stdout == b"done\n"


def test_exec_in_a_stopped_container_is_refused(daemon):
    daemon.docker("create", "--name", "idle", "busybox", "true")
    done = daemon.docker("exec", "idle", "true")
    assert done.returncode != 0 and b"is not running" in done.stderr


def test_exec_inspect_through_the_api(web):
    body = b'{"Cmd": ["true"]}'
    created = web.raw(b"POST /v1.45/containers/web/exec HTTP/1.1\r\nHost: d\r\nConnection: close\r\n"
                      b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    assert created.startswith(b"HTTP/1.1 201")
    exec_id = json.loads(created.split(b"\r\n\r\n", 1)[1])["Id"]
    found = web.raw(b"GET /exec/%s/json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n" % exec_id.encode())
    document = json.loads(found.split(b"\r\n\r\n", 1)[1])
    assert document["Running"] is False and document["ExitCode"] is None
    assert document["ProcessConfig"]["entrypoint"] == "true"
    missing = web.raw(b"GET /exec/nosuch/json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
    assert missing.startswith(b"HTTP/1.1 404") and b"No such exec instance" in missing


def test_run_with_stdin_and_with_a_tty(daemon):
    for _ in range(3):  # the whole input, the whole output, once
        done = daemon.docker("run", "-i", "--rm", "busybox", "wc", "-l", input=b"a\nb\n")
        assert (done.returncode, done.stdout) == (0, b"2\n")
    done = daemon.docker("run", "--rm", "-t", "busybox", "tty")
    assert (done.returncode, done.stdout) == (0, b"/dev/pts/0\r\n")

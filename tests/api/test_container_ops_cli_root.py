"""docker top, stats, pause/unpause, rename, restart, container prune."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.root


@pytest.fixture
def loop(daemon):
    done = daemon.docker("run", "-d", "--name", "loop", "busybox", "sh", "-c", "while true; do sleep 1; done")
    assert done.returncode == 0, done.stderr
    return daemon


def test_top_lists_the_containers_processes(loop):
    lines = loop.docker("top", "loop").stdout.decode().splitlines()
    assert lines[0].split() == ["UID", "PID", "PPID", "CMD"]
    assert any("while true" in line for line in lines[1:])


def test_stats_once(loop):
    done = loop.docker("stats", "--no-stream", "--format", "{{json .}}", "loop")
    stats = json.loads(done.stdout)
    assert stats["Name"] == "loop" and stats["PIDs"] in ("1", "2")
    usage, limit = stats["MemUsage"].split(" / ")
    assert usage != "0B" and limit != "0B"


def test_pause_unpause(loop):
    assert loop.docker("pause", "loop").returncode == 0
    assert loop.docker("inspect", "-f", "{{.State.Status}}", "loop").stdout == b"paused\n"
    assert b"(Paused)" in loop.docker("ps").stdout
    done = loop.docker("pause", "loop")
    assert done.returncode == 1 and b"is already paused" in done.stderr
    assert loop.docker("unpause", "loop").returncode == 0
    assert loop.docker("inspect", "-f", "{{.State.Status}}", "loop").stdout == b"running\n"


def test_rename_and_restart(loop):
    pid = loop.docker("inspect", "-f", "{{.State.Pid}}", "loop").stdout
    assert loop.docker("rename", "loop", "spin").returncode == 0
    assert loop.docker("ps", "--format", "{{.Names}}").stdout == b"spin\n"
    assert loop.docker("inspect", "loop").returncode == 1  # the old name is free
    assert loop.docker("restart", "-t", "1", "spin").returncode == 0
    assert loop.docker("inspect", "-f", "{{.State.Status}}", "spin").stdout == b"running\n"
    assert loop.docker("inspect", "-f", "{{.State.Pid}}", "spin").stdout != pid
    assert loop.docker("run", "-d", "--name", "loop", "busybox", "true").returncode == 0


def test_container_prune_removes_the_stopped_only(loop):
    loop.docker("create", "--name", "made", "busybox", "true")
    loop.docker("run", "--name", "ran", "busybox", "true")
    done = loop.docker("container", "prune", "-f")
    assert done.returncode == 0
    assert loop.docker("ps", "-a", "--format", "{{.Names}}").stdout == b"loop\n"


def test_ps_filters(loop):
    loop.docker("run", "--name", "done1", "--label", "tier=web", "busybox", "true")
    loop.docker("create", "--name", "made1", "--label", "tier=db", "busybox", "true")

    def names(*args: str) -> list[str]:
        return sorted(loop.docker("ps", "-a", "--format", "{{.Names}}", *args).stdout.decode().split())
    assert names("--filter", "label=tier") == ["done1", "made1"]
    assert names("--filter", "label=tier=web") == ["done1"]
    assert names("--filter", "status=exited") == ["done1"]
    assert names("--filter", "status=created") == ["made1"]
    assert names("--filter", "name=made") == ["made1"]
    assert names("--filter", "status=running") == ["loop"]
    assert names("--filter", "ancestor=busybox") == ["done1", "loop", "made1"]
    done = loop.docker("ps", "--filter", "colour=red")
    assert done.returncode == 1 and b"invalid filter 'colour'" in done.stderr


def test_resize_sets_the_containers_terminal_size(daemon):
    assert daemon.docker("run", "-d", "-t", "--name", "term", "busybox", "sh").returncode == 0
    request = b"POST /containers/term/resize?h=33&w=101 HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n"
    assert daemon.raw(request).startswith(b"HTTP/1.1 200")
    done = daemon.docker("exec", "term", "sh", "-c", "stty size < /dev/pts/0")
    assert done.stdout == b"33 101\n", done.stderr
    not_tty = daemon.docker("run", "-d", "--name", "plain", "busybox", "sleep", "30")
    assert not_tty.returncode == 0
    refused = daemon.raw(b"POST /containers/plain/resize?h=1&w=1 HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
    assert refused.startswith(b"HTTP/1.1 409") and b"not running with a tty" in refused


def test_update_changes_the_limits_of_a_running_container(loop):
    assert loop.docker("update", "--memory", "64m", "--memory-swap", "128m", "--pids-limit", "50",
                       "loop").returncode == 0
    stats = json.loads(loop.docker("stats", "--no-stream", "--format", "{{json .}}", "loop").stdout)
    assert stats["MemUsage"].endswith("/ 64MiB")
    assert loop.docker("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}",
                       "loop").stdout == b"67108864 50\n"
    assert loop.docker("update", "--restart", "on-failure:2", "loop").returncode == 0
    assert loop.docker("inspect", "-f", "{{.HostConfig.RestartPolicy.Name}} "
                       "{{.HostConfig.RestartPolicy.MaximumRetryCount}}", "loop").stdout == b"on-failure 2\n"
    refused = loop.docker("update", "--restart", "sometimes", "loop")
    assert refused.returncode == 1 and b"invalid restart policy" in refused.stderr


def test_update_before_start_is_used_by_the_start(daemon):
    assert daemon.docker("create", "--name", "later", "busybox", "sleep", "30").returncode == 0
    assert daemon.docker("update", "--memory", "32m", "--memory-swap", "64m", "later").returncode == 0
    assert daemon.docker("start", "later").returncode == 0
    stats = json.loads(daemon.docker("stats", "--no-stream", "--format", "{{json .}}", "later").stdout)
    assert stats["MemUsage"].endswith("/ 32MiB")


def test_more_running_containers_than_worker_threads(daemon):
    """Each running container is watched (its die event) without holding one
    of the daemon's worker threads (anyio lends 40): 45 run, and the daemon
    still answers."""
    import anyio.to_thread
    assert anyio.to_thread.current_default_thread_limiter  # the limit this test is about
    for index in range(45):
        assert daemon.docker("run", "-d", "--name", f"many{index}", "busybox", "sleep", "60").returncode == 0
    done = daemon.docker("run", "--rm", "busybox", "echo", "still here", timeout=30)
    assert (done.returncode, done.stdout) == (0, b"still here\n")
    assert len(daemon.docker("ps", "-q").stdout.split()) == 45

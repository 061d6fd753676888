"""Running processes inside a running container (engine.runtime.nsexec),
against real containers started by the container service: namespaces, root
filesystem, user, environment, exit codes, cgroup, stdin, tty, and that
exec'd processes end with their container. Root only.

The exec'd process is forked straight into the container's PID namespace, so
it is this test process's own child: each test waits for what it starts and
the fixture checks that no exec'd process is left.
"""
from __future__ import annotations

import errno
import fcntl
import os
import struct
import termios
import threading
import time
from pathlib import Path

import pytest

from engine.containers import security
from engine.containers.service import ContainerService
from engine.runtime import nsexec, process
from engine.runtime import sys as s
from engine.runtime.errors import RuntimeFailure

pytestmark = pytest.mark.root

SPAWNED: list[int] = []  # pids exec'd by the current test
PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.fixture(autouse=True)
def every_exec_is_reaped():
    SPAWNED.clear()
    yield
    for pid in SPAWNED:  # every exec'd process was waited for
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


class Box:
    """A running ``sleep 100`` container and a way to exec in it."""

    def __init__(self, engine: ContainerService, **config) -> None:
        self.engine = engine
        self.id = engine.create({"Image": "busybox", "Cmd": ["sleep", "100"], **config})
        engine.start(self.id)
        self.pid = engine.inspect(self.id)["State"]["Pid"]

    def spawn(self, *args: str, stdio=None, env=(PATH,), cwd="/", user=(0, 0, []),
              tty=False, host: dict | None = None) -> process.Launched:
        mask = security.capabilities_for(host or {})
        program, flags = security.seccomp_for(host or {}, mask)
        uid, gid, groups = user
        process = nsexec.spawn_in(
            s.Syscalls(), self.pid, list(args), list(env), cwd, uid, gid, groups, mask,
            bytes.fromhex(program), security.no_new_privileges(host or {}), stdio,
            lambda pid: self.engine.cgroups.add(self.id, pid), tty, seccomp_flags=flags)
        SPAWNED.append(process.pid)
        return process

    def run(self, *args: str, stdin: bytes = b"", **options) -> tuple[int, str, str]:
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            process = self.spawn(*args, stdio=(in_r, out_w, err_w), **options)
        finally:
            for fd in (in_r, out_w, err_w):
                os.close(fd)
        os.write(in_w, stdin)
        os.close(in_w)
        with os.fdopen(out_r, "rb") as out, os.fdopen(err_r, "rb") as err:
            text_out, text_err = out.read().decode(), err.read().decode()
        _, status = os.waitpid(process.pid, 0)
        return os.waitstatus_to_exitcode(status), text_out, text_err


def _devnull_stdio() -> tuple[int, int, int]:
    fd = os.open("/dev/null", os.O_RDWR)
    return fd, fd, fd


def _wait(pid: int, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    raise AssertionError(f"process {pid} did not end")


def _spawn_quiet(box: Box, *args: str) -> process.Launched:
    stdio = _devnull_stdio()
    try:
        return box.spawn(*args, stdio=stdio)
    finally:
        os.close(stdio[0])


def test_exec_sees_the_containers_hostname_and_pid_1(engine):
    box = Box(engine, Hostname="box")
    assert box.run("hostname") == (0, "box\n", "")
    code, out, _ = box.run("cat", "/proc/1/cmdline")
    assert (code, out.replace("\0", "")) == (0, "sleep100")


def test_exec_sees_only_the_containers_processes(engine):
    box = Box(engine)
    code, out, _ = box.run("ls", "/proc")
    pids = sorted(int(name) for name in out.split() if name.isdigit())
    assert code == 0 and pids[0] == 1 and len(pids) == 2  # sleep and ls itself


def test_the_calling_thread_stays_in_its_own_pid_namespace(engine):
    box = Box(engine)
    assert box.run("true")[0] == 0
    ours = os.stat("/proc/self/ns/pid")
    children = os.stat("/proc/thread-self/ns/pid_for_children")
    assert (children.st_dev, children.st_ino) == (ours.st_dev, ours.st_ino)


def test_files_written_by_exec_are_in_the_containers_root(engine):
    box = Box(engine)
    assert box.run("sh", "-c", "echo written > /tmp/from-exec")[0] == 0
    assert Path(f"/proc/{box.pid}/root/tmp/from-exec").read_text() == "written\n"
    assert box.run("cat", "/tmp/from-exec") == (0, "written\n", "")


def test_user_environment_and_working_directory(engine):
    box = Box(engine)
    code, out, _ = box.run("id", user=(1000, 1000, [1000, 2000]))
    assert code == 0 and "uid=1000(app)" in out and "gid=1000(app)" in out and "2000" in out
    assert box.run("sh", "-c", 'echo "$FOO"', env=[PATH, "FOO=bar baz"]) == (0, "bar baz\n", "")
    assert box.run("pwd", cwd="/etc") == (0, "/etc\n", "")


def test_exit_codes_propagate(engine):
    box = Box(engine)
    assert box.run("sh", "-c", "exit 5")[0] == 5
    assert box.run("sh", "-c", "echo oops >&2; exit 0") == (0, "", "oops\n")


def test_a_missing_executable_answers_like_docker(engine):
    box = Box(engine)
    with pytest.raises(RuntimeFailure) as caught:
        box.run("no-such-program")
    assert str(caught.value) == 'exec: "no-such-program": executable file not found in $PATH'
    with pytest.raises(RuntimeFailure, match='chdir to cwd \\("/nope"\\)'):
        box.run("true", cwd="/nope")


def test_exec_into_a_missing_process_fails_cleanly(engine):
    with pytest.raises(RuntimeFailure, match="cannot open the namespaces"):
        nsexec.spawn_in(s.Syscalls(), 2 ** 22 + 1, ["true"], [PATH], "/", 0, 0, [], None, b"",
                        False, (0, 1, 2), lambda pid: None)


def test_the_exec_process_joins_the_containers_cgroup(engine):
    box = Box(engine)
    process = _spawn_quiet(box, "sleep", "100")
    try:
        exec_cgroup = Path(f"/proc/{process.pid}/cgroup").read_text()
        assert exec_cgroup == Path(f"/proc/{box.pid}/cgroup").read_text()
        assert process.pid in engine.cgroups.pids(box.id)
    finally:
        os.kill(process.pid, 9)
        os.waitpid(process.pid, 0)


def test_stdin_reaches_the_process(engine):
    box = Box(engine)
    assert box.run("cat", stdin=b"hello\nworld\n") == (0, "hello\nworld\n", "")


def test_tty_gives_a_terminal_of_the_containers_devpts(engine):
    box = Box(engine)
    process = box.spawn("sh", "-c", "read go; tty; stty size", tty=True)
    assert process.master_fd is not None
    try:
        fcntl.ioctl(process.master_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
        os.write(process.master_fd, b"go\n")
        output = b""
        while True:
            try:
                chunk = os.read(process.master_fd, 4096)
            except OSError as exc:  # EIO once the slave side is closed
                assert exc.errno == errno.EIO
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(process.master_fd)
    assert _wait(process.pid) == 0
    lines = output.decode().replace("\r", "").split("\n")
    assert "/dev/pts/0" in lines and "33 111" in lines


def test_exec_processes_end_with_their_container(engine):
    box = Box(engine)
    process = _spawn_quiet(box, "sleep", "100")
    # The kernel ends a PID namespace only once all its processes are reaped,
    # so whoever execs must reap promptly: here a thread, while stop runs.
    codes: list[int] = []
    reaper = threading.Thread(target=lambda: codes.append(_wait(process.pid)))
    reaper.start()
    started = time.monotonic()
    engine.stop(box.id, timeout=0)
    reaper.join()
    assert time.monotonic() - started < 5
    assert codes == [-9]
    assert engine.inspect(box.id)["State"]["Running"] is False

"""Starting a container's first process (parent side) and what the kernel
says about processes (/proc), for the supervisor and the container service.

``spawn`` forks an intermediate child that enters the namespaces
(``unshare``, or ``setns`` into a given network namespace) and forks the
container's PID 1, which waits until its parent has put it in its cgroup,
then builds the root filesystem and execs (``init.run``). Errors before exec
come back through a close-on-exec pipe: end of file means exec succeeded.
"""
from __future__ import annotations

import json
import os
import signal

from . import init
from . import sys as s
from .errors import RuntimeFailure
from .spec import Spec


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _namespace_flags(spec: Spec) -> int:
    flags = 0
    for name in spec.namespaces:
        if (name == "net" and spec.netns_path) or name == "cgroup":
            continue  # the cgroup namespace is made by PID 1 once it is in its cgroup
        flags |= s.NAMESPACES[name]
    return flags


def spawn(sys: s.Syscalls, spec: Spec, stdio: tuple[int, int, int] | None,
          add_to_cgroup, tty_channel=None) -> int:
    """Start ``spec``; returns the host pid of its PID 1 once it has exec'd.
    ``add_to_cgroup(pid)`` runs while the process builds its root filesystem
    (on cgroup v1 moving a task waits for an RCU grace period, ~10 ms) and
    before it may exec anything of the container's. The
    caller must be a child subreaper (prctl PR_SET_CHILD_SUBREAPER) to stay
    the PID 1's parent: the intermediate process exits at once."""
    go_r, go_w = os.pipe()
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    pid_r, pid_w = os.pipe()
    middle = os.fork()
    if middle == 0:  # pragma: no cover - runs in the child
        _intermediate(sys, spec, stdio, (go_r, go_w, err_r, err_w, pid_r, pid_w), tty_channel)
    for fd in (go_r, err_w, pid_w):
        os.close(fd)
    try:
        text = _read_all(pid_r).decode()
        os.waitpid(middle, 0)
        if not text:
            raise RuntimeFailure(_read_all(err_r).decode() or "the container's process did not start")
        pid = int(text)
        try:
            add_to_cgroup(pid)
        except BaseException:
            os.kill(pid, signal.SIGKILL)
            _reap(pid)
            raise
        os.write(go_w, b"1")
        os.close(go_w)
        go_w = -1
        problem = _read_all(err_r)
        if problem:
            _reap(pid)
            raise RuntimeFailure(json.loads(problem)["error"])
        return pid
    finally:
        for fd in (pid_r, err_r, go_w):
            if fd >= 0:
                os.close(fd)


def _reap(pid: int) -> None:
    """Collect a failed PID 1; it is our child only if we are a subreaper."""
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _intermediate(sys, spec: Spec, stdio, pipes, tty_channel) -> None:  # pragma: no cover - child
    go_r, go_w, err_r, err_w, pid_r, pid_w = pipes
    try:
        os.close(go_w)
        os.close(err_r)
        os.close(pid_r)
        if spec.netns_path:
            fd = os.open(spec.netns_path, os.O_RDONLY)
            sys.setns(fd, s.CLONE_NEWNET)
            os.close(fd)
        sys.unshare(_namespace_flags(spec))
        child = os.fork()
        if child == 0:
            os.close(pid_w)
            init.run(sys, spec, stdio, go_r, err_w, tty_channel)
        os.write(pid_w, str(child).encode())
        os._exit(0)
    except BaseException as exc:
        try:
            os.write(err_w, f"cannot create the container's namespaces: {exc}".encode())
        finally:
            os._exit(1)


# -- what /proc says ---------------------------------------------------------

def start_time(pid: int, proc: str = "/proc") -> int | None:
    """The process's start time in clock ticks since boot (field 22 of
    /proc/PID/stat), or None if it does not exist: with the pid it tells a
    process from a later one that reuses the pid."""
    try:
        with open(f"{proc}/{pid}/stat", "rb") as handle:
            data = handle.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = data[data.rindex(b")") + 2:].split()
    if fields[0] == b"Z":  # a zombie has exited already
        return None
    return int(fields[19])


def alive(pid: int, expected_start: int | None, proc: str = "/proc") -> bool:
    """Whether ``pid`` is still the process that started at ``expected_start``
    (unknown start time: never, a recycled pid must not look alive)."""
    return pid > 0 and expected_start is not None and start_time(pid, proc) == expected_start


def children_of(pid: int, proc: str = "/proc") -> list[int]:
    try:
        with open(f"{proc}/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except FileNotFoundError:
        return []


def boot_id(proc: str = "/proc") -> str:
    with open(f"{proc}/sys/kernel/random/boot_id") as handle:
        return handle.read().strip()


def describe(pid: int, proc: str = "/proc") -> list[str] | None:
    """[uid, pid, ppid, command line] of a process, or None if it is gone."""
    try:
        with open(f"{proc}/{pid}/status") as handle:
            status = dict(line.split(":", 1) for line in handle if ":" in line)
        with open(f"{proc}/{pid}/cmdline", "rb") as handle:
            command = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return [status["Uid"].split()[0], str(pid), status["PPid"].strip(),
            command or f"[{status['Name'].strip()}]"]

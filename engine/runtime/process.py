"""Starting processes in namespaces (parent side), shared by a container's
PID 1 (``prepare``) and ``docker exec`` (nsexec.py), and what the kernel
says about processes (/proc), for the supervisor and the container service.

``begin`` forks once, straight into the process's PID namespace: the
calling thread sets its ``pid_for_children`` (``unshare(CLONE_NEWPID)`` for
a new container, ``setns`` for exec), forks, and sets it back at once, so
the process is the caller's own child and no intermediate process is
needed. The child does its own set-up (``init.run`` builds the container;
nsexec's child waits first, to be put in the container's cgroup), then waits
for the go-ahead: a ``Pending`` process, that ``go`` lets exec. A
container's PID 1 waits so from create to start (``runc create``/``start``);
``Spare`` is one forked before it is even needed. Errors before exec come
back as JSON through a close-on-exec pipe: end of file means exec
succeeded. With a tty the child makes a pty in the container's devpts and
sends the master back over a socket pair (terminal.py).
"""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import identity, init, terminal
from . import sys as s
from .errors import RuntimeFailure
from .spec import Spec


@dataclass(frozen=True)
class Launched:
    """A started process: its host pid (the caller's child) and, with a tty,
    the pty master (the caller's to read, write, resize and close)."""
    pid: int
    master_fd: int | None = None


class Pending:
    """A forked process that sets itself up and then waits for the go-ahead
    to exec: the container's PID 1 between ``prepare`` (docker create) and
    ``go`` (docker start), or an exec'd process for a moment. Already in its
    cgroups. ``go`` or ``cancel`` it, once."""

    def __init__(self, pid: int, go_w: int, err_r: int, tty: socket.socket | None) -> None:
        self.pid, self._go_w, self._err_r, self._tty = pid, go_w, err_r, tty

    def go(self, before: Callable[[int], None] | None = None) -> Launched:
        """Let it exec; returns once it has, or raises what failed on its way
        (set-up errors are only known here). ``before(pid)`` runs first (on
        cgroup v2: put it in its cgroups)."""
        master = None
        try:
            if before is not None:
                try:
                    before(self.pid)
                except BaseException:
                    self.cancel()
                    raise
            try:
                os.write(self._go_w, b"1")
            except BrokenPipeError:
                pass  # it failed before: its error is in the pipe
            self._close_go()
            if self._tty is not None:
                master = terminal.receive_master(self._tty)
            problem = _read_all(self._err_r)
            if problem:
                reap(self.pid)
                raise RuntimeFailure(json.loads(problem)["error"])
            if self._tty is not None and master is None:
                kill_and_reap(self.pid)
                raise RuntimeFailure("the process's terminal was not created")
            return Launched(self.pid, master)
        except BaseException:
            if master is not None:
                os.close(master)
            raise
        finally:
            self._close()

    def cancel(self) -> None:
        """Kill it (before it ever ran anything of the container's) and reap it."""
        self._close()
        kill_and_reap(self.pid)

    def abandon(self) -> None:
        """Forget one that has died and was reaped already (its pid may be another's now)."""
        self._close()

    def _close_go(self) -> None:
        if self._go_w >= 0:
            os.close(self._go_w)
            self._go_w = -1

    def _close(self) -> None:
        self._close_go()
        if self._err_r >= 0:
            os.close(self._err_r)
            self._err_r = -1
        if self._tty is not None:
            self._tty.close()
            self._tty = None


def prepare(sys: s.Syscalls, spec: Spec, stdio: tuple[int, int, int] | None,
            on_fork: Callable[[int], None]) -> Pending:
    """Fork ``spec``'s PID 1 (in a new PID namespace unless ``spec`` shares
    the host's), which builds the container around itself and waits for
    ``go``. ``on_fork(pid)`` runs at once. The caller should be a child
    subreaper, to reap what the container orphans."""
    enter = (lambda: sys.unshare(s.CLONE_NEWPID)) if "pid" in spec.namespaces else None
    return begin(sys, enter, lambda go_r, err_w, tty: init.run(sys, spec, stdio, go_r, err_w, tty),
                 on_fork, spec.tty)


def launch(sys: s.Syscalls, enter_pid_namespace: Callable[[], None] | None,
           child: Callable[[int, int, socket.socket | None], None],
           on_fork: Callable[[int], None], tty: bool, proc: str = "/proc") -> Launched:
    """``begin`` and ``go`` at once."""
    return begin(sys, enter_pid_namespace, child, on_fork, tty, proc).go()


def begin(sys: s.Syscalls, enter_pid_namespace: Callable[[], None] | None,
          child: Callable[[int, int, socket.socket | None], None],
          on_fork: Callable[[int], None], tty: bool, proc: str = "/proc") -> Pending:
    """Fork ``child(go_r, err_w, tty_channel)`` (it must exec or exit, never
    return) and run ``on_fork(pid)`` (exec: put it in the container's
    cgroup; it waits for ``go``)."""
    go_r, go_w = os.pipe()
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    tty_parent, tty_child = socket.socketpair() if tty else (None, None)
    try:
        pid = _fork(sys, enter_pid_namespace, proc)
        if pid == 0:  # pragma: no cover - runs in the child
            os.close(go_w)
            os.close(err_r)
            if tty_parent is not None:
                tty_parent.close()
            child(go_r, err_w, tty_child)
            os._exit(127)
    except BaseException:
        for fd in (go_w, err_r):
            os.close(fd)
        if tty_parent is not None:
            tty_parent.close()
        raise
    finally:
        for fd in (go_r, err_w):
            os.close(fd)
        if tty_child is not None:
            tty_child.close()
    return _adopt(Pending(pid, go_w, err_r, tty_parent), on_fork)


def _adopt(pending: Pending, on_fork: Callable[[int], None]) -> Pending:
    try:
        on_fork(pending.pid)
    except BaseException:
        pending.cancel()
        raise
    return pending


SPARE_NAMESPACES = ("net", "uts", "ipc")  # a spare makes these ahead of need


class SpareGone(RuntimeFailure):
    """The spare could not be handed its spec (it died): prepare instead."""


class Spare:
    """A container's PID 1 forked ahead of need: PID 1 of a new PID namespace
    (the only namespace it has yet), waiting for the spec of the container
    it becomes, so that no create or start waits for a fork. ``hand`` it a
    spec once, or ``discard`` it; the caller reaps it like any child."""

    def __init__(self, sys: s.Syscalls, proc: str = "/proc") -> None:
        self.sys = sys
        go_r, self.go_w = os.pipe()
        self.err_r, err_w = os.pipe2(os.O_CLOEXEC)
        self.orders, orders_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.tty, tty_child = socket.socketpair()
        try:
            self.pid = _fork(sys, lambda: sys.unshare(s.CLONE_NEWPID), proc)
            if self.pid == 0:  # pragma: no cover - runs in the child
                _spare_child(sys, orders_child, go_r, err_w, tty_child)
        except BaseException:
            self._close()
            raise
        finally:
            for fd in (go_r, err_w):
                os.close(fd)
            orders_child.close()
            tty_child.close()

    def hand(self, spec: Spec, stdio: tuple[int, int, int] | None,
             on_fork: Callable[[int], None]) -> Pending:
        """Give it ``spec``: then as ``prepare``. SpareGone if it died."""
        try:
            socket.send_fds(self.orders, [json.dumps(spec.to_json()).encode()], list(stdio or ()))
        except OSError as exc:
            self._close()
            reap(self.pid)
            raise SpareGone(f"the spare process {self.pid} is gone: {exc}") from None
        pending = Pending(self.pid, self.go_w, self.err_r, self.tty if spec.tty else None)
        self.go_w = self.err_r = -1
        if spec.tty:
            self.tty = None  # the pending process's now
        self._close()
        return _adopt(pending, on_fork)

    def discard(self) -> None:
        """Let it go: it exits when its orders channel closes (not reaped here)."""
        self._close()

    def _close(self) -> None:
        for fd in (self.go_w, self.err_r):
            if fd >= 0:
                os.close(fd)
        self.go_w = self.err_r = -1
        for channel in (self.orders, self.tty):
            if channel is not None:
                channel.close()
        self.tty = None


def _spare_child(sys: s.Syscalls, orders: socket.socket, go_r: int, err_w: int,
                 tty: socket.socket) -> None:  # pragma: no cover - runs in the child
    try:
        signal.set_wakeup_fd(-1)  # the parent's signal handling is not ours
        for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(number, signal.SIG_DFL)
        # New network, uts and ipc namespaces now, while idle (a network
        # namespace takes about a millisecond); the host's stay at hand for a
        # container that shares one. Mount namespaces are not made ahead: a
        # copy made now would miss the host's later mounts.
        hosts = {name: os.open(f"/proc/self/ns/{name}", os.O_RDONLY | os.O_CLOEXEC)
                 for name in SPARE_NAMESPACES}
        sys.unshare(sum(s.NAMESPACES[name] for name in SPARE_NAMESPACES))
        identity.close_fds(keep=(orders.fileno(), go_r, err_w, tty.fileno(), *hosts.values()))
        message, fds, _, _ = socket.recv_fds(orders, 1 << 20, 3)
        if not message:
            os._exit(0)  # discarded
        orders.close()
        spec = Spec.from_json(json.loads(message))
        if not spec.tty:
            tty.close()
        init.run(sys, spec, tuple(fds) if fds else None, go_r, err_w, tty if spec.tty else None,
                 entered=hosts)
    except BaseException as exc:  # noqa: BLE001 - init.run reports its own; this is what precedes it
        try:
            os.write(err_w, json.dumps({"error": f"the spare process failed: {exc}"}).encode())
        finally:
            os._exit(127)
    os._exit(127)


def _fork(sys: s.Syscalls, enter_pid_namespace: Callable[[], None] | None, proc: str) -> int:
    """fork() with this thread's pid_for_children set by ``enter_pid_namespace``
    and restored (in the parent only: the child cannot go back up)."""
    if enter_pid_namespace is None:
        return os.fork()
    own = os.open(f"{proc}/thread-self/ns/pid_for_children", os.O_RDONLY | os.O_CLOEXEC)
    try:
        enter_pid_namespace()
        try:
            pid = os.fork()
        except BaseException:
            sys.setns(own, s.CLONE_NEWPID)
            raise
        if pid != 0:
            sys.setns(own, s.CLONE_NEWPID)
        return pid
    finally:
        os.close(own)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


def reap(pid: int) -> None:
    """Collect a failed child (a container's PID 1 is ours, or, if not, our
    subreaper's)."""
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def kill_and_reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    reap(pid)


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


def await_exit(pid: int, expected_start: int | None, timeout: float | None,
               proc: str = "/proc") -> bool:
    """Block until the process ``pid`` that started at ``expected_start`` has
    exited (a pidfd: any process, not only our children) or ``timeout``
    passed; True once it is gone."""
    fd = pidfd(pid, expected_start, proc)
    if fd is None:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(fd)


def pidfd(pid: int, expected_start: int | None, proc: str = "/proc") -> int | None:
    """A pidfd of the process ``pid`` that started at ``expected_start`` (it
    becomes readable when the process exits: something an event loop can
    wait for), or None if that process is gone."""
    if pid <= 0:
        return None
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return None
    if not alive(pid, expected_start, proc):  # checked after opening: the fd is that process's
        os.close(fd)
        return None
    return fd


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


def own_namespace(pid: int, name: str, timeout: float = 5.0, proc: str = "/proc") -> int | None:
    """An fd of the ``name`` namespace (``net``, ...) of our child ``pid``
    once it has one of its own (not the caller's): a PID 1 being prepared
    makes it early in its set-up. None if it died first or ``timeout`` passed."""
    mine = os.stat(f"{proc}/self/ns/{name}").st_ino
    deadline = time.monotonic() + timeout
    pause = 0.0002
    while start_time(pid, proc) is not None:
        try:
            fd = os.open(f"{proc}/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC)
        except (FileNotFoundError, ProcessLookupError):
            return None
        if os.fstat(fd).st_ino != mine:
            return fd
        os.close(fd)
        if time.monotonic() > deadline:
            return None
        time.sleep(pause)
        pause = min(pause * 2, 0.01)
    return None


def socket_holders(port: int, protocol: str, proc: str = "/proc") -> list[str]:
    """Who holds a local ``port`` (tcp or udp, IPv4 or IPv6): "name (pid N)"
    for each process with such a socket open, as far as /proc tells."""
    inodes = set()
    for table in (f"{proc}/net/{protocol}", f"{proc}/net/{protocol}6"):
        try:
            with open(table) as handle:
                next(handle, None)
                for line in handle:
                    fields = line.split()
                    local, inode = fields[1], fields[9]
                    if int(local.rsplit(":", 1)[1], 16) == port and inode != "0":
                        inodes.add(f"socket:[{inode}]")
        except FileNotFoundError:
            continue
    found = []
    if not inodes:
        return found
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        try:
            for fd in os.scandir(f"{proc}/{entry.name}/fd"):
                if os.readlink(fd.path) in inodes:
                    with open(f"{proc}/{entry.name}/comm") as handle:
                        found.append(f"{handle.read().strip()} (pid {entry.name})")
                    break
        except OSError:
            continue
    return found


def namespace(pid: int, expected_start: int | None, name: str, proc: str = "/proc") -> int | None:
    """An fd of the ``name`` namespace of the running process ``pid`` that
    started at ``expected_start``, or None if that process is gone."""
    try:
        fd = os.open(f"{proc}/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC)
    except (FileNotFoundError, ProcessLookupError):
        return None
    if not alive(pid, expected_start, proc):  # checked after opening: the fd is that process's
        os.close(fd)
        return None
    return fd

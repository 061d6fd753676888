"""Running a process inside a running container (``docker exec``): both sides.

``spawn_in`` opens the target's namespace files, then forks the new process
*directly into the container's PID namespace* (``process.launch`` with
``setns(CLONE_NEWPID)``: it only affects children, and only those of the
calling thread). So the exec'd process is the caller's own child: the
caller waits for it with ``os.waitpid`` and needs no child-subreaper role and
no intermediate process. Its parent is outside the namespace, so inside the
container its ppid reads 0, as with docker. The caller must reap it
promptly: the kernel tears a PID namespace down only once every process in
it has been reaped, so an unreaped exec'd process holds the container's
PID 1 in exit (and its stop) until it is.

The child waits until the caller has put it in the container's cgroup
(``add_to_cgroup(pid)``, run in the caller), enters ipc, uts, net, cgroup
(only namespaces that differ from ours) and mnt last (after which its root
and cwd are the container's), optionally makes a terminal in the container's
own devpts, becomes session leader, wires stdio, changes to ``cwd``, sets
user, groups, capabilities, no_new_privs and seccomp in the order
``capabilities.py`` documents, and execs. Failures before exec come back as
JSON through a close-on-exec pipe (end of file: exec succeeded) and are
raised as RuntimeFailure.

With ``tty=True`` the pty comes from the container's ``/dev/ptmx`` (its
``newinstance`` devpts), so ``tty`` prints ``/dev/pts/N`` as in docker; the
master travels back to the caller over a socket pair (SCM_RIGHTS). The
master is the caller's to read, write, resize (TIOCSWINSZ) and close.

Imports only ``engine.runtime``; system calls Python lacks go through the
``Syscalls`` object.
"""
from __future__ import annotations

import fcntl
import json
import os
import termios
from collections.abc import Callable

from . import identity as identity_
from . import process, terminal
from . import sys as s
from .errors import RuntimeFailure
from .process import Launched

# Entered in the child in this order: mnt last, because after it paths
# (including /proc) are the container's. pid is entered by the caller.
CHILD_NAMESPACES = ("ipc", "uts", "net", "cgroup", "mnt")


def spawn_in(sys: s.Syscalls, target_pid: int, args: list[str], env: list[str], cwd: str,
             uid: int, gid: int, groups: list[int], capabilities: int | None,
             seccomp_filter: bytes, no_new_privileges: bool, stdio: tuple[int, int, int] | None,
             add_to_cgroup: Callable[[int], None], tty: bool = False, *,
             seccomp_flags: int = 0, proc: str = "/proc") -> Launched:
    """Run ``args`` in the namespaces of ``target_pid``; returns once it has
    exec'd. ``stdio`` is ignored with ``tty`` (the pty slave is used)."""
    if not args:
        raise RuntimeFailure("exec: no command given")
    identity = identity_.Identity(uid, gid, list(groups), capabilities, seccomp_filter,
                                  seccomp_flags, no_new_privileges, identity_.last_cap(proc))
    namespaces = open_namespaces(target_pid, proc)
    pid_ns = namespaces.pop("pid")
    try:
        return process.launch(
            sys, lambda: sys.setns(pid_ns, s.CLONE_NEWPID),
            lambda go_r, err_w, tty_child: _child(sys, namespaces, args, env, cwd, identity, stdio,
                                                  tty_child, go_r, err_w),
            add_to_cgroup, tty, proc)
    finally:
        for fd in (pid_ns, *namespaces.values()):
            os.close(fd)


def open_namespaces(target_pid: int, proc: str = "/proc") -> dict[str, int]:
    """Open fds of the target's pid namespace and of those of
    ``CHILD_NAMESPACES`` that differ from ours, all before entering any."""
    opened: dict[str, int] = {}
    try:
        for name in ("pid", *CHILD_NAMESPACES):
            path = f"{proc}/{target_pid}/ns/{name}"
            theirs = os.stat(path)
            ours = os.stat(f"{proc}/self/ns/{name}")
            if name != "pid" and (theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino):
                continue
            opened[name] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        for fd in opened.values():
            os.close(fd)
        raise RuntimeFailure(f"cannot open the namespaces of process {target_pid}: "
                             f"{exc.strerror}", exc.errno) from None
    return opened


# -- the child, before exec -------------------------------------------------------

def _child(sys, namespaces, args, env, cwd, identity, stdio, tty_child, go_r,
           err_w) -> None:  # pragma: no cover - runs in the child
    try:
        if os.read(go_r, 1) != b"1":
            os._exit(1)
        os.close(go_r)
        _enter(sys, namespaces)
        if tty_child is not None:
            stdio = terminal.open_in_container(tty_child)
        os.setsid()
        for target, fd in enumerate(stdio):
            os.dup2(fd, target)
        if tty_child is not None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        identity_.close_fds(keep=(err_w,))
        _chdir(cwd)
        identity_.apply(sys, identity)
        identity_.execute(args, env)
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        try:
            os.write(err_w, json.dumps({"error": str(exc) or type(exc).__name__}).encode())
        finally:
            os._exit(127)


def _enter(sys: s.Syscalls, namespaces: dict[str, int]) -> None:
    for name in CHILD_NAMESPACES:
        if name in namespaces:
            sys.setns(namespaces[name], s.NAMESPACES[name])
            os.close(namespaces[name])
    os.chdir("/")  # after setns(mnt), "/" is the container's root


def _chdir(cwd: str) -> None:
    try:
        os.chdir(cwd or "/")
    except OSError as exc:
        raise RuntimeError(f'chdir to cwd ("{cwd}") set in config.json failed: '
                           f"{(exc.strerror or '').lower()}") from None



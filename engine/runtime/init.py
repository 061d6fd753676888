"""The container's PID 1 before exec (child side), forked by
``process.prepare`` into its new PID namespace: enter its other namespaces,
become session leader, wire stdio, hostname, root filesystem, sysctls,
limits, then wait for the go-ahead (start; the parent makes the cgroups
meanwhile), join the cgroups (v1; on v2 the parent has put us there),
then user and groups, capabilities, no_new_privs, seccomp, and exec.

Any failure is written as JSON to the error pipe and the process exits 127;
the parent turns it into an error. Must never return.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import resource
import socket
import struct
import termios

from . import identity, rootfs, terminal
from . import sys as s
from .spec import Spec

_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1  # linux/sockios.h, linux/if.h

# ulimit names as docker spells them -> RLIMIT numbers (linux/resource.h;
# Python's resource module lacks RLIMIT_LOCKS).
_RLIMITS = {"cpu": 0, "fsize": 1, "data": 2, "stack": 3, "core": 4, "rss": 5, "nproc": 6,
            "nofile": 7, "memlock": 8, "as": 9, "locks": 10, "sigpending": 11, "msgqueue": 12,
            "nice": 13, "rtprio": 14, "rttime": 15}


def run(sys: s.Syscalls, spec: Spec, stdio: tuple[int, int, int] | None, go_r: int,
        err_w: int, tty_channel=None,
        entered: dict[str, int] | None = None) -> None:  # pragma: no cover - the container's process
    """With ``tty_channel`` the process gets a terminal of the container's own
    devpts (its master goes to the engine through the channel); else ``stdio``.
    ``entered``: namespaces made new already (a spare's), name -> fd of the
    host's, to go back to for one the container shares with the host."""
    try:
        _enter_namespaces(sys, spec, entered or {})
        os.setsid()
        if stdio is not None:
            for target, fd in enumerate(stdio):
                os.dup2(fd, target)
        identity.close_fds(keep=(err_w, go_r) + ((tty_channel.fileno(),) if tty_channel else ()))
        groups = _cgroup_parents(spec)  # before pivot_root hides the host's cgroupfs
        _prepare(sys, spec)
        if tty_channel is not None:
            for target, fd in enumerate(terminal.open_in_container(tty_channel)):
                os.dup2(fd, target)
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # the session's controlling terminal
        groups = _join(groups, missing_ok=True)  # v1: those made already, before start
        if os.read(go_r, 1) != b"1":  # start: our cgroups exist (v2: the parent put us there)
            os._exit(1)
        os.close(go_r)
        _join(groups, missing_ok=False)
        if "cgroup" in spec.namespaces:  # our cgroup becomes the namespace's root
            sys.unshare(s.CLONE_NEWCGROUP)
        identity.apply(sys, identity.Identity(
            spec.uid, spec.gid, spec.groups, spec.capabilities, bytes.fromhex(spec.seccomp_filter),
            spec.seccomp_flags, spec.no_new_privileges, identity.last_cap()))
        identity.execute(spec.args, spec.env)
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        try:
            os.write(err_w, json.dumps({"error": str(exc) or type(exc).__name__}).encode())
        finally:
            os._exit(127)


def _cgroup_parents(spec: Spec) -> list[tuple[int, str]]:
    """(fd of the parent group, "NAME/tasks") for each v1 hierarchy."""
    found = []
    for path in spec.cgroup_tasks:
        group = os.path.dirname(path)
        fd = os.open(os.path.dirname(group), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        found.append((fd, os.path.join(os.path.basename(group), os.path.basename(path))))
    return found


def _join(groups: list[tuple[int, str]], missing_ok: bool) -> list[tuple[int, str]]:
    """Move ourselves into each v1 group (see Spec.cgroup_tasks); returns
    those not made yet (with ``missing_ok``)."""
    left = []
    for parent, task_file in groups:
        try:
            fd = os.open(task_file, os.O_WRONLY | os.O_CLOEXEC, dir_fd=parent)
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)
        except OSError as error:  # not made yet, or a cpuset group without its cpus yet
            if not missing_ok or error.errno not in (errno.ENOENT, errno.ENOSPC):
                raise
            left.append((parent, task_file))
            continue
        os.close(parent)
    return left


def _enter_namespaces(sys: s.Syscalls, spec: Spec, entered: dict[str, int]) -> None:
    """All but pid (we were forked into it) and cgroup (made once we are in
    our cgroup); a given network namespace is joined instead of a new one."""
    wanted = {name for name in spec.namespaces
              if name not in ("pid", "cgroup") and not (name == "net" and spec.netns_path)}
    for name, host in entered.items():
        if name not in wanted:  # shared with the host (or joined below): back to the host's
            sys.setns(host, s.NAMESPACES[name])
        os.close(host)
    flags = 0
    for name in wanted - set(entered):
        flags |= s.NAMESPACES[name]
    if spec.netns_path:
        fd = os.open(spec.netns_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            sys.setns(fd, s.CLONE_NEWNET)
        finally:
            os.close(fd)
    if flags:
        sys.unshare(flags)
    if "net" in wanted:  # a network namespace of our own starts with lo down
        _loopback_up()


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(probe, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(probe, _SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | _IFF_UP))


def _prepare(sys: s.Syscalls, spec: Spec) -> None:
    if "uts" in spec.namespaces:
        if spec.hostname:
            sys.sethostname(spec.hostname)
        if spec.domainname:
            sys.setdomainname(spec.domainname)
    os.umask(0)  # device nodes must be 0666
    rootfs.setup(sys, spec)
    os.umask(0o022)
    for name, (soft, hard) in spec.rlimits.items():
        resource.setrlimit(_RLIMITS[name], (soft, hard))
    if spec.cwd and spec.cwd != "/":
        os.makedirs(spec.cwd, exist_ok=True)
    os.chdir(spec.cwd or "/")

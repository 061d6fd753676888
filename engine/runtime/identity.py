"""Who a container's process is and what it may do, applied in the one order
that works (capabilities.py explains it), and the exec that follows: shared
by a container's PID 1 (init.py) and exec'd processes (nsexec.py). Child side.
"""
from __future__ import annotations

import os
import signal
from dataclasses import dataclass

from . import capabilities as caps
from . import seccomp
from . import sys as s


@dataclass(frozen=True)
class Identity:
    uid: int
    gid: int
    groups: list[int]
    capabilities: int | None  # None: keep the engine's
    seccomp_filter: bytes  # empty: none
    seccomp_flags: int
    no_new_privileges: bool
    last_cap: int


def last_cap(proc: str = "/proc") -> int:
    with open(f"{proc}/sys/kernel/cap_last_cap") as handle:
        return int(handle.read())


def apply(sys: s.Syscalls, identity: Identity) -> None:
    """Bounding set (needs CAP_SETPCAP), no_new_privs, seccomp early while
    CAP_SYS_ADMIN is held unless no_new_privs lets it come last, groups and
    ids, the final capability sets."""
    program = identity.seccomp_filter
    if identity.capabilities is not None:
        caps.prepare(sys, identity.capabilities, identity.last_cap)
    if identity.no_new_privileges:
        sys.prctl(s.PR_SET_NO_NEW_PRIVS, 1)
    elif program:
        seccomp.apply(sys, program, identity.seccomp_flags)
    os.setgroups(identity.groups)
    os.setgid(identity.gid)
    os.setuid(identity.uid)
    if identity.capabilities is not None:
        caps.finish(sys, identity.capabilities, identity.uid)
    if identity.no_new_privileges and program:
        seccomp.apply(sys, program, identity.seccomp_flags)


def close_fds(keep: tuple[int, ...] = ()) -> None:
    """Close every fd from 3 up except ``keep`` (close_range(2) underneath)."""
    low = 3
    for fd in sorted(set(keep)):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, 1 << 20)


def execute(args: list[str], env: list[str]) -> None:
    """exec with the container's environment (PATH lookup in it), signals as
    a fresh process has them; docker's wording when it fails."""
    for number in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores these; exec keeps that
        signal.signal(number, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    environment = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    program = args[0]
    try:
        os.execvpe(program, args, environment)
    except FileNotFoundError:
        raise RuntimeError(f'exec: "{program}": executable file not found in $PATH') from None
    except PermissionError:
        raise RuntimeError(f'exec: "{program}": permission denied') from None

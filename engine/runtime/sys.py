"""System calls Python 3.11 does not offer, through ctypes: the only ctypes
user of the project (STYLE habit 1; a layer test enforces it).

``Syscalls`` is the object the rest of the runtime receives; ``fake.py`` has
a recording twin for unit tests. Every failure becomes a RuntimeFailure
naming the call and its arguments (one translation point for OSError).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

from .errors import RuntimeFailure

# namespaces (linux/sched.h)
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACES = {"mnt": CLONE_NEWNS, "uts": CLONE_NEWUTS, "ipc": CLONE_NEWIPC, "pid": CLONE_NEWPID,
              "net": CLONE_NEWNET, "cgroup": CLONE_NEWCGROUP, "user": CLONE_NEWUSER}

# mount flags (linux/mount.h)
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_UNBINDABLE = 1 << 17
MS_STRICTATIME = 1 << 24
MNT_DETACH = 2

# prctl
PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.setdomainname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.syscall.restype = ctypes.c_long
SYS_PIVOT_ROOT = 155  # x86_64
SYS_CAPSET = 126
SYS_CAPGET = 125
SYS_SECCOMP = 317
SECCOMP_SET_MODE_FILTER = 1


class _SockFprog(ctypes.Structure):
    """struct sock_fprog: a classic BPF program for seccomp."""
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


_CAP_VERSION_3 = 0x20080522


def _b(value: str | os.PathLike | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


def _check(result: int, what: str) -> int:
    if result < 0:
        errno = ctypes.get_errno()
        raise RuntimeFailure(f"{what}: {os.strerror(errno)}", errno)
    return result


class Syscalls:
    """The real kernel. Methods raise RuntimeFailure."""

    def unshare(self, flags: int) -> None:
        _check(_libc.unshare(flags), f"unshare({flags:#x})")

    def setns(self, fd: int, nstype: int = 0) -> None:
        _check(_libc.setns(fd, nstype), f"setns({fd}, {nstype:#x})")

    def mount(self, source: str | None, target: str, fstype: str | None = None,
              flags: int = 0, data: str | None = None) -> None:
        result = _libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data))
        _check(result, f"mount {source or fstype} on {target} (flags {flags:#x}, {data or ''})")

    def umount(self, target: str, flags: int = 0) -> None:
        _check(_libc.umount2(_b(target), flags), f"umount {target}")

    def pivot_root(self, new_root: str, put_old: str) -> None:
        result = _libc.syscall(SYS_PIVOT_ROOT, _b(new_root), _b(put_old))
        _check(result, f"pivot_root({new_root}, {put_old})")

    def mknod(self, path: str, mode: int, device: int) -> None:
        try:
            os.mknod(path, mode, device)
        except OSError as exc:
            raise RuntimeFailure(f"mknod {path}: {exc.strerror}", exc.errno) from None

    def sethostname(self, name: str) -> None:
        data = name.encode()
        _check(_libc.sethostname(data, len(data)), f"sethostname({name})")

    def setdomainname(self, name: str) -> None:
        data = name.encode()
        _check(_libc.setdomainname(data, len(data)), f"setdomainname({name})")

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        return _check(_libc.prctl(option, arg2, arg3, arg4, arg5), f"prctl({option}, {arg2})")

    def capget(self) -> tuple[int, int, int]:
        """(effective, permitted, inheritable) capability masks of this process."""
        header = _CapHeader(_CAP_VERSION_3, 0)
        data = (_CapData * 2)()
        _check(_libc.syscall(SYS_CAPGET, ctypes.byref(header), data), "capget")
        join = lambda field: getattr(data[0], field) | (getattr(data[1], field) << 32)
        return join("effective"), join("permitted"), join("inheritable")

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        header = _CapHeader(_CAP_VERSION_3, 0)
        data = (_CapData * 2)()
        for index in (0, 1):
            shift = 32 * index
            data[index].effective = (effective >> shift) & 0xFFFFFFFF
            data[index].permitted = (permitted >> shift) & 0xFFFFFFFF
            data[index].inheritable = (inheritable >> shift) & 0xFFFFFFFF
        _check(_libc.syscall(SYS_CAPSET, ctypes.byref(header), data), "capset")

    def seccomp_set_filter(self, program: bytes, flags: int = 0) -> None:
        """seccomp(SECCOMP_SET_MODE_FILTER, flags, prog): ``program`` is an
        array of struct sock_filter (8 bytes each), as seccomp.build_filter makes."""
        buffer = ctypes.create_string_buffer(program, len(program))
        prog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
        result = _libc.syscall(SYS_SECCOMP, ctypes.c_ulong(SECCOMP_SET_MODE_FILTER),
                               ctypes.c_ulong(flags), ctypes.byref(prog))
        _check(result, f"seccomp(SET_MODE_FILTER, {flags:#x}, {len(program) // 8} instructions)")

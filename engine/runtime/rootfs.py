"""The container's filesystem, set up in its own mount namespace (child
side, before exec): overlayfs of the image layers and the container's upper
dir, /proc, /dev (tmpfs, device nodes, devpts, shm, mqueue), read-only /sys,
the /etc files, the user's mounts, pivot_root (never chroot), docker's
masked and read-only paths, and a read-only root when asked.

Every mount target is resolved inside the rootfs (``secure_join``): a
symlink in the image can never send a mount onto the host. Receives the
Syscalls object; the calls and their order are unit-tested on the fake.
"""
from __future__ import annotations

import os
import shutil
import stat

from . import sys as s
from .errors import RuntimeFailure
from .spec import Mount, Spec

_DEVICES = ["null", "zero", "full", "random", "urandom", "tty"]
_MAX_LINKS = 40


def secure_join(root: str, path: str) -> str:
    """``root/path`` with every symlink resolved *inside* root."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        if os.path.islink(candidate):
            hops += 1
            if hops > _MAX_LINKS:
                raise RuntimeFailure(f"too many symlinks resolving {path} in the container")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        resolved.append(part)
    return os.path.join(root, *resolved)


def _ensure(path: str, directory: bool) -> None:
    if os.path.lexists(path):
        return
    if directory:
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a"):
            pass


def _bind(sys: s.Syscalls, source: str, target: str, *, read_only: bool, recursive: bool = True,
          propagation: str = "rprivate") -> None:
    sys.mount(source, target, None, s.MS_BIND | (s.MS_REC if recursive else 0))
    flags = {"shared": s.MS_SHARED, "rshared": s.MS_SHARED | s.MS_REC,
             "slave": s.MS_SLAVE, "rslave": s.MS_SLAVE | s.MS_REC}
    if propagation in flags:  # private is what a bind under our private root is already
        sys.mount(None, target, None, flags[propagation])
    elif propagation == "private" or not recursive:
        pass
    else:  # rprivate: the source's submounts came along with their propagation
        sys.mount(None, target, None, s.MS_PRIVATE | s.MS_REC)
    if read_only:
        sys.mount(None, target, None, s.MS_BIND | s.MS_REMOUNT | s.MS_RDONLY | (s.MS_REC if recursive else 0))


def _overlay(sys: s.Syscalls, spec: Spec) -> None:
    options = (f"lowerdir={':'.join(spec.rootfs_lower)},upperdir={spec.rootfs_upper},"
               f"workdir={spec.rootfs_work}")
    sys.mount("overlay", spec.rootfs_merged, "overlay", 0, options)


def _dev(sys: s.Syscalls, root: str, spec: Spec) -> None:
    dev = secure_join(root, "/dev")
    _ensure(dev, True)
    sys.mount("tmpfs", dev, "tmpfs", s.MS_NOSUID | s.MS_STRICTATIME, "mode=755,size=65536k")
    for name in _DEVICES:
        host = os.stat(f"/dev/{name}")
        sys.mknod(os.path.join(dev, name), stat.S_IFCHR | 0o666, host.st_rdev)
    for name in ("pts", "shm", "mqueue"):
        os.makedirs(os.path.join(dev, name), 0o755, exist_ok=True)
    sys.mount("devpts", os.path.join(dev, "pts"), "devpts", s.MS_NOSUID | s.MS_NOEXEC,
              "newinstance,ptmxmode=0666,mode=0620,gid=5")
    os.symlink("pts/ptmx", os.path.join(dev, "ptmx"))
    sys.mount("shm", os.path.join(dev, "shm"), "tmpfs", s.MS_NOSUID | s.MS_NOEXEC | s.MS_NODEV,
              f"mode=1777,size={spec.shm_size}")
    sys.mount("mqueue", os.path.join(dev, "mqueue"), "mqueue", s.MS_NOSUID | s.MS_NOEXEC | s.MS_NODEV)
    for link, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                         ("core", "/proc/kcore")):
        os.symlink(target, os.path.join(dev, link))
    if spec.tty:
        _ensure(os.path.join(dev, "console"), False)


def _user_mount(sys: s.Syscalls, root: str, mount: Mount) -> None:
    target = secure_join(root, mount.target)
    if mount.type == "tmpfs":
        _ensure(target, True)
        flags = s.MS_NOSUID | s.MS_NODEV | (s.MS_RDONLY if mount.read_only else 0)
        sys.mount("tmpfs", target, "tmpfs", flags, ",".join(mount.options) or None)
        return
    if mount.copy_up and os.path.isdir(target) and not os.listdir(mount.source):
        _copy_tree(target, mount.source)
    _ensure(target, os.path.isdir(mount.source))
    _bind(sys, mount.source, target, read_only=mount.read_only, propagation=mount.propagation)


def _copy_tree(source: str, destination: str) -> None:
    """docker's copy-up: the image's files at a volume's target, with their
    owners and modes, into the empty volume."""
    shutil.copystat(source, destination)
    stat_ = os.lstat(source)
    os.chown(destination, stat_.st_uid, stat_.st_gid)
    for entry in os.scandir(source):
        target = os.path.join(destination, entry.name)
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), target)
        elif entry.is_dir():
            os.mkdir(target)
            _copy_tree(entry.path, target)
            continue
        else:
            shutil.copy2(entry.path, target)
        info = entry.stat(follow_symlinks=False)
        os.lchown(target, info.st_uid, info.st_gid)


def _mask(sys: s.Syscalls, paths: list[str]) -> None:
    for path in paths:
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(mode):
            sys.mount("tmpfs", path, "tmpfs", s.MS_RDONLY)
        else:
            sys.mount("/dev/null", path, None, s.MS_BIND)


def _read_only(sys: s.Syscalls, paths: list[str]) -> None:
    for path in paths:
        if os.path.lexists(path):
            sys.mount(path, path, None, s.MS_BIND | s.MS_REC)
            sys.mount(None, path, None, s.MS_BIND | s.MS_REMOUNT | s.MS_RDONLY | s.MS_REC)


def setup(sys: s.Syscalls, spec: Spec) -> None:
    """Build the container's root and pivot into it. Run as PID 1 of the new
    pid namespace, inside the new mount namespace."""
    sys.mount(None, "/", None, s.MS_REC | s.MS_PRIVATE)  # nothing propagates to the host
    _overlay(sys, spec)
    root = spec.rootfs_merged
    proc = secure_join(root, "/proc")
    _ensure(proc, True)
    sys.mount("proc", proc, "proc", s.MS_NOSUID | s.MS_NOEXEC | s.MS_NODEV)
    _dev(sys, root, spec)
    sysfs = secure_join(root, "/sys")
    _ensure(sysfs, True)
    sysfs_flags = s.MS_NOSUID | s.MS_NOEXEC | s.MS_NODEV | (0 if spec.privileged else s.MS_RDONLY)
    if "net" in spec.namespaces or spec.netns_path:
        sys.mount("sysfs", sysfs, "sysfs", sysfs_flags)
    else:  # sharing the host's network: sysfs of this netns cannot be mounted anew
        _bind(sys, "/sys", sysfs, read_only=not spec.privileged)
    for target, source in spec.etc_files.items():
        path = secure_join(root, target)
        _ensure(path, False)
        _bind(sys, source, path, read_only=False, recursive=False)
    for mount in spec.mounts:
        _user_mount(sys, root, mount)
    os.chdir(root)
    sys.pivot_root(".", ".")
    sys.umount(".", s.MNT_DETACH)
    os.chdir("/")
    for key, value in spec.sysctls.items():  # before /proc/sys turns read-only
        with open("/proc/sys/" + key.replace(".", "/"), "w") as handle:
            handle.write(str(value))
    if not spec.privileged:
        _mask(sys, spec.masked_paths)
        _read_only(sys, spec.readonly_paths)
    if spec.read_only:
        sys.mount(None, "/", None, s.MS_BIND | s.MS_REMOUNT | s.MS_RDONLY)

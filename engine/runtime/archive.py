"""``docker cp`` inside a container: a short-lived process of its own (the
daemon is multi-threaded and must not fork, and ``setns(CLONE_NEWNS)``
wants a single-threaded caller).

    python -m engine.runtime.archive stat|get|put REQUEST-JSON

It first takes the container's view of the filesystem: for a running
container it enters PID 1's mount namespace (its root and its volumes, as
docker cp sees them); for a stopped one it unshares a private mount
namespace, mounts the container's overlay (read-only, upper as the top
lower layer, for ``stat`` and ``get``) and its binds and volumes, and
chroots into it. Every path, every symlink and every tar entry then
resolves inside the container's root; the private namespace and its mounts
die with the process.

Standard output: one JSON line, ``{"stat": {...}}`` or ``{"error": ...,
"status": ...}``; after a ``stat`` line ``get`` writes the tar, ``put``
reads a tar from standard input and ends with ``{"ok": true}``.

Nothing may be imported once inside: the container's files could answer
(``sys.path`` is emptied), and user/group names are never looked up
(glibc would load the container's NSS modules); owners are numeric.
"""
from __future__ import annotations

import bz2  # noqa: F401 - tarfile's lazy imports, made before entering
import datetime
import errno
import gzip  # noqa: F401
import json
import lzma  # noqa: F401
import os
import shutil
import stat
import sys
import tarfile

from . import process
from . import sys as s
from .rootfs import secure_join

# Go's os.FileMode type bits (docker's stat header carries Go's FileMode).
_GO_TYPES = ((stat.S_ISDIR, 1 << 31), (stat.S_ISLNK, 1 << 27), (stat.S_ISBLK, 1 << 26),
             (stat.S_ISFIFO, 1 << 25), (stat.S_ISSOCK, 1 << 24), (stat.S_ISCHR, (1 << 26) | (1 << 21)))
_GO_SETUID, _GO_SETGID, _GO_STICKY = 1 << 23, 1 << 22, 1 << 20


class Failed(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# -- entering the container's filesystem -------------------------------------------

def enter(sys_: s.Syscalls, request: dict, writable: bool) -> None:
    """Make this process's root the container's root."""
    if request.get("pid"):
        _enter_running(sys_, request["pid"], request.get("pid_start_time"))
    else:
        _enter_stopped(sys_, request, writable)
    sys.path.clear()  # from here on, an import would read the container's files
    sys.path_importer_cache.clear()


def _enter_running(sys_: s.Syscalls, pid: int, start_time: int | None) -> None:
    try:
        fd = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise Failed(409, f"the container's process {pid} is gone: {exc.strerror}") from None
    try:
        if not process.alive(pid, start_time):  # the fd is the namespace of the very process
            raise Failed(409, f"the container's process {pid} is gone")
        sys_.setns(fd, s.CLONE_NEWNS)
    finally:
        os.close(fd)
    os.chdir("/")  # after setns, "/" is the container's root


def _enter_stopped(sys_: s.Syscalls, request: dict, writable: bool) -> None:
    sys_.unshare(s.CLONE_NEWNS)
    sys_.mount(None, "/", None, s.MS_REC | s.MS_PRIVATE)  # nothing propagates out
    root = request["merged"]
    os.makedirs(root, exist_ok=True)
    lower, upper = request["lower"], request["upper"]
    if writable and not request.get("read_only"):
        sys_.mount("overlay", root, "overlay", 0,
                   f"lowerdir={':'.join(lower)},upperdir={upper},workdir={request['work']}")
    elif lower:
        sys_.mount("overlay", root, "overlay", s.MS_RDONLY, f"lowerdir={':'.join([upper, *lower])}")
    else:
        sys_.mount(upper, root, None, s.MS_BIND)
        sys_.mount(None, root, None, s.MS_BIND | s.MS_REMOUNT | s.MS_RDONLY)
    for mount in request.get("mounts", []):
        _mount(sys_, root, mount, writable)
    os.chroot(root)
    os.chdir("/")


def _mount(sys_: s.Syscalls, root: str, mount: dict, writable: bool) -> None:
    """A bind or volume of the stopped container, where its target exists."""
    if mount["type"] not in ("bind", "volume") or not os.path.exists(mount["source"]):
        return
    target = secure_join(root, mount["target"])
    if not os.path.exists(target) or os.path.isdir(target) != os.path.isdir(mount["source"]):
        return
    sys_.mount(mount["source"], target, None, s.MS_BIND | s.MS_REC)
    sys_.mount(None, target, None, s.MS_PRIVATE | s.MS_REC)
    if mount.get("read_only") or not writable:
        sys_.mount(None, target, None, s.MS_BIND | s.MS_REMOUNT | s.MS_RDONLY | s.MS_REC)


# -- inside ---------------------------------------------------------------------------

def _absolute(path: str) -> str:
    return "/" + path.lstrip("/")


def path_stat(path: str, name: str) -> dict:
    """docker's ContainerPathStat of ``path`` (the last symlink not followed,
    unless the path ends with a slash)."""
    path = _absolute(path)
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise Failed(404, f"Could not find the file {path} in container {name}") from None
    link = os.path.realpath(path) if stat.S_ISLNK(info.st_mode) else ""  # resolved in the container
    mtime = datetime.datetime.fromtimestamp(info.st_mtime_ns // 10**9, datetime.UTC)
    nanos = info.st_mtime_ns % 10**9
    stamp = mtime.strftime("%Y-%m-%dT%H:%M:%S") + (f".{nanos:09d}".rstrip("0") if nanos else "") + "Z"
    return {"name": _base(path), "size": info.st_size, "mode": go_mode(info.st_mode), "mtime": stamp,
            "linkTarget": link}


def _base(path: str) -> str:
    return os.path.basename(os.path.normpath(path)) or "/"


def go_mode(mode: int) -> int:
    """A st_mode as Go's os.FileMode."""
    value = stat.S_IMODE(mode) & 0o777
    value |= next((bit for test, bit in _GO_TYPES if test(mode)), 0)
    for flag, bit in ((stat.S_ISUID, _GO_SETUID), (stat.S_ISGID, _GO_SETGID), (stat.S_ISVTX, _GO_STICKY)):
        if mode & flag:
            value |= bit
    return value


def write_tar(path: str, out) -> None:
    """The tar of ``path`` as docker makes it: entries under its base name."""
    path = _absolute(path)
    name = os.path.basename(os.path.normpath(path)) or "."
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        archive.add(path, arcname=name, recursive=True)


def extract(directory: str, source, name: str, *, owner: list[int] | None, no_overwrite_dir_non_dir: bool) -> None:
    """Unpack the tar on ``source`` into ``directory`` (which must be one)."""
    directory = _absolute(directory)
    try:
        if not stat.S_ISDIR(os.stat(directory).st_mode):
            raise Failed(400, "extraction point is not a directory")
    except (FileNotFoundError, NotADirectoryError):
        raise Failed(404, f"Could not find the file {directory} in container {name}") from None
    directory = os.path.realpath(directory)
    with tarfile.open(fileobj=source, mode="r|*") as archive:
        archive.extractall(directory, members=_members(archive, directory, owner, no_overwrite_dir_non_dir),
                           numeric_owner=True, filter="fully_trusted")


def _members(archive: tarfile.TarFile, directory: str, owner, no_overwrite_dir_non_dir: bool):
    """docker's rules: no entry leaves the extraction point (symlinks may
    point anywhere: they resolve in the container), an existing non-directory
    is replaced, not written through."""
    for member in archive:
        name = os.path.normpath(member.name.lstrip("/"))
        if name == "." and member.isdir():
            continue
        if name == ".." or name.startswith("../") or (member.islnk() and _escapes(member.linkname)):
            raise Failed(400, f"invalid tar entry {member.name!r}: it would leave {directory}")
        member.name = name
        if owner is not None:
            member.uid, member.gid = owner
        target = os.path.join(directory, name)
        _clear(target, member, no_overwrite_dir_non_dir)
        yield member


def _escapes(linkname: str) -> bool:
    name = os.path.normpath(linkname.lstrip("/"))
    return name == ".." or name.startswith("../")


def _clear(target: str, member: tarfile.TarInfo, no_overwrite_dir_non_dir: bool) -> None:
    try:
        existing = os.lstat(target)
    except FileNotFoundError:
        return
    is_dir = stat.S_ISDIR(existing.st_mode)
    if no_overwrite_dir_non_dir and is_dir != member.isdir():
        raise Failed(400, f"cannot overwrite {'directory' if is_dir else 'non-directory'} {target!r} with "
                          f"{'non-directory' if is_dir else 'directory'} {member.name!r}")
    if is_dir and member.isdir():
        return
    if is_dir:
        shutil.rmtree(target)
    else:
        os.unlink(target)


# -- the process ----------------------------------------------------------------------

def _say(out, message: dict) -> None:
    out.write(json.dumps(message).encode() + b"\n")
    out.flush()


def run(op: str, request: dict, sys_: s.Syscalls, out, source) -> int:
    tarfile.pwd = tarfile.grp = None  # numeric owners only: no NSS inside the container
    name = request.get("name", "")
    try:
        enter(sys_, request, writable=op == "put")
        if op == "put":
            extract(request["path"], source, name, owner=request.get("owner"),
                    no_overwrite_dir_non_dir=bool(request.get("no_overwrite_dir_non_dir")))
            _say(out, {"ok": True})
            return 0
        _say(out, {"stat": path_stat(request["path"], name)})
    except Failed as failure:
        _say(out, {"error": str(failure), "status": failure.status})
    except OSError as error:
        read_only = error.errno == errno.EROFS
        _say(out, {"error": "container rootfs is marked read-only" if read_only else str(error),
                   "status": 403 if read_only else 500})
    except Exception as error:  # noqa: BLE001 - no traceback: its lines would be read in the container
        _say(out, {"error": f"{type(error).__name__}: {error}", "status": 500})
    else:
        if op != "get":
            return 0
        try:  # the stat line is out: a failure now can only cut the tar short
            write_tar(request["path"], out)
            return 0
        except Exception as error:  # noqa: BLE001 - as above
            print(f"docker cp: {type(error).__name__}: {error}", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("stat", "get", "put"):
        print("usage: python -m engine.runtime.archive stat|get|put REQUEST-JSON", file=sys.stderr)
        return 2
    return run(argv[0], json.loads(argv[1]), s.Syscalls(), sys.stdout.buffer, sys.stdin.buffer)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

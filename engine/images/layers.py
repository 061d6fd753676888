"""Layer blobs → unpacked layer directories, safely, with overlayfs whiteouts.

Owns: detecting a layer's compression (gzip, zstd when ``zstandard`` imports,
bzip2, xz, none), hashing the blob and its uncompressed stream in one pass,
and unpacking a layer tar into a directory that an overlayfs mount can use as
a lowerdir:

- ``.wh.NAME`` becomes a 0/0 character device NAME, ``.wh..wh..opq`` the xattr
  ``trusted.overlay.opaque=y`` on its directory;
- nothing is ever written outside the directory: absolute names, ``..``,
  entries under a symlink, hard links to anything not already in this layer
  and device nodes are refused with an error naming the layer and the entry.
  Symlink *targets* are kept as they are (absolute ones included): they are
  resolved inside the container's root at run time, never here.
- modes, owners, mtimes, symlinks, hard links and xattrs are preserved.

The policy (``classify``) is a pure function, testable without root; the
unpacker needs root (chown, mknod, trusted.* xattrs).

Imports the standard library and engine.images.errors only; must not import
the store, the service or anything outside engine.images.
"""
from __future__ import annotations

import bz2
import errno
import gzip
import hashlib
import io
import lzma
import os
import shutil
import stat
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from engine.images.errors import (
    DigestMismatch,
    InvalidArchive,
    UnsafeLayerEntry,
    UnsupportedCompression,
)

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
CHUNK = 1 << 20

try:
    import zstandard
except ImportError:      # optional: zstd layers then fail with a clear message
    zstandard = None


# --------------------------------------------------------------- the policy

@dataclass(frozen=True)
class Entry:
    """What to do with one tar member. ``path`` is relative; "" is the root."""
    kind: str    # root, dir, file, symlink, hardlink, fifo, whiteout, opaque, skip
    path: str
    target: str | None = None


def clean_path(name: str) -> str:
    """The member name as a relative path, or ValueError saying why not."""
    if name.startswith("/"):
        raise ValueError("absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValueError("path contains '..'")
    return "/".join(parts)


def _under_symlink(path: str, symlinks: set[str]) -> str | None:
    parts = path.split("/")
    for end in range(1, len(parts)):
        prefix = "/".join(parts[:end])
        if prefix in symlinks:
            return prefix
    return None


def classify(member: tarfile.TarInfo, symlinks: set[str], layer: str) -> Entry:
    """Decide what a member becomes, given the symlinks this layer made so far."""
    def refuse(reason: str) -> UnsafeLayerEntry:
        return UnsafeLayerEntry(layer, member.name, reason)

    try:
        path = clean_path(member.name)
    except ValueError as error:
        raise refuse(str(error)) from None
    if not path:
        return Entry("root" if member.isdir() else "skip", "")
    linked = _under_symlink(path, symlinks)
    if linked is not None:
        raise refuse(f"its parent {linked!r} is a symlink")
    parent, _, base = path.rpartition("/")
    if base == OPAQUE_MARKER:
        return Entry("opaque", parent)
    if base.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
        return Entry("skip", path)          # other AUFS metadata (.wh..wh.plnk, ...)
    if base.startswith(WHITEOUT_PREFIX):
        hidden = base[len(WHITEOUT_PREFIX):]
        return Entry("whiteout", f"{parent}/{hidden}" if parent else hidden)
    if member.isdir():
        return Entry("dir", path)
    if member.issym():
        return Entry("symlink", path, member.linkname)
    if member.islnk():
        try:
            target = clean_path(member.linkname)
        except ValueError as error:
            raise refuse(f"hard link target {member.linkname!r}: {error}") from None
        if not target or target == path:
            raise refuse(f"hard link to {member.linkname!r}")
        if _under_symlink(target, symlinks) is not None:
            raise refuse(f"hard link target {member.linkname!r} is under a symlink")
        return Entry("hardlink", path, target)
    if member.isfile():
        return Entry("file", path)
    if member.isfifo():
        return Entry("fifo", path)
    if member.ischr() or member.isblk():
        raise refuse("device files are not allowed in image layers")
    raise refuse(f"unsupported tar entry type {member.type!r}")


# ------------------------------------------------------------ byte streams

class DigestReader(io.RawIOBase):
    """Reads through ``source``, hashing (sha256), counting and optionally copying."""

    def __init__(self, source: BinaryIO, sink: BinaryIO | None = None) -> None:
        super().__init__()
        self.source, self.sink = source, sink
        self.hash = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.source.read(len(buffer))
        if not data:
            return 0
        count = len(data)
        buffer[:count] = data
        self.hash.update(data)
        self.size += count
        if self.sink is not None:
            self.sink.write(data)
        return count

    def drain(self) -> None:
        while self.read(CHUNK):
            pass

    @property
    def digest(self) -> str:
        return "sha256:" + self.hash.hexdigest()


def compression_of(head: bytes) -> str:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    if head.startswith(b"BZh"):
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    return "none"


def decompressed(reader: io.BufferedReader, label: str) -> tuple[BinaryIO, str]:
    """The uncompressed stream of ``reader`` and the compression found."""
    kind = compression_of(reader.peek(6)[:6])
    if kind == "gzip":
        return gzip.GzipFile(fileobj=reader, mode="rb"), kind
    if kind == "zstd":
        if zstandard is None:
            raise UnsupportedCompression(
                f"{label} is zstd-compressed, and the Python package 'zstandard' is not "
                "installed: install it to load zstd layers")
        return zstandard.ZstdDecompressor().stream_reader(reader, read_across_frames=True), kind
    if kind == "bzip2":
        return bz2.BZ2File(reader), kind
    if kind == "xz":
        return lzma.LZMAFile(reader), kind
    return reader, kind


def open_uncompressed(path: Path) -> BinaryIO:
    """A stored blob opened for reading its uncompressed bytes."""
    reader = io.BufferedReader(io.FileIO(path, "rb"), CHUNK)
    return decompressed(reader, str(path))[0]


_FORMAT_ERRORS: tuple = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile,
                         lzma.LZMAError)
if zstandard is not None:
    _FORMAT_ERRORS += (zstandard.ZstdError,)


@dataclass(frozen=True)
class Ingested:
    digest: str          # of the blob as read
    size: int
    diff_id: str         # of the uncompressed tar
    diff_size: int
    compression: str
    content_size: int    # bytes of regular files unpacked (0 when not unpacked)


def ingest(source: BinaryIO, *, sink: BinaryIO | None, target: Path | None, label: str,
           expected_digest: str | None = None) -> Ingested:
    """One pass over a layer blob: copy to ``sink``, hash it, unpack into ``target``.

    A blob that fails to decompress or to unpack is reported as a digest
    mismatch when its digest is known and wrong (corruption), else as itself.
    """
    raw = DigestReader(source, sink)
    plain: DigestReader | None = None
    content, compression = 0, "none"
    try:
        stream, compression = decompressed(io.BufferedReader(raw, CHUNK), label)
        plain = DigestReader(stream)
        if target is not None:
            content = unpack(io.BufferedReader(plain, CHUNK), target, label)
        plain.drain()
        raw.drain()
    except (InvalidArchive, *_FORMAT_ERRORS) as error:
        raw.drain()
        if expected_digest and raw.digest != expected_digest:
            raise DigestMismatch(expected_digest, expected_digest, raw.digest, "layer") from None
        if isinstance(error, InvalidArchive):
            raise
        raise InvalidArchive(f"layer {label}: invalid or corrupted layer data: {error}") from None
    return Ingested(raw.digest, raw.size, plain.digest, plain.size, compression, content)


# ------------------------------------------------------------ the unpacker

def unpack(stream: BinaryIO, target: Path, layer: str) -> int:
    """Unpack an uncompressed layer tar into the empty directory ``target``."""
    unpacker = _Unpacker(Path(target), layer)
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            unpacker.apply(tar, member)
    unpacker.finish()
    return unpacker.content


class _Unpacker:
    def __init__(self, target: Path, layer: str) -> None:
        self.target, self.layer = target, layer
        self.symlinks: set[str] = set()
        self.dirs: dict[str, tarfile.TarInfo] = {}
        self.known_dirs: set[str] = {""}
        self.content = 0

    def apply(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        entry = classify(member, self.symlinks, self.layer)
        if entry.kind == "skip":
            return
        if entry.kind == "root":
            self.dirs[""] = member
            return
        if entry.kind == "opaque":
            self._make_dirs(entry.path, member, include_self=True)
            os.setxattr(self._abs(entry.path), OPAQUE_XATTR, b"y", follow_symlinks=False)
            return
        self._make_dirs(entry.path, member)
        path = self._abs(entry.path)
        getattr(self, "_" + entry.kind)(tar, member, entry, path)

    def _abs(self, relative: str) -> str:
        return os.path.join(self.target, relative) if relative else str(self.target)

    def _make_dirs(self, relative: str, member: tarfile.TarInfo, include_self: bool = False) -> None:
        parts = relative.split("/") if relative else []
        stop = len(parts) if include_self else len(parts) - 1
        for end in range(1, stop + 1):
            prefix = "/".join(parts[:end])
            if prefix in self.known_dirs:
                continue
            path = self._abs(prefix)
            try:
                os.mkdir(path, 0o755)
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(path).st_mode):
                    raise UnsafeLayerEntry(self.layer, member.name,
                                           f"its parent {prefix!r} is not a directory") from None
            self.known_dirs.add(prefix)

    def _clear(self, relative: str, keep_dir: bool = False) -> bool:
        """Remove what is at ``relative`` (a later entry wins); True if a kept dir."""
        path = self._abs(relative)
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(mode):
            if keep_dir:
                return True
            shutil.rmtree(path)
            inside = relative + "/"
            self.symlinks = {s for s in self.symlinks if not s.startswith(inside)}
            self.known_dirs = {d for d in self.known_dirs if not d.startswith(inside)}
            self.dirs = {d: m for d, m in self.dirs.items() if not d.startswith(inside)}
            self.known_dirs.discard(relative)
            self.dirs.pop(relative, None)
        else:
            os.unlink(path)
            self.symlinks.discard(relative)
        return False

    def _dir(self, tar, member, entry, path) -> None:
        if not self._clear(entry.path, keep_dir=True):
            os.mkdir(path, 0o700)
        os.lchown(path, member.uid, member.gid)
        self._xattrs(path, member)
        self.known_dirs.add(entry.path)
        self.dirs[entry.path] = member

    def _file(self, tar, member, entry, path) -> None:
        self._clear(entry.path)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(path, flags, 0o600)
        with os.fdopen(fd, "wb") as out:
            source = tar.extractfile(member)
            shutil.copyfileobj(source, out, CHUNK)
            out.flush()
            os.fchown(fd, member.uid, member.gid)
            os.fchmod(fd, member.mode & 0o7777)
        self.content += member.size
        self._finish_entry(path, member)

    def _symlink(self, tar, member, entry, path) -> None:
        self._clear(entry.path)
        os.symlink(member.linkname, path)
        os.lchown(path, member.uid, member.gid)
        self.symlinks.add(entry.path)
        self._finish_entry(path, member)

    def _hardlink(self, tar, member, entry, path) -> None:
        source = self._abs(entry.target)
        try:
            mode = os.lstat(source).st_mode
        except FileNotFoundError:
            raise UnsafeLayerEntry(self.layer, member.name,
                                   f"hard link target {member.linkname!r} is not in this layer") from None
        if stat.S_ISDIR(mode):
            raise UnsafeLayerEntry(self.layer, member.name, "hard link to a directory")
        self._clear(entry.path)
        os.link(source, path, follow_symlinks=False)

    def _fifo(self, tar, member, entry, path) -> None:
        self._clear(entry.path)
        os.mkfifo(path, 0o600)
        os.lchown(path, member.uid, member.gid)
        os.chmod(path, member.mode & 0o7777)
        self._finish_entry(path, member)

    def _whiteout(self, tar, member, entry, path) -> None:
        self._clear(entry.path)
        os.mknod(path, stat.S_IFCHR | 0o000, os.makedev(0, 0))
        os.lchown(path, 0, 0)

    def _finish_entry(self, path: str, member: tarfile.TarInfo) -> None:
        self._xattrs(path, member)
        mtime = int(member.mtime * 1_000_000_000)
        os.utime(path, ns=(mtime, mtime), follow_symlinks=False)

    def _xattrs(self, path: str, member: tarfile.TarInfo) -> None:
        for key, value in member.pax_headers.items():
            if not key.startswith("SCHILY.xattr."):
                continue
            name = key[len("SCHILY.xattr."):]
            if name.startswith("trusted.overlay."):
                continue      # only whiteout entries may speak to overlayfs
            try:
                os.setxattr(path, name, value.encode("utf-8", "surrogateescape"),
                            follow_symlinks=False)
            except OSError as error:
                if error.errno not in (errno.ENOTSUP, errno.EPERM):
                    raise

    def finish(self) -> None:
        """Directory modes and mtimes last: writing inside a dir changes its mtime."""
        root = self.dirs.get("")
        if root is None:
            os.chmod(self.target, 0o755)
        for relative in sorted(self.dirs, key=lambda d: d.count("/") + bool(d), reverse=True):
            member = self.dirs[relative]
            path = self._abs(relative)
            if relative == "":
                os.lchown(path, member.uid, member.gid)
                self._xattrs(path, member)
            os.chmod(path, member.mode & 0o7777)
            mtime = int(member.mtime * 1_000_000_000)
            os.utime(path, ns=(mtime, mtime), follow_symlinks=False)

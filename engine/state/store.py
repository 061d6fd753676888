"""The only writer under the state root: one JSON document per object,
written atomically (temp file, fsync, rename), so a crash, of the process or
of the machine, leaves either the old or the new record, never half of one.
As docker's AtomicWriteFile: the new file is fsynced before the rename, the
directory is not, so a record written just before a power loss may be
missing afterwards, never torn. Records of the ``VOLATILE`` kinds are
runtime facts (a pid, an exit code, the names index that reconcile can
rebuild): they mean nothing after a reboot and are on the path of every
start and wait, so they are not fsynced at all, and one a power loss left
unreadable reads as absent.

Layout: ``ROOT/<kind>/<id>.json`` (kinds: containers, images, volumes,
networks, ...). The root is a parameter (STYLE habit 2): tests use tmp_path.
Standard library only.
"""
from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path

_temporaries = itertools.count()
VOLATILE = frozenset({"runs", "exits", "names", "endpoints", "health", "restarting"})


class StateStore:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _path(self, kind: str, key: str) -> Path:
        if not key or "/" in key or key.startswith("."):
            raise ValueError(f"invalid record key {key!r}")
        return self.root / kind / f"{key}.json"

    def write(self, kind: str, key: str, record: dict) -> None:
        """Replace the record atomically."""
        path = self._path(kind, key)
        temp = _temporary(path, record, kind not in VOLATILE)
        try:
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    @contextlib.contextmanager
    def locked(self, kind: str) -> Iterator[None]:
        """An exclusive lock over the records of ``kind``, between processes
        too (flock), for read-check-write sequences such as claiming a name."""
        directory = self.root / kind
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def read(self, kind: str, key: str) -> dict | None:
        try:
            data = self._path(kind, key).read_bytes()
        except FileNotFoundError:
            return None
        try:
            return json.loads(data)
        except ValueError:
            if kind in VOLATILE:
                return None
            raise

    def delete(self, kind: str, key: str) -> bool:
        path = self._path(kind, key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def keys(self, kind: str) -> list[str]:
        directory = self.root / kind
        try:
            names = os.listdir(directory)
        except FileNotFoundError:
            return []
        return sorted(n[:-5] for n in names if n.endswith(".json") and not n.startswith("."))

    def records(self, kind: str) -> Iterator[tuple[str, dict]]:
        for key in self.keys(kind):
            record = self.read(kind, key)
            if record is not None:
                yield key, record

    def sweep_temporaries(self) -> list[Path]:
        """Remove the temp files a crash mid-write left behind (start-up)."""
        removed = []
        if not self.root.exists():
            return removed
        for path in self.root.glob("*/.*.tmp"):
            path.unlink(missing_ok=True)
            removed.append(path)
        return removed


def _temporary(path: Path, record: dict, sync: bool) -> Path:
    """``record`` written (and fsynced) to a new temporary file beside ``path``."""
    data = json.dumps(record, indent=1, sort_keys=True).encode()
    temp = path.parent / f".{path.stem}.{os.getpid()}.{next(_temporaries)}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


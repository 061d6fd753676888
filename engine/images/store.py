"""The content-addressed image store on disk, and its lock.

Layout under the state root ``ROOT`` (a parameter; tests use tmp_path):

    ROOT/images/blobs/sha256/<hex>     configs, manifests, layer blobs (as loaded)
    ROOT/images/layers/<diff-id hex>/  each layer unpacked once: an overlay lowerdir
    ROOT/images/tmp/                   staging, only while the lock is held
    ROOT/images/.lock                  flock'ed by every writer, removed on release
    ROOT/images/<id hex>.json          one record per image     (engine.state.store)
    ROOT/image-names/<quoted>.json     one record per tag or digest reference
    ROOT/image-layers/<hex>.json       one record per unpacked layer (its size)

Every change happens under the lock, and everything staged in tmp/ is renamed
into place, so two processes loading at once cannot corrupt the store, and
whatever tmp/ holds when the lock is taken is a crash's leftover (swept).
Reads take no lock: each record, blob and layer directory appears atomically.
A layer directory is keyed by its diff id: it holds only that layer's changes,
so the same directory serves every image whose layer list contains it.

Imports engine.state.store and engine.images.{errors,layers}; must not import
the service, the API or anything that makes system calls beyond os.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from engine.images import layers as layerlib
from engine.images.errors import DigestMismatch
from engine.state.store import StateStore

IMAGES, NAMES, LAYERS = "images", "image-names", "image-layers"


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def hex_of(digest: str) -> str:
    algorithm, _, encoded = digest.partition(":")
    if algorithm != "sha256" or len(encoded) != 64 or not all(c in "0123456789abcdef" for c in encoded):
        raise ValueError(f"not a sha256 digest: {digest!r}")
    return encoded


class ImageStore:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.base = self.root / "images"
        self.blobs = self.base / "blobs" / "sha256"
        self.layers = self.base / "layers"
        self.tmp = self.base / "tmp"
        self.lock_path = self.base / ".lock"
        self.records = StateStore(self.root)
        self._local = threading.local()

    def __getstate__(self) -> dict:      # picklable: a thread-local is not
        return {"root": self.root}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["root"])

    # ------------------------------------------------------------ locking

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive across processes and threads; re-entrant in one thread."""
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
            return
        fd = self._acquire()
        self._local.depth = 1
        try:
            self._sweep_tmp()
            yield
        finally:
            self._local.depth = 0
            self._sweep_tmp()            # staging belongs to the holder, who is done
            try:
                self.tmp.rmdir()
            except FileNotFoundError:
                pass
            # Unlinking while holding the lock is safe: a waiter that then gets
            # the old inode sees that the path no longer names it and retries.
            os.unlink(self.lock_path)
            os.close(fd)

    def _acquire(self) -> int:
        self.base.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.stat(self.lock_path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                return fd
            os.close(fd)

    def _sweep_tmp(self) -> None:
        if not self.tmp.exists():
            return
        for entry in self.tmp.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def temp_dir(self) -> Path:
        """A fresh staging directory (lock held): on the same file system as the store."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=self.tmp))

    # ------------------------------------------------------------ blobs

    def blob_path(self, digest: str) -> Path:
        return self.blobs / hex_of(digest)

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def read_blob(self, digest: str) -> bytes:
        return self.blob_path(digest).read_bytes()

    def put_blob(self, data: bytes, expected: str | None = None, what: str = "blob") -> str:
        """Store bytes by their digest, refusing them if they are not ``expected``."""
        digest = sha256_digest(data)
        if expected is not None and digest != expected:
            raise DigestMismatch(expected, expected, digest, what)
        if not self.has_blob(digest):
            staging = self.temp_dir()
            temp = staging / "blob"
            with open(temp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            self._commit_blob(temp, digest)
            staging.rmdir()
        return digest

    def _commit_blob(self, temp: Path, digest: str) -> None:
        self.blobs.mkdir(parents=True, exist_ok=True)
        os.chmod(temp, 0o644)
        os.replace(temp, self.blob_path(digest))

    # ------------------------------------------------------------ layers

    def layer_path(self, diff_id: str) -> Path:
        return self.layers / hex_of(diff_id)

    def layer_record(self, diff_id: str) -> dict | None:
        record = self.records.read(LAYERS, hex_of(diff_id))
        if record is None or not self.layer_path(diff_id).is_dir():
            return None
        return record

    def ingest_layer(self, open_source: Callable[[], BinaryIO], *, digest: str | None,
                     diff_id: str | None, label: str) -> dict:
        """Store a layer blob and unpack it, each only if not already here.

        Returns the layer's descriptor for the image record: blob digest and
        size, compression, diff id and size. The caller verifies the diff id
        against the image config (this only knows what it was told to expect).
        """
        layer = self.layer_record(diff_id) if diff_id else None
        if digest and layer and self.has_blob(digest):
            return {"digest": digest, "size": self.blob_path(digest).stat().st_size,
                    "compression": self._compression_of(digest),
                    "diff_id": diff_id, "diff_size": layer["diff_size"]}
        staging = self.temp_dir()
        try:
            target = None if layer else staging / "layer"
            if target is not None:
                target.mkdir()
            with open(staging / "blob", "wb") as sink, open_source() as source:
                result = layerlib.ingest(source, sink=sink, target=target, label=label,
                                         expected_digest=digest)
                sink.flush()
                os.fsync(sink.fileno())
            if digest and result.digest != digest:
                raise DigestMismatch(digest, digest, result.digest, "layer")
            if diff_id and result.diff_id != diff_id:
                raise DigestMismatch(label, diff_id, result.diff_id, "layer (diff id)")
            if not self.has_blob(result.digest):
                self._commit_blob(staging / "blob", result.digest)
            if target is not None and self.layer_record(result.diff_id) is None:
                self._commit_layer(target, result)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        diff_size = layer["diff_size"] if layer else result.diff_size
        return {"digest": result.digest, "size": result.size, "compression": result.compression,
                "diff_id": result.diff_id, "diff_size": diff_size}

    def _commit_layer(self, target: Path, result: layerlib.Ingested) -> None:
        final = self.layer_path(result.diff_id)
        self.layers.mkdir(parents=True, exist_ok=True)
        if final.exists():      # a directory without its record: an interrupted commit
            shutil.rmtree(final)
        os.rename(target, final)
        self.records.write(LAYERS, hex_of(result.diff_id), {
            "diff_id": result.diff_id, "diff_size": result.diff_size,
            "size": result.content_size})

    def _compression_of(self, digest: str) -> str:
        with open(self.blob_path(digest), "rb") as handle:
            return layerlib.compression_of(handle.read(6))

    # ------------------------------------------------------------ records

    def image(self, image_id: str) -> dict | None:
        return self.records.read(IMAGES, hex_of(image_id))

    def images(self) -> list[dict]:
        return [record for _, record in self.records.records(IMAGES)]

    def image_ids(self) -> list[str]:
        return ["sha256:" + key for key in self.records.keys(IMAGES)]

    def write_image(self, record: dict) -> None:
        self.records.write(IMAGES, hex_of(record["id"]), record)

    def delete_image(self, image_id: str) -> None:
        self.records.delete(IMAGES, hex_of(image_id))

    @staticmethod
    def _name_key(reference: str) -> str:
        return urllib.parse.quote(reference, safe=":@")

    def name(self, reference: str) -> str | None:
        """The image id a full reference (``docker.io/library/x:tag``) names."""
        record = self.records.read(NAMES, self._name_key(reference))
        return record["image"] if record else None

    def names(self) -> dict[str, str]:
        return {record["reference"]: record["image"] for _, record in self.records.records(NAMES)}

    def set_name(self, reference: str, image_id: str) -> None:
        self.records.write(NAMES, self._name_key(reference),
                           {"reference": reference, "image": image_id})

    def delete_name(self, reference: str) -> bool:
        return self.records.delete(NAMES, self._name_key(reference))

    # ------------------------------------------------------------ garbage

    def collect(self) -> list[str]:
        """Remove blobs and layers that no image record references (lock held).

        Returns the diff ids of the layer directories removed.
        """
        blobs: set[str] = set()
        diff_ids: set[str] = set()
        for record in self.images():
            blobs.add(record["id"])
            if record.get("manifest"):
                blobs.add(record["manifest"]["digest"])
            for layer in record["layers"]:
                blobs.add(layer["digest"])
                diff_ids.add(layer["diff_id"])
        keep_blobs = {hex_of(d) for d in blobs}
        if self.blobs.is_dir():
            for entry in os.listdir(self.blobs):
                if entry not in keep_blobs:
                    (self.blobs / entry).unlink()
        keep_layers = {hex_of(d) for d in diff_ids}
        removed = []
        present = set(os.listdir(self.layers)) if self.layers.is_dir() else set()
        for key in sorted(present | set(self.records.keys(LAYERS))):
            if key in keep_layers:
                continue
            # The record goes last: a crash in between leaves a directory
            # without a record, which the next collection removes.
            shutil.rmtree(self.layers / key, ignore_errors=True)
            self.records.delete(LAYERS, key)
            removed.append("sha256:" + key)
        return removed

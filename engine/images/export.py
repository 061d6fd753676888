"""Writing ``docker save`` tarballs.

Owns the output format, which is docker 25's: at once a docker-save archive
(manifest.json, repositories) and an OCI image layout (oci-layout, index.json,
blobs/sha256/...). Layers are written uncompressed, so each layer blob's
digest is its diff id, which every ``docker load`` (old and new), skopeo's
docker-archive and OCI tools accept. Entries are written in a fixed order with
fixed metadata: the same images give the same bytes.

The store supplies the bytes through plain callables; this module imports the
standard library and engine.images.reference only.
"""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from engine.images.reference import Reference

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"


@dataclass
class ExportLayer:
    diff_id: str
    size: int                               # uncompressed
    open: Callable[[], BinaryIO]            # the uncompressed tar stream


@dataclass
class ExportImage:
    image_id: str
    config: bytes
    layers: list[ExportLayer]
    tags: list[Reference]


def _json(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def manifest_document(config: bytes, layers: list[tuple[str, str, int]]) -> bytes:
    """An OCI image manifest for a config and (media type, digest, size) layers."""
    return _json({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG,
                   "digest": "sha256:" + hashlib.sha256(config).hexdigest(),
                   "size": len(config)},
        "layers": [{"mediaType": media_type, "digest": digest, "size": size}
                   for media_type, digest, size in layers],
    })


class _Writer:
    def __init__(self, dest: BinaryIO) -> None:
        self.tar = tarfile.open(fileobj=dest, mode="w|", format=tarfile.PAX_FORMAT)
        self.written: set[str] = set()

    def _info(self, name: str, size: int = 0, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size, info.type, info.mtime = size, kind, 0
        info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
        info.uname = info.gname = ""
        return info

    def directory(self, name: str) -> None:
        self.tar.addfile(self._info(name, kind=tarfile.DIRTYPE))

    def data(self, name: str, data: bytes) -> None:
        if name not in self.written:
            self.written.add(name)
            self.tar.addfile(self._info(name, len(data)), io.BytesIO(data))

    def stream(self, name: str, size: int, open_stream: Callable[[], BinaryIO]) -> None:
        if name not in self.written:
            self.written.add(name)
            with open_stream() as source:
                self.tar.addfile(self._info(name, size), source)

    def close(self) -> None:
        self.tar.close()


def blob_name(digest: str) -> str:
    return "blobs/" + digest.replace(":", "/", 1)


def write_archive(dest: BinaryIO, images: list[ExportImage]) -> None:
    writer = _Writer(dest)
    writer.data("oci-layout", _json({"imageLayoutVersion": "1.0.0"}))
    writer.directory("blobs")
    writer.directory("blobs/sha256")
    entries, index, repositories = [], [], {}
    for image in images:
        writer.data(blob_name(image.image_id), image.config)
        for layer in image.layers:
            writer.stream(blob_name(layer.diff_id), layer.size, layer.open)
        manifest = manifest_document(
            image.config, [(OCI_LAYER, layer.diff_id, layer.size) for layer in image.layers])
        manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        writer.data(blob_name(manifest_digest), manifest)
        descriptor = {"mediaType": OCI_MANIFEST, "digest": manifest_digest, "size": len(manifest)}
        for tag in image.tags:
            index.append({**descriptor, "annotations": {
                "io.containerd.image.name": str(tag),
                "org.opencontainers.image.ref.name": tag.tag}})
            if image.layers:
                top = image.layers[-1].diff_id.split(":", 1)[1]
                repositories.setdefault(tag.familiar_name, {})[tag.tag] = top
        if not image.tags:
            index.append(descriptor)
        entries.append({
            "Config": blob_name(image.image_id),
            "RepoTags": [tag.familiar for tag in image.tags] or None,
            "Layers": [blob_name(layer.diff_id) for layer in image.layers],
        })
    writer.data("index.json", _json({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                     "manifests": index}))
    writer.data("manifest.json", _json(entries))
    writer.data("repositories", _json(repositories))
    writer.close()


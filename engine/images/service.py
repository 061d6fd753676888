"""The image service: what the daemon and the API ask of local images.

``ImageService(root, in_use)`` offers list, inspect, history, tag, remove,
prune, import, load, save, and for containers ``layers`` (overlay lowerdirs,
top first) and ``config`` (the image's OCI config document). Behaviour and
messages follow docker's daemon (daemon/images): the untag-versus-delete rules
of ``docker rmi``, its conflicts, its "No such image" wording.

``in_use(image_id)`` tells which containers use an image: a list of container
ids (counted as stopped), or of ``(container_id, running)`` pairs. An image
force-removed while stopped containers use it disappears from every listing
but keeps its layers (the containers' lowerdirs) until no container uses it;
``gc()`` then frees them (remove and prune call it).

Imports engine.images.* and engine.state (through the store); must not import
engine.api, engine.containers or engine.runtime.
"""
from __future__ import annotations

import functools
import io
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from engine.images import archive as archivelib
from engine.images import export, removal, views
from engine.images import layers as layerlib
from engine.images.changes import apply_changes
from engine.images.errors import ImageNotFound, InvalidArchive, InvalidReference
from engine.images.reference import (
    ID_RE,
    Reference,
    id_prefix,
    not_found_name,
    parse_reference,
    parse_tag,
)
from engine.images.store import LAYERS, ImageStore

MEDIA_TYPES = {"none": export.OCI_LAYER, "gzip": export.OCI_LAYER_GZIP,
               "zstd": export.OCI_LAYER_ZSTD, "bzip2": "application/x-tar+bzip2",
               "xz": "application/x-tar+xz"}
InUse = Callable[[str], list]


@dataclass(frozen=True)
class LoadedImage:
    id: str
    tags: list[str]              # familiar: "busybox:latest"

    @property
    def messages(self) -> list[str]:
        """The lines ``docker load`` prints for this image."""
        if self.tags:
            return [f"Loaded image: {tag}" for tag in self.tags]
        return [f"Loaded image ID: {self.id}"]


class ImageService:
    def __init__(self, root: str | os.PathLike, in_use: InUse | None = None) -> None:
        self.store = ImageStore(root)
        self._in_use = in_use or _unused
        self._configs: dict[str, dict] = {}

    # ------------------------------------------------------------ lookup

    def _live(self, image_id: str) -> dict | None:
        record = self.store.image(image_id)
        return record if record and not record.get("deleted") else None

    def _find(self, name: str) -> tuple[str, Reference | None]:
        """The image id ``name`` denotes, and the reference it was found by."""
        if ID_RE.fullmatch(name):
            image_id = "sha256:" + ID_RE.fullmatch(name).group(1)
            if self._live(image_id):
                return image_id, None
            raise ImageNotFound(not_found_name(name))
        try:
            ref = parse_reference(name).lookup_key()
        except InvalidReference:
            ref = None
            if id_prefix(name) is None:
                raise
        if ref is not None:
            image_id = self.store.name(str(ref))
            if image_id and self._live(image_id):
                return image_id, ref
        prefix = id_prefix(name)
        if prefix:
            found = [i for i in self.store.image_ids() if i[7:].startswith(prefix)]
            found = [i for i in found if self._live(i)]
            if len(found) == 1:
                return found[0], None
        raise ImageNotFound(not_found_name(name))

    def resolve(self, name: str) -> str:
        """The full image id (``sha256:...``) of a name, tag, digest or id prefix."""
        return self._find(name)[0]

    def _record(self, name: str) -> dict:
        record = self._live(self.resolve(name))
        if record is None:       # removed since it was resolved
            raise ImageNotFound(not_found_name(name))
        return record

    def _references(self, image_id: str, names: dict[str, str] | None = None) -> list[Reference]:
        names = self.store.names() if names is None else names
        return [parse_reference(ref) for ref, target in sorted(names.items()) if target == image_id]

    def _config(self, image_id: str) -> dict:
        if image_id not in self._configs:
            self._configs[image_id] = json.loads(self.store.read_blob(image_id))
        return self._configs[image_id]

    def _layer_sizes(self) -> dict[str, int]:
        return {record["diff_id"]: record.get("size", 0)
                for _, record in self.store.records.records(LAYERS)}

    # ------------------------------------------------------------ reading

    def _for_container(self, name: str) -> dict:
        """The record of a name, or of a full id force-removed while in use:
        a container created from it must still start (as with docker)."""
        try:
            return self._record(name)
        except ImageNotFound:
            match = ID_RE.fullmatch(name)
            record = self.store.image("sha256:" + match.group(1)) if match else None
            if record is None:
                raise
            return record

    def config(self, name: str) -> dict:
        """The image's OCI config document (``config``, ``rootfs``, ``history``...)."""
        return json.loads(json.dumps(self._config(self._for_container(name)["id"])))

    def layers(self, name: str) -> list[Path]:
        """Unpacked layer directories as overlay lowerdirs: top layer first.

        A layer listed twice appears once, at its topmost place: its lower
        copy is shadowed entirely by the upper one.
        """
        return self._layer_paths(self._for_container(name))

    def _layer_paths(self, record: dict) -> list[Path]:
        paths, seen = [], set()
        for layer in reversed(record["layers"]):
            if layer["diff_id"] not in seen:
                seen.add(layer["diff_id"])
                paths.append(self.store.layer_path(layer["diff_id"]))
        return paths

    def inspect(self, name: str) -> dict:
        record = self._record(name)
        image_id = record["id"]
        return views.inspect_view(record, self._config(image_id), self._references(image_id),
                                  self._layer_sizes(), self._layer_paths(record))

    def history(self, name: str) -> list[dict]:
        record = self._record(name)
        return views.history_view(record, self._config(record["id"]),
                                  self._references(record["id"]), self._layer_sizes())

    def list(self, *, dangling: bool | None = None, reference: str | None = None,
             label: str | None = None) -> list[dict]:
        """Image summaries, newest first; filters as ``docker images --filter``."""
        names, sizes = self.store.names(), self._layer_sizes()
        result = []
        for record in self.store.images():
            if record.get("deleted"):
                continue
            refs = self._references(record["id"], names)
            if dangling is not None and dangling != (not refs):
                continue
            summary = views.summary_view(record, self._config(record["id"]), refs, sizes)
            if reference and not _matches_reference(refs, reference):
                continue
            if label and not _matches_label(summary["Labels"], label):
                continue
            result.append(summary)
        result.sort(key=lambda summary: (-summary["Created"], summary["Id"]))
        return result

    # ------------------------------------------------------------ naming

    def tag(self, name: str, repository: str, tag: str | None = None) -> str:
        """Point ``repository[:tag]`` at the image; returns the familiar name."""
        ref = parse_reference(repository)
        if tag:
            ref = Reference(ref.domain, ref.path, parse_tag(tag), ref.digest)
        if ref.digest:
            raise InvalidReference("refusing to create a tag with a digest reference")
        ref = ref.with_default_tag()
        with self.store.locked():
            image_id = self.resolve(name)
            self._name(ref, image_id)
        return ref.familiar

    def _name(self, ref: Reference, image_id: str) -> None:
        self.store.set_name(str(ref), image_id)
        record = self.store.image(image_id)
        record["last_tag_time"] = views.now_rfc3339()
        self.store.write_image(record)

    # ------------------------------------------------------------ adding images

    def import_image(self, source, reference: str | None = None,
                     changes: Iterable[str] = (), message: str | None = None) -> str:
        """``docker import``: a rootfs tarball (any compression) as a one-layer image."""
        ref = parse_reference(reference).with_default_tag() if reference else None
        if ref is not None and ref.digest:
            raise InvalidReference("refusing to create a tag with a digest reference")
        container_config = apply_changes({}, changes)
        comment = message or "Imported from -"
        with self.store.locked(), self._collect_on_error():
            opener = _opener(source)
            layer = self.store.ingest_layer(opener, digest=None, diff_id=None,
                                            label="(imported rootfs)")
            layer["mediaType"] = MEDIA_TYPES[layer["compression"]]
            created = views.now_rfc3339()
            os_name, arch = archivelib.host_platform()
            config = {"architecture": arch, "comment": comment, "config": container_config,
                      "created": created, "history": [{"created": created, "comment": comment}],
                      "os": os_name, "rootfs": {"type": "layers", "diff_ids": [layer["diff_id"]]}}
            data = json.dumps(config, separators=(",", ":")).encode()
            image_id = self._commit(data, [layer], None, None)
            if ref is not None:
                self._name(ref, image_id)
        return image_id

    def load(self, source) -> list[LoadedImage]:
        """``docker load``: a docker-save tarball (maybe compressed) or an OCI layout."""
        loaded = []
        with self.store.locked(), ExitStack() as stack:
            archive = self._open_archive(source, stack)
            with self._collect_on_error():
                for image in archivelib.read_images(archive):
                    loaded.append(self._load_one(archive, image))
        return loaded

    @contextmanager
    def _collect_on_error(self) -> Iterator[None]:
        """A failed load or import leaves no layer or blob behind (lock held)."""
        try:
            yield
        except BaseException:
            self.store.collect()
            raise

    def _open_archive(self, source, stack: ExitStack):
        if isinstance(source, (str, os.PathLike)):
            if Path(source).is_dir():
                return archivelib.DirArchive(Path(source))
            source = stack.enter_context(open(source, "rb"))
        if source.seekable():
            head = source.read(6)
            source.seek(-len(head), io.SEEK_CUR)
            if layerlib.compression_of(head) == "none":
                return archivelib.TarArchive(source)
        # Compressed or streamed: a plain seekable copy makes members addressable.
        reader = io.BufferedReader(layerlib.DigestReader(source), layerlib.CHUNK)
        stream, _ = layerlib.decompressed(reader, "the archive")
        spool = stack.enter_context(open(self.store.temp_dir() / "archive.tar", "w+b"))
        shutil.copyfileobj(stream, spool, layerlib.CHUNK)
        spool.seek(0)
        return archivelib.TarArchive(spool)

    def _load_one(self, archive, image: archivelib.ImageSource) -> LoadedImage:
        data = archivelib.read_document(archive, image.config_path, image.config_digest, "config")
        config = archivelib.parse_json(data, image.config_path)
        diff_ids = (config.get("rootfs") or {}).get("diff_ids") if isinstance(config, dict) else None
        if not isinstance(diff_ids, list) or len(diff_ids) != len(image.layers):
            got = len(diff_ids) if isinstance(diff_ids, list) else 0
            raise InvalidArchive(f"invalid manifest, layers length mismatch: "
                                 f"expected {got}, got {len(image.layers)}")
        layers = []
        for source, diff_id in zip(image.layers, diff_ids):
            label = source.digest or f"{diff_id} ({source.path})"
            layer = self.store.ingest_layer(lambda path=source.path: archive.open(path),
                                            digest=source.digest, diff_id=diff_id, label=label)
            layers.append({**layer, "mediaType": source.media_type
                           or MEDIA_TYPES[layer["compression"]]})
        image_id = self._commit(data, layers, image.manifest, image.manifest_digest)
        tags = []
        for name in image.names:
            ref = parse_reference(name)
            self._name(ref, image_id)
            tags.append(ref.familiar)
            if image.manifest_digest:
                digest_ref = Reference(ref.domain, ref.path, None, image.manifest_digest)
                self.store.set_name(str(digest_ref), image_id)
        return LoadedImage(image_id, tags)

    def _commit(self, config: bytes, layers: list[dict], manifest: bytes | None,
                manifest_digest: str | None) -> str:
        """Store config and manifest blobs and write the image record (lock held)."""
        image_id = self.store.put_blob(config)
        if manifest is None:
            manifest = export.manifest_document(
                config, [(layer["mediaType"], layer["digest"], layer["size"]) for layer in layers])
        manifest_digest = self.store.put_blob(manifest, manifest_digest, "manifest")
        previous = self.store.image(image_id) or {}
        self.store.write_image({
            "id": image_id,
            "manifest": {"mediaType": json.loads(manifest).get("mediaType", export.OCI_MANIFEST),
                         "digest": manifest_digest, "size": len(manifest)},
            "layers": [{key: layer[key] for key in
                        ("digest", "mediaType", "size", "diff_id", "diff_size")}
                       for layer in layers],
            "last_tag_time": previous.get("last_tag_time"),
        })
        return image_id

    # ------------------------------------------------------------ save

    def save(self, names: list[str], dest: BinaryIO) -> None:
        """``docker save``: write the images to ``dest`` as a tarball."""
        with self.store.locked():
            plan: dict[str, list[Reference]] = {}
            for name in names:
                for image_id, tags in self._save_targets(name):
                    known = plan.setdefault(image_id, [])
                    known.extend(tag for tag in tags if tag not in known)
            images = [self._export_image(image_id, tags) for image_id, tags in plan.items()]
            export.write_archive(dest, images)

    def _save_targets(self, name: str) -> list[tuple[str, list[Reference]]]:
        try:
            ref = parse_reference(name)
        except InvalidReference:
            ref = None
        if ref is not None and ref.tag is None and ref.digest is None and not ID_RE.fullmatch(name):
            # A bare repository name saves every tag of that repository.
            tags = [parse_reference(r) for r, _ in sorted(self.store.names().items())]
            tagged = [(self.store.name(str(t)), [t]) for t in tags
                      if t.name == ref.name and t.tag and not t.digest]
            tagged = [(i, t) for i, t in tagged if i and self._live(i)]
            if tagged:
                return tagged
        image_id, found_by = self._find(name)
        return [(image_id, [found_by] if found_by is not None and found_by.tag else [])]

    def _export_image(self, image_id: str, tags: list[Reference]) -> export.ExportImage:
        record = self.store.image(image_id)
        return export.ExportImage(image_id, self.store.read_blob(image_id), [
            export.ExportLayer(layer["diff_id"], layer["diff_size"], functools.partial(
                layerlib.open_uncompressed, self.store.blob_path(layer["digest"])))
            for layer in record["layers"]], tags)

    # ------------------------------------------------------------ removal

    def _users(self, image_id: str) -> list[tuple[str, bool]]:
        return [(item, False) if isinstance(item, str) else (item[0], bool(item[1]))
                for item in self._in_use(image_id)]

    def remove(self, name: str, force: bool = False, noprune: bool = False) -> list[dict]:
        """``docker rmi``: untag, or delete when the last reference goes.

        Returns docker's ImageDeleteResponseItem list ({"Untagged"}, {"Deleted"}).
        """
        with self.store.locked():
            return removal.remove(self, name, force)

    def prune(self, all: bool = False) -> dict:
        """``docker image prune``: delete unused dangling (or, with all, unused) images."""
        with self.store.locked():
            return removal.prune(self, all)

    def gc(self) -> list[str]:
        """Free layers of images deleted while in use, once unused; orphans too."""
        with self.store.locked():
            return removal.collect(self)


def _unused(image_id: str) -> list:
    return []


def _opener(source) -> Callable[[], BinaryIO]:
    if isinstance(source, (str, os.PathLike)):
        return lambda: open(source, "rb")
    return lambda: _Unclosed(source)


class _Unclosed(io.RawIOBase):
    """The caller's stream, read through without being closed by us."""

    def __init__(self, source: BinaryIO) -> None:
        super().__init__()
        self.source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.source.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _matches_reference(refs: list[Reference], pattern: str) -> bool:
    import fnmatch
    return any(fnmatch.fnmatchcase(ref.familiar_name, pattern)
               or fnmatch.fnmatchcase(ref.familiar, pattern) for ref in refs)


def _matches_label(labels: dict, wanted: str) -> bool:
    key, equals, value = wanted.partition("=")
    return key in labels and (not equals or labels[key] == value)

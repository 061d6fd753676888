"""Reading image archives: ``docker save`` tarballs and OCI image layouts.

Owns the formats, not the store: it turns an archive (a tarball, or an OCI
layout directory) into ``ImageSource`` descriptions — where the config, the
manifest and each layer are inside the archive and which digests they must
have — that the service then ingests. Understood:

- ``docker save`` (manifest.json + ``<hex>.json`` configs + ``<id>/layer.tar``,
  duplicate layers as symlinks), and docker 25+'s variant whose manifest.json
  points into ``blobs/sha256/``;
- OCI image layouts (oci-layout, index.json), with nested indexes and docker
  manifest lists resolved to the host's platform.

Archive members are only ever read by name, never extracted, so a hostile
outer tarball cannot write anywhere. Writing archives lives in export.py.

Imports the standard library and engine.images.{errors,reference} only.
"""
from __future__ import annotations

import hashlib
import json
import platform
import posixpath
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from engine.images.errors import DigestMismatch, InvalidArchive, InvalidReference
from engine.images.reference import parse_reference

MAX_DOCUMENT = 16 << 20
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json")
NAME_ANNOTATION = "io.containerd.image.name"
REF_ANNOTATION = "org.opencontainers.image.ref.name"
_ARCHES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "armv6l": "arm",
           "i686": "386", "i386": "386", "ppc64le": "ppc64le", "s390x": "s390x",
           "riscv64": "riscv64"}


def host_platform() -> tuple[str, str]:
    machine = platform.machine()
    return "linux", _ARCHES.get(machine, machine)


@dataclass
class LayerSource:
    path: str                      # inside the archive
    digest: str | None = None      # the blob's digest, when the format says it
    media_type: str | None = None


@dataclass
class ImageSource:
    config_path: str
    config_digest: str | None
    layers: list[LayerSource]
    names: list[str] = field(default_factory=list)     # full references
    manifest: bytes | None = None                       # the original, if any
    manifest_digest: str | None = None


# ---------------------------------------------------------------- readers

def _clean(name: str) -> str:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidArchive(f"invalid archive: path {name!r} leaves the archive")
    return "/".join(parts)


def _within(directory: str, target: str) -> str:
    """A symlink's target inside the archive, ``..`` resolved, never above it."""
    parts = [] if target.startswith("/") else directory.split("/")
    for part in target.split("/"):
        if part == "..":
            if not [p for p in parts if p]:
                raise InvalidArchive(f"invalid archive: link to {target!r} leaves the archive")
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(p for p in parts if p)


class TarArchive:
    """Random access by name to a tarball's members, following its symlinks."""

    def __init__(self, fileobj: BinaryIO) -> None:
        try:
            self.tar = tarfile.open(fileobj=fileobj, mode="r:")
        except tarfile.TarError as error:
            raise InvalidArchive(f"invalid tar archive: {error}") from None
        self.members = {}
        for member in self.tar.getmembers():
            try:
                self.members[_clean(member.name)] = member
            except InvalidArchive:
                continue       # never referenced by a well-formed manifest

    def _member(self, name: str) -> tarfile.TarInfo | None:
        name = _clean(name)
        for _ in range(16):
            member = self.members.get(name)
            if member is None or member.isfile():
                return member
            if member.issym():
                name = _within(posixpath.dirname(name), member.linkname)
            elif member.islnk():
                name = _clean(member.linkname)
            else:
                return None
        raise InvalidArchive(f"invalid archive: too many levels of links at {name!r}")

    def exists(self, name: str) -> bool:
        return self._member(name) is not None

    def open(self, name: str) -> BinaryIO:
        member = self._member(name)
        if member is None:
            raise InvalidArchive(f"invalid archive: {name} not found in the archive")
        return self.tar.extractfile(member)


class DirArchive:
    """An OCI layout (or unpacked docker save) directory, confined to itself."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, name: str) -> Path:
        path = (self.root / _clean(name)).resolve()
        if path != self.root and self.root not in path.parents:
            raise InvalidArchive(f"invalid archive: {name!r} resolves outside the layout")
        return path

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def open(self, name: str) -> BinaryIO:
        try:
            return open(self._path(name), "rb")
        except (FileNotFoundError, IsADirectoryError):
            raise InvalidArchive(f"invalid archive: {name} not found in the layout") from None


def read_document(archive, name: str, digest: str | None = None, what: str = "blob") -> bytes:
    with archive.open(name) as handle:
        data = handle.read(MAX_DOCUMENT + 1)
    if len(data) > MAX_DOCUMENT:
        raise InvalidArchive(f"invalid archive: {name} is larger than {MAX_DOCUMENT} bytes")
    if digest is not None:
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise DigestMismatch(digest, digest, actual, what)
    return data


def parse_json(data: bytes, name: str):
    try:
        return json.loads(data)
    except ValueError as error:
        raise InvalidArchive(f"invalid archive: {name} is not valid JSON: {error}") from None


# ---------------------------------------------------------------- formats

def read_images(archive) -> list[ImageSource]:
    """The images an archive holds, in its order."""
    if archive.exists("manifest.json"):
        return _docker_save(archive)
    if archive.exists("index.json"):
        return _oci_layout(archive)
    raise InvalidArchive("invalid archive: neither manifest.json (docker save) nor "
                         "index.json (OCI image layout) found")


def _blob_digest(path: str) -> str | None:
    """``blobs/sha256/<hex>`` or ``<hex>.json`` name their content's digest."""
    parts = _clean(path).split("/")
    if len(parts) == 3 and parts[0] == "blobs" and parts[1] == "sha256":
        encoded = parts[2]
    elif len(parts) == 1 and parts[0].endswith(".json"):
        encoded = parts[0][:-5]
    else:
        return None
    if len(encoded) == 64 and all(c in "0123456789abcdef" for c in encoded):
        return "sha256:" + encoded
    return None


def _docker_save(archive) -> list[ImageSource]:
    entries = parse_json(read_document(archive, "manifest.json"), "manifest.json")
    if not isinstance(entries, list):
        raise InvalidArchive("invalid archive: manifest.json is not a list")
    images = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str) \
                or not isinstance(entry.get("Layers"), list):
            raise InvalidArchive("invalid archive: manifest.json entry without Config or Layers")
        names = []
        for tag in entry.get("RepoTags") or []:
            try:
                names.append(str(parse_reference(tag).with_default_tag()))
            except InvalidReference as error:
                raise InvalidArchive(f"invalid archive: RepoTags {tag!r}: {error}") from None
        layers = [LayerSource(path, _blob_digest(path) if path.startswith("blobs/") else None)
                  for path in entry["Layers"]]
        images.append(ImageSource(entry["Config"], _blob_digest(entry["Config"]), layers, names))
    return images


def _blob_name(descriptor: dict) -> str:
    digest = descriptor.get("digest")
    if not isinstance(digest, str) or ":" not in digest:
        raise InvalidArchive(f"invalid archive: descriptor without a digest: {descriptor}")
    algorithm, _, encoded = digest.partition(":")
    if algorithm != "sha256":
        raise InvalidArchive(f"invalid archive: unsupported digest algorithm in {digest}")
    return f"blobs/{algorithm}/{_clean(encoded)}"


def _names_of(descriptor: dict) -> list[str]:
    annotations = descriptor.get("annotations") or {}
    for key in (NAME_ANNOTATION, REF_ANNOTATION):
        value = annotations.get(key)
        # A bare ref.name ("latest") is a tag without a repository: no name.
        if isinstance(value, str) and any(c in value for c in "/:@"):
            try:
                return [str(parse_reference(value).with_default_tag())]
            except InvalidReference:
                continue
    return []


def _platform_matches(descriptor: dict) -> bool:
    wanted_os, wanted_arch = host_platform()
    found = descriptor.get("platform")
    if not found:
        return True
    return found.get("os") == wanted_os and found.get("architecture") == wanted_arch


def _oci_layout(archive) -> list[ImageSource]:
    if archive.exists("oci-layout"):
        layout = parse_json(read_document(archive, "oci-layout"), "oci-layout")
        if not isinstance(layout, dict) or "imageLayoutVersion" not in layout:
            raise InvalidArchive("invalid archive: oci-layout has no imageLayoutVersion")
    index = parse_json(read_document(archive, "index.json"), "index.json")
    images = _from_index(archive, index, [], depth=0)
    if not images:
        wanted = "/".join(host_platform())
        raise InvalidArchive(f"no matching manifest for {wanted} in the manifest list entries")
    return images


def _from_index(archive, index: dict, names: list[str], depth: int) -> list[ImageSource]:
    if depth > 8:
        raise InvalidArchive("invalid archive: image indexes nested too deeply")
    manifests = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(manifests, list):
        raise InvalidArchive("invalid archive: image index without manifests")
    images = []
    for descriptor in manifests:
        if not isinstance(descriptor, dict):
            raise InvalidArchive("invalid archive: malformed descriptor in image index")
        if not _platform_matches(descriptor):
            continue
        media_type = descriptor.get("mediaType")
        here = _names_of(descriptor) or names
        data = read_document(archive, _blob_name(descriptor), descriptor.get("digest"),
                             "manifest")
        document = parse_json(data, _blob_name(descriptor))
        media_type = media_type or document.get("mediaType")
        if media_type in INDEX_TYPES or (media_type is None and "manifests" in document):
            images.extend(_from_index(archive, document, here, depth + 1))
        elif media_type in MANIFEST_TYPES or "config" in document:
            images.append(_from_manifest(document, data, descriptor["digest"], here))
        if depth > 0 and images:
            break           # one platform from a nested index is enough
    return images


def _from_manifest(manifest: dict, data: bytes, digest: str, names: list[str]) -> ImageSource:
    config = manifest.get("config")
    layers = manifest.get("layers")
    if not isinstance(config, dict) or not isinstance(layers, list):
        raise InvalidArchive(f"invalid archive: manifest {digest} lacks config or layers")
    sources = [LayerSource(_blob_name(layer), layer.get("digest"), layer.get("mediaType"))
               for layer in layers]
    return ImageSource(_blob_name(config), config.get("digest"), sources, list(names),
                       manifest=data, manifest_digest=digest)

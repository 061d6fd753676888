"""The image store's errors, each owning its message in Docker's wording.

docker-py chooses ``ImageNotFound`` by the text "No such image", and the
docker CLI prints the daemon's message verbatim, so the words matter. The HTTP
status of each class is decided in ``engine/api/errors.py``, not here.

    ImageError
     ├── ImageNotFound          "No such image: busybox:latest"       (404)
     ├── InvalidReference       "invalid reference format ..."        (400)
     ├── InvalidChange          "run is not a valid change command"   (400)
     ├── ImageConflict          "conflict: unable to delete ..."      (409)
     └── InvalidArchive         a tarball or layout we cannot load     (400/500)
          ├── DigestMismatch    a blob whose content is not its digest
          ├── UnsafeLayerEntry  a layer entry that would escape its directory
          └── UnsupportedCompression

Standard library only; imports nothing from the engine.
"""
from __future__ import annotations


class ImageError(Exception):
    """Base of every error raised by engine.images."""


class ImageNotFound(ImageError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"No such image: {name}")


class InvalidReference(ImageError):
    """A reference that does not parse, with distribution/reference's words."""


class InvalidChange(ImageError):
    """A ``--change`` instruction that import cannot apply."""


class ImageConflict(ImageError):
    """Refused because the image is in use or still referenced."""


class InvalidArchive(ImageError):
    """A docker-save tarball or OCI layout that is malformed."""


class DigestMismatch(InvalidArchive):
    def __init__(self, blob: str, expected: str, actual: str, what: str = "blob") -> None:
        self.blob, self.expected, self.actual = blob, expected, actual
        super().__init__(
            f"{what} {blob}: digest mismatch: expected {expected}, got {actual} "
            "(the blob is corrupted or was modified)")


class UnsafeLayerEntry(InvalidArchive):
    def __init__(self, layer: str, entry: str, reason: str) -> None:
        self.layer, self.entry, self.reason = layer, entry, reason
        super().__init__(f"layer {layer}: refusing entry {entry!r}: {reason}")


class UnsupportedCompression(InvalidArchive):
    pass

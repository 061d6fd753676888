"""``client.images``: docker-py's ``Image`` and ``ImageCollection`` (build
and registry data left out), with ``import_image`` added."""
from __future__ import annotations

import re

from ..errors import ImageLoadError, InvalidArgument
from ..streams import json_documents
from ..utils import parse_repository_tag
from .resource import Collection, Model

_LOADED = re.compile(r"(^Loaded image ID: |^Loaded image: )(.+)$")


class Image(Model):
    def __repr__(self) -> str:
        tags = "', '".join(self.tags)
        return f"<Image: '{tags}'>"

    @property
    def labels(self) -> dict:
        return (self.attrs.get("Config") or {}).get("Labels") or {}

    @property
    def short_id(self) -> str:
        return self.id[:19] if self.id.startswith("sha256:") else self.id[:12]

    @property
    def tags(self) -> list[str]:
        return [tag for tag in self.attrs.get("RepoTags") or [] if tag != "<none>:<none>"]

    def history(self) -> list:
        return self.client.api.history(self.id)

    def remove(self, force: bool = False, noprune: bool = False) -> list:
        return self.client.api.remove_image(self.id, force=force, noprune=noprune)

    def save(self, chunk_size=None, named=False):
        """The ``docker save`` archive in chunks; ``named``: by its first tag
        (or the tag given) so that the archive names it."""
        image = self.id
        if named:
            image = self.tags[0] if self.tags else image
            if isinstance(named, str):
                if named not in self.tags:
                    raise InvalidArgument(f"{named} is not a valid tag for this image")
                image = named
        return self.client.api.get_image(image)

    def tag(self, repository, tag=None, **kwargs) -> bool:
        return self.client.api.tag(self.id, repository, tag=tag, **kwargs)


class ImageCollection(Collection):
    model = Image

    def get(self, name) -> Image:
        return self.prepare_model(self.client.api.inspect_image(name))

    def list(self, name=None, all=False, filters=None) -> list[Image]:
        return [self.get(entry["Id"]) for entry in self.client.api.images(name=name, all=all, filters=filters)]

    def load(self, data) -> list[Image]:
        """``docker load`` from the bytes (or a file, or chunks) of an archive."""
        loaded = []
        for chunk in self.client.api.load_image(data):
            match = _LOADED.search(chunk.get("stream", "")) if "stream" in chunk else None
            if match:
                loaded.append(match.group(2))
            if "error" in chunk:
                raise ImageLoadError(chunk["error"])
        return [self.get(name) for name in loaded]

    def import_image(self, src=None, repository=None, tag=None, changes=None, image=None) -> Image:
        """Not in docker-py (which has ``APIClient.import_image``): ``docker
        import`` of a root filesystem tar, then the image."""
        answer = self.client.api.import_image(src=src, repository=repository, tag=tag, image=image,
                                              changes=changes)
        image_id = None
        for document in json_documents([answer.encode()]):
            if isinstance(document, dict) and "error" in document:
                raise ImageLoadError(document["error"])
            status = document.get("status", "") if isinstance(document, dict) else ""
            if status.startswith("sha256:"):
                image_id = status
        if image_id is None and repository:
            image_id = f"{repository}:{tag or 'latest'}"
        if image_id is None:
            raise ImageLoadError(f"the engine did not name the imported image: {answer.strip()}")
        return self.get(image_id)

    def pull(self, repository, tag=None, all_tags=False, **kwargs):
        """The pulled image (all of the repository's with ``all_tags``)."""
        repository, image_tag = parse_repository_tag(repository)
        tag = tag or image_tag or "latest"
        kwargs.pop("stream", None)
        for _ in self.client.api.pull(repository, tag=tag, stream=True, all_tags=all_tags, **kwargs):
            pass  # the pull ends with the stream
        if all_tags:
            return self.list(repository)
        separator = "@" if tag.startswith("sha256:") else ":"
        return self.get(f"{repository}{separator}{tag}")

    def push(self, repository, tag=None, **kwargs):
        return self.client.api.push(repository, tag=tag, **kwargs)

    def remove(self, *args, **kwargs) -> None:
        self.client.api.remove_image(*args, **kwargs)

    def prune(self, filters=None) -> dict:
        return self.client.api.prune_images(filters=filters)

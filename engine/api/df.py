"""``GET /system/df``: what the engine's objects use on disk, in docker's
shape (``docker system df``, ``-v``): ``LayersSize``, ``Images``,
``Containers``, ``Volumes`` and an empty ``BuildCache`` (no builder).

Sizes, as docker counts them: an image's ``Size`` is its layers',
``SharedSize`` the part of it other images hold too; a container's
``SizeRw`` is its writable layer, ``SizeRootFs`` that plus its image; a
volume's ``UsageData`` is the bytes under it and the containers using it.
The ``type`` query (container, image, volume, build-cache) narrows the
answer to those parts, as docker's does.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from engine.images.errors import ImageNotFound

from .http import HTTPError, Request, Response, document
from .routes import Router, blocking

TYPES = ("container", "image", "volume", "build-cache")


class Df:
    def __init__(self, engine) -> None:
        self.engine = engine

    def register(self, router: Router) -> None:
        router.add("GET", "/system/df", self.df)

    async def df(self, request: Request) -> Response:
        wanted = set(request.query.get("type") or TYPES)
        unknown = wanted - set(TYPES)
        if unknown:
            raise HTTPError(400, f"invalid type: {min(unknown)}")
        return document(await blocking(self.usage, wanted))

    def usage(self, wanted: set[str]) -> dict:
        containers = self.engine.containers.list(all=True)
        answer: dict = {}
        if "image" in wanted:
            answer["LayersSize"], answer["Images"] = self._images(containers)
        if "container" in wanted:
            answer["Containers"] = [self._container(c) for c in containers]
        if "volume" in wanted:
            answer["Volumes"] = [self._volume(v) for v in self.engine.volumes.list()]
        if "build-cache" in wanted:
            answer["BuildCache"] = []
        return answer

    def _images(self, containers: list[dict]) -> tuple[int, list[dict]]:
        images = self.engine.images
        sizes = images._layer_sizes()  # diff id -> bytes (the service has no public view of it)
        layers = {s["Id"]: images.inspect(s["Id"])["RootFS"]["Layers"] for s in images.list()}
        holders = Counter(diff_id for ids in layers.values() for diff_id in set(ids))
        users = Counter(c["ImageID"] for c in containers)
        summaries = []
        for summary in images.list():
            mine = set(layers.get(summary["Id"], []))
            shared = sum(sizes.get(diff_id, 0) for diff_id in mine if holders[diff_id] > 1)
            summaries.append({**summary, "SharedSize": shared, "Containers": users[summary["Id"]]})
        used = {diff_id for ids in layers.values() for diff_id in ids}
        return sum(sizes.get(diff_id, 0) for diff_id in used), summaries

    def _container(self, summary: dict) -> dict:
        upper = self.engine.containers.root / "containers" / summary["Id"] / "upper"
        size_rw = _bytes_under(upper)
        try:
            image_size = self.engine.images.inspect(summary["ImageID"])["Size"]
        except ImageNotFound:  # force-removed while in use
            image_size = 0
        return {**summary, "SizeRw": size_rw, "SizeRootFs": size_rw + image_size}

    def _volume(self, view: dict) -> dict:
        users = self.engine.containers.volume_users(view["Name"])
        size = _bytes_under(Path(view["Mountpoint"])) if view.get("Mountpoint") else -1
        return {**view, "UsageData": {"Size": size, "RefCount": len(users)}}


def _bytes_under(path: Path) -> int:
    """The apparent size of the files under ``path`` (0 if it is gone),
    each hard-linked file once, symbolic links not followed."""
    total, seen = 0, set()
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                stat = os.lstat(os.path.join(directory, name))
            except OSError:
                continue  # removed meanwhile
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                total += stat.st_size
    return total

"""``/images/...``: one method per endpoint, docker-py's names and arguments
(``docker/api/image.py``). Registry credentials come only from an explicit
``auth_config`` (the docker CLI's config file is not read)."""
from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator

from ..errors import DockerException, InvalidVersion
from ..utils import convert_filters, parse_repository_tag
from .base import resource_id

CHUNK_SIZE = 2 * 1024 * 1024


def upload(data):
    """What httpx sends: bytes as they are, a file read in chunks, an
    iterator of bytes as it comes (chunked)."""
    if isinstance(data, (bytes, bytearray, memoryview, str)):
        return data
    if hasattr(data, "read"):
        return _read_chunks(data)
    return data


def _read_chunks(handle) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK_SIZE):
        yield chunk


def auth_header(auth_config: dict | None) -> dict:
    if not auth_config:
        return {}
    encoded = base64.urlsafe_b64encode(json.dumps(auth_config).encode("ascii"))
    return {"X-Registry-Auth": encoded.decode("ascii")}


def _is_file(src) -> bool:
    try:
        return isinstance(src, str) and os.path.isfile(src)
    except (TypeError, ValueError):
        return False


def import_params(repository=None, tag=None, image=None, src=None, changes=None) -> dict:
    params = {"repo": repository, "tag": tag}
    if image:
        params["fromImage"] = image
    elif src and not _is_file(src):
        params["fromSrc"] = src
    else:
        params["fromSrc"] = "-"
    if changes:
        params["changes"] = changes
    return params


class ImageAPI:
    def images(self, name=None, quiet=False, all=False, filters=None) -> list:
        params = {"only_ids": bool(quiet), "all": bool(all)}
        if name:
            filters = dict(filters or {}, reference=name)
        if filters:
            params["filters"] = convert_filters(filters)
        found = self._result(self._get(self._url("/images/json"), params=params), json=True)
        return [entry["Id"] for entry in found] if quiet else found

    def inspect_image(self, image) -> dict:
        return self._result(self._get(self._url("/images/{0}/json", resource_id(image, "image"))), json=True)

    def history(self, image) -> list:
        return self._result(self._get(self._url("/images/{0}/history", resource_id(image, "image"))), json=True)

    def tag(self, image, repository, tag=None, force=False) -> bool:
        response = self._post(self._url("/images/{0}/tag", resource_id(image, "image")),
                              params={"tag": tag, "repo": repository, "force": bool(force)})
        self._raise_for_status(response)
        return response.status_code == 201

    def remove_image(self, image, force=False, noprune=False) -> list:
        return self._result(self._delete(self._url("/images/{0}", resource_id(image, "image")),
                                         params={"force": force, "noprune": noprune}), json=True)

    def prune_images(self, filters=None) -> dict:
        params = {"filters": convert_filters(filters)} if filters is not None else {}
        return self._result(self._post(self._url("/images/prune"), params=params), json=True)

    def get_image(self, image, chunk_size=CHUNK_SIZE):
        """The image as a ``docker save`` tar archive, in chunks."""
        response = self._get(self._url("/images/{0}/get", resource_id(image, "image")), stream=True, timeout=None)
        return self._stream(response)

    def load_image(self, data, quiet=None):
        """``docker load``: the daemon's progress as JSON documents."""
        params = {"quiet": quiet} if quiet is not None else {}
        response = self._post(self._url("/images/load"), data=upload(data), params=params, stream=True,
                              headers={"Content-Type": "application/x-tar"}, timeout=None)
        return self._stream(response, decode=True)

    def import_image(self, src=None, repository=None, tag=None, image=None, changes=None, stream_src=False) -> str:
        """``docker import``: from a tar (a path, bytes, a file or a stream of
        bytes), a URL, or an image; the daemon's answer as text."""
        if not (src or image):
            raise DockerException("Must specify src or image to import from")
        if isinstance(src, os.PathLike):
            src = os.fspath(src)
        params = import_params(repository, tag, image, src if isinstance(src, str) else None, changes)
        url = self._url("/images/create")
        if image or params.get("fromSrc") != "-":
            return self._result(self._post(url, params=params))
        headers = {"Content-Type": "application/tar"}
        if isinstance(src, str):
            with open(src, "rb") as handle:
                return self._result(self._post(url, data=upload(handle), params=params, headers=headers,
                                               timeout=None))
        return self._result(self._post(url, data=upload(src), params=params, headers=headers, timeout=None))

    def import_image_from_data(self, data, repository=None, tag=None, changes=None) -> str:
        return self.import_image(src=data, repository=repository, tag=tag, changes=changes)

    def import_image_from_file(self, filename, repository=None, tag=None, changes=None) -> str:
        return self.import_image(src=filename, repository=repository, tag=tag, changes=changes)

    def import_image_from_stream(self, stream, repository=None, tag=None, changes=None) -> str:
        return self.import_image(src=stream, stream_src=True, repository=repository, tag=tag, changes=changes)

    def import_image_from_url(self, url, repository=None, tag=None, changes=None) -> str:
        return self.import_image(src=url, repository=repository, tag=tag, changes=changes)

    def import_image_from_image(self, image, repository=None, tag=None, changes=None) -> str:
        return self.import_image(image=image, repository=repository, tag=tag, changes=changes)

    def pull(self, repository, tag=None, stream=False, auth_config=None, decode=False, platform=None,
             all_tags=False):
        """Progress as text, or as a stream (JSON documents with ``decode``)."""
        repository, image_tag = parse_repository_tag(repository)
        tag = None if all_tags else (tag or image_tag or "latest")
        params = {"tag": tag, "fromImage": repository}
        if platform is not None:
            if not self.version_at_least("1.32"):
                raise InvalidVersion("platform was only introduced in API version 1.32")
            params["platform"] = platform
        response = self._post(self._url("/images/create"), params=params, headers=auth_header(auth_config),
                              stream=True, timeout=None)
        if stream:
            return self._stream(response, decode=decode)
        return self._result(response)

    def push(self, repository, tag=None, stream=False, auth_config=None, decode=False):
        if not tag:
            repository, tag = parse_repository_tag(repository)
        response = self._post(self._url("/images/{0}/push", repository), params={"tag": tag},
                              headers=auth_header(auth_config), json_body=None, stream=True, timeout=None)
        if stream:
            return self._stream(response, decode=decode)
        return self._result(response)

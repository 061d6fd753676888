"""Docker Engine API routes: method and path pattern -> handler, the API
version check, and the translation of engine errors into docker's status
codes and words. The engine services are synchronous: handlers call them in
worker threads (``anyio.to_thread``), so one slow call never stalls others.
"""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import anyio

from engine.containers.errors import ContainerError
from engine.images.errors import (
    ImageConflict,
    ImageError,
    ImageNotFound,
    InvalidReference,
)

from .http import API_VERSION, MIN_API_VERSION, HTTPError, Request, Response

Route = Callable[..., Awaitable[Response]]


class Router:
    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern, Route]] = []

    def add(self, method: str, pattern: str, handler: Route) -> None:
        """``pattern``: a path with ``{name}`` parts (one path segment) and
        ``{name:path}`` parts (any text, slashes too: image names)."""
        regex = re.sub(r"\{(\w+):path\}", r"(?P<\1>.+)", pattern)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        self._routes.append((method, re.compile(f"^{regex}$"), handler))

    async def __call__(self, request: Request) -> Response:
        _check_version(request.version)
        if any(part in (".", "..") for part in request.path.split("/")):
            # no name is "." or "..": never hand them to a handler as an id
            raise HTTPError(404, f"page not found: {request.method} {request.path}")
        allowed = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if match is None:
                continue
            if method != request.method and not (method == "GET" and request.method == "HEAD"):
                allowed = True
                continue
            try:
                return await handler(request, **match.groupdict())
            except ContainerError as error:
                raise HTTPError(error.status, str(error)) from None
            except ImageError as error:
                raise HTTPError(_image_status(error), str(error)) from None
        if allowed:
            raise HTTPError(405, f"method {request.method} is not allowed on {request.path}")
        raise HTTPError(404, f"page not found: {request.method} {request.path}")


def _image_status(error: ImageError) -> int:
    if isinstance(error, ImageNotFound):
        return 404
    if isinstance(error, ImageConflict):
        return 409
    if isinstance(error, InvalidReference):
        return 400
    return 400


def _version_tuple(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    return int(major), int(minor)


def _check_version(version: str | None) -> None:
    if version is None:
        return
    if _version_tuple(version) > _version_tuple(API_VERSION):
        raise HTTPError(400, f"client version {version} is too new. "
                             f"Maximum supported API version is {API_VERSION}")
    if _version_tuple(version) < _version_tuple(MIN_API_VERSION):
        raise HTTPError(400, f"client version {version} is too old. "
                             f"Minimum supported API version is {MIN_API_VERSION}, "
                             "please upgrade your client to a newer version")


async def blocking(function, *args, **kwargs):
    """Run a synchronous engine call in a worker thread. If the caller is
    cancelled (its client left, the daemon stops) the thread is abandoned:
    nothing that waits long may run here (waits for exits use pidfds on the
    event loop; log followers take a stop event)."""
    return await anyio.to_thread.run_sync(lambda: function(*args, **kwargs), abandon_on_cancel=True)

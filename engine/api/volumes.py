"""``/volumes/...``: list, create, inspect, remove, prune; docker's shapes,
status codes and words.

The volume service raises the engine's container errors (``NotFound``,
``Conflict``, ``InvalidRequest``) with docker's volume wording, so the
router's one translation gives docker's status codes; this module only
decodes docker's query filters and request bodies.
"""
from __future__ import annotations

from .filters import parse_filters
from .http import HTTPError, Request, Response, document, empty
from .routes import Router, blocking

PRUNE_ALL_BEFORE = (1, 42)  # older clients expect prune to consider every volume


class Volumes:
    def __init__(self, engine) -> None:
        self.service = engine.volumes

    def register(self, router: Router) -> None:
        router.add("GET", "/volumes", self.list)
        router.add("POST", "/volumes/create", self.create)
        router.add("POST", "/volumes/prune", self.prune)
        router.add("GET", "/volumes/{name}", self.inspect)
        router.add("DELETE", "/volumes/{name}", self.remove)

    async def list(self, request: Request) -> Response:
        found = await blocking(self.service.list, filters(request))
        return document({"Volumes": found, "Warnings": []})

    async def create(self, request: Request) -> Response:
        body = request.json()
        for key in ("Labels", "DriverOpts"):
            if not isinstance(body.get(key) or {}, dict):
                raise HTTPError(400, f"{key} must be an object of strings")
        view = await blocking(self.service.create, body.get("Name") or None, body.get("Driver") or "local",
                              labels=body.get("Labels") or {}, options=body.get("DriverOpts") or {})
        return document(view, 201)

    async def inspect(self, request: Request, name: str) -> Response:
        return document(await blocking(self.service.inspect, name))

    async def remove(self, request: Request, name: str) -> Response:
        await blocking(self.service.remove, name, force=request.flag("force"))
        return empty()

    async def prune(self, request: Request) -> Response:
        wanted = filters(request)
        if request.version and tuple(map(int, request.version.split("."))) < PRUNE_ALL_BEFORE:
            wanted.setdefault("all", ["true"])
        return document(await blocking(self.service.prune_report, wanted))


def filters(request: Request) -> dict[str, list[str]]:
    """docker's ``filters`` query (the volume service checks the keys)."""
    return parse_filters(request.arg("filters"))

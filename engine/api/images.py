"""``/images/...``: list and inspect (the rest comes with the image commands)."""
from __future__ import annotations

from .http import Request, Response, document
from .routes import Router, blocking


class Images:
    def __init__(self, engine) -> None:
        self.service = engine.images

    def register(self, router: Router) -> None:
        router.add("GET", "/images/json", self.list)
        router.add("GET", "/images/{name}/json", self.inspect)

    async def list(self, request: Request) -> Response:
        return document(await blocking(self.service.list))

    async def inspect(self, request: Request, name: str) -> Response:
        return document(await blocking(self.service.inspect, name))

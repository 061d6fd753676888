"""``/networks``: until user-defined networks are served (the networks
issue), the two predefined ones that work, ``none`` and ``host``, with
docker's shapes; creating, connecting and disconnecting answer a clear
error, removing a predefined network docker's refusal."""
from __future__ import annotations

import hashlib

from .filters import parse_filters
from .http import HTTPError, Request, Response, document
from .routes import Router

PREDEFINED = {"none": "null", "host": "host"}  # name -> driver
_NOT_YET = "user-defined networks are not supported yet: only the predefined none and host work"


class Networks:
    def __init__(self, engine) -> None:
        self.engine = engine

    def register(self, router: Router) -> None:
        router.add("GET", "/networks", self.list)
        router.add("POST", "/networks/create", self.create)
        router.add("POST", "/networks/prune", self.prune)
        router.add("GET", "/networks/{id}", self.inspect)
        router.add("DELETE", "/networks/{id}", self.remove)
        router.add("POST", "/networks/{id}/connect", self.connect)
        router.add("POST", "/networks/{id}/disconnect", self.connect)

    def _id(self, name: str) -> str:
        """Stable per engine, as docker's are stable per daemon."""
        return hashlib.sha256(f"{self.engine.id}/{name}".encode()).hexdigest()

    def _view(self, name: str) -> dict:
        return {"Name": name, "Id": self._id(name), "Created": "0001-01-01T00:00:00Z", "Scope": "local",
                "Driver": PREDEFINED[name], "EnableIPv6": False,
                "IPAM": {"Driver": "default", "Options": None, "Config": []}, "Internal": False,
                "Attachable": False, "Ingress": False, "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
                "Containers": {}, "Options": {}, "Labels": {}}

    def _find(self, ref: str) -> str:
        for name in PREDEFINED:
            if ref == name or (len(ref) >= 1 and self._id(name).startswith(ref)):
                return name
        raise HTTPError(404, f"network {ref} not found")

    async def list(self, request: Request) -> Response:
        filters = parse_filters(request.arg("filters"), ("name", "id", "driver", "type", "scope", "label"))
        found = []
        for name in PREDEFINED:
            view = self._view(name)
            if "name" in filters and not any(v in name for v in filters["name"]):
                continue
            if "id" in filters and not any(view["Id"].startswith(v) for v in filters["id"]):
                continue
            if "driver" in filters and view["Driver"] not in filters["driver"]:
                continue
            if "type" in filters and "builtin" not in filters["type"]:
                continue
            if "scope" in filters and "local" not in filters["scope"]:
                continue
            if "label" in filters:
                continue  # predefined networks carry no labels
            found.append(view)
        return document(found)

    async def inspect(self, request: Request, id: str) -> Response:
        return document(self._view(self._find(id)))

    async def create(self, request: Request) -> Response:
        name = request.json().get("Name") or ""
        if name in PREDEFINED:
            raise HTTPError(403, f"operation is not permitted on predefined {name} network ")
        raise HTTPError(501, f"cannot create network {name!r}: {_NOT_YET}")

    async def remove(self, request: Request, id: str) -> Response:
        name = self._find(id)
        raise HTTPError(403, f"{name} is a pre-defined network and cannot be removed")

    async def connect(self, request: Request, id: str) -> Response:
        name = self._find(id)
        raise HTTPError(403, f"connecting containers to or disconnecting them from network {name} is not "
                             f"supported: choose none or host when the container is created ({_NOT_YET})")

    async def prune(self, request: Request) -> Response:
        parse_filters(request.arg("filters"), ("until", "label", "label!"))
        return document({"NetworksDeleted": []})

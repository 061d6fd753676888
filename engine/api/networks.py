"""``/networks``: list (filters), inspect (with ``Containers`` and
``IPAM``), create, remove, connect, disconnect and prune, over the networks
service, with docker's shapes and words. Connect and disconnect go through
the container service (it owns what a container wants)."""
from __future__ import annotations

import time

from engine.containers.errors import ContainerError

from .filters import label_matches, parse_filters
from .http import HTTPError, Request, Response, document, empty
from .images import timestamp
from .routes import Router, blocking

LIST_FILTERS = ("dangling", "driver", "id", "label", "name", "scope", "type")
PRUNE_FILTERS = ("until", "label", "label!")
_BOOL = (bool, type(None))
_CREATE_TYPES = {"Name": (str,), "Driver": (str, type(None)), "Internal": _BOOL, "Attachable": _BOOL,
                 "Ingress": _BOOL, "EnableIPv6": _BOOL, "Options": (dict, type(None)),
                 "Labels": (dict, type(None)), "IPAM": (dict, type(None)), "CheckDuplicate": _BOOL}


def _created(record: dict) -> str:
    stamp = record.get("created") or 0
    if not stamp:
        return "0001-01-01T00:00:00Z"
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp)) + f".{int(stamp % 1 * 1e9):09d}Z"


class Networks:
    def __init__(self, engine) -> None:
        self.engine = engine

    @property
    def service(self):
        return self.engine.networks

    def register(self, router: Router) -> None:
        router.add("GET", "/networks", self.list)
        router.add("POST", "/networks/create", self.create)
        router.add("POST", "/networks/prune", self.prune)
        router.add("GET", "/networks/{id}", self.inspect)
        router.add("DELETE", "/networks/{id}", self.remove)
        router.add("POST", "/networks/{id}/connect", self.connect)
        router.add("POST", "/networks/{id}/disconnect", self.disconnect)

    def _view(self, record: dict, with_containers: bool = True) -> dict:
        containers = {}
        if with_containers:
            for cid, endpoint in self.service.users(record["id"]).items():
                containers[cid] = {"Name": self.service.container_name(cid), "EndpointID": endpoint["endpoint_id"],
                                   "MacAddress": endpoint["mac"],
                                   "IPv4Address": f"{endpoint['ip']}/{endpoint['prefix']}", "IPv6Address": ""}
        options = dict(record.get("options") or {})
        if record["name"] == "bridge" and record.get("predefined"):
            options.setdefault("com.docker.network.bridge.default_bridge", "true")
        if record.get("bridge"):
            options.setdefault("com.docker.network.bridge.name", record["bridge"])
        return {"Name": record["name"], "Id": record["id"], "Created": _created(record), "Scope": "local",
                "Driver": record["driver"], "EnableIPv6": False,
                "IPAM": {"Driver": "default", "Options": None if record.get("predefined") else {},
                         "Config": list(record.get("ipam") or [])},
                "Internal": bool(record.get("internal")), "Attachable": bool(record.get("attachable")),
                "Ingress": False, "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
                "Containers": containers, "Options": options, "Labels": dict(record.get("labels") or {})}

    async def list(self, request: Request) -> Response:
        filters = parse_filters(request.arg("filters"), LIST_FILTERS)
        found = []
        for record in await blocking(self.service.all):
            view = self._view(record, with_containers=False)  # docker's list leaves them out
            builtin = bool(record.get("predefined"))
            if "name" in filters and not any(v in view["Name"] for v in filters["name"]):
                continue
            if "id" in filters and not any(view["Id"].startswith(v) for v in filters["id"]):
                continue
            if "driver" in filters and view["Driver"] not in filters["driver"]:
                continue
            if "type" in filters and ("builtin" if builtin else "custom") not in filters["type"]:
                continue
            if "scope" in filters and "local" not in filters["scope"]:
                continue
            if not all(label_matches(view["Labels"], wanted) for wanted in filters.get("label", [])):
                continue
            if "dangling" in filters:
                dangling = not builtin and not self.service.users(record["id"])
                if ("true" in filters["dangling"] or "1" in filters["dangling"]) != dangling:
                    continue
            found.append(view)
        return document(found)

    async def inspect(self, request: Request, id: str) -> Response:
        return document(self._view(await blocking(self.service.find, id)))

    async def create(self, request: Request) -> Response:
        body = request.json()
        for key, types in _CREATE_TYPES.items():
            if key in body and not isinstance(body[key], types):
                raise HTTPError(400, f"json: cannot unmarshal {type(body[key]).__name__} into Go struct field "
                                     f"NetworkCreateRequest.{key}")
        if body.get("Ingress"):
            raise HTTPError(400, "ingress networks are swarm's: not supported")
        ipam = body.get("IPAM") or {}
        record = await blocking(
            self.service.create, body.get("Name") or "", driver=body.get("Driver") or "bridge",
            internal=bool(body.get("Internal")), attachable=bool(body.get("Attachable")),
            labels=body.get("Labels"), options=body.get("Options"), ipam_config=ipam.get("Config") or [],
            ipam_driver=ipam.get("Driver") or "default", enable_ipv6=bool(body.get("EnableIPv6")))
        self.engine.events.publish("network", "create", record["id"],
                                   {"name": record["name"], "type": record["driver"]})
        return document({"Id": record["id"], "Warning": ""}, 201)

    async def remove(self, request: Request, id: str) -> Response:
        record = await blocking(self.service.find, id)
        await blocking(self.service.remove, id)
        self.engine.events.publish("network", "destroy", record["id"],
                                   {"name": record["name"], "type": record["driver"]})
        return empty()

    async def connect(self, request: Request, id: str) -> Response:
        body = request.json()
        record = await blocking(self.service.find, id)
        container = body.get("Container") or ""
        if record.get("predefined") and record["name"] in ("host", "none"):
            raise HTTPError(403, f"container cannot be disconnected from host network or connected to "
                                 f"{record['name']} network")
        await blocking(self.engine.containers.connect, container, record["name"], body.get("EndpointConfig"))
        cid = (await blocking(self.engine.containers.inspect, container))["Id"]
        self.engine.events.publish("network", "connect", record["id"],
                                   {"name": record["name"], "type": record["driver"], "container": cid})
        return empty(200)

    async def disconnect(self, request: Request, id: str) -> Response:
        body = request.json()
        record = await blocking(self.service.find, id)
        container = body.get("Container") or ""
        try:
            await blocking(self.engine.containers.disconnect, container, record["name"])
        except ContainerError:
            if not body.get("Force"):
                raise
        self.engine.events.publish("network", "disconnect", record["id"],
                                   {"name": record["name"], "type": record["driver"], "container": container})
        return empty(200)

    async def prune(self, request: Request) -> Response:
        filters = parse_filters(request.arg("filters"), PRUNE_FILTERS)
        now = time.time()
        until = min((timestamp(value, now) for value in filters.get("until", [])), default=None)

        def keep(record: dict) -> bool:
            labels = record.get("labels") or {}
            if until is not None and not record["created"] < until:
                return True
            if not all(label_matches(labels, wanted) for wanted in filters.get("label", [])):
                return True
            return any(label_matches(labels, wanted) for wanted in filters.get("label!", []))

        removed = await blocking(self.service.prune, keep)
        return document({"NetworksDeleted": removed or None})

"""``GET /events``: what happened to containers (and, as their parts publish,
images and volumes), docker's event documents, streamed as they happen,
with ``since``/``until`` and docker's filters (type, container, image,
event, label). The daemon keeps the last events in memory, so a ``since``
in the past replays them (dockerd keeps 256).
"""
from __future__ import annotations

import json
import time
from collections import deque

import anyio

from .filters import label_matches, parse_filters
from .http import HTTPError, Request, Response
from .routes import Router

KEPT = 1000
_FILTERS = ("type", "container", "image", "event", "label", "volume")


class Events:
    def __init__(self, engine) -> None:
        self.engine = engine
        self.kept: deque[dict] = deque(maxlen=KEPT)
        self.listeners: set[anyio.abc.ObjectSendStream] = set()

    def register(self, router: Router) -> None:
        router.add("GET", "/events", self.stream)

    def publish(self, kind: str, action: str, actor: str, attributes: dict | None = None) -> None:
        """Record an event and hand it to every listener (from the event loop)."""
        now = time.time_ns()
        event = {"Type": kind, "Action": action, "Actor": {"ID": actor, "Attributes": attributes or {}},
                 "scope": "local", "time": now // 10**9, "timeNano": now}
        if kind == "container":  # the old fields docker still sends
            event.update(status=action, id=actor, **({"from": attributes["image"]}
                                                    if attributes and "image" in attributes else {}))
        self.kept.append(event)
        for listener in list(self.listeners):
            try:
                listener.send_nowait(event)
            except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
                self.listeners.discard(listener)  # too slow or gone

    async def stream(self, request: Request) -> Response:
        since, until = _time(request.arg("since")), _time(request.arg("until"))
        wanted = parse_filters(request.arg("filters"), _FILTERS)
        now = time.time()
        send, receive = anyio.create_memory_object_stream(256)
        self.listeners.add(send)
        past = [e for e in self.kept if since is not None and e["timeNano"] >= since * 1e9]

        async def documents():
            try:
                for event in past:
                    if (until is None or event["timeNano"] <= until * 1e9) and _matches(event, wanted):
                        yield json.dumps(event).encode() + b"\n"
                if until is not None and until <= now:
                    return
                with anyio.move_on_after(None if until is None else until - now):
                    async with receive:
                        async for event in receive:
                            if _matches(event, wanted):
                                yield json.dumps(event).encode() + b"\n"
            finally:
                self.listeners.discard(send)
                send.close()
        return Response(200, stream=documents())


def _time(text: str | None) -> float | None:
    """docker's since/until: Unix seconds, with an optional fraction."""
    if text in (None, ""):
        return None
    try:
        return float(text)
    except ValueError:
        raise HTTPError(400, f"invalid timestamp {text!r}: give Unix seconds") from None


def _matches(event: dict, wanted: dict[str, list[str]]) -> bool:
    attributes = event["Actor"]["Attributes"]
    for key, values in wanted.items():
        if key == "type" and event["Type"] not in values:
            return False
        if key == "event" and event["Action"] not in values:
            return False
        if key == "container" and not (event["Type"] == "container" and (
                event["Actor"]["ID"] in values or attributes.get("name") in values
                or any(event["Actor"]["ID"].startswith(v) for v in values))):
            return False
        if key == "image" and attributes.get("image") not in values and event["Actor"]["ID"] not in values:
            return False
        if key == "volume" and not (event["Type"] == "volume" and event["Actor"]["ID"] in values):
            return False
        if key == "label" and not any(label_matches(attributes, v) for v in values):
            return False
    return True

"""``/containers/...``: create, list, inspect, start, stop, kill, wait, logs,
attach (hijacked), remove; docker's shapes, status codes and words.

Output streams use docker's framing when the container has no tty: an
8-byte header (stream 1 stdout or 2 stderr, three zero bytes, the payload
size as a big-endian uint32) before each payload; with a tty, raw bytes.
"""
from __future__ import annotations

import json
import os
import struct

import anyio
import anyio.from_thread

from engine.containers import lifecycle
from engine.containers.errors import Conflict

from .http import HTTPError, Request, Response, document, empty
from .routes import Router, blocking

STREAMS = {"stdin": 0, "stdout": 1, "stderr": 2}
RAW = "application/vnd.docker.raw-stream"
MULTIPLEXED = "application/vnd.docker.multiplexed-stream"


# HostConfig values that mean "not set" (the docker CLI sends them).
_CLIENT_DEFAULTS = {"MemorySwappiness": (-1, None),
                    "CgroupnsMode": ("", "private"), "IpcMode": ("", "private", "shareable"),
                    "PidMode": ("",), "UTSMode": ("",), "UsernsMode": ("",), "Isolation": ("", "default")}


def frame(stream: str, data: bytes) -> bytes:
    return struct.pack(">BxxxI", STREAMS[stream], len(data)) + data


class Containers:
    def __init__(self, engine) -> None:
        self.engine = engine
        self.service = engine.containers
        self.attached: dict[str, int] = {}  # container id -> attach streams still sending

    def register(self, router: Router) -> None:
        router.add("POST", "/containers/create", self.create)
        router.add("GET", "/containers/json", self.list)
        router.add("GET", "/containers/{id}/json", self.inspect)
        router.add("POST", "/containers/{id}/start", self.start)
        router.add("POST", "/containers/{id}/stop", self.stop)
        router.add("POST", "/containers/{id}/kill", self.kill)
        router.add("POST", "/containers/{id}/wait", self.wait)
        router.add("GET", "/containers/{id}/logs", self.logs)
        router.add("POST", "/containers/{id}/attach", self.attach)
        router.add("DELETE", "/containers/{id}", self.remove)

    # -- life cycle -------------------------------------------------------------------
    async def create(self, request: Request) -> Response:
        body = request.json()
        if not body.get("Image"):
            raise HTTPError(400, "config cannot be empty in order to create a container")
        host = dict(body.get("HostConfig") or {})
        if host.get("NetworkMode") in ("default", "bridge"):
            host["NetworkMode"] = "none"  # until networks are served: an empty namespace of its own
        if (host.get("RestartPolicy") or {}).get("Name") in ("", "no"):
            host.pop("RestartPolicy")
        host.pop("ConsoleSize", None)  # the client's terminal size: a hint for a tty's first size
        for key, unset in _CLIENT_DEFAULTS.items():  # what the docker CLI sends for "not set"
            if key in host and host[key] in unset:
                del host[key]
        body["HostConfig"] = host
        name = request.arg("name") or None
        cid = await blocking(self.service.create, body, name)
        return document({"Id": cid, "Warnings": []}, 201)

    async def list(self, request: Request) -> Response:
        found = await blocking(self.service.list, all=request.flag("all"))
        return document(found)

    async def inspect(self, request: Request, id: str) -> Response:
        return document(await blocking(self.service.inspect, id))

    async def start(self, request: Request, id: str) -> Response:
        state = (await blocking(self.service.inspect, id))["State"]
        if state["Running"]:
            return empty(304)
        await blocking(self.service.start, id)
        record = await blocking(self.service.inspect, id)
        if record["HostConfig"].get("AutoRemove"):
            self.engine.spawn(self._remove_when_exited(record["Id"]))
        return empty()

    async def _remove_when_exited(self, cid: str) -> None:
        """AutoRemove (``docker run --rm``): once the container has exited and
        its attached clients have their output, it goes, with its anonymous volumes."""
        await blocking(self.service.wait, cid)
        with anyio.move_on_after(10):
            while self.attached.get(cid):
                await anyio.sleep(0.01)
        try:
            await blocking(self.service.remove, cid, volumes=True)
        except HTTPError:
            pass

    async def stop(self, request: Request, id: str) -> Response:
        inspected = await blocking(self.service.inspect, id)
        if not inspected["State"]["Running"]:
            return empty(304)
        timeout = request.arg("t") or request.arg("timeout")
        await blocking(self.service.stop, id, float(timeout) if timeout not in (None, "") else None)
        return empty()

    async def kill(self, request: Request, id: str) -> Response:
        await blocking(self.service.kill, id, request.arg("signal") or None)
        return empty()

    async def wait(self, request: Request, id: str) -> Response:
        """The headers at once, the result when the condition is met."""
        condition = request.arg("condition") or "not-running"
        if condition not in ("not-running", "next-exit", "removed"):
            raise HTTPError(400, f"invalid condition: {condition!r}")
        await blocking(self.service.inspect, id)  # 404 before the headers go out

        async def result():
            try:
                found = await blocking(self.service.wait, id, condition)
            except Exception as error:  # noqa: BLE001 - reported in the body, as docker does
                found = {"StatusCode": -1, "Error": {"Message": str(error)}}
            yield json.dumps(found).encode() + b"\n"
        return Response(200, stream=result())

    async def remove(self, request: Request, id: str) -> Response:
        await blocking(self.service.remove, id, force=request.flag("force"), volumes=request.flag("v"))
        return empty()

    # -- output ------------------------------------------------------------------------
    def _wanted(self, request: Request) -> set[str]:
        return {name for name in ("stdout", "stderr") if request.flag(name)}

    async def logs(self, request: Request, id: str) -> Response:
        inspected = await blocking(self.service.inspect, id)
        tty = bool(inspected["Config"].get("Tty"))
        wanted = self._wanted(request)
        if not wanted:
            raise HTTPError(400, "Bad parameters: you must choose at least one stream")
        tail = request.arg("tail") or "all"
        tail_count = None if tail == "all" else int(tail)
        since = float(request.arg("since") or 0) or None
        until = float(request.arg("until") or 0) or None
        stamps = request.flag("timestamps")

        def encode(entry) -> bytes:
            data = (entry.time.encode() + b" " + entry.data) if stamps else entry.data
            return data if tty else frame(entry.stream, data)

        if request.flag("follow"):
            chunks = self._follow(id, wanted, encode, tail=tail_count)
        else:
            entries = await blocking(self.service.logs, id, tail=tail_count, since=since, until=until)

            async def chunks_of():
                yield b"".join(encode(e) for e in entries if e.stream in wanted)
            chunks = chunks_of()
        return Response(200, content_type=RAW if tty else MULTIPLEXED, stream=chunks)

    async def _follow(self, cid: str, wanted: set[str], encode, **where):
        """Entries as they come, from a worker thread, through a small queue."""
        send, receive = anyio.create_memory_object_stream(64)

        def pump() -> None:
            with send:
                for entry in self.service.follow_logs(cid, **where):
                    if entry.stream in wanted:
                        anyio.from_thread.run(send.send, encode(entry))

        async with anyio.create_task_group() as group:
            group.start_soon(lambda: anyio.to_thread.run_sync(pump, abandon_on_cancel=True))
            async with receive:
                async for chunk in receive:
                    yield chunk

    async def attach(self, request: Request, id: str) -> Response:
        inspected = await blocking(self.service.inspect, id)
        cid, tty = inspected["Id"], bool(inspected["Config"].get("Tty"))
        wanted = self._wanted(request) if request.flag("stream", True) else set()
        with_stdin = request.flag("stdin") and bool(inspected["Config"].get("OpenStdin"))
        before = len(await blocking(self.service.logs, cid))

        async def hijacked(raw, ahead: bytes) -> None:
            self.attached[cid] = self.attached.get(cid, 0) + 1
            try:
                await self._until_started(cid)
                async with anyio.create_task_group() as group:
                    if with_stdin:
                        group.start_soon(self._stdin, cid, raw, ahead)
                    async for chunk in self._follow(cid, wanted, lambda e: e.data if tty else frame(e.stream, e.data),
                                                    skip=before):
                        await raw.send(chunk)
                    group.cancel_scope.cancel()
            finally:
                self.attached[cid] -= 1
                if not self.attached[cid]:
                    del self.attached[cid]
        content_type = RAW if tty else MULTIPLEXED
        return Response(200, content_type=content_type, hijack=hijacked)

    async def _until_started(self, cid: str) -> None:
        """An attach made before start (``docker run``) waits for it."""
        while (await blocking(self.service.inspect, cid))["State"]["Status"] == lifecycle.CREATED:
            await anyio.sleep(0.005)

    async def _stdin(self, cid: str, raw, ahead: bytes) -> None:
        try:
            fd = await blocking(self.service.stdin, cid)
        except Conflict:
            return
        try:
            if ahead:
                await blocking(os.write, fd, ahead)
            while True:
                try:
                    data = await raw.receive()
                except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                    return
                await blocking(os.write, fd, data)
        finally:
            os.close(fd)

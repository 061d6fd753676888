"""``/containers/...``: create, list, inspect, start, stop, kill, wait, logs,
attach (hijacked), remove; docker's shapes, status codes and words.

Output streams use docker's framing when the container has no tty: an
8-byte header (stream 1 stdout or 2 stderr, three zero bytes, the payload
size as a big-endian uint32) before each payload; with a tty, raw bytes.
"""
from __future__ import annotations

import json
import os
import re
import struct
import time

import anyio
import anyio.from_thread

from engine.containers import health, lifecycle
from engine.containers.errors import Conflict, ContainerError
from engine.containers.logs import read_from as logs_read_from
from engine.containers.logs import timestamp as logs_timestamp
from engine.runtime import process

from .filters import label_matches, parse_filters
from .http import HTTPError, Request, Response, document, empty
from .routes import Router, blocking

STREAMS = {"stdin": 0, "stdout": 1, "stderr": 2}
RAW = "application/vnd.docker.raw-stream"
MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
SHORT_ID_ALIAS_BEFORE = (1, 45)


# The JSON types of the create fields the engine reads (Go's, in docker's
# error): a value of another type is refused before anything is made.
_STR, _INT, _BOOL = (str, "string"), (int, "int64"), (bool, "bool")
_STRS, _MAP, _OBJ = ((list, str), "[]string"), ((dict, str), "map[string]string"), (dict, "struct")
_CONFIG_TYPES = {"Image": _STR, "Cmd": ((list, str, str), "[]string"), "Entrypoint": ((list, str, str), "[]string"),
                 "Env": _STRS, "Labels": _MAP, "WorkingDir": _STR, "User": _STR, "Hostname": _STR,
                 "Domainname": _STR, "Tty": _BOOL, "OpenStdin": _BOOL, "StdinOnce": _BOOL,
                 "AttachStdin": _BOOL, "AttachStdout": _BOOL, "AttachStderr": _BOOL, "StopSignal": _STR,
                 "StopTimeout": _INT, "HostConfig": _OBJ, "Volumes": _OBJ, "ExposedPorts": _OBJ}
_HOST_TYPES = {"Binds": _STRS, "Memory": _INT, "MemorySwap": _INT, "NanoCpus": _INT, "CpuShares": _INT,
               "PidsLimit": _INT, "ShmSize": _INT, "BlkioWeight": _INT, "CpusetCpus": _STR, "CpusetMems": _STR,
               "Privileged": _BOOL, "ReadonlyRootfs": _BOOL, "Init": _BOOL, "AutoRemove": _BOOL,
               "CapAdd": _STRS, "CapDrop": _STRS, "Dns": _STRS, "DnsSearch": _STRS, "DnsOptions": _STRS,
               "ExtraHosts": _STRS, "GroupAdd": _STRS, "SecurityOpt": _STRS, "Tmpfs": _MAP, "Sysctls": _MAP,
               "Mounts": ((list, dict), "[]mount.Mount"), "Ulimits": ((list, dict), "[]*units.Ulimit"),
               "LogConfig": _OBJ, "RestartPolicy": _OBJ, "NetworkMode": _STR}


def _json_type(value) -> str:
    return {bool: "bool", int: "number", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), "value")


def _check_types(document, types: dict, struct: str) -> None:
    """docker's 400 for a field of the wrong JSON type (json: cannot unmarshal ...)."""
    if not isinstance(document, dict):
        raise HTTPError(400, f"json: cannot unmarshal {_json_type(document)} into Go value of type {struct}")
    for key, (kind, go_type) in types.items():
        value = document.get(key)
        if value is None:
            continue
        if isinstance(kind, tuple):  # (container, item type[, also a bare item])
            container, item = kind[0], kind[1]
            good = (isinstance(value, container) and all(
                isinstance(v, item) for v in (value.values() if container is dict else value))) or \
                (len(kind) == 3 and isinstance(value, kind[2]))
        elif kind is int:
            good = isinstance(value, int) and not isinstance(value, bool)
        else:
            good = isinstance(value, kind)
        if not good:
            raise HTTPError(400, f"json: cannot unmarshal {_json_type(value)} into Go struct field "
                                 f"{struct}.{key} of type {go_type}")


# HostConfig values that mean "not set" (the docker CLI sends them).
_CLIENT_DEFAULTS = {"MemorySwappiness": (-1, None),
                    "CgroupnsMode": ("", "private"), "IpcMode": ("", "private", "shareable"),
                    "PidMode": ("",), "UTSMode": ("",), "UsernsMode": ("",), "Isolation": ("", "default")}


_LIST_FILTERS = {"label", "name", "status", "id", "ancestor", "health", "network", "exited"}


def _health_of(summary: dict) -> str:
    status = summary.get("Status") or ""
    for word, found in (("(health: starting)", "starting"), ("(healthy)", "healthy"), ("(unhealthy)", "unhealthy")):
        if status.endswith(word):
            return found
    return "none"


def _listed(summary: dict, wanted: dict[str, list[str]]) -> bool:
    """Every filter key must match; the values of one key are alternatives."""
    labels = summary.get("Labels") or {}
    tests = {
        "name": lambda v: any(re.search(v, n.lstrip("/")) for n in summary["Names"]),
        "status": lambda v: summary["State"] == v,
        "id": lambda v: summary["Id"].startswith(v),
        "ancestor": lambda v: v in (summary["Image"], summary["ImageID"]) or summary["ImageID"].startswith(
            "sha256:" + v) or summary["Image"] == v.split(":")[0],
        "health": lambda v: _health_of(summary) == v,
        "network": lambda v: v in (summary.get("NetworkSettings") or {}).get("Networks", {}) or any(
            n.get("NetworkID", "").startswith(v) for n in (summary.get("NetworkSettings") or {}).get(
                "Networks", {}).values()),
        "exited": lambda v: summary["State"] == "exited" and summary["Status"].startswith(f"Exited ({v})"),
    }
    if not all(label_matches(labels, v) for v in wanted.get("label", [])):
        return False  # every label filter must hold, as docker
    return all(any(tests[key](v) for v in values) for key, values in wanted.items() if key != "label")


def _memory(stats: dict) -> dict:
    """An unlimited group's limit reads as the host's memory, as docker shows it."""
    if stats:
        with open("/proc/meminfo") as handle:
            total = int(handle.readline().split()[1]) * 1024  # MemTotal comes first
        if not stats.get("limit") or stats["limit"] > total:
            stats = {**stats, "limit": total}
    return stats


def _cpus() -> int:
    return os.cpu_count() or 1


def _system_cpu_ns() -> int:
    """The host's CPU time in nanoseconds (/proc/stat), as docker's system_cpu_usage."""
    with open("/proc/stat") as handle:
        fields = handle.readline().split()[1:8]
    return sum(int(v) for v in fields) * 10**9 // os.sysconf("SC_CLK_TCK")


async def pump_input(raw, fd: int, ahead: bytes) -> None:
    """What the client sends on a hijacked connection (and what came ahead of
    the upgrade) into ``fd``, until the client closes its side."""
    if ahead:
        await blocking(os.write, fd, ahead)
    while True:
        try:
            data = await raw.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            return
        await blocking(os.write, fd, data)


def frame(stream: str, data: bytes) -> bytes:
    return struct.pack(">BxxxI", STREAMS[stream], len(data)) + data


class Containers:
    def __init__(self, engine) -> None:
        self.engine = engine
        self.service = engine.containers
        self.attached: dict[str, int] = {}  # container id -> attach streams still sending
        self.waiting: dict[str, int] = {}  # container id -> waits for its removal without its code yet

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
        router.add("POST", "/containers/{id}/restart", self.restart)
        router.add("POST", "/containers/{id}/pause", self.pause)
        router.add("POST", "/containers/{id}/unpause", self.unpause)
        router.add("GET", "/containers/{id}/top", self.top)
        router.add("GET", "/containers/{id}/stats", self.stats)
        router.add("POST", "/containers/{id}/rename", self.rename)
        router.add("POST", "/containers/prune", self.prune)
        router.add("POST", "/containers/{id}/resize", self.resize)
        router.add("POST", "/containers/{id}/update", self.update)

    # -- life cycle -------------------------------------------------------------------
    async def create(self, request: Request) -> Response:
        body = request.json()
        _check_types(body, _CONFIG_TYPES, "ContainerConfigWrapper")
        _check_types(body.get("HostConfig") or {}, _HOST_TYPES, "ContainerConfigWrapper.HostConfig")
        for key in ("Cmd", "Entrypoint"):  # docker's strslice: a string is a list of one
            if isinstance(body.get(key), str):
                body[key] = [body[key]]
        if not body.get("Image"):
            raise HTTPError(400, "config cannot be empty in order to create a container")
        host = dict(body.get("HostConfig") or {})
        log_type = (host.get("LogConfig") or {}).get("Type") or "json-file"
        if log_type != "json-file":
            raise HTTPError(400, f"logging driver {log_type!r} is not supported (json-file only)")
        host["LogConfig"] = {"Type": "json-file", "Config": (host.get("LogConfig") or {}).get("Config") or {}}
        if host.get("NetworkMode") in (None, "", "default"):
            host["NetworkMode"] = "bridge"  # docker's default network
        endpoints = (body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
        if "default" in endpoints:  # the docker CLI's name for it
            endpoints["bridge"] = endpoints.pop("default")
        if (host.get("RestartPolicy") or {}).get("Name") in ("", "no"):
            host.pop("RestartPolicy")
        host.pop("ConsoleSize", None)  # the client's terminal size: a hint for a tty's first size
        for key, unset in _CLIENT_DEFAULTS.items():  # what the docker CLI sends for "not set"
            if key in host and host[key] in unset:
                del host[key]
        body["HostConfig"] = host
        name = request.arg("name") or None
        cid = await blocking(self.service.create, body, name)
        await self._publish("create", cid)
        return document({"Id": cid, "Warnings": []}, 201)

    async def _publish(self, action: str, ref: str, inspected: dict | None = None, **extra) -> None:
        """A container event, with docker's attributes (image, name, labels)."""
        if inspected is None:
            inspected = await blocking(self.service.inspect, ref)
        attributes = {**(inspected["Config"].get("Labels") or {}), "image": inspected["Config"]["Image"],
                      "name": inspected["Name"].lstrip("/"), **extra}
        self.engine.events.publish("container", action, inspected["Id"], attributes)

    async def adopt(self) -> None:
        """At start: watch the containers that run (their exits, AutoRemove)."""
        for found in await blocking(self.service.list, all=True):
            if found["State"] in ("running", "paused"):
                self.engine.spawn(self._watch(found["Id"]))
                pid = (await blocking(self.service.inspect, found["Id"]))["State"]["Pid"]
                self.engine.spawn(self._health(found["Id"], pid))
            elif found["State"] in ("exited", "restarting"):  # it ended while no daemon watched
                self.engine.spawn(self._restart(found["Id"], None))

    async def list(self, request: Request) -> Response:
        wanted = parse_filters(request.arg("filters"), _LIST_FILTERS)
        found = await blocking(self.service.list, all=request.flag("all") or "status" in wanted)
        found = [c for c in found if _listed(c, wanted)]
        limit = int(request.arg("limit") or -1)
        return document(found[:limit] if limit > 0 else found)

    async def inspect(self, request: Request, id: str) -> Response:
        found = await blocking(self.service.inspect, id)
        if request.version and tuple(map(int, request.version.split("."))) < SHORT_ID_ALIAS_BEFORE:
            # before 1.45 docker listed these as aliases on user networks;
            # compose v1 reads the short id there to know a container is connected
            for name, endpoint in found["NetworkSettings"]["Networks"].items():
                if name not in ("bridge", "host", "none"):
                    wanted = [*(endpoint["Aliases"] or []), found["Id"][:12], found["Config"]["Hostname"]]
                    endpoint["Aliases"] = list(dict.fromkeys(wanted))
        return document(found)

    async def start(self, request: Request, id: str) -> Response:
        inspected = await blocking(self.service.inspect, id)
        if inspected["State"]["Running"]:
            return empty(304)
        try:
            await blocking(self.service.start, id)
        except ContainerError:
            if inspected["HostConfig"].get("AutoRemove"):  # as dockerd: a --rm container that cannot start goes
                await blocking(self.service.remove, inspected["Id"], force=True, volumes=True)
                await self._publish("destroy", inspected["Id"], inspected)
            raise
        record = await blocking(self.service.inspect, id)
        await self._publish("start", id, record)
        self.engine.spawn(self._watch(record["Id"]))
        self.engine.spawn(self._health(record["Id"], record["State"]["Pid"]))
        return empty()

    async def _restart(self, cid: str, pid: int | None) -> None:
        """Its restart policy, after the run ``pid`` ended: wait (docker's
        back-off), then start it again, unless a user stopped it meanwhile."""
        try:
            wait = await blocking(self.service.after_exit, cid, pid)
            if wait is None:
                return
            await anyio.sleep(wait)
            if not await blocking(self.service.policy_restart, cid):
                return
            record = await blocking(self.service.inspect, cid)
        except ContainerError:
            return  # removed meanwhile, or it cannot start: it stays exited
        await self._publish("start", cid, record)
        self.engine.spawn(self._watch(cid))
        self.engine.spawn(self._health(cid, record["State"]["Pid"]))

    async def _health(self, cid: str, pid: int) -> None:
        """The container's health checks, for as long as this run lasts."""
        check, _, started = await blocking(self.service.health_check, cid)
        if check is None:
            return
        while True:
            await anyio.sleep(health.next_delay(check, started, time.time()))
            try:
                state = (await blocking(self.service.inspect, cid))["State"]
                if state["Pid"] != pid or not state["Running"]:
                    return
                if state["Paused"]:
                    continue
                result = await blocking(health.probe, self.service, cid, check)
                changed = await blocking(self.service.record_probe, cid, pid, result, check, started)
            except ContainerError:
                return  # removed meanwhile
            if changed:
                await self._publish(f"health_status: {changed}", cid)

    async def _watch(self, cid: str) -> None:
        """Until the container exits: then its ``die`` event and, with
        AutoRemove (``docker run --rm``), once its attached clients have their
        output, its removal with its anonymous volumes."""
        try:
            pid = (await blocking(self.service.last_run, cid))[0].get("pid")  # even if it ended already
            result = await self._until_exit(cid, "not-running")
            await blocking(self.engine.networks.release, cid, pid)  # its names and ports go at once
            inspected = await blocking(self.service.inspect, cid)
        except ContainerError:
            return  # removed meanwhile
        await self._publish("die", cid, inspected, exitCode=str(result["StatusCode"]))
        if not inspected["HostConfig"].get("AutoRemove"):
            await self._restart(cid, pid)
            return
        with anyio.move_on_after(10):
            while self.attached.get(cid) or self.waiting.get(cid):
                await anyio.sleep(0.01)
        try:
            await blocking(self.service.remove, cid, volumes=True)
        except ContainerError:
            return
        await self._publish("destroy", cid, inspected)

    async def stop(self, request: Request, id: str) -> Response:
        inspected = await blocking(self.service.inspect, id)
        if not inspected["State"]["Running"]:
            return empty(304)
        timeout = request.arg("t") or request.arg("timeout")
        await blocking(self.service.stop, id, float(timeout) if timeout not in (None, "") else None)
        return empty()

    async def kill(self, request: Request, id: str) -> Response:
        await blocking(self.service.kill, id, request.arg("signal") or None)
        await self._publish("kill", id, signal=request.arg("signal") or "SIGKILL")
        return empty()

    async def wait(self, request: Request, id: str) -> Response:
        """The headers at once, the result when the condition is met."""
        condition = request.arg("condition") or "not-running"
        if condition not in ("not-running", "next-exit", "removed"):
            raise HTTPError(400, f"invalid condition: {condition!r}")
        inspected = await blocking(self.service.inspect, id)  # 404 before the headers go out
        cid, state = inspected["Id"], inspected["State"]["Status"]

        async def result():
            try:
                if condition == "removed":
                    found = await self._wait_removed(cid, state)
                else:
                    found = await self._until_exit(cid, condition)
            except Exception as error:  # noqa: BLE001 - reported in the body, as docker does
                found = {"StatusCode": -1, "Error": {"Message": str(error)}}
            yield json.dumps(found).encode() + b"\n"
        return Response(200, stream=result())

    async def _until_exit(self, cid: str, condition: str) -> dict:
        """docker's wait conditions not-running and next-exit, holding no
        thread while the container runs: the event loop waits on a pidfd of
        its PID 1 (every running container has a watcher: see _watch)."""
        called = time.time()
        pause = 0.002
        while True:
            record, exited = await blocking(self.service.last_run, cid)
            if exited and (condition != "next-exit" or exited["finished_at"] >= called):
                return {"StatusCode": exited["exit_code"], "Error": None}
            if condition == "not-running" and not record.get("pid"):
                return {"StatusCode": 0, "Error": None}  # never started: not running
            fd = process.pidfd(record.get("pid") or 0, record.get("pid_start_time"))
            if fd is not None:
                try:
                    await anyio.wait_readable(fd)
                finally:
                    os.close(fd)
                pause = 0.002
                continue
            await anyio.sleep(pause)  # its exit record comes in moments; or not started yet
            pause = min(pause * 2, 0.05)

    async def _wait_removed(self, cid: str, state: str) -> dict:
        """Its exit code, then its removal: an AutoRemove waits until every such
        waiter has the code (see _watch)."""
        self.waiting[cid] = self.waiting.get(cid, 0) + 1
        try:
            if state in (lifecycle.CREATED, lifecycle.RUNNING, lifecycle.PAUSED):
                found = await self._until_exit(cid, "next-exit" if state == lifecycle.CREATED else "not-running")
            else:
                found = await self._until_exit(cid, "not-running")
        finally:
            self.waiting[cid] -= 1
            if not self.waiting[cid]:
                del self.waiting[cid]
        while await blocking(self.service.exists, cid):
            await anyio.sleep(0.01)
        return found

    async def remove(self, request: Request, id: str) -> Response:
        inspected = await blocking(self.service.inspect, id)
        await blocking(self.service.remove, id, force=request.flag("force"), volumes=request.flag("v"))
        await self._publish("destroy", id, inspected)
        return empty()

    async def restart(self, request: Request, id: str) -> Response:
        timeout = request.arg("t") or request.arg("timeout")
        await blocking(self.service.restart, id, float(timeout) if timeout not in (None, "") else None)
        await self._publish("restart", id)
        restarted = await blocking(self.service.inspect, id)
        self.engine.spawn(self._watch(restarted["Id"]))
        self.engine.spawn(self._health(restarted["Id"], restarted["State"]["Pid"]))
        return empty()

    async def pause(self, request: Request, id: str) -> Response:
        await blocking(self.service.pause, id)
        await self._publish("pause", id)
        return empty()

    async def unpause(self, request: Request, id: str) -> Response:
        await blocking(self.service.unpause, id)
        await self._publish("unpause", id)
        return empty()

    async def top(self, request: Request, id: str) -> Response:
        return document(await blocking(self.service.top, id))

    async def rename(self, request: Request, id: str) -> Response:
        name = request.arg("name")
        if not name:
            raise HTTPError(400, "Neither old nor new names may be empty")
        before = await blocking(self.service.inspect, id)
        await blocking(self.service.rename, id, name)
        await self._publish("rename", before["Id"], oldName=before["Name"].lstrip("/"))
        return empty()

    async def update(self, request: Request, id: str) -> Response:
        await blocking(self.service.update, id, request.json())
        await self._publish("update", id)
        return document({"Warnings": []})

    async def resize(self, request: Request, id: str) -> Response:
        try:
            height, width = int(request.arg("h") or 0), int(request.arg("w") or 0)
        except ValueError:
            raise HTTPError(400, "h and w must be numbers") from None
        await blocking(self.service.resize, id, height, width)
        return empty(200)

    async def prune(self, request: Request) -> Response:
        removed = await blocking(self.service.prune)
        return document({"ContainersDeleted": removed, "SpaceReclaimed": 0})

    async def stats(self, request: Request, id: str) -> Response:
        """docker's stats document, once (stream=false) or every second."""
        inspected = await blocking(self.service.inspect, id)
        once = not request.flag("stream", True) or request.flag("one-shot")

        async def documents():
            previous = {"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 0, "online_cpus": _cpus()}
            while True:
                found = await blocking(self.service.stats, id)
                cpu = {**found["cpu_stats"], "system_cpu_usage": _system_cpu_ns(), "online_cpus": _cpus()}
                yield json.dumps({
                    "read": logs_timestamp(), "preread": "0001-01-01T00:00:00Z", "id": inspected["Id"],
                    "name": inspected["Name"], "cpu_stats": cpu, "precpu_stats": previous,
                    "memory_stats": _memory(found["memory_stats"]), "pids_stats": found["pids_stats"],
                    "blkio_stats": {}, "networks": {}}).encode() + b"\n"
                previous = cpu
                if once:
                    return
                await anyio.sleep(1)
        return Response(200, stream=documents())

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
            chunks = self._follow(id, wanted, encode, tail=tail_count, since=since)
        else:
            entries = await blocking(self.service.logs, id, tail=tail_count, since=since, until=until)

            async def chunks_of():
                yield b"".join(encode(e) for e in entries if e.stream in wanted)
            chunks = chunks_of()
        return Response(200, content_type=RAW if tty else MULTIPLEXED, stream=chunks)

    async def _follow(self, cid: str, wanted: set[str], encode, *, tail: int | None = None,
                      skip: int | None = None, since: float | None = None):
        """The last ``tail`` entries (or all after the first ``skip``), then new
        ones as they are written, until the container's output has ended. The
        file is read in short worker-thread calls: a follower holds no thread
        while it waits."""
        path = await blocking(self.service.log_path, cid)
        existing, position = await blocking(logs_read_from, path, 0)
        if since is not None:  # as without follow: since first, then tail
            existing = [e for e in existing if e.seconds >= since]
        if skip is not None:
            existing = existing[skip:]
        elif tail is not None and tail >= 0:
            existing = existing[-tail:] if tail else []
        for entry in existing:
            if entry.stream in wanted:
                yield encode(entry)
        pause = 0.005
        while True:
            ended = await blocking(self.service.output_ended, cid)  # asked before the read
            entries, position = await blocking(logs_read_from, path, position)
            for entry in entries:
                if entry.stream in wanted:
                    yield encode(entry)
            if ended:
                return
            pause = 0.005 if entries else min(pause * 2, 0.1)
            await anyio.sleep(pause)

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
            await pump_input(raw, fd, ahead)
        finally:
            os.close(fd)

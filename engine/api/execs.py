"""``docker exec``: ``POST /containers/{id}/exec`` makes an exec instance (kept
in memory, as dockerd does), ``POST /exec/{id}/start`` runs it (hijacked:
output out, stdin in, docker's frames without a tty; or detached),
``GET /exec/{id}/json`` reports it, ``POST /exec/{id}/resize`` sizes its tty.
"""
from __future__ import annotations

import fcntl
import os
import secrets
import struct
import termios
from dataclasses import dataclass, field

import anyio

from engine.containers.errors import InvalidRequest

from .containers import MULTIPLEXED, RAW, frame, pump_input
from .http import HTTPError, Request, Response, document, empty
from .routes import Router, blocking


@dataclass
class Instance:
    id: str
    container: str
    config: dict
    running: bool = False
    exit_code: int | None = None
    pid: int = 0
    master: int = -1
    waiters: list = field(default_factory=list)


def _failure_code(message: str) -> int:
    return 127 if "not found" in message else 126


def _failure_text(message: str) -> str:
    return f"OCI runtime exec failed: exec failed: unable to start container process: {message}: unknown\r\n"


class Execs:
    def __init__(self, engine) -> None:
        self.service = engine.containers
        self.engine = engine
        self.instances: dict[str, Instance] = {}

    def register(self, router: Router) -> None:
        router.add("POST", "/containers/{id}/exec", self.create)
        router.add("POST", "/exec/{id}/start", self.start)
        router.add("GET", "/exec/{id}/json", self.inspect)
        router.add("POST", "/exec/{id}/resize", self.resize)

    def _instance(self, id: str) -> Instance:
        instance = self.instances.get(id)
        if instance is None:
            raise HTTPError(404, f"No such exec instance: {id}")
        return instance

    async def create(self, request: Request, id: str) -> Response:
        body = request.json()
        cmd = body.get("Cmd")
        if not cmd:
            raise HTTPError(400, "No exec command specified")
        inspected = await blocking(self.service.inspect, id)
        if not inspected["State"]["Running"]:
            raise HTTPError(409, f"Container {inspected['Id']} is not running")
        instance = Instance(secrets.token_hex(32), inspected["Id"], body)
        self.instances[instance.id] = instance
        return document({"Id": instance.id}, 201)

    async def inspect(self, request: Request, id: str) -> Response:
        instance = self._instance(id)
        config = instance.config
        return document({
            "ID": instance.id, "ContainerID": instance.container, "Running": instance.running,
            "ExitCode": instance.exit_code, "Pid": instance.pid, "CanRemove": False,
            "OpenStdin": bool(config.get("AttachStdin")), "OpenStdout": bool(config.get("AttachStdout")),
            "OpenStderr": bool(config.get("AttachStderr")), "DetachKeys": config.get("DetachKeys") or "",
            "ProcessConfig": {"tty": bool(config.get("Tty")), "entrypoint": config["Cmd"][0],
                              "arguments": config["Cmd"][1:], "user": config.get("User") or "",
                              "privileged": bool(config.get("Privileged"))}})

    async def resize(self, request: Request, id: str) -> Response:
        instance = self._instance(id)
        height, width = int(request.arg("h") or 0), int(request.arg("w") or 0)
        if instance.master >= 0:
            fcntl.ioctl(instance.master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        return empty(200)

    async def start(self, request: Request, id: str) -> Response:
        instance = self._instance(id)
        if instance.running or instance.exit_code is not None:
            raise HTTPError(409, f"exec {id} has already been started")
        body = request.json()
        config = instance.config
        tty = bool(body.get("Tty", config.get("Tty")))
        with_stdin = bool(config.get("AttachStdin"))

        async def launch():
            return await blocking(self.service.exec_start, instance.container, list(config["Cmd"]),
                                  user=config.get("User") or None, env=config.get("Env") or None,
                                  workdir=config.get("WorkingDir") or None, tty=tty,
                                  stdin=with_stdin, privileged=bool(config.get("Privileged")))
        if body.get("Detach"):
            try:
                process = await launch()
            except InvalidRequest as error:
                instance.exit_code = _failure_code(str(error))
                raise HTTPError(500, _failure_text(str(error)).strip()) from None
            instance.running, instance.pid, instance.master = True, process.pid, process.master
            self.engine.spawn(self._finish(instance, process, []))
            return empty(200)
        inspected = await blocking(self.service.inspect, instance.container)  # a 404 before the upgrade
        if not inspected["State"]["Running"]:
            raise HTTPError(409, f"Container {instance.container} is not running")
        wanted = {name for name in ("stdout", "stderr") if config.get(f"Attach{name.capitalize()}")}

        async def hijacked(raw, ahead: bytes) -> None:
            # started once the client has the 101: output sent before could be
            # swallowed by a client reading the headers through a buffer (docker-py)
            try:
                process = await launch()
            except InvalidRequest as error:  # as dockerd: the stream says why, the exit code 126/127
                instance.exit_code = _failure_code(str(error))
                text = _failure_text(str(error)).encode()
                await raw.send(text if tty else frame("stdout", text))
                return
            instance.running, instance.pid, instance.master = True, process.pid, process.master
            await self._finish(instance, process, [raw], ahead, wanted, with_stdin)
        return Response(200, content_type=RAW if tty else MULTIPLEXED, hijack=hijacked)

    async def _finish(self, instance: Instance, process, streams: list, ahead: bytes = b"",
                      wanted: set[str] = frozenset(), with_stdin: bool = False) -> None:
        """Pump its output to the client (if one is attached) and the client's
        input to it, until it exits; then record the exit code."""
        raw = streams[0] if streams else None
        tty = process.master >= 0
        outputs = [(process.master, "stdout")] if tty else [(process.stdout, "stdout"), (process.stderr, "stderr")]
        try:
            async with anyio.create_task_group() as group:
                if raw is not None and with_stdin:
                    group.start_soon(self._input, raw, process, ahead)
                elif not tty and process.stdin >= 0:
                    os.close(process.stdin)
                    process.stdin = -1
                async with anyio.create_task_group() as readers:
                    for fd, stream in outputs:
                        readers.start_soon(self._output, fd, stream, raw, wanted, tty)
                group.cancel_scope.cancel()
            instance.exit_code = await blocking(process.wait)
        finally:
            instance.running = False
            for fd in (process.master, process.stdout, process.stderr, process.stdin):
                if fd >= 0:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            instance.master = -1

    async def _output(self, fd: int, stream: str, raw, wanted: set[str], tty: bool) -> None:
        while True:
            try:
                data = await blocking(os.read, fd, 65536)
            except OSError:  # a terminal whose last process is gone
                return
            if not data:
                return
            if raw is not None and stream in wanted:
                try:
                    await raw.send(data if tty else frame(stream, data))
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    raw = None  # the client left: keep draining

    async def _input(self, raw, process, ahead: bytes) -> None:
        tty = process.master >= 0
        fd = process.master if tty else process.stdin
        try:
            await pump_input(raw, fd, ahead)
        finally:
            if not tty:  # end of input: the process reads EOF
                os.close(fd)
                process.stdin = -1

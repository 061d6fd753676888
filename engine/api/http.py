"""The engine daemon's HTTP/1.1 server: h11 over anyio byte streams on a
UNIX socket, one task per connection, keep-alive.

A handler takes a ``Request`` and returns a ``Response``: a body, a stream
of chunks (chunked encoding; the headers go out at once, as docker's
``wait`` needs), or a hijack: ``101 UPGRADED`` to a request that asked for
``Upgrade: tcp``, after which the handler owns the raw connection both ways
(``attach``, ``exec start``). An ``HTTPError`` becomes docker's error
document, ``{"message": "..."}``.
"""
from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import BinaryIO
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import anyio
import anyio.abc
import h11

IN_MEMORY = 8 * 2**20  # a larger body (image load, import, docker cp) is spooled to a temporary file
MAX_BODY = 64 * 2**30
READ_SIZE = 65536


class HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Request:
    method: str
    path: str  # without the /v1.xx prefix
    version: str | None  # the API version of the path, if any
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""  # empty when spooled
    spooled: BinaryIO | None = None  # a large body, in a temporary file

    def payload(self) -> BinaryIO:
        """The body as a file, from its start (image load and import, archives)."""
        if self.spooled is not None:
            self.spooled.seek(0)
            return self.spooled
        return io.BytesIO(self.body)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def flag(self, name: str, default: bool = False) -> bool:
        """docker's booleans in a query: 1/true/True, 0/false/False."""
        value = self.arg(name)
        if value is None or value == "":
            return default
        if value.lower() in ("1", "true", "yes"):
            return True
        if value.lower() in ("0", "false", "no"):
            return False
        raise HTTPError(400, f"invalid value for {name}: {value!r} is not a boolean")

    def json(self) -> dict:
        if self.spooled is not None:
            raise HTTPError(413, f"a JSON request body must be smaller than {IN_MEMORY} bytes")
        if not self.body:
            return {}
        try:
            document = json.loads(self.body)
        except ValueError as exc:
            raise HTTPError(400, f"invalid JSON in the request body: {exc}") from None
        if not isinstance(document, dict):
            raise HTTPError(400, "the request body must be a JSON object")
        return document

    @property
    def upgrade(self) -> bool:
        return "upgrade" in self.headers.get("connection", "").lower() and bool(self.headers.get("upgrade"))


Hijack = Callable[[anyio.abc.ByteStream, bytes], Awaitable[None]]


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: AsyncIterator[bytes] | None = None  # chunked, after the headers
    hijack: Hijack | None = None  # gets the raw stream and what the client sent ahead


def document(value, status: int = 200) -> Response:
    return Response(status, json.dumps(value).encode())


def empty(status: int = 204) -> Response:
    return Response(status, b"", content_type="")


Handler = Callable[[Request], Awaitable[Response]]


async def serve(path: str, handler: Handler, *, mode: int = 0o660, group: int | None = None,
                task_status: anyio.abc.TaskStatus = anyio.TASK_STATUS_IGNORED) -> None:
    """Listen on the UNIX socket ``path`` (replacing a stale one) until cancelled."""
    # Made under another name and renamed into place once it listens: a
    # client that finds ``path`` can connect (binding creates the file
    # before listen is called).
    making = f"{path}.{os.getpid()}"
    if os.path.exists(making):
        os.unlink(making)
    listener = await anyio.create_unix_listener(making)
    os.chmod(making, mode)
    if group is not None:
        os.chown(making, 0, group)
    os.rename(making, path)
    async with listener:
        task_status.started()
        await listener.serve(lambda stream: _guarded(stream, handler))


async def _guarded(stream: anyio.abc.ByteStream, handler: Handler) -> None:
    """One connection; what goes wrong in it ends it, never the server."""
    try:
        await _connection(stream, handler)
    except Exception as error:  # noqa: BLE001 - logged, the daemon keeps serving
        print(f"dockyard engine: connection failed: {type(error).__name__}: {error}",
              file=sys.stderr, flush=True)


async def _connection(stream: anyio.abc.ByteStream, handler: Handler) -> None:
    connection = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
    async with stream:
        while True:
            try:
                request = await _read_request(connection, stream)
            except HTTPError as error:  # malformed: answer if we still can, then close
                if connection.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                    await _send(connection, stream, _error(error.status, error.message))
                return
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                return
            if request is None:
                return
            try:
                response = await handler(request)
            except HTTPError as error:
                response = _error(error.status, error.message)
            except Exception as error:  # noqa: BLE001 - the daemon keeps serving
                response = _error(500, f"{type(error).__name__}: {error}")
            finally:
                if request.spooled is not None:
                    request.spooled.close()
            if response.hijack is not None:
                await _hijack(connection, stream, request, response)
                return
            try:
                await _send(connection, stream, response, head_only=request.method == "HEAD")
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                return
            if connection.our_state is h11.MUST_CLOSE or connection.their_state is h11.MUST_CLOSE:
                return
            try:
                connection.start_next_cycle()
            except h11.LocalProtocolError:
                return


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


def _error(status: int, message: str) -> Response:
    return document({"message": message}, status)


async def _next_event(connection: h11.Connection, stream: anyio.abc.ByteStream):
    while True:
        try:
            event = connection.next_event()
        except h11.RemoteProtocolError as error:
            raise HTTPError(error.error_status_hint, f"bad request: {error}") from None
        if event is not h11.NEED_DATA:
            return event
        try:
            data = await stream.receive(READ_SIZE)
        except anyio.EndOfStream:
            data = b""
        connection.receive_data(data)


async def _read_request(connection: h11.Connection, stream: anyio.abc.ByteStream) -> Request | None:
    event = await _next_event(connection, stream)
    if isinstance(event, h11.ConnectionClosed):
        return None
    if not isinstance(event, h11.Request):
        raise HTTPError(400, f"bad request: unexpected {type(event).__name__}")
    for name, value in event.headers:  # refuse before reading what would be refused after
        if name == b"content-length" and int(value) > MAX_BODY:
            raise HTTPError(413, f"the request body is larger than {MAX_BODY} bytes")
    body, spooled, size = bytearray(), None, 0
    try:
        while True:
            part = await _next_event(connection, stream)
            if isinstance(part, h11.Data):
                size += len(part.data)
                if size > MAX_BODY:
                    raise HTTPError(413, f"the request body is larger than {MAX_BODY} bytes")
                if spooled is None and size > IN_MEMORY:
                    spooled = tempfile.TemporaryFile()
                    spooled.write(body)
                    body = bytearray()
                if spooled is not None:
                    spooled.write(part.data)
                else:
                    body += part.data
            elif isinstance(part, h11.EndOfMessage) or part is h11.PAUSED:
                break
            else:
                raise HTTPError(400, f"bad request: unexpected {type(part).__name__}")
    except BaseException:
        if spooled is not None:
            spooled.close()
        raise
    target = urlsplit(event.target.decode("latin-1"))
    path, version = _unversioned(target.path)
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in event.headers}
    return Request(event.method.decode("ascii"), path, version,
                   parse_qs(target.query, keep_blank_values=True), headers, bytes(body), spooled)


def _unversioned(path: str) -> tuple[str, str | None]:
    """``/v1.45/containers/json`` -> (``/containers/json``, ``1.45``)."""
    if path.startswith("/v"):
        head, slash, rest = path[2:].partition("/")
        major, dot, minor = head.partition(".")
        if dot and major.isdigit() and minor.isdigit():
            return slash + rest, head
    return path, None


def _head(response: Response) -> list[tuple[str, str]]:
    headers = [("Server", "Dockyard"), ("Api-Version", API_VERSION), ("Ostype", "linux")]
    if response.content_type:
        headers.append(("Content-Type", response.content_type))
    return headers + response.headers


async def _send(connection: h11.Connection, stream: anyio.abc.ByteStream, response: Response,
                head_only: bool = False) -> None:
    headers = _head(response)
    if response.stream is None:
        headers.append(("Content-Length", str(len(response.body))))
    await stream.send(connection.send(h11.Response(status_code=response.status, headers=headers,
                                                   reason=_reason(response.status))))
    if head_only:
        pass
    elif response.stream is None:
        if response.body:
            await stream.send(connection.send(h11.Data(data=response.body)))
    else:
        await _stream_until_gone(connection, stream, response.stream)
    await stream.send(connection.send(h11.EndOfMessage()))


async def _stream_until_gone(connection: h11.Connection, stream: anyio.abc.ByteStream,
                             chunks: AsyncIterator[bytes]) -> None:
    """Send the chunks; if the client closes the connection first (``docker
    run -d`` drops its wait), stop the stream: its generator is cancelled
    and cleans up (worker threads are told to stop)."""
    async def watch() -> None:
        while True:
            try:
                data = await stream.receive(READ_SIZE)
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                break
            connection.receive_data(data)  # a pipelined request: h11 keeps it for later
        group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        group.start_soon(watch)
        try:
            async for chunk in chunks:
                if chunk:
                    await stream.send(connection.send(h11.Data(data=chunk)))
        finally:
            group.cancel_scope.cancel()
            await chunks.aclose() if hasattr(chunks, "aclose") else None


async def _hijack(connection: h11.Connection, stream: anyio.abc.ByteStream, request: Request,
                  response: Response) -> None:
    """101 UPGRADED to a client that asked for it, else 200 and the same bytes
    (docker answers both ways)."""
    headers = _head(response)
    if request.upgrade:
        headers += [("Connection", "Upgrade"), ("Upgrade", "tcp")]
        await stream.send(connection.send(h11.InformationalResponse(
            status_code=101, headers=headers, reason=b"UPGRADED")))
        ahead = connection.trailing_data[0]
    else:
        await stream.send(connection.send(h11.Response(status_code=200, headers=headers, reason=b"OK")))
        ahead = b""
        stream = _Unframed(connection, stream)
    try:
        await response.hijack(stream, ahead)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
        pass


class _Unframed(anyio.abc.ByteStream):
    """The raw-stream view of a response that is not upgraded: what is sent
    becomes chunks of the body; nothing is received."""

    def __init__(self, connection: h11.Connection, stream: anyio.abc.ByteStream) -> None:
        self._connection, self._stream = connection, stream

    async def send(self, item: bytes) -> None:
        await self._stream.send(self._connection.send(h11.Data(data=item)))

    async def receive(self, max_bytes: int = 65536) -> bytes:
        await anyio.sleep_forever()
        return b""

    async def send_eof(self) -> None:
        await self._stream.send(self._connection.send(h11.EndOfMessage()))

    async def aclose(self) -> None:
        await self._stream.aclose()


API_VERSION = "1.45"
MIN_API_VERSION = "1.24"

"""Where the client meets the wire: the daemon's address (``unix:///path``,
``tcp://host:port``, ``http(s)://...``) to an ``httpx.Client`` (a UNIX socket
through ``httpx.HTTPTransport(uds=...)``, or any transport passed in, such as
``httpx.MockTransport``), the byte streams of a response (chunked or
hijacked by ``101 UPGRADED``), and the one place httpx's and httpcore's
exceptions become the client's ``TransportError``s.

Knows nothing of the Docker API's paths or documents.
"""
from __future__ import annotations

import socket
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Self
from urllib.parse import urlparse

import httpcore
import httpx

from .errors import ConnectionFailed, DockerException, Timeout, TransportError

DEFAULT_HOST = "unix:///run/dockyard/engine.sock"
DEFAULT_TIMEOUT_SECONDS = 60
READ_SIZE = 65536
USER_AGENT = "dockyard-client/0.1"


@dataclass(frozen=True)
class Endpoint:
    url: str  # what httpx requests: http://localhost for a socket
    uds: str | None = None  # the UNIX socket's path


def parse_host(address: str | None) -> Endpoint:
    """docker's host syntax (``DOCKER_HOST``): ``unix://`` (also the legacy
    ``http+unix://``), ``tcp://host:port`` (port required), ``http(s)://``; a
    bare ``host:port`` is tcp. ssh, npipe and fd are not supported."""
    if not address or address.strip() in ("unix://", "http+unix://"):
        address = DEFAULT_HOST
    address = address.strip()
    parsed = urlparse(address)
    scheme = parsed.scheme
    if not scheme or any(c not in string.ascii_letters + "+" for c in scheme):
        parsed, scheme = urlparse(f"//{address}", "tcp"), "tcp"
    if scheme in ("ssh", "npipe", "fd"):
        raise DockerException(f"the {scheme}:// protocol is not supported: {address}")
    if scheme not in ("tcp", "http", "https", "unix", "http+unix"):
        raise DockerException(f"Invalid bind address protocol: {address}")
    if any([parsed.params, parsed.query, parsed.fragment, parsed.password]):
        raise DockerException(f"Invalid bind address format: {address}")
    if scheme in ("unix", "http+unix"):
        path = parsed.netloc + parsed.path  # unix://relative/path is a relative path, as docker reads it
        if not path:
            raise DockerException(f"Invalid bind address format: {address}")
        return Endpoint("http://localhost", path)
    if not parsed.netloc:
        raise DockerException(f"Invalid bind address format: {address}")
    if scheme == "tcp" and not parsed.port:
        raise DockerException(f"Invalid bind address format: port is required: {address}")
    web = "https" if scheme == "https" else "http"
    return Endpoint(f"{web}://{parsed.netloc}{parsed.path}".rstrip("/"))


def http_client(endpoint: Endpoint, timeout: float | None,
                transport: httpx.BaseTransport | None = None) -> httpx.Client:
    if transport is None:
        transport = httpx.HTTPTransport(uds=endpoint.uds) if endpoint.uds else httpx.HTTPTransport()
    return httpx.Client(base_url=endpoint.url, transport=transport, timeout=timeout,
                        headers={"User-Agent": USER_AGENT})


@contextmanager
def translated(where: str):
    """httpx's, httpcore's and the socket's errors -> the client's (``where``
    names the daemon's address in the message)."""
    try:
        yield
    except (httpx.ConnectError, httpcore.ConnectError, FileNotFoundError, ConnectionRefusedError) as error:
        raise ConnectionFailed(f"cannot connect to the engine at {where}: {error}", where) from error
    except (TimeoutError, httpx.TimeoutException, httpcore.TimeoutException) as error:
        raise Timeout(f"no answer from the engine at {where} in time: {error}", where) from error
    except (httpx.TransportError, httpcore.NetworkError, httpcore.ProtocolError, OSError) as error:
        raise TransportError(f"the connection to the engine at {where} failed: "
                             f"{type(error).__name__}: {error}", where) from error


def body_chunks(response: httpx.Response, where: str) -> Iterator[bytes]:
    """A response's body, chunk by chunk as the daemon sent it (at once if
    it has been read already)."""
    try:
        content = response.content
    except httpx.ResponseNotRead:
        pass
    else:
        if content:
            yield content
        return
    iterator = response.iter_raw()
    while True:
        with translated(where):
            chunk = next(iterator, None)
        if chunk is None:
            return
        if chunk:
            yield chunk


def is_hijacked(response: httpx.Response) -> bool:
    return response.status_code == 101 and "network_stream" in response.extensions


def raw_chunks(response: httpx.Response, where: str) -> Iterator[bytes]:
    """What the daemon sends after ``101 UPGRADED`` (or the body, when it
    answered ``200`` instead, as docker may), until it closes."""
    if not is_hijacked(response):
        yield from body_chunks(response, where)
        return
    stream = response.extensions["network_stream"]
    while True:
        with translated(where):
            chunk = stream.read(READ_SIZE, None)
        if not chunk:
            return
        yield chunk


class HijackedSocket:
    """The raw connection of an upgraded response (attach, exec start), both
    ways: ``recv``, ``sendall``, ``shutdown_write`` (the container's stdin
    sees EOF), ``close``. Bytes the server sent with the 101 come first."""

    def __init__(self, response: httpx.Response, where: str) -> None:
        if not is_hijacked(response):
            response.close()
            raise DockerException(f"the engine at {where} did not upgrade the connection "
                                  f"(HTTP {response.status_code})")
        self._response, self._where = response, where
        self._stream = response.extensions["network_stream"]

    def recv(self, size: int = READ_SIZE) -> bytes:
        with translated(self._where):
            return self._stream.read(size, None)

    def sendall(self, data: bytes) -> None:
        with translated(self._where):
            self._stream.write(data, None)

    def shutdown_write(self) -> None:
        raw = self._stream.get_extra_info("socket")
        with translated(self._where):
            raw.shutdown(socket.SHUT_WR)

    def fileno(self) -> int:
        return self._stream.get_extra_info("socket").fileno()

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""The low-level client's plumbing: one httpx client on the daemon's address,
the API version (negotiated on first use from ``/_ping``'s ``Api-Version``:
the lower of ours and the daemon's), versioned paths, and the answer of a
request as JSON, text, bytes or a stream. The endpoint methods live in the
mixins beside this module.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from urllib.parse import quote

import httpx

from .. import streams, transport
from ..errors import DockerException, InvalidVersion, NullResource, from_response
from ..utils import query, version_gte, version_lt

DEFAULT_API_VERSION = "1.45"
MINIMUM_API_VERSION = "1.24"
RAW_STREAM = "application/vnd.docker.raw-stream"
MULTIPLEXED_STREAM = "application/vnd.docker.multiplexed-stream"
_DEFAULT = object()  # "the client's timeout", where None means "no timeout"


def resource_id(value, kind: str = "resource") -> str:
    """An id, or a dict holding one (``{"Id": ...}``), as docker-py accepts."""
    if isinstance(value, dict):
        value = value.get("Id", value.get("ID"))
    if not value:
        raise NullResource(f"{kind.capitalize()} ID was not provided")
    if not isinstance(value, str):
        message = f"Expected a string but found {value} ({type(value)}) instead"
        raise ValueError(message)  # noqa: TRY004 - docker-py's exception
    return value


class BaseAPI:
    def __init__(self, base_url: str | None = None, version: str | None = None,
                 timeout: float | None = transport.DEFAULT_TIMEOUT_SECONDS,
                 http_transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url or transport.DEFAULT_HOST
        self.timeout = timeout
        self._http = transport.http_client(transport.parse_host(self.base_url), timeout, http_transport)
        self._version = None if version in (None, "auto") else version
        self._negotiating = threading.Lock()
        if self._version is not None:
            _check_supported(self._version)

    # -- version -----------------------------------------------------------------------
    @property
    def api_version(self) -> str:
        if self._version is None:
            with self._negotiating:
                if self._version is None:
                    self._version = self._negotiate()
        return self._version

    def _negotiate(self) -> str:
        """docker's rule: the daemon's ``Api-Version`` if lower than ours."""
        response = self._send("GET", "/_ping")
        server = response.headers.get("api-version")
        if response.status_code >= 400 or not server:
            server = self._result(self._send("GET", "/version"), json=True).get("ApiVersion")
        if not server:
            raise DockerException(f"the engine at {self.base_url} does not say its API version")
        chosen = server if version_lt(server, DEFAULT_API_VERSION) else DEFAULT_API_VERSION
        _check_supported(chosen)
        return chosen

    def version_at_least(self, version: str) -> bool:
        return version_gte(self.api_version, version)

    # -- requests ----------------------------------------------------------------------
    def _url(self, template: str, *args: str, versioned_api: bool = True) -> str:
        for arg in args:
            if not isinstance(arg, str):
                message = f"Expected a string but found {arg} ({type(arg)}) instead"
                raise ValueError(message)  # noqa: TRY004 - docker-py's exception
        path = template.format(*(quote(arg, safe="/:") for arg in args))
        return f"/v{self.api_version}{path}" if versioned_api else path

    def _send(self, method: str, path: str, *, params: dict | None = None, data=None,
              json_body=_DEFAULT, headers: dict | None = None, timeout=_DEFAULT,
              stream: bool = False) -> httpx.Response:
        headers = dict(headers or {})
        content = data
        if json_body is not _DEFAULT:
            content = json.dumps(_without_none(json_body)).encode()
            headers["Content-Type"] = "application/json"
        request = self._http.build_request(
            method, path, params=query(params or {}), content=content, headers=headers,
            timeout=self.timeout if timeout is _DEFAULT else timeout)
        with transport.translated(self.base_url):
            return self._http.send(request, stream=stream)

    def _get(self, path: str, **kwargs) -> httpx.Response:
        return self._send("GET", path, **kwargs)

    def _post(self, path: str, **kwargs) -> httpx.Response:
        return self._send("POST", path, **kwargs)

    def _delete(self, path: str, **kwargs) -> httpx.Response:
        return self._send("DELETE", path, **kwargs)

    def _put(self, path: str, **kwargs) -> httpx.Response:
        return self._send("PUT", path, **kwargs)

    # -- answers -----------------------------------------------------------------------
    def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        with transport.translated(self.base_url):
            response.read()
        response.close()
        raise from_response(response)

    def _result(self, response: httpx.Response, json: bool = False, binary: bool = False):
        self._raise_for_status(response)
        with transport.translated(self.base_url):
            response.read()  # a streamed answer read whole
        if json:
            return response.json()
        return response.content if binary else response.text

    def _chunks(self, response: httpx.Response) -> Iterator[bytes]:
        return transport.body_chunks(response, self.base_url)

    def _stream(self, response: httpx.Response, decode: bool = False) -> streams.CancellableStream:
        """A chunked answer, chunk by chunk, or as JSON documents with ``decode``."""
        self._raise_for_status(response)
        chunks = self._chunks(response)
        return streams.CancellableStream(streams.json_documents(chunks) if decode else chunks, response.close)

    def _is_tty(self, response: httpx.Response, container: str) -> bool:
        """docker >= 1.42 names the framing in the Content-Type (a raw stream
        before that may still be framed); else ask the container."""
        kind = response.headers.get("content-type", "")
        if kind.startswith(MULTIPLEXED_STREAM):
            return False
        if kind.startswith(RAW_STREAM) and self.version_at_least("1.42"):
            return True
        return bool(self.inspect_container(container)["Config"]["Tty"])

    def _output(self, response: httpx.Response, container: str | None, stream: bool, *,
                tty: bool | None = None, demux: bool = False, hijacked: bool = False):
        """A container's output: decoded frames (or raw bytes with a tty),
        joined, or as a stream when ``stream``."""
        self._raise_for_status(response)
        if tty is None:
            tty = self._is_tty(response, container)
        chunks = (transport.raw_chunks(response, self.base_url) if hijacked else self._chunks(response))
        pieces = streams.output(chunks, tty, demux)
        if stream:
            return streams.CancellableStream(pieces, response.close)
        try:
            return streams.consume(pieces, demux)
        finally:
            response.close()

    def close(self) -> None:
        self._http.close()


def _without_none(document):
    """docker-py drops the top level's None values (Go cannot read null as a string)."""
    if isinstance(document, dict):
        return {key: value for key, value in document.items() if value is not None}
    return document if document is not None else {}


def _check_supported(version: str) -> None:
    if version_lt(version, MINIMUM_API_VERSION):
        raise InvalidVersion(f"API versions below {MINIMUM_API_VERSION} are no longer supported by this library.")

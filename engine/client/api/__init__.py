"""The low-level client: ``APIClient``, one method per Docker Engine API
endpoint (docker-py's names, arguments and return shapes: parsed JSON,
bytes, or iterators for streams)."""
from __future__ import annotations

from typing import Self

from .base import DEFAULT_API_VERSION, MINIMUM_API_VERSION, BaseAPI
from .containers import ContainerAPI
from .execs import ExecAPI
from .images import ImageAPI
from .networks import NetworkAPI
from .system import SystemAPI
from .volumes import VolumeAPI


class APIClient(BaseAPI, ContainerAPI, ExecAPI, ImageAPI, NetworkAPI, SystemAPI, VolumeAPI):
    """``APIClient(base_url="unix:///run/dockyard/engine.sock", version=None,
    timeout=60, transport=None)``: ``version`` None or "auto" negotiates on
    first use; ``transport`` replaces the socket (``httpx.MockTransport`` in tests)."""

    def __init__(self, base_url=None, version=None, timeout=60, transport=None) -> None:
        super().__init__(base_url, version, timeout, transport)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["DEFAULT_API_VERSION", "MINIMUM_API_VERSION", "APIClient"]

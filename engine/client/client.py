"""``DockerClient``: docker-py's high-level client (``client.containers``,
``.images``, ``.volumes``, ``.networks``, ``ping``, ``version``, ``info``)
over an ``APIClient``, and ``from_env``: the address from ``DOCKYARD_HOST``,
else ``DOCKER_HOST``, else Dockyard's own socket, whose daemon it starts in
the background when nothing answers there (engine.py)."""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from .api import APIClient
from .engine import Engine
from .models.containers import ContainerCollection
from .models.images import ImageCollection
from .models.networks import NetworkCollection
from .models.volumes import VolumeCollection
from .transport import DEFAULT_TIMEOUT_SECONDS


def host_from_env(environment: Mapping[str, str]) -> str:
    """``DOCKYARD_HOST``, else ``DOCKER_HOST``, else Dockyard's own socket
    (under ``DOCKYARD_RUN``)."""
    return environment.get("DOCKYARD_HOST") or environment.get("DOCKER_HOST") or Engine.from_env(environment).host


class DockerClient:
    """``DockerClient(base_url=None, version=None, timeout=60, transport=None)``."""

    def __init__(self, base_url: str | None = None, version: str | None = None,
                 timeout: float | None = DEFAULT_TIMEOUT_SECONDS, transport=None) -> None:
        self.api = APIClient(base_url=base_url, version=version, timeout=timeout, transport=transport)

    @classmethod
    def from_env(cls, environment: Mapping[str, str] | None = None, **kwargs) -> DockerClient:
        """``environment`` defaults to ``os.environ``; ``version``,
        ``timeout``, ``transport`` as for the constructor."""
        environment = os.environ if environment is None else environment
        if not (environment.get("DOCKYARD_HOST") or environment.get("DOCKER_HOST")):
            Engine.from_env(environment).ensure_running()  # Dockyard's own: started on first use
        return cls(base_url=host_from_env(environment), **kwargs)

    @property
    def containers(self) -> ContainerCollection:
        return ContainerCollection(client=self)

    @property
    def images(self) -> ImageCollection:
        return ImageCollection(client=self)

    @property
    def networks(self) -> NetworkCollection:
        return NetworkCollection(client=self)

    @property
    def volumes(self) -> VolumeCollection:
        return VolumeCollection(client=self)

    def ping(self) -> bool:
        return self.api.ping()

    def version(self, api_version: bool = True) -> dict:
        return self.api.version(api_version)

    def info(self) -> dict:
        return self.api.info()

    def df(self) -> dict:
        return self.api.df()

    def events(self, *args, **kwargs):
        return self.api.events(*args, **kwargs)

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


from_env = DockerClient.from_env

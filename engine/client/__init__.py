"""Dockyard's engine client, shaped like docker-py: ``DockerClient`` and
``from_env`` (collections and models), ``APIClient`` (one method per
endpoint), ``errors`` and ``types``. It speaks the Docker Engine API over
httpx, on a UNIX socket or TCP, to our daemon or to a real Docker or podman.

The only engine module the orchestrator may import. Imports nothing else of
the engine (it must work against any Docker-compatible daemon).
"""
from . import errors, types
from .api import APIClient
from .client import DockerClient, from_env
from .errors import APIError, ContainerError, DockerException, ImageNotFound, NotFound
from .models.containers import Container, ExecResult
from .models.images import Image
from .models.networks import Network
from .models.volumes import Volume

__all__ = ["APIClient", "APIError", "Container", "ContainerError", "DockerClient", "DockerException",
           "ExecResult", "Image", "ImageNotFound", "Network", "NotFound", "Volume", "errors", "from_env",
           "types"]

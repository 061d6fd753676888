"""Network errors, with docker's wording; the container errors' statuses
(the API answers them alike)."""
from __future__ import annotations

from engine.containers.errors import Conflict, ContainerError, Forbidden, InvalidRequest

__all__ = ["Conflict", "Forbidden", "InvalidRequest", "NetworkError", "NetworkNotFound"]


class NetworkError(ContainerError):
    """The kernel or a netfilter tool refused what the engine asked."""
    status = 500


class NetworkNotFound(ContainerError):
    status = 404

    def __init__(self, ref: str) -> None:
        super().__init__(f"network {ref} not found")

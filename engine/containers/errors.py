"""Container errors, with docker's wording (docker-py picks error classes by
the text, and users recognize it)."""
from __future__ import annotations


class ContainerError(Exception):
    """Base; ``status`` is the HTTP status the API will answer with."""
    status = 500


class NotFound(ContainerError):
    status = 404

    def __init__(self, ref: str) -> None:
        super().__init__(f"No such container: {ref}")


class Conflict(ContainerError):
    status = 409


class InvalidRequest(ContainerError):
    status = 400


class Forbidden(ContainerError):
    status = 403

"""Errors of the OS boundary. ``sys.py`` turns OSError into these, once."""
from __future__ import annotations


class RuntimeFailure(Exception):
    """A system call or kernel interface failed; says which and on what."""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno

"""Pure decoding of the daemon's byte streams, from any iterator of chunks
(however the network cut them):

- docker's multiplexed frames (``logs``, ``attach``, ``exec start`` without a
  tty): an 8-byte header — stream (0 stdin, 1 stdout, 2 stderr), three zero
  bytes, the payload size as a big-endian uint32 — before each payload;
- JSON documents one after another (``load``, ``pull``, ``events``, ``stats``);
- a ``CancellableStream`` that closes its response when the caller is done.
"""
from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterable, Iterator
from typing import Self

from .errors import StreamParseError, TransportError

STDIN, STDOUT, STDERR = 0, 1, 2
HEADER = struct.Struct(">BxxxL")


def frames(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """(stream, payload) for each frame. A payload cut short by the end of
    the stream is still given; a header cut short is dropped (as docker-py)."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= HEADER.size:
            stream, size = HEADER.unpack_from(buffer)
            if len(buffer) < HEADER.size + size:
                break
            payload = bytes(buffer[HEADER.size:HEADER.size + size])
            del buffer[:HEADER.size + size]
            if payload:
                yield stream, payload
    if len(buffer) > HEADER.size:
        stream, _ = HEADER.unpack_from(buffer)
        yield stream, bytes(buffer[HEADER.size:])


def tty_frames(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """With a tty there are no frames: everything is stdout."""
    return ((STDOUT, chunk) for chunk in chunks if chunk)


def demux_frame(stream: int, data: bytes) -> tuple[bytes | None, bytes | None]:
    """docker-py's ``demux=True`` shape: (stdout, None) or (None, stderr)."""
    if stream == STDOUT:
        return data, None
    if stream == STDERR:
        return None, data
    raise ValueError(f"{stream} is not a valid stream")


def consume(pieces: Iterable, demux: bool = False):
    """All of a stream at once: bytes, or with ``demux`` (stdout, stderr),
    each None when that stream sent nothing."""
    if not demux:
        return b"".join(pieces)
    out: list[bytes | None] = [None, None]
    for piece in pieces:
        index = 0 if piece[0] is not None else 1
        out[index] = (out[index] or b"") + piece[index]
    return tuple(out)


def output(chunks: Iterable[bytes], tty: bool, demux: bool = False) -> Iterator:
    """Payloads (bytes), or (stdout, stderr) pairs with ``demux``."""
    decoded = tty_frames(chunks) if tty else frames(chunks)
    if demux:
        return (demux_frame(stream, data) for stream, data in decoded)
    return (data for _, data in decoded)


def json_documents(chunks: Iterable[bytes]) -> Iterator:
    """JSON values one after another (newline-separated or not)."""
    decoder = json.JSONDecoder()
    buffer = ""
    for chunk in chunks:
        buffer += chunk.decode("utf-8", "replace")
        while True:
            buffer = buffer.lstrip()
            if not buffer:
                break
            try:
                value, end = decoder.raw_decode(buffer)
            except ValueError:
                break  # incomplete: wait for more
            buffer = buffer[end:]
            yield value
    if buffer.strip():
        try:
            yield json.loads(buffer)
        except ValueError as error:
            raise StreamParseError(error) from error


class CancellableStream:
    """An iterator over a streamed response; ``close()`` ends it (and the
    connection) early. Iterating to the end closes it too."""

    def __init__(self, stream: Iterator, close: Callable[[], None]) -> None:
        self._stream = stream
        self._close = close
        self._closed = False

    def __iter__(self) -> CancellableStream:
        return self

    def __next__(self):
        if self._closed:
            raise StopIteration
        try:
            return next(self._stream)
        except StopIteration:
            self.close()
            raise
        except TransportError:
            if self._closed:  # closed from another thread while reading
                raise StopIteration from None
            self.close()
            raise

    next = __next__

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

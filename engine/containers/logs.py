"""Container logs in docker's json-file format: one JSON object per line,
``{"log": "text\\n", "stream": "stdout", "time": "2024-01-01T00:00:00.000000000Z"}``,
with size-based rotation (``max-size``, ``max-file``), and the reader behind
``logs`` (tail, since/until, timestamps, follow).

The writer runs in the supervisor: stdlib only.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_UNITS = {"k": 1000, "m": 1000 ** 2, "g": 1000 ** 3}


def parse_size(text: str | int | None) -> int:
    """docker's max-size: ``10m``, ``100k``, ``1g``, bytes; decimal units."""
    if text in (None, "", -1, "-1"):
        return 0
    text = str(text).strip().lower().rstrip("b")
    if text and text[-1] in _UNITS:
        return int(float(text[:-1]) * _UNITS[text[-1]])
    return int(text)


def timestamp(seconds: float | None = None) -> str:
    """RFC 3339 with nanoseconds, UTC, as docker writes it."""
    ns = time.time_ns() if seconds is None else int(seconds * 1e9)
    whole, fraction = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{fraction:09d}Z"


def parse_timestamp(text: str) -> float:
    date, _, fraction = text.rstrip("Z").partition(".")
    seconds = time.mktime(time.strptime(date, "%Y-%m-%dT%H:%M:%S")) - time.timezone
    return seconds + (float("0." + fraction) if fraction else 0.0)


class LogWriter:
    """Appends lines of one container's streams; partial lines wait for their end."""

    def __init__(self, path: Path, max_size: str | int | None = None, max_file: int | str = 1) -> None:
        self.path = Path(path)
        self.max_size = parse_size(max_size)
        self.max_file = max(1, int(max_file or 1))
        self.pending: dict[str, bytes] = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "ab")

    def write(self, stream: str, data: bytes) -> None:
        data = self.pending.pop(stream, b"") + data
        *lines, rest = data.split(b"\n")
        for line in lines:
            self._entry(stream, line + b"\n")
        if rest:
            if len(rest) >= 16384:  # docker splits long lines at 16 KiB
                self._entry(stream, rest)
            else:
                self.pending[stream] = rest

    def flush(self, stream: str) -> None:
        rest = self.pending.pop(stream, b"")
        if rest:
            self._entry(stream, rest)

    def _entry(self, stream: str, data: bytes) -> None:
        line = json.dumps({"log": data.decode("utf-8", "replace"), "stream": stream,
                           "time": timestamp()}).encode() + b"\n"
        if self.max_size and self.handle.tell() + len(line) > self.max_size and self.handle.tell():
            self._rotate()
        self.handle.write(line)
        self.handle.flush()

    def _rotate(self) -> None:
        self.handle.close()
        if self.max_file > 1:
            for index in range(self.max_file - 1, 0, -1):
                older = Path(f"{self.path}.{index}")
                newer = Path(f"{self.path}.{index - 1}") if index > 1 else self.path
                if newer.exists():
                    os.replace(newer, older)
        else:
            self.path.unlink(missing_ok=True)
        self.handle = open(self.path, "ab")

    def close(self) -> None:
        self.handle.close()


@dataclass
class Entry:
    stream: str
    data: bytes
    time: str

    @property
    def seconds(self) -> float:
        return parse_timestamp(self.time)


def read(path: Path, *, tail: int | None = None, since: float | None = None,
         until: float | None = None) -> list[Entry]:
    """The entries of a container's log files, oldest first."""
    entries = []
    files = sorted(Path(path).parent.glob(Path(path).name + ".*"),
                   key=lambda p: -int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0)
    for file in [f for f in files if f.suffix[1:].isdigit()] + [Path(path)]:
        try:
            with open(file, "rb") as handle:
                for line in handle:
                    item = json.loads(line)
                    entries.append(Entry(item["stream"], item["log"].encode(), item["time"]))
        except FileNotFoundError:
            continue
    if since is not None or until is not None:
        entries = [e for e in entries if (since is None or e.seconds >= since)
                   and (until is None or e.seconds <= until)]
    if tail is not None and tail >= 0:
        entries = entries[-tail:] if tail else []
    return entries


def read_from(path: Path, position: int) -> tuple[list[Entry], int]:
    """The complete entries written to the current log file after byte
    ``position``, and the position after them (a follower's step)."""
    entries = []
    try:
        with open(path, "rb") as handle:
            handle.seek(position)
            for line in handle:
                if not line.endswith(b"\n"):
                    break
                position += len(line)
                item = json.loads(line)
                entries.append(Entry(item["stream"], item["log"].encode(), item["time"]))
    except FileNotFoundError:
        pass
    return entries, position


def follow(path: Path, stop, poll: float = 0.05) -> Iterator[Entry]:
    """Entries as they are written, until ``stop()`` is true and the file is drained."""
    position = 0
    while True:
        stopping = stop()  # asked before the read: what came before the stop is read
        entries, position = read_from(path, position)
        yield from entries
        if stopping:
            return
        time.sleep(poll)

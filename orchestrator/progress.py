"""Progress of ``up``, ``down`` and the other commands that change things,
as docker compose shows it: ``tty`` a live display (rich), one line per
network, volume and container with its state and elapsed time; ``plain``
one line per step (`` Container app-web-1  Started``), what CI logs get;
``json`` one object per step; ``quiet`` nothing. ``auto`` is ``tty`` on a
terminal, else ``plain``. A dry run prefixes every line. Takes the
executor's events (or the plan's, for a dry run); owns the wording."""
from __future__ import annotations

import json
import threading
import time
from typing import TextIO

DRY = "DRY-RUN MODE - "
DONE = {"Created", "Started", "Healthy", "Running", "Exited", "Removed", "Stopped", "Killed", "Paused",
        "Unpaused", "Restarted", "Recreated"}


def _label(event) -> str:
    return f'{event.kind} "{event.name}"' if event.kind == "Volume" else f"{event.kind} {event.name}"


class Plain:
    def __init__(self, stream: TextIO, dry_run: bool = False) -> None:
        self.stream, self.prefix = stream, DRY if dry_run else ""
        self.lock = threading.Lock()  # events come from several tasks

    def emit(self, event) -> None:
        line = f"{self.prefix} {_label(event)}  {event.status}" + (f": {event.error}" if event.error else "")
        with self.lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        self.stream.flush()


class Quiet:
    def emit(self, event) -> None:
        pass

    def close(self) -> None:
        pass


class Json(Plain):
    def emit(self, event) -> None:
        record = {"id": _label(event), "status": event.status, "text": event.error,
                  "level": "error" if event.error else "info", "time": time.time()}
        if self.prefix:
            record["dry_run"] = True
        with self.lock:
            self.stream.write(json.dumps(record) + "\n")
            self.stream.flush()


class Tty:
    """compose's live view: ``[+] Running 3/5`` then a line per object."""

    def __init__(self, stream: TextIO, dry_run: bool = False, title: str = "Running") -> None:
        from rich.console import Console
        from rich.live import Live
        self.console = Console(file=stream)
        self.title, self.prefix = title, DRY if dry_run else ""
        self.rows: dict[str, list] = {}  # label -> [status, started, ended or None, error]
        self.lock = threading.Lock()
        self.live = Live(self._render(), console=self.console, refresh_per_second=10, transient=False)
        self.live.start()

    def emit(self, event) -> None:
        with self.lock:
            row = self.rows.setdefault(_label(event), [event.status, time.monotonic(), None, ""])
            row[0], row[3] = event.status, event.error
            row[2] = time.monotonic() if event.status in DONE or event.error else None
            self.live.update(self._render())

    def _render(self):
        from rich.table import Table
        from rich.text import Text
        done = sum(1 for row in self.rows.values() if row[2] is not None)
        table = Table.grid(padding=(0, 1))
        table.add_row(Text(f"{self.prefix}[+] {self.title} {done}/{len(self.rows)}", style="bold"))
        width = max((len(label) for label in self.rows), default=0)
        now = time.monotonic()
        for label, (status, started, ended, error) in self.rows.items():
            mark = Text("✘", style="red") if error else Text("✔", style="green") if ended else Text("⠿")
            elapsed = f"{(ended or now) - started:.1f}s"
            line = Text(" ")
            line.append_text(mark)
            line.append(f" {label.ljust(width)}  {status}" + (f": {error}" if error else ""))
            line.append(f"  {elapsed}", style="blue")
            table.add_row(line)
        return table

    def close(self) -> None:
        with self.lock:
            self.live.update(self._render())
        self.live.stop()


def make(mode: str, stream: TextIO, dry_run: bool = False, title: str = "Running"):
    if mode == "auto":
        mode = "tty" if stream.isatty() else "plain"
    if mode == "quiet":
        return Quiet()
    if mode == "json":
        return Json(stream, dry_run)
    if mode == "tty":
        return Tty(stream, dry_run, title)
    return Plain(stream, dry_run)

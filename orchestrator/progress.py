"""Progress of ``up`` and ``down`` as docker compose prints it when not on a
terminal (``--progress plain``): one line per step, `` Container
app-web-1  Started``. Takes the executor's events; owns the wording."""
from __future__ import annotations

import threading
import time
from typing import TextIO


class Plain:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.lock = threading.Lock()  # events come from several tasks

    def emit(self, event) -> None:
        name = f'"{event.name}"' if event.kind == "Volume" else event.name
        line = f" {event.kind} {name}  {event.status}"
        if event.error:
            line += f": {event.error}"
        with self.lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        self.stream.flush()

"""Progress renderers (orchestrator/progress.py) on a stream that is not a terminal."""
from __future__ import annotations

import io
import json

from orchestrator import progress
from orchestrator.execute import Event


def test_plain_lines_as_compose_prints_them():
    out = io.StringIO()
    shown = progress.make("auto", out)
    shown.emit(Event("Volume", "app_data", "Created"))
    shown.emit(Event("Container", "app-web-1", "Started"))
    assert out.getvalue() == ' Volume "app_data"  Created\n Container app-web-1  Started\n'
    dry = io.StringIO()
    progress.make("plain", dry, dry_run=True).emit(Event("Network", "app_default", "Created"))
    assert dry.getvalue() == "DRY-RUN MODE -  Network app_default  Created\n"


def test_the_live_view_ends_with_every_object_and_its_state():
    out = io.StringIO()
    shown = progress.make("tty", out)
    shown.emit(Event("Container", "app-db-1", "Starting"))
    shown.emit(Event("Container", "app-db-1", "Healthy"))
    shown.emit(Event("Container", "app-web-1", "Creating", error="image missing"))
    shown.close()
    text = out.getvalue()
    assert "[+] Running 2/2" in text and "✔ Container app-db-1" in text and "Healthy" in text
    assert "✘ Container app-web-1" in text and "image missing" in text


def test_json_and_quiet():
    out = io.StringIO()
    progress.make("json", out).emit(Event("Container", "x", "Started"))
    assert json.loads(out.getvalue())["status"] == "Started"
    progress.make("quiet", out).emit(Event("Container", "x", "Started"))
    assert out.getvalue().count("\n") == 1


def test_parallel_limits_the_engine_calls_at_once():
    import threading
    import time

    import anyio

    from orchestrator import execute
    busy, peak, lock = [0], [0], threading.Lock()

    def call() -> None:
        with lock:
            busy[0] += 1
            peak[0] = max(peak[0], busy[0])
        time.sleep(0.02)
        with lock:
            busy[0] -= 1

    async def many() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(execute._call, call)
    anyio.run(execute.limited, 2, many)
    assert peak[0] == 2
    peak[0] = 0
    anyio.run(execute.limited, -1, many)
    assert peak[0] > 2

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

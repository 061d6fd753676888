"""docker events: container events as they happen, since/until, filters."""
from __future__ import annotations

import json
import subprocess
import time

import pytest

pytestmark = pytest.mark.root


def _events(daemon, *args: str) -> list[dict]:
    done = daemon.docker("events", "--format", "{{json .}}", *args, timeout=30)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_a_containers_life_in_events(daemon):
    since = str(time.time() - 1)
    assert daemon.docker("run", "--name", "life", "--label", "team=a", "busybox",
                         "sh", "-c", "exit 3").returncode == 3
    assert daemon.docker("rm", "life").returncode == 0
    until = str(time.time() + 0.5)
    found = [(e["Type"], e["Action"]) for e in _events(daemon, "--since", since, "--until", until)]
    assert found == [("container", "create"), ("container", "start"), ("container", "die"),
                     ("container", "destroy")]
    die = _events(daemon, "--since", since, "--until", until, "--filter", "event=die")
    assert [e["Actor"]["Attributes"]["exitCode"] for e in die] == ["3"]
    assert die[0]["Actor"]["Attributes"]["name"] == "life" and die[0]["Actor"]["Attributes"]["team"] == "a"
    labelled = _events(daemon, "--since", since, "--until", until, "--filter", "label=team=b")
    assert labelled == []


def test_events_stream_while_containers_start(daemon):
    watcher = subprocess.Popen(["docker", "events", "--format", "{{.Action}} {{.Actor.Attributes.name}}",
                                "--filter", "container=streamed"], env=daemon.env,
                               stdout=subprocess.PIPE)
    try:
        time.sleep(0.5)
        assert daemon.docker("run", "--rm", "--name", "streamed", "busybox", "true").returncode == 0
        lines = [watcher.stdout.readline().decode().strip() for _ in range(4)]
    finally:
        watcher.kill()
        watcher.wait()
    assert lines == ["create streamed", "start streamed", "die streamed", "destroy streamed"]

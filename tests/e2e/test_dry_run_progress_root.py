"""``--dry-run`` shows the plan and changes nothing; ``--progress`` chooses
how steps are shown (plain lines, JSON, nothing)."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.root

STACK = """
services:
  a:
    image: busybox
    command: ["sleep", "600"]
volumes:
  data:
"""


def test_dry_run_changes_nothing(project):
    project.write(STACK.replace('command: ["sleep", "600"]', 'command: ["sleep", "600"]\n    volumes: [data:/data]'))
    done = project.ok("--dry-run", "up", "-d")
    err = done.stderr.decode()
    assert f"DRY-RUN MODE -  Container {project.name}-a-1  Started" in err
    assert f'DRY-RUN MODE -  Volume "{project.name}_data"  Created' in err
    assert project.daemon.docker("ps", "-aq").stdout == b""
    assert project.name not in project.daemon.docker("network", "ls").stdout.decode()
    project.ok("up", "-d")
    done = project.ok("--dry-run", "down", "-v")
    assert f"DRY-RUN MODE -  Network {project.name}_default  Removed" in done.stderr.decode()
    assert project.daemon.docker("ps", "-q").stdout != b""  # still there


def test_progress_json_and_quiet(project):
    project.write(STACK)
    done = project.ok("--progress", "json", "up", "-d")
    events = [json.loads(line) for line in done.stderr.decode().splitlines()]
    assert {"id": f"Container {project.name}-a-1", "status": "Started"}.items() <= events[-1].items()
    done = project.ok("--progress", "quiet", "down")
    assert done.stderr == b""

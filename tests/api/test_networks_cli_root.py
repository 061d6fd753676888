"""Networks until user-defined ones are served: none and host, with docker's
shapes; anything else a clear error (docker CLI and `dockyard network`)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.root
DOCKYARD = str(Path(sys.executable).parent / "dockyard")


def _dockyard(daemon, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": str(daemon.run), "DOCKYARD_HOST": f"unix://{daemon.socket}"}
    return subprocess.run([DOCKYARD, *args], env=env, input=input, capture_output=True, timeout=60, check=False)


def test_ls_and_inspect_show_none_and_host(daemon):
    listed = [json.loads(line) for line in daemon.docker("network", "ls", "--format", "{{json .}}").stdout.splitlines()]
    assert sorted((n["Name"], n["Driver"], n["Scope"]) for n in listed) == [("host", "host", "local"),
                                                                             ("none", "null", "local")]
    [host] = json.loads(daemon.docker("network", "inspect", "host").stdout)
    assert host["Name"] == "host" and len(host["Id"]) == 64
    assert daemon.docker("network", "inspect", host["Id"][:12]).returncode == 0
    ours = _dockyard(daemon, "network", "ls", "--format", "{{.Name}} {{.Driver}}")
    assert ours.returncode == 0 and sorted(ours.stdout.decode().splitlines()) == ["host host", "none null"]
    theirs = daemon.docker("network", "ls")
    assert _dockyard(daemon, "network", "ls").stdout == theirs.stdout


def test_what_is_not_served_yet_is_a_clear_error(daemon):
    done = daemon.docker("network", "create", "backend")
    assert done.returncode == 1 and b"user-defined networks are not supported yet" in done.stderr
    done = daemon.docker("network", "rm", "host")
    assert done.returncode == 1 and b"host is a pre-defined network and cannot be removed" in done.stderr
    done = _dockyard(daemon, "network", "inspect", "nosuch")
    assert done.returncode == 1 and b"network nosuch not found" in done.stderr
    done = daemon.docker("run", "--rm", "--network", "backend", "busybox", "true")
    assert done.returncode == 125 and b"network backend not found" in done.stderr
    assert daemon.docker("ps", "-aq").stdout == b""  # nothing half-made
    assert daemon.docker("run", "--rm", "--network", "host", "busybox", "true").returncode == 0
    assert daemon.docker("run", "--rm", "--network", "none", "busybox", "true").returncode == 0
    done = _dockyard(daemon, "network", "prune", "-f")
    assert done.returncode == 0

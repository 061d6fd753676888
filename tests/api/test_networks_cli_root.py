"""The predefined networks (bridge, host, none) with docker's shapes, and
``dockyard network`` beside the docker CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.root
DOCKYARD = str(Path(sys.executable).parent / "dockyard")


def dockyard(daemon, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": str(daemon.run), "DOCKYARD_HOST": f"unix://{daemon.socket}"}
    return subprocess.run([DOCKYARD, *args], env=env, input=input, capture_output=True, timeout=60, check=False)


def test_ls_and_inspect_show_the_predefined_networks(daemon):
    listed = [json.loads(line) for line in daemon.docker("network", "ls", "--format", "{{json .}}").stdout.splitlines()]
    assert sorted((n["Name"], n["Driver"], n["Scope"]) for n in listed) == [
        ("bridge", "bridge", "local"), ("host", "host", "local"), ("none", "null", "local")]
    [host] = json.loads(daemon.docker("network", "inspect", "host").stdout)
    assert host["Name"] == "host" and len(host["Id"]) == 64
    assert daemon.docker("network", "inspect", host["Id"][:12]).returncode == 0
    [bridge] = json.loads(daemon.docker("network", "inspect", "bridge").stdout)
    assert bridge["Options"]["com.docker.network.bridge.default_bridge"] == "true"
    assert bridge["IPAM"]["Config"][0]["Subnet"].count(".") == 3
    ours = dockyard(daemon, "network", "ls", "--format", "{{.Name}} {{.Driver}}")
    assert ours.returncode == 0 and sorted(ours.stdout.decode().splitlines()) == [
        "bridge bridge", "host host", "none null"]
    theirs = daemon.docker("network", "ls")
    assert dockyard(daemon, "network", "ls").stdout == theirs.stdout


def test_predefined_networks_cannot_be_removed_and_prune_keeps_them(daemon):
    for name in ("host", "bridge"):
        done = daemon.docker("network", "rm", name)
        assert done.returncode == 1 and f"{name} is a pre-defined network and cannot be removed".encode() in done.stderr
    done = dockyard(daemon, "network", "inspect", "nosuch")
    assert done.returncode == 1 and b"network nosuch not found" in done.stderr
    assert daemon.docker("network", "create", "spare").returncode == 0
    done = dockyard(daemon, "network", "prune", "-f")
    assert done.returncode == 0 and done.stdout == b"Deleted Networks:\nspare\n"
    assert daemon.docker("run", "--rm", "--network", "host", "busybox", "true").returncode == 0
    assert daemon.docker("run", "--rm", "--network", "none", "busybox", "true").returncode == 0
    names = daemon.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert sorted(names) == [b"bridge", b"host", b"none"]

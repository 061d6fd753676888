"""``create``, ``scale`` and ``cp`` end to end."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.root

STACK = """
services:
  box:
    image: busybox
    command: ["sleep", "600"]
"""


def test_create_then_scale(project):
    project.write(STACK)
    project.ok("create")
    state = json.loads(project.daemon.docker("inspect", f"{project.name}-box-1").stdout)[0]["State"]
    assert state["Status"] == "created"
    project.ok("up", "-d")
    project.ok("scale", "box=3")
    assert sorted(project.ok("ps", "--format", "{{.Name}}").stdout.decode().split()) == [
        f"{project.name}-box-{n}" for n in (1, 2, 3)]


def test_cp_both_ways(project, tmp_path):
    project.write(STACK)
    project.ok("up", "-d")
    (tmp_path / "local.txt").write_text("from the host\n")
    project.ok("cp", str(tmp_path / "local.txt"), "box:/tmp/copied.txt")
    assert project.ok("exec", "-T", "box", "cat", "/tmp/copied.txt").stdout == b"from the host\n"
    assert project.ok("exec", "-T", "box", "stat", "-c", "%u", "/tmp/copied.txt").stdout == b"0\n"
    project.ok("exec", "-T", "box", "sh", "-c", "mkdir -p /srv/dir && echo inside > /srv/dir/f")
    out = tmp_path / "out"
    out.mkdir()
    project.ok("cp", "box:/srv/dir", str(out))
    assert (out / "dir" / "f").read_text() == "inside\n"
    project.ok("cp", "box:/srv/dir/f", str(tmp_path / "renamed"))
    assert (tmp_path / "renamed").read_text() == "inside\n"

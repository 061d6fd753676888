"""``dockyard exec`` and ``run`` end to end: exit codes, environment, user,
workdir, stdin, one-off containers (labels, --rm, dependencies started,
service ports only when asked), and ``down --remove-orphans`` taking the
one-offs."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.root

STACK = """
services:
  store:
    image: busybox
    command: ["sh", "-c", "mkdir /www; echo store > /www/index.html; exec httpd -f -p 80 -h /www"]
  app:
    image: busybox
    command: ["sleep", "600"]
    working_dir: /tmp
    environment:
      MODE: normal
    ports:
      - "8082:80"
    depends_on:
      - store
"""


def test_exec_runs_in_the_service_container(project):
    project.write(STACK)
    project.ok("up", "-d")
    done = project.run("exec", "-T", "-e", "EXTRA=1", "-w", "/etc", "-u", "nobody", "app", "sh", "-c",
                       'echo "$MODE $EXTRA $(pwd) $(id -un)"; cat; exit 7', input=b"from stdin\n")
    assert done.returncode == 7, done.stderr
    assert done.stdout == b"normal 1 /etc nobody\nfrom stdin\n"
    done = project.run("exec", "-T", "app", "sh", "-c", "echo oops >&2")
    assert (done.returncode, done.stderr) == (0, b"oops\n")
    done = project.run("exec", "-T", "nosuch", "true")
    assert done.returncode == 1 and b"no such service: nosuch" in done.stderr
    project.ok("exec", "-d", "app", "touch", "/tmp/detached")
    assert project.ok("exec", "-T", "app", "ls", "/tmp/detached").stdout == b"/tmp/detached\n"


def test_run_makes_a_one_off_container_after_its_dependencies(project):
    project.write(STACK)
    done = project.run("run", "--rm", "-T", "-e", "MODE=oneoff", "app", "sh", "-c",
                       'echo "$MODE"; timeout 3 wget -qO- http://store/; exit 3')
    assert done.returncode == 3, done.stderr
    assert done.stdout == b"oneoff\nstore\n"
    assert f"{project.name}-store-1  Started".encode() in done.stderr  # its dependency came up first
    assert project.daemon.docker("ps", "-aq", "--filter", "label=com.docker.compose.oneoff=True").stdout == b""
    name = project.ok("run", "-d", "app", "sleep", "600").stdout.decode().strip()
    assert name.startswith(f"{project.name}-app-run-")
    found = json.loads(project.daemon.docker("inspect", name).stdout)[0]
    assert found["Config"]["Labels"]["com.docker.compose.oneoff"] == "True"
    assert found["HostConfig"].get("PortBindings") in (None, {})  # no service ports unless asked
    assert name not in project.ok("ps").stdout.decode()  # ps lists the services' containers
    project.ok("down", "--remove-orphans", "-t", "0")
    assert project.daemon.docker("ps", "-aq").stdout == b""

"""``dockyard start``, ``stop``, ``restart``, ``kill``, ``pause``, ``unpause``,
``rm``, ``top``, ``port``, ``images``, ``ls``, ``version``, ``wait`` and
``events`` end to end: their effect seen by the docker CLI, their output as
docker compose v2 prints it."""
from __future__ import annotations

import json
import re
import subprocess
import time

import pytest

from tests.e2e.conftest import DOCKYARD

pytestmark = pytest.mark.root
CLI = [DOCKYARD]

STACK = """
services:
  db:
    image: busybox
    command: ["sleep", "600"]
    stop_grace_period: 1s
  web:
    image: busybox
    command: ["httpd", "-f", "-p", "80"]
    stop_grace_period: 1s
    ports:
      - "8081:80"
    depends_on:
      db:
        condition: service_started
        restart: true
"""


def run(project, *args: str, input: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "-p", project.name, *args], check=False, cwd=project.directory, env=project.env,
                          capture_output=True, timeout=timeout, input=input)


def ok(project, *args: str, **kwargs) -> tuple[str, str]:
    done = run(project, *args, **kwargs)
    assert done.returncode == 0, (args, done.stdout.decode(), done.stderr.decode())
    return done.stdout.decode(), done.stderr.decode()


def failed(project, *args: str, **kwargs) -> str:
    done = run(project, *args, **kwargs)
    assert done.returncode == 1, (args, done.returncode, done.stdout.decode(), done.stderr.decode())
    return done.stderr.decode()


def inspect(project, service: str) -> dict:
    done = project.daemon.docker("inspect", f"{project.name}-{service}-1")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)[0]


def exists(project, service: str) -> bool:
    return project.daemon.docker("inspect", f"{project.name}-{service}-1").returncode == 0


@pytest.fixture
def stack(project):
    project.write(STACK)
    project.ok("up", "-d")
    return project


def test_stop_in_reverse_order_then_start_in_order(stack):
    db, web = f"{stack.name}-db-1", f"{stack.name}-web-1"
    _, err = ok(stack, "stop")
    assert err.index(f" Container {web}  Stopped") < err.index(f" Container {db}  Stopping"), err
    assert not inspect(stack, "db")["State"]["Running"] and not inspect(stack, "web")["State"]["Running"]
    _, err = ok(stack, "start", "web")  # and what it depends on
    assert err.index(f" Container {db}  Started") < err.index(f" Container {web}  Starting"), err
    assert inspect(stack, "db")["State"]["Running"] and inspect(stack, "web")["State"]["Running"]
    _, err = ok(stack, "stop", "-t", "0", "db")
    assert err.splitlines() == [f" Container {db}  Stopping", f" Container {db}  Stopped"]
    assert inspect(stack, "web")["State"]["Running"]
    assert "no such service: nosuch" in failed(stack, "stop", "nosuch")
    assert "no such service: nosuch" in failed(stack, "start", "nosuch")


def test_restart_follows_restart_true_dependents_unless_no_deps(stack):
    before = {s: inspect(stack, s)["State"]["StartedAt"] for s in ("db", "web")}
    _, err = ok(stack, "restart", "-t", "0", "db")  # web depends on it with restart: true
    assert f" Container {stack.name}-db-1  Restarting" in err and f" Container {stack.name}-web-1  Started" in err
    middle = {s: inspect(stack, s)["State"]["StartedAt"] for s in ("db", "web")}
    assert middle["db"] != before["db"] and middle["web"] != before["web"]
    _, err = ok(stack, "restart", "-t", "0", "--no-deps", "db")
    after = {s: inspect(stack, s)["State"]["StartedAt"] for s in ("db", "web")}
    assert after["db"] != middle["db"] and after["web"] == middle["web"], err
    assert inspect(stack, "db")["State"]["Running"] and inspect(stack, "web")["State"]["Running"]


def test_kill_sends_the_signal(stack):
    _, err = ok(stack, "kill", "db")
    assert err.splitlines() == [f" Container {stack.name}-db-1  Killing", f" Container {stack.name}-db-1  Killed"]
    state = inspect(stack, "db")["State"]
    assert not state["Running"] and state["ExitCode"] == 137
    ok(stack, "kill", "-s", "SIGKILL")
    assert not inspect(stack, "web")["State"]["Running"]
    _, err = ok(stack, "kill")
    assert err.strip() == "no container to kill"


def test_pause_and_unpause(stack):
    _, err = ok(stack, "pause", "web")
    assert err.strip() == f"Container {stack.name}-web-1  Paused"
    assert inspect(stack, "web")["State"]["Paused"] and not inspect(stack, "db")["State"]["Paused"]
    listed = ok(stack, "ps", "--format", "json")[0]
    assert {json.loads(line)["State"] for line in listed.splitlines()} == {"running", "paused"}
    _, err = ok(stack, "unpause", "web")
    assert err.strip() == f"Container {stack.name}-web-1  Unpaused"
    assert not inspect(stack, "web")["State"]["Paused"]
    # as compose v2 (docker/compose#9127): every running container is asked, and one not paused refuses
    assert failed(stack, "unpause").strip().endswith(" is not paused")


def test_rm_removes_stopped_containers_after_asking(stack):
    db = f"{stack.name}-db-1"
    _, err = ok(stack, "rm", "-f")
    assert err.strip() == "No stopped containers" and exists(stack, "db")
    ok(stack, "stop", "db")
    out, _ = ok(stack, "rm", input=b"n\n")
    assert out == f"Going to remove {db}\nAre you sure? [yN] " and exists(stack, "db")
    out, err = ok(stack, "rm", input=b"y\n")
    assert err.splitlines() == [f" Container {db}  Removing", f" Container {db}  Removed"]
    assert not exists(stack, "db") and exists(stack, "web")
    out, err = ok(stack, "rm", "-s", "-f", "-v", "web")
    assert out == f"Going to remove {stack.name}-web-1\n"
    assert f" Container {stack.name}-web-1  Stopped" in err and f" Container {stack.name}-web-1  Removed" in err
    assert stack.daemon.docker("ps", "-aq").stdout == b""
    assert "no such service: nosuch" in failed(stack, "rm", "-f", "nosuch")


def test_top_lists_each_containers_processes(stack):
    out, _ = ok(stack, "top")
    lines = out.splitlines()
    header = lines[0].split()
    assert header[:2] == ["SERVICE", "#"] and header[-1] == "CMD", out
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["db"].split()[1] == "1" and rows["db"].endswith("sleep 600"), out
    assert rows["web"].endswith("httpd -f -p 80"), out
    assert ok(stack, "top", "web")[0].splitlines()[1].startswith("web")


def test_port_prints_the_published_address(stack):
    out, _ = ok(stack, "port", "web", "80")
    assert out == "0.0.0.0:8081\n"
    assert failed(stack, "port", "web", "81").strip() == f"no port 81/tcp for container {stack.name}-web-1: 80/tcp"
    assert failed(stack, "port", "--protocol", "udp", "web", "80").startswith("no port 80/udp")
    assert failed(stack, "port", "--index", "2", "web", "80").strip() == 'service "web" is not running container #2'
    ok(stack, "stop", "web")
    assert failed(stack, "port", "web", "80").strip() == 'service "web" is not running'


def test_images_lists_the_containers_images(stack):
    image_id = json.loads(stack.daemon.docker("image", "inspect", "busybox").stdout)[0]["Id"]
    out, _ = ok(stack, "images")
    lines = out.splitlines()
    assert lines[0].split("   ")[0] == "CONTAINER" and re.split(r"\s{2,}", lines[0]) == [
        "CONTAINER", "REPOSITORY", "TAG", "PLATFORM", "IMAGE ID", "SIZE", "CREATED"]
    row = re.split(r"\s{2,}", lines[1])
    assert row[:3] == [f"{stack.name}-db-1", "busybox", "latest"] and row[4] == image_id.split(":")[1][:12], out
    assert lines[2].startswith(f"{stack.name}-web-1 ")
    listed = json.loads(ok(stack, "images", "--format", "json")[0])
    assert [(i["ContainerName"], i["Repository"], i["Tag"], i["ID"]) for i in listed] == [
        (f"{stack.name}-db-1", "busybox", "latest", image_id), (f"{stack.name}-web-1", "busybox", "latest", image_id)]
    assert ok(stack, "images", "-q")[0] == image_id.split(":")[1] + "\n"
    assert len(ok(stack, "images", "web")[0].splitlines()) == 2


def test_ls_lists_projects_from_labels(stack):
    config = str(stack.directory / "compose.yaml")
    out, _ = ok(stack, "ls")
    assert re.split(r"\s{2,}", out.splitlines()[0]) == ["NAME", "STATUS", "CONFIG FILES"]
    assert re.split(r"\s{2,}", out.splitlines()[1]) == [stack.name, "running(2)", config], out
    ok(stack, "stop", "db")
    assert json.loads(ok(stack, "ls", "--format", "json")[0]) == [
        {"Name": stack.name, "Status": "running(1)", "ConfigFiles": config}]
    assert json.loads(ok(stack, "ls", "-a", "--format", "json")[0])[0]["Status"] == "exited(1), running(1)"
    assert ok(stack, "ls", "-q", "--filter", f"name={stack.name[:5]}")[0] == f"{stack.name}\n"
    assert ok(stack, "ls", "-q", "--filter", "name=^nothing$")[0] == ""
    assert failed(stack, "ls", "--filter", "status=running").strip() == "invalid filter 'status'"


def test_version():
    from importlib.metadata import version
    done = subprocess.run([*CLI, "version"], check=False, capture_output=True, text=True)
    assert done.stdout == f"Dockyard Compose version v{version('dockyard')}\n"
    assert subprocess.run([*CLI, "version", "--short"], check=False, capture_output=True, text=True).stdout == version("dockyard") + "\n"
    assert json.loads(subprocess.run([*CLI, "version", "--format", "json"], check=False, capture_output=True,
                                     text=True).stdout) == {"version": f"v{version('dockyard')}"}


def test_wait_prints_the_exit_code_and_can_take_the_project_down(project):
    project.write("""
        services:
          job:
            image: busybox
            command: ["sh", "-c", "sleep 2; exit 3"]
          idle:
            image: busybox
            command: ["sleep", "600"]
            stop_grace_period: 1s
        """)
    project.ok("up", "-d")
    job = inspect(project, "job")["Id"]
    done = run(project, "wait", "job")
    assert done.returncode == 3, done.stderr
    assert done.stdout.decode() == f'container "{job}" exited with status code 3\n'
    assert "no containers for project" in failed(project, "wait", "job")  # it is not running any more
    project.ok("up", "-d")  # the job again
    done = run(project, "wait", "--down-project", "job")
    assert done.returncode == 3, done.stderr
    assert f" Container {project.name}-idle-1  Removed" in done.stderr.decode()
    assert project.daemon.docker("ps", "-aq").stdout == b""


def test_events_prints_the_projects_container_events(stack):
    since = time.time()
    ok(stack, "restart", "-t", "0", "--no-deps", "db")
    ok(stack, "pause", "web")
    until = f"{time.time() + 0.5:.3f}"
    time.sleep(1)
    out, _ = ok(stack, "events", "--json", "--since", f"{since:.3f}", "--until", until, timeout=30)
    found = [json.loads(line) for line in out.splitlines()]
    assert {(e["service"], e["action"]) for e in found} >= {("db", "restart"), ("web", "pause")}, out
    paused = next(e for e in found if e["action"] == "pause")
    assert sorted(paused) == ["action", "attributes", "id", "service", "time", "type"]
    assert paused["type"] == "container" and paused["id"] == inspect(stack, "web")["Id"]
    assert paused["attributes"] == {"image": "busybox", "name": f"{stack.name}-web-1"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", paused["time"])
    out, _ = ok(stack, "events", "--since", f"{since:.3f}", "--until", until, "web", timeout=30)
    lines = [line for line in out.splitlines() if line]
    assert lines and all(" container " in line for line in lines), out
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} container pause [0-9a-f]{64} "
                        rf"\(image=busybox, name={stack.name}-web-1\)", lines[-1]), out

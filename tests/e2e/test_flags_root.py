"""The flags no other end-to-end test reaches, their effect seen through
``docker inspect`` and the commands' output, as docker compose v2 has them:
``up``'s selection and recreation flags, ``-t``, attached-mode output
flags, ``restart: true`` dependents, replicas and ``container_name``;
``logs``/``exec`` on a scaled service; ``run``'s container flags;
``down -t`` and ``down SERVICE``; the global project flags."""
from __future__ import annotations

import json
import re
import subprocess
import time

import pytest

from tests.e2e.conftest import DOCKYARD

pytestmark = pytest.mark.root

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z"


def _inspect(project, name: str) -> dict:
    done = project.daemon.docker("inspect", name)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)[0]


def _exists(project, name: str) -> bool:
    return project.daemon.docker("inspect", name).returncode == 0


UP_STACK = """
services:
  db:
    image: busybox
    command: ["sleep", "600"]
    stop_grace_period: 1s
    environment:
      VERSION: "1"
  app:
    image: busybox
    command: ["sleep", "600"]
    stop_grace_period: 1s
    deploy:
      replicas: 2
    depends_on:
      db:
        condition: service_started
        restart: true
  named:
    image: busybox
    command: ["sleep", "600"]
    container_name: {name}-custom
"""


def test_up_selection_recreation_replicas_and_restart_true_dependents(project):
    project.write(UP_STACK.replace("{name}", project.name))
    project.ok("up", "-d", "--no-deps", "app")
    apps = [f"{project.name}-app-{n}" for n in (1, 2)]
    assert [_inspect(project, a)["Config"]["Labels"]["com.docker.compose.container-number"] for a in apps] \
        == ["1", "2"]
    assert all(_inspect(project, a)["State"]["Running"] for a in apps)
    assert not _exists(project, f"{project.name}-db-1")  # its dependency was left alone
    project.ok("up", "--no-start", "named")  # returns at once: nothing to attach to
    named = _inspect(project, f"{project.name}-custom")
    assert named["State"]["Status"] == "created"
    assert named["Config"]["Labels"]["com.docker.compose.service"] == "named"
    project.ok("up", "-d")
    assert _inspect(project, f"{project.name}-custom")["State"]["Running"]
    before = {a: _inspect(project, a) for a in apps}
    db = _inspect(project, f"{project.name}-db-1")["Id"]
    project.write(UP_STACK.replace("{name}", project.name).replace('VERSION: "1"', 'VERSION: "2"'))
    began = time.monotonic()
    project.ok("up", "-d")  # db recreated by the change: app restarted, not recreated
    assert time.monotonic() - began < 6  # app's restart had its 1 s of grace, not 10
    assert _inspect(project, f"{project.name}-db-1")["Id"] != db
    for app, was in before.items():
        now = _inspect(project, app)
        assert now["Id"] == was["Id"] and now["State"]["Running"]
        assert now["State"]["StartedAt"] > was["State"]["StartedAt"], app
    db = _inspect(project, f"{project.name}-db-1")["Id"]
    ids = {a: _inspect(project, a)["Id"] for a in apps}
    project.ok("up", "-d", "--always-recreate-deps", "app")
    assert _inspect(project, f"{project.name}-db-1")["Id"] != db  # the dependency, unchanged, recreated
    assert {a: _inspect(project, a)["Id"] for a in apps} == ids  # the named service only if it changed


def test_timeouts_on_recreate_and_down_and_down_of_one_service(project):
    stack = """
        services:
          stubborn:
            image: busybox
            command: ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"]
            environment:
              ROUND: "1"
          other:
            image: busybox
            command: ["sleep", "600"]
        """
    project.write(stack)
    project.ok("up", "-d")
    stubborn = _inspect(project, f"{project.name}-stubborn-1")["Id"]
    project.write(stack.replace('ROUND: "1"', 'ROUND: "2"'))
    began = time.monotonic()
    project.ok("up", "-d", "-t", "1")
    assert time.monotonic() - began < 6  # not the default 10 s of grace
    assert _inspect(project, f"{project.name}-stubborn-1")["Id"] != stubborn
    began = time.monotonic()
    project.ok("down", "-t", "0", "stubborn")
    assert time.monotonic() - began < 5
    assert not _exists(project, f"{project.name}-stubborn-1")
    assert _inspect(project, f"{project.name}-other-1")["State"]["Running"]  # only that service's
    assert project.daemon.docker("network", "inspect", f"{project.name}_default").returncode == 0


def test_attached_up_output_flags(project):
    project.write("""
        services:
          job:
            image: busybox
            command: ["sh", "-c", "echo working; sleep 1; echo finished"]
          chatty:
            image: busybox
            command: ["sh", "-c", "trap 'exit 0' TERM; echo chatter; while :; do sleep 0.1; done"]
        """)
    done = project.run("up", "--abort-on-container-exit", "--no-attach", "chatty")
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr
    assert "job-1  | working\n" in out and "chatter" not in out, out  # padded to the attached ones only
    assert "job-1 exited with code 0\n" in out and f"{project.name}-job-1 exited" not in out, out
    done = project.run("up", "--abort-on-container-exit", "--attach", "job", "--timestamps", "--no-log-prefix")
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr
    assert re.findall(rf"^{STAMP} (\w+)$", out, re.MULTILINE) == ["working", "finished"], out
    assert "chatter" not in out and "| " not in out, out
    assert not _inspect(project, f"{project.name}-chatty-1")["State"]["Running"]


def test_logs_and_exec_on_a_scaled_service(project):
    project.write("""
        services:
          worker:
            image: busybox
            command: ["sh", "-c", "echo I am $$(hostname); exec sleep 600"]
        """)
    project.ok("up", "-d", "--scale", "worker=2")
    second = _inspect(project, f"{project.name}-worker-2")["Config"]["Hostname"]
    out = project.ok("logs", "--index", "2", "worker").stdout.decode()
    assert out == f"worker-2  | I am {second}\n", out
    out = project.ok("logs", "-t", "worker").stdout.decode()
    assert len(re.findall(rf"^worker-[12]  \| {STAMP} I am \w+$", out, re.MULTILINE)) == 2, out
    assert "\033[" in project.ok("--ansi", "always", "logs", "worker").stdout.decode()
    assert "\033[" not in project.ok("--ansi", "always", "logs", "--no-color", "worker").stdout.decode()
    assert project.ok("exec", "-T", "--index", "2", "worker", "hostname").stdout.decode() == f"{second}\n"
    plain = project.ok("exec", "-T", "worker", "grep", "CapEff", "/proc/self/status").stdout
    privileged = project.ok("exec", "-T", "--privileged", "worker", "grep", "CapEff", "/proc/self/status").stdout
    assert plain != privileged and int(privileged.split()[1], 16) > int(plain.split()[1], 16), (plain, privileged)
    project.ok("exec", "-d", "--index", "2", "worker", "touch", "/tmp/detached")
    deadline = time.monotonic() + 5
    while project.run("exec", "-T", "--index", "2", "worker", "test", "-f", "/tmp/detached").returncode != 0:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert project.run("exec", "-T", "worker", "test", "-f", "/tmp/detached").returncode == 1  # not in -1


RUN_STACK = """
services:
  db:
    image: busybox
    command: ["sleep", "600"]
  app:
    image: busybox
    command: ["sleep", "600"]
    depends_on:
      - db
  web:
    image: busybox
    command: ["sh", "-c", "mkdir /www; echo $$WHO > /www/index.html; exec httpd -f -p 80 -h /www"]
    environment:
      WHO: service
    ports:
      - "18556:80"
"""


def test_run_container_flags(project, tmp_path):
    project.write(RUN_STACK)
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "note").write_text("from the host\n")
    name = f"{project.name}-special"
    done = project.run("run", "-T", "--no-deps", "--name", name, "--entrypoint", "sh", "-u", "nobody",
                       "-w", "/tmp", "-v", f"{shared}:/x", "-l", "purpose=testing", "app",
                       "-c", 'echo "$(id -un) $(pwd)"; cat /x/note')
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"nobody /tmp\nfrom the host\n"
    assert not _exists(project, f"{project.name}-db-1")  # --no-deps
    found = _inspect(project, name)
    assert found["Config"]["Entrypoint"] == ["sh"] and found["Config"]["User"] == "nobody"
    assert found["Config"]["WorkingDir"] == "/tmp" and found["Config"]["Labels"]["purpose"] == "testing"
    assert found["Config"]["Labels"]["com.docker.compose.oneoff"] == "True"
    assert [(m["Source"], m["Destination"]) for m in found["Mounts"]] == [(str(shared), "/x")]

    def fetch(port: int) -> bytes:
        return project.daemon.in_netns("curl", "-sS", "-m", "5", f"http://127.0.0.1:{port}/").stdout
    project.ok("run", "-d", "-e", "WHO=published", "-p", "18555:80", "web")
    assert _eventually(lambda: fetch(18555) == b"published\n"), fetch(18555)
    assert fetch(18556) == b""  # the service's own ports only with --service-ports
    project.ok("run", "-d", "-e", "WHO=aliased", "--service-ports", "--use-aliases", "web")
    assert _eventually(lambda: fetch(18556) == b"aliased\n"), fetch(18556)
    done = project.run("run", "--rm", "-T", "--no-deps", "app", "timeout", "3", "wget", "-qO-", "http://web/")
    assert done.stdout == b"aliased\n", done.stderr  # the one-off answers to the service's name


def _eventually(check, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_global_project_flags(project, tmp_path):
    project.write("""
        services:
          app:
            image: busybox
            command: ["sleep", "600"]
            stop_grace_period: 1s
            environment:
              TAG: ${TAG:-none}
            volumes:
              - ./data:/data
          debug:
            image: busybox
            command: ["sleep", "600"]
            profiles: [debug]
        """)
    project.write("""
        services:
          app:
            environment:
              EXTRA: over
        """, "override.yaml")
    (project.directory / "data").mkdir()
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "data").mkdir(parents=True)
    variables = tmp_path / "vars.env"
    variables.write_text("TAG=fromfile\n")
    app = f"{project.name}-app-1"

    def env_of() -> dict:
        return dict(e.split("=", 1) for e in _inspect(project, app)["Config"]["Env"])
    done = subprocess.run([DOCKYARD, "up", "-d"], check=False, cwd=project.directory, capture_output=True,
                          timeout=120, env={**project.env, "COMPOSE_PROJECT_NAME": project.name})
    assert done.returncode == 0, done.stderr
    assert env_of()["TAG"] == "none" and "EXTRA" not in env_of()
    assert _inspect(project, app)["Mounts"][0]["Source"] == str(project.directory / "data")
    assert not _exists(project, f"{project.name}-debug-1")  # profiled: not unless asked
    project.ok("--env-file", str(variables), "-f", "compose.yaml", "-f", "override.yaml", "up", "-d")
    assert (env_of()["TAG"], env_of()["EXTRA"]) == ("fromfile", "over")
    project.ok("--project-directory", str(elsewhere), "-f", "compose.yaml", "--profile", "debug", "up", "-d")
    assert _inspect(project, app)["Mounts"][0]["Source"] == str(elsewhere / "data")
    assert _inspect(project, f"{project.name}-debug-1")["State"]["Running"]

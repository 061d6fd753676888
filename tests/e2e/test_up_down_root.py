"""``dockyard up`` and ``down`` end to end: dependency order with health
gates, names and published ports, convergence, scale, orphans, failures,
volumes, and nothing left after ``down``."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.root

STACK = """
services:
  db:
    image: busybox
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; mkdir /www; echo db > /www/index.html; exec httpd -f -p 5432 -h /www"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 200ms
      retries: 30
    volumes:
      - data:/data
  migrate:
    image: busybox
    command: ["sh", "-c", "echo migrated > /data/done"]
    volumes:
      - data:/data
    depends_on:
      db:
        condition: service_healthy
  web:
    image: busybox
    command: ["sh", "-c", "mkdir /www; echo web > /www/index.html; exec httpd -f -p 80 -h /www"]
    hostname: front
    ports:
      - "8080:80"
    environment:
      GREETING: hello
    depends_on:
      db:
        condition: service_healthy
      migrate:
        condition: service_completed_successfully
volumes:
  data:
"""


def _inspect(project, name: str) -> dict:
    return json.loads(project.daemon.docker("inspect", name).stdout)[0]


def test_up_starts_in_dependency_order_and_down_removes_everything(project):
    project.write(STACK)
    done = project.ok("up", "-d")
    err = done.stderr.decode()
    assert f" Container {project.name}-web-1  Started" in err and f" Container {project.name}-db-1  Healthy" in err
    assert err.index(f"{project.name}-db-1  Healthy") < err.index(f"{project.name}-web-1  Starting")
    db, web = _inspect(project, f"{project.name}-db-1"), _inspect(project, f"{project.name}-web-1")
    healthy_at = next(e["End"] for e in db["State"]["Health"]["Log"] if e["ExitCode"] == 0)
    assert web["State"]["StartedAt"] > healthy_at  # gated on the health check
    assert _inspect(project, f"{project.name}-migrate-1")["State"]["ExitCode"] == 0
    labels = web["Config"]["Labels"]
    assert labels["com.docker.compose.project"] == project.name and labels["com.docker.compose.service"] == "web"
    assert len(labels["com.docker.compose.config-hash"]) == 64
    assert web["HostConfig"]["NetworkMode"] == f"{project.name}_default"
    reach = project.daemon.docker("exec", f"{project.name}-web-1", "sh", "-c",
                                  "timeout 3 wget -qO- http://db:5432/ && timeout 3 wget -qO- http://front/ "
                                  f"&& timeout 3 wget -qO- http://{project.name}-db-1:5432/ || exit 1")
    assert reach.stdout.decode().split() == ["db", "web", "db"], reach.stderr
    assert project.daemon.in_netns("curl", "-sS", "-m", "5", "http://127.0.0.1:8080/").stdout == b"web\n"
    listed = project.ok("ps", "--format", "json").stdout.decode().splitlines()
    assert sorted(json.loads(line)["Service"] for line in listed) == ["db", "web"]
    assert "migrate" in project.ok("ps", "-a", "--services").stdout.decode()
    done = project.ok("down", "-v", "-t", "1")
    err = done.stderr.decode()
    assert f" Network {project.name}_default  Removed" in err and f'Volume "{project.name}_data"  Removed' in err
    assert project.daemon.docker("ps", "-aq").stdout == b""
    assert f"{project.name}" not in project.daemon.docker("network", "ls").stdout.decode()
    again = project.ok("down")
    assert f'No resource found to remove for project "{project.name}"' in again.stderr.decode()


def test_a_second_up_changes_nothing_and_a_change_recreates_only_its_service(project):
    project.write(STACK)
    project.ok("up", "-d")
    ids = {c: _inspect(project, f"{project.name}-{c}-1")["Id"] for c in ("db", "migrate", "web")}
    done = project.ok("up", "-d")
    assert "Creating" not in done.stderr.decode() and "Starting" not in done.stderr.decode()
    assert {c: _inspect(project, f"{project.name}-{c}-1")["Id"] for c in ids} == ids  # migrate did not run again
    project.write(STACK.replace("GREETING: hello", "GREETING: changed"))
    project.ok("up", "-d")
    now = {c: _inspect(project, f"{project.name}-{c}-1")["Id"] for c in ids}
    assert now["db"] == ids["db"] and now["migrate"] == ids["migrate"] and now["web"] != ids["web"]
    project.ok("up", "-d", "--force-recreate", "db")
    assert _inspect(project, f"{project.name}-db-1")["Id"] != ids["db"]


def test_scale_up_and_down(project):
    project.write("""
        services:
          worker:
            image: busybox
            command: ["sleep", "600"]
        """)
    project.ok("up", "-d", "--scale", "worker=3")
    names = sorted(project.ok("ps", "--format", "{{.Name}}").stdout.decode().split())
    assert names == [f"{project.name}-worker-{n}" for n in (1, 2, 3)]
    project.ok("up", "-d", "--scale", "worker=1")
    assert project.ok("ps", "--format", "{{.Name}}").stdout.decode().split() == [f"{project.name}-worker-1"]


def test_orphans_are_named_and_removed_on_request(project):
    project.write("""
        services:
          a:
            image: busybox
            command: ["sleep", "600"]
          b:
            image: busybox
            command: ["sleep", "600"]
        """)
    project.ok("up", "-d")
    project.write("""
        services:
          a:
            image: busybox
            command: ["sleep", "600"]
        """)
    done = project.ok("up", "-d")
    assert f"Found orphan containers ({project.name}-b-1)" in done.stderr.decode()
    project.ok("up", "-d", "--remove-orphans")
    assert project.daemon.docker("ps", "-aq", "--filter", f"name={project.name}-b-1").stdout == b""


def test_a_failing_dependency_stops_its_dependents_with_the_reason(project):
    project.write("""
        services:
          db:
            image: busybox
            command: ["sh", "-c", "echo cannot find the disk; exec sleep 600"]
            healthcheck:
              test: ["CMD", "false"]
              interval: 100ms
              retries: 2
          web:
            image: busybox
            command: ["sleep", "600"]
            depends_on:
              db:
                condition: service_healthy
        """)
    done = project.run("up", "-d")
    assert done.returncode == 1
    assert f"service web: dependency failed to start: container {project.name}-db-1 is unhealthy" \
        in done.stderr.decode()
    assert "last output:\n    cannot find the disk" in done.stderr.decode()
    assert _inspect(project, f"{project.name}-web-1")["State"]["Status"] == "created"  # never started


def test_wait_counts_a_completed_one_shot_as_done(project):
    project.write("""
        services:
          setup:
            image: busybox
            command: ["true"]
          app:
            image: busybox
            command: ["sleep", "600"]
            depends_on:
              setup:
                condition: service_completed_successfully
        """)
    project.ok("up", "-d", "--wait", "--wait-timeout", "30")
    project.ok("up", "-d", "--wait")  # and a second up does not run it again
    assert _inspect(project, f"{project.name}-setup-1")["RestartCount"] == 0


def test_keys_the_engine_cannot_honour_stop_up_before_anything_is_made(project):
    project.write("""
        services:
          odd:
            image: busybox
            ipc: host
        """)
    done = project.run("up", "-d")
    assert done.returncode == 1 and b"service odd" in done.stderr and b"ipc" in done.stderr
    assert project.daemon.docker("network", "ls", "-q", "--filter", f"name={project.name}").stdout == b""


def test_ps_filters_and_formats(project):
    project.write("""
        services:
          up:
            image: busybox
            command: ["sleep", "600"]
          done:
            image: busybox
            command: ["true"]
        """)
    project.ok("up", "-d")
    names = lambda *args: sorted(project.ok("ps", *args, "--format", "{{.Service}}").stdout.decode().split())  # noqa: E731
    assert names() == ["up"]
    assert names("-a") == ["done", "up"]
    assert names("--status", "exited") == ["done"]
    assert names("--filter", "status=running") == ["up"]
    assert project.ok("ps", "-q").stdout.decode().strip() == json.loads(
        project.daemon.docker("inspect", f"{project.name}-up-1").stdout)[0]["Id"]
    table = project.ok("ps", "-a").stdout.decode().splitlines()
    assert table[0].split() == ["NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"]
    assert project.run("ps", "--filter", "label=x").returncode == 1


def test_down_rmi_local_removes_what_compose_would_have_built(project):
    project.daemon.docker("tag", "busybox", f"{project.name}-built")  # stands for the build's result
    project.write("""
        services:
          built:
            build: .
            command: ["sleep", "600"]
          plain:
            image: busybox
            command: ["sleep", "600"]
        """)
    (project.directory / "Dockerfile").write_text("FROM busybox\n")
    project.ok("up", "-d")
    done = project.ok("down", "-t", "0", "--rmi", "local")
    assert f"Image {project.name}-built  Removed" in done.stderr.decode()
    assert project.daemon.docker("image", "inspect", f"{project.name}-built").returncode != 0
    assert project.daemon.docker("image", "inspect", "busybox").returncode == 0  # not the project's own

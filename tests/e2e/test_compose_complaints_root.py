"""What users of docker compose complain about, done right: `logs -f`
follows a container across its restarts (docker/compose#8925); a port
conflict names the port and who holds it (#4950); file secrets and configs
are mounted where they belong."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.root


def test_logs_follow_a_container_across_its_restarts(project):
    project.write("""
        services:
          flaky:
            image: busybox
            restart: on-failure:2
            command: ["sh", "-c", "echo run; sleep 0.3; exit 1"]
        """)
    project.ok("up", "-d")
    follower = subprocess.Popen(["sh", "-c", f"exec {sys.executable.rsplit('/', 1)[0]}/dockyard -p {project.name} "
                                 "logs -f --no-color"], cwd=project.directory, env=project.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, _ = follower.communicate(timeout=30)  # ends once it stays stopped
    finally:
        follower.kill()
    assert out.decode().count("flaky-1  | run") == 3, out  # the first run and two restarts


def test_a_port_conflict_names_the_port_and_its_holder(project):
    holder = subprocess.Popen(["nsenter", f"--net=/run/netns/{project.daemon.netns}", sys.executable, "-c",
                               "import socket,time; s=socket.socket(); s.bind(('0.0.0.0', 18099)); s.listen();"
                               " print('ready', flush=True); time.sleep(600)"], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"ready\n"
        project.write("""
            services:
              web:
                image: busybox
                command: ["httpd", "-f"]
                ports: ["18099:80"]
            """)
        done = project.run("up", "-d")
        assert done.returncode == 1
        assert b"port 18099/tcp is already in use by python" in done.stderr and f"pid {holder.pid}".encode() \
            in done.stderr, done.stderr
    finally:
        holder.kill()
        holder.wait()


def test_file_secrets_and_configs_are_mounted(project):
    (project.directory / "token.txt").write_text("s3cret\n")
    (project.directory / "app.conf").write_text("debug = true\n")
    project.write("""
        services:
          app:
            image: busybox
            command: ["sleep", "600"]
            secrets: [token]
            configs:
              - source: settings
                target: /etc/app.conf
        secrets:
          token:
            file: ./token.txt
        configs:
          settings:
            file: ./app.conf
        """)
    project.ok("up", "-d")
    out = project.ok("exec", "-T", "app", "sh", "-c", "cat /run/secrets/token /etc/app.conf").stdout
    assert out == b"s3cret\ndebug = true\n"
    done = project.run("exec", "-T", "app", "sh", "-c", "echo x > /run/secrets/token")
    assert done.returncode != 0  # read-only


def test_logs_since_until_and_tail(project):
    project.write("""
        services:
          talker:
            image: busybox
            command: ["sh", "-c", "echo one; echo two; echo three; exec sleep 600"]
        """)
    project.ok("up", "-d")
    deadline = time.monotonic() + 10
    while b"three" not in project.ok("logs").stdout and time.monotonic() < deadline:
        time.sleep(0.05)
    assert project.ok("logs", "--no-log-prefix", "--tail", "1").stdout == b"three\n"
    assert project.ok("logs", "--no-log-prefix", "--since", "1h").stdout == b"one\ntwo\nthree\n"
    assert project.ok("logs", "--no-log-prefix", "--until", "1h").stdout == b""

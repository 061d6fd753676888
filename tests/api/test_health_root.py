"""Health checks run by the daemon, with docker's timing and shapes:
docker run --health-*, inspect's State.Health, ps's status, the
health_status events, the ps filter, timeouts and the start period."""
from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.root


def _health(daemon, name: str) -> dict:
    return json.loads(daemon.docker("inspect", name).stdout)[0]["State"].get("Health")


def _until(daemon, name: str, status: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while (found := _health(daemon, name))["Status"] != status and time.monotonic() < deadline:
        time.sleep(0.05)
    assert found["Status"] == status, found
    return found


def test_a_container_turns_healthy_then_unhealthy(daemon):
    done = daemon.docker("run", "-d", "--name", "checked", "--network", "none", "--health-cmd", "test -f /tmp/ok",
                         "--health-interval", "200ms", "--health-retries", "2", "busybox", "sh", "-c",
                         "sleep 0.5; touch /tmp/ok; exec sleep 600")
    assert done.returncode == 0, done.stderr
    started = time.monotonic()
    assert _health(daemon, "checked")["Status"] == "starting"
    assert "(health: starting)" in daemon.docker("ps", "--format", "{{.Status}}").stdout.decode()
    found = _until(daemon, "checked", "healthy")
    assert time.monotonic() - started >= 0.5 and found["FailingStreak"] == 0
    assert found["Log"][-1]["ExitCode"] == 0 and found["Log"][0]["ExitCode"] == 1
    assert "(healthy)" in daemon.docker("ps", "--format", "{{.Status}}").stdout.decode()
    assert daemon.docker("ps", "-q", "--filter", "health=healthy").stdout.strip() != b""
    assert daemon.docker("exec", "checked", "rm", "/tmp/ok").returncode == 0
    found = _until(daemon, "checked", "unhealthy")
    assert found["FailingStreak"] >= 2 and len(found["Log"]) <= 5
    events = daemon.docker("events", "--since", "0", "--until", str(int(time.time()) + 1), "--filter",
                           "container=checked", "--format", "{{.Action}}").stdout.decode().split("\n")
    assert "health_status: healthy" in events and "health_status: unhealthy" in events


def test_a_probe_that_outlives_its_timeout_fails(daemon):
    assert daemon.docker("run", "-d", "--name", "slow", "--network", "none", "--health-cmd", "sleep 5",
                         "--health-interval", "200ms", "--health-timeout", "300ms", "--health-retries", "1",
                         "busybox", "sleep", "600").returncode == 0
    found = _until(daemon, "slow", "unhealthy")
    assert found["Log"][0]["Output"] == "Health check exceeded timeout (0.3s)" and found["Log"][0]["ExitCode"] == -1


def test_failures_in_the_start_period_do_not_count(daemon):
    assert daemon.docker("run", "-d", "--name", "patient", "--network", "none", "--health-cmd", "false",
                         "--health-interval", "200ms", "--health-start-period", "1500ms",
                         "--health-start-interval", "100ms", "--health-retries", "1",
                         "busybox", "sleep", "600").returncode == 0
    time.sleep(1)
    found = _health(daemon, "patient")
    assert found["Status"] == "starting" and found["FailingStreak"] == 0 and len(found["Log"]) >= 3
    _until(daemon, "patient", "unhealthy")


def test_no_health_check_means_no_health(daemon):
    assert daemon.docker("run", "-d", "--name", "plain", "--network", "none", "busybox", "sleep", "600").returncode == 0
    assert _health(daemon, "plain") is None
    assert daemon.docker("ps", "-q", "--filter", "health=none").stdout.strip() != b""
    assert daemon.docker("run", "-d", "--name", "off", "--network", "none", "--no-healthcheck", "busybox",
                         "sleep", "600").returncode == 0
    assert _health(daemon, "off") is None

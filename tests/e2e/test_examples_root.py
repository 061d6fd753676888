"""The examples, end to end: `dockyard up --wait` on each, used as a user
would (through the published port, from the host), then `down -v`."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from engine.images.service import ImageService
from tests.fixtures.debian_image import debian_python_rootfs_tar
from tests.fixtures.images import CACHE_DIR

pytestmark = pytest.mark.root
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def python_image(project):
    """The examples' image, as scripts/quickstart-image makes it for `make run`."""
    ImageService(project.daemon.run.parent / "root").import_image(
        debian_python_rootfs_tar(CACHE_DIR), "dockyard/python:3.11", changes=['CMD ["python3"]'])


def _curl(project, *args: str) -> str:
    done = project.daemon.in_netns("curl", "-sS", "-m", "10", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def test_quickstart(project, python_image):
    compose = str(EXAMPLES / "quickstart" / "compose.yaml")
    project.ok("-f", compose, "up", "-d", "--wait")
    try:
        assert _curl(project, "http://127.0.0.1:8080/") == "Hello from Dockyard! This page has been visited 1 times.\n"
        assert "visited 2 times" in _curl(project, "http://127.0.0.1:8080/")
        project.ok("-f", compose, "down")
        project.ok("-f", compose, "up", "-d", "--wait")  # the count lives in the named volume
        assert "visited 3 times" in _curl(project, "http://127.0.0.1:8080/")
    finally:
        project.ok("-f", compose, "down", "-v", "-t", "1")
    assert project.daemon.docker("volume", "ls", "-q").stdout == b""


def test_microservices(project, python_image):
    compose = str(EXAMPLES / "microservices" / "compose.yaml")
    done = project.ok("-f", compose, "up", "-d", "--wait")
    try:
        assert "metrics" not in done.stderr.decode().split("WARN")[-1].split("\n", 1)[-1]  # optional, off
        assert json.loads(_curl(project, "http://127.0.0.1:8090/users")) == {"users": ["ada", "grace", "linus"]}
        order = json.loads(_curl(project, "-X", "POST", "-d", '{"item": "book"}', "http://127.0.0.1:8090/orders"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            orders = json.loads(_curl(project, "http://127.0.0.1:8090/orders"))["orders"]
            if orders[order["order"]]["state"] == "processed":
                break
            time.sleep(0.1)
        assert orders[order["order"]] == {"item": "book", "state": "processed"}
        states = {json.loads(line)["Service"]: json.loads(line)["State"]
                  for line in project.ok("-f", compose, "ps", "-a", "--format", "json").stdout.decode().splitlines()}
        assert states == {"db": "running", "queue": "running", "migrate": "exited", "users": "running",
                          "orders": "running", "worker": "running", "gateway": "running"}
    finally:
        project.ok("-f", compose, "down", "-v", "-t", "1")

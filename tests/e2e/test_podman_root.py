"""The orchestrator talks to the engine only through engine.client, so it
drives any Docker API: here podman's (`podman system service`), selected
with --host (or DOCKYARD_HOST). Services without networks: podman's own networking
would change the machine's namespace."""
from __future__ import annotations

import json
import os
import subprocess
import textwrap
import uuid

import pytest

from tests.api.test_client_podman_root import podman  # noqa: F401 - the fixture
from tests.e2e.conftest import DOCKYARD

pytestmark = pytest.mark.root


def test_up_ps_logs_exec_down_against_podman(podman, tmp_path):  # noqa: F811 - the fixture
    (tmp_path / "compose.yaml").write_text(textwrap.dedent("""
        services:
          first:
            image: busybox
            network_mode: none
            command: ["sh", "-c", "echo ready; touch /tmp/ready; exec sleep 600"]
          second:
            image: busybox
            network_mode: none
            command: ["sleep", "600"]
            depends_on: [first]
        """))
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    name = f"pod{uuid.uuid4().hex[:8]}"

    def dockyard(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([DOCKYARD, "--host", podman.api.base_url, "-p", name, *args], cwd=tmp_path, env=env,
                              capture_output=True, timeout=120)
    try:
        done = dockyard("up", "-d")
        assert done.returncode == 0, done.stderr
        listed = [json.loads(line) for line in dockyard("ps", "--format", "json").stdout.decode().splitlines()]
        assert sorted((c["Service"], c["State"]) for c in listed) == [("first", "running"), ("second", "running")]
        assert b"first-1   | ready" in dockyard("logs", "--no-color").stdout  # padded to second-1
        assert dockyard("exec", "-T", "first", "ls", "/tmp/ready").stdout == b"/tmp/ready\n"
        again = dockyard("up", "-d")
        assert again.returncode == 0 and b"Creating" not in again.stderr
    finally:
        done = dockyard("down", "-t", "0")
    assert done.returncode == 0, done.stderr
    assert podman.containers.list(all=True) == []

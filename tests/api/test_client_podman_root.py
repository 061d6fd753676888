"""Part of the client's flows against podman's Docker-compatible service
(`podman system service`): the client speaks the real Docker API, not only
our daemon's dialect. podman runs on temporary storage with runc (crun
refuses this machine's hybrid cgroups) and containers without networks."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from engine.client import DockerClient
from engine.client.errors import ContainerError, ImageNotFound, NotFound
from tests.fixtures.images import CACHE_DIR, busybox_rootfs_tar

pytestmark = pytest.mark.root

CONF = """[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


def _podman_helpers(tmp_path: Path, runroot: Path, timeout: float) -> None:
    """Wait for the processes that name our storage (conmon, its `podman
    container cleanup`, which mounts the storage) to end; kill those that
    outlive ``timeout`` (conmon may linger after its container is gone)."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                try:
                    line = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if str(tmp_path).encode() in line or str(runroot).encode() in line:
                    found.append(int(entry.name))
        if not found:
            return
        if time.monotonic() > deadline:
            for pid in found:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
        time.sleep(0.05)


@pytest.fixture
def podman(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    assert shutil.which("podman"), "podman is missing: `make test` installs it (scripts/apt-packages)"
    (tmp_path / "containers.conf").write_text(CONF)
    env = {**os.environ, "CONTAINERS_CONF": str(tmp_path / "containers.conf")}
    runroot = Path(tempfile.mkdtemp(prefix="dy-podman-", dir="/tmp"))  # podman: at most 50 characters
    base = ["podman", "--root", str(tmp_path / "storage"), "--runroot", str(runroot)]
    subprocess.run([*base, "import", str(busybox_rootfs_tar(CACHE_DIR)), "busybox:latest"], env=env,
                   check=True, capture_output=True)
    sock = tmp_path / "podman.sock"
    with open(tmp_path / "service.log", "wb") as log:
        service = subprocess.Popen([*base, "system", "service", "--time=0", f"unix://{sock}"], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while not sock.exists() and time.monotonic() < deadline and service.poll() is None:
        time.sleep(0.05)
    try:
        yield DockerClient(base_url=f"unix://{sock}")
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=20)
        _podman_helpers(tmp_path, runroot, 3)
        subprocess.run([*base, "system", "reset", "--force"], env=env, capture_output=True, check=False)
        _podman_helpers(tmp_path, runroot, 3)
        with open("/proc/self/mounts") as handle:
            mounts = [line.split()[1] for line in handle if str(tmp_path) in line or str(runroot) in line]
        for point in reversed(mounts):  # reported below, but never left behind
            subprocess.run(["umount", "-l", point], capture_output=True, check=False)
        shutil.rmtree(runroot, ignore_errors=True)
        assert mounts == [], "podman left mounts behind"


def test_the_client_runs_containers_on_podman(podman):
    assert podman.ping() is True
    assert podman.version()["ApiVersion"]  # negotiated down to podman's
    assert podman.containers.run("busybox", ["echo", "hi"], network_mode="none", remove=True) == b"hi\n"
    with pytest.raises(ContainerError) as failed:
        podman.containers.run("busybox", ["sh", "-c", "echo bad >&2; exit 3"], network_mode="none",
                              remove=True, stderr=True)
    assert failed.value.exit_status == 3
    container = podman.containers.create("busybox", ["sh", "-c", "echo out; echo err >&2"],
                                         network_mode="none", name="flows", labels={"team": "a"})
    container.start()
    assert container.wait()["StatusCode"] == 0
    assert container.logs(stdout=True, stderr=False) == b"out\n"
    assert [c.name for c in podman.containers.list(all=True, filters={"label": "team=a"})] == ["flows"]
    container.remove()
    with pytest.raises(NotFound):
        podman.containers.get("flows")


def test_exec_images_and_volumes_on_podman(podman):
    box = podman.containers.run("busybox", ["sleep", "30"], network_mode="none", detach=True)
    try:
        code, (out, err) = box.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True)
        assert (code, out, err) == (0, b"o\n", b"e\n")
    finally:
        box.remove(force=True)
    assert any("localhost/busybox:latest" in image.tags or "busybox:latest" in image.tags
               for image in podman.images.list())
    with pytest.raises(ImageNotFound):
        podman.images.get("nosuch:latest")
    volume = podman.volumes.create("data", labels={"k": "v"})
    assert [v.name for v in podman.volumes.list()] == ["data"] and volume.attrs["Labels"] == {"k": "v"}
    volume.remove()

"""A real engine daemon per test, on temporary roots and its own socket and
cgroup parent, with the busybox test image; the real ``docker`` CLI pointed
at it. Afterwards: nothing left (tests/fixtures/leaks.py)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.containers import supervisor
from engine.images.service import ImageService
from engine.runtime import cgroups
from tests.fixtures.images import CACHE_DIR, busybox_rootfs_tar
from tests.fixtures.leaks import assert_nothing_left
from tests.fixtures.netns import make_netns, network_leftovers


@dataclass
class Daemon:
    socket: Path
    run: Path
    env: dict
    process: subprocess.Popen
    netns: str = ""  # the network namespace it runs in (the test's "host")

    def relaunch(self) -> None:
        """Start the daemon again (after a test killed it) and wait until it answers."""
        log = self.run.parent / "daemon.log"
        self.process = subprocess.Popen(list(self.process.args), cwd=REPO, stdout=open(log, "ab"),
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while self.docker("version").returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.05)

    def in_netns(self, *args: str, input: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        """A command in the daemon's network namespace (curl, python, ...)."""
        return subprocess.run(["nsenter", f"--net=/run/netns/{self.netns}", *args], input=input,
                              capture_output=True, timeout=timeout)

    def docker(self, *args: str, input: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", *args], env=self.env, input=input, capture_output=True,
                              timeout=timeout)

    def raw(self, request: bytes) -> bytes:
        """One HTTP request as bytes; the whole answer (the connection closes)."""
        with socket.socket(socket.AF_UNIX) as connection:
            connection.settimeout(10)
            connection.connect(str(self.socket))
            connection.sendall(request)
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def _wait_for(path: Path, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the daemon did not start: {log.read_text()}")
        time.sleep(0.02)


HOSTS = {
    "plain": [],
    # A host where dockerd has run: the bridge netfilter hook on, FORWARD's policy DROP.
    "forward-drop": [["sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1"],
                     ["iptables", "-P", "FORWARD", "DROP"]],
}


@pytest.fixture
def daemon(tmp_path, request):
    """Parametrize indirectly with a key of HOSTS for the kind of host it runs on."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    root, run = tmp_path / "root", tmp_path / "run"
    ImageService(root).import_image(busybox_rootfs_tar(CACHE_DIR), "busybox:latest", changes=['CMD ["sh"]'])
    parent = f"dockyard-test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "daemon.log"
    netns = make_netns()
    config = tmp_path / "daemon.json"
    if not config.exists():  # names of no container are forwarded nowhere (a closed loopback port)
        config.write_text('{"dns": ["127.0.0.1:9"]}')
    try:
        for command in HOSTS[getattr(request, "param", "plain")]:
            subprocess.run(["nsenter", f"--net=/run/netns/{netns}", *command], check=True)
        process = subprocess.Popen(["nsenter", f"--net=/run/netns/{netns}", sys.executable, "-m", "engine.daemon",
                                    "--root", str(root), "--run", str(run), "--cgroup-parent", parent,
                                    "--config-file", str(tmp_path / "daemon.json")],
                                   cwd=REPO, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
        sock = run / "engine.sock"
        _wait_for(sock, process, log)
    except BaseException:
        subprocess.run(["ip", "netns", "del", netns], check=False)
        raise
    config = tmp_path / "docker-config"
    config.mkdir()
    env = {"PATH": os.environ["PATH"], "DOCKER_HOST": f"unix://{sock}", "DOCKER_CONFIG": str(config),
           "HOME": str(tmp_path)}
    handle = Daemon(sock, run, env, process, netns)
    yield handle
    process = handle.process  # a test may have restarted it
    problems = []
    try:
        ids = subprocess.run(["docker", "ps", "-aq"], env=env, capture_output=True, text=True,
                             check=False).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], env=env, capture_output=True, check=False)
        process.send_signal(signal.SIGTERM)
        try:
            if process.wait(timeout=10) != 0:
                problems.append(f"the daemon exited with {process.returncode}")
        except subprocess.TimeoutExpired:
            problems.append("the daemon did not stop on SIGTERM")
    finally:  # whatever failed above, nothing of this test may outlive it
        _stop_everything(run, process, tmp_path, parent)
        try:
            left = network_leftovers(netns, root)
        finally:
            subprocess.run(["ip", "netns", "del", netns], check=False)
    text = log.read_text()
    assert not problems and "Traceback" not in text, (problems, text)
    assert_nothing_left(tmp_path, cgroups.detect(parent=parent))
    assert left == [], left


def _stop_everything(run: Path, process: subprocess.Popen, tmp_path: Path, parent: str) -> None:
    """Kill the daemon if it still runs; stop the supervisor (killing it and
    the containers' cgroups if it will not stop): a failed test leaves no process."""
    if process.poll() is None:
        process.kill()
        process.wait()
    if (run / supervisor.SOCKET).exists():
        try:
            reply = supervisor.request(run, {"op": "shutdown"}, timeout=5)
        except OSError:
            reply = {"error": "no answer"}
        if "error" in reply:
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        if str(tmp_path).encode() in (entry / "cmdline").read_bytes():
                            os.kill(int(entry.name), signal.SIGKILL)
                    except OSError:
                        pass
            driver = cgroups.detect(parent=parent)
            for name in driver.list():
                driver.destroy(name)

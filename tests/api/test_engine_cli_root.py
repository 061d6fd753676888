"""The engine started on first use by the client, and `dockyard engine
status|stop|logs`, with DOCKYARD_ROOT and DOCKYARD_RUN on temporary dirs."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from engine.client import from_env
from engine.client.engine import Engine, EngineStartError
from engine.containers import supervisor
from engine.images.service import ImageService
from engine.runtime import cgroups
from tests.fixtures.images import CACHE_DIR, busybox_rootfs_tar
from tests.fixtures.leaks import assert_nothing_left

pytestmark = pytest.mark.root
DOCKYARD = str(Path(sys.executable).parent / "dockyard")


@pytest.fixture
def environment(tmp_path):
    parent = f"dockyard-test-{uuid.uuid4().hex[:8]}"
    values = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DOCKYARD_CGROUP_PARENT": parent,
              "DOCKYARD_ROOT": str(tmp_path / "root"), "DOCKYARD_RUN": str(tmp_path / "run")}
    yield values
    found = Engine.from_env(values)
    if found.pid():
        subprocess.run([DOCKYARD, "engine", "stop", "--containers", "-t", "0"], env=values,
                       capture_output=True, check=False)
    if (found.run / supervisor.SOCKET).exists():
        supervisor.request(found.run, {"op": "shutdown"})
    assert_nothing_left(tmp_path, cgroups.detect(parent=parent))


def _dockyard(environment, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DOCKYARD, *args], env=environment, capture_output=True, timeout=60, check=False)


def test_the_client_starts_the_engine_once_and_the_cli_reports_and_stops_it(environment):
    done = _dockyard(environment, "engine", "status")
    assert done.returncode == 1 and b"is not running" in done.stdout
    ImageService(environment["DOCKYARD_ROOT"]).import_image(
        busybox_rootfs_tar(CACHE_DIR), "busybox:latest", changes=['CMD ["sh"]'])
    clients = []
    starters = [threading.Thread(target=lambda: clients.append(from_env(environment))) for _ in range(4)]
    for starter in starters:
        starter.start()
    for starter in starters:
        starter.join()
    assert len(clients) == 4 and all(client.ping() for client in clients)
    found = Engine.from_env(environment)
    daemons = subprocess.run(["pgrep", "-f", f"engine.daemon --root {found.root}"], capture_output=True,
                             text=True, check=False).stdout.split()
    assert daemons == [str(found.pid())]  # one daemon for four starters
    done = _dockyard(environment, "engine", "status")
    assert done.returncode == 0 and f"pid {found.pid()}".encode() in done.stdout
    container = clients[0].containers.run("busybox", ["sleep", "30"], detach=True, name="kept",
                                          network_mode="none")  # in the host's namespace: no bridge
    assert b"serving on" in _dockyard(environment, "engine", "logs").stdout
    done = _dockyard(environment, "engine", "stop", "--containers", "-t", "0")
    assert done.returncode == 0 and b"stopped kept" in done.stdout and b"has stopped" in done.stdout
    assert found.pid() is None and not found.answers()
    client = from_env(environment)  # started again on first use
    assert client.containers.get(container.id).status == "exited"
    client.containers.get(container.id).remove()


def test_an_engine_that_cannot_start_says_where_its_log_is(environment, tmp_path):
    Path(environment["DOCKYARD_ROOT"]).mkdir()
    (Path(environment["DOCKYARD_ROOT"]) / "containers").write_text("not a directory")
    with pytest.raises(EngineStartError, match=r"did not start .*see its log: .*engine\.log"):
        from_env(environment)


def test_the_socket_belongs_to_the_engine_group_when_it_exists(environment, tmp_path):
    import grp
    group = f"dy{uuid.uuid4().hex[:8]}"
    subprocess.run(["groupadd", "--system", group], check=True)
    try:
        environment["DOCKYARD_GROUP"] = group
        process = subprocess.Popen([sys.executable, "-m", "engine.daemon"], env=environment,
                                   stderr=subprocess.DEVNULL)
        try:
            found = Engine.from_env(environment)
            deadline = time.monotonic() + 20
            while not found.answers() and time.monotonic() < deadline:
                time.sleep(0.05)
            info = found.socket.stat()
            assert (oct(info.st_mode & 0o777), info.st_uid, info.st_gid) == ("0o660", 0, grp.getgrnam(group).gr_gid)
        finally:
            process.terminate()
            process.wait(timeout=10)
    finally:
        subprocess.run(["groupdel", group], check=True)

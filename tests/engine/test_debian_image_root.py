"""The Debian test image (python3 and friends, made with mmdebstrap from this
machine's apt sources: tests/fixtures/debian_image.py) runs in real containers.

Root only. The image is ``debian_image`` from tests/engine/conftest.py; when it
cannot be built (no route to the mirror ...) these tests fail with the
mmdebstrap command and its stderr, they are not skipped. No networking yet.
"""
from __future__ import annotations

import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from engine.containers.service import ContainerService
from engine.runtime import cgroups
from engine.volumes.service import VolumeService

pytestmark = pytest.mark.root

IMAGE = "dockyard-test/debian-python:latest"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.fixture
def engine(tmp_path, image_service, debian_image):
    parent = f"dockyard-test-{uuid.uuid4().hex[:8]}"
    driver = cgroups.detect(parent=parent)
    service = ContainerService(tmp_path / "root", tmp_path / "run", image_service, driver)
    service.volumes = VolumeService(tmp_path / "root", in_use=service.volume_users)
    yield service
    for container in service.list(all=True):
        service.remove(container["Id"], force=True)
    service.shutdown()
    _assert_nothing_left(tmp_path, driver, parent)


def _assert_nothing_left(tmp_path: Path, driver, parent: str) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _supervisors(tmp_path):
        time.sleep(0.05)
    assert _supervisors(tmp_path) == [], "the supervisor is still running"
    mounts = [line for line in Path("/proc/self/mounts").read_text().splitlines() if str(tmp_path) in line]
    assert mounts == []
    assert driver.list() == []
    driver.remove_parent()  # the (empty) parent group of this test
    assert list((tmp_path / "root").glob("containers/*.json")) == []
    assert list((tmp_path / "root").glob("containers/*/")) == []


def _supervisors(tmp_path: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(tmp_path).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def run(engine: ContainerService, *args: str, **config) -> tuple[int, str, str]:
    host = config.pop("HostConfig", {})
    cid = engine.create({"Image": IMAGE, "Cmd": list(args), "HostConfig": host, **config})
    engine.start(cid)
    code = engine.wait(cid, timeout=30)["StatusCode"]
    entries = engine.logs(cid)
    out = b"".join(e.data for e in entries if e.stream == "stdout").decode()
    err = b"".join(e.data for e in entries if e.stream == "stderr").decode()
    engine.remove(cid)
    return code, out, err


def test_the_image_has_python3_as_its_command_and_a_full_path(image_service, debian_image):
    config = image_service.inspect(IMAGE)["Config"]
    assert config["Cmd"] == ["python3"]
    assert f"PATH={PATH}" in config["Env"]
    assert image_service.resolve(IMAGE) == debian_image


def test_python3_runs_and_is_the_release_python(engine):
    code, out, err = run(engine, "python3", "-c", "import sys, json; print(sys.version_info[:2])")
    assert (code, err) == (0, ""), err
    assert re.fullmatch(r"\(3, \d+\)\n", out), out
    # The image is made for the host's own Debian release: same python3 minor.
    host = subprocess.run(["/usr/bin/python3", "-c", "import sys; print(sys.version_info[:2])"],
                          capture_output=True, text=True, check=True).stdout
    assert out == host


def test_ssl_sqlite3_and_json_work_and_ca_certificates_are_there(engine):
    script = ("import ssl, sqlite3, json; "
              "ctx = ssl.create_default_context(); "
              "print(json.dumps({'ssl': ssl.OPENSSL_VERSION.split()[0], "
              "'cas': ctx.cert_store_stats()['x509_ca'], "
              "'sqlite': sqlite3.connect(':memory:').execute('select 6 * 7').fetchone()[0]}))")
    code, out, err = run(engine, "python3", "-c", script)
    assert (code, err) == (0, ""), err
    result = __import__("json").loads(out)
    assert result["ssl"] == "OpenSSL" and result["sqlite"] == 42
    assert result["cas"] > 50  # ca-certificates' bundle, read from the image


def test_the_path_from_the_image_finds_the_tools(engine):
    code, out, _ = run(engine, "sh", "-c", 'echo "$PATH"; for tool in python3 ps ip busybox; do command -v "$tool"; done')
    assert code == 0
    assert out.split("\n") == [PATH, "/usr/bin/python3", "/usr/bin/ps", "/usr/bin/ip",
                               "/usr/bin/busybox", ""]


def test_id_and_procps_ps_see_the_container_only(engine):
    code, out, err = run(engine, "sh", "-c", "id; ps --version; ps -e -o pid=,comm=")
    assert (code, err) == (0, ""), err
    identity, version, *processes = out.strip().split("\n")
    assert identity == "uid=0(root) gid=0(root) groups=0(root)"
    assert version.startswith("ps from procps-ng")
    table = [line.split() for line in processes]
    assert table[0] == ["1", "sh"] and [comm for _, comm in table] == ["sh", "ps"]


def test_a_user_of_the_debian_image(engine):
    code, out, _ = run(engine, "id", User="nobody")
    assert (code, out) == (0, "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n")


def test_iproute2_sees_only_loopback(engine):
    code, out, err = run(engine, "ip", "-o", "link", "show")
    assert (code, err) == (0, ""), err
    assert [line.split(":")[1].strip() for line in out.splitlines()] == ["lo"]

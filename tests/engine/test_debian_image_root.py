"""The Debian test image (python3 and friends, made with mmdebstrap from this
machine's apt sources: tests/fixtures/debian_image.py) runs in real containers.

The container tests are root only (``@pytest.mark.root``). The image is
``debian_image`` from tests/engine/conftest.py; when it cannot be built (no
route to the mirror ...) these tests fail with the mmdebstrap command and its
stderr, they are not skipped. No networking yet. A few plain tests check how
the builder reads apt's sources and keys its cache.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from engine.containers.service import ContainerService
from tests.fixtures import debian_image
from tests.fixtures.containers import run_container

IMAGE = "dockyard-test/debian-python:latest"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.fixture
def engine(engine, debian_image):
    """conftest's engine, with the Debian image imported."""
    return engine


def run(engine: ContainerService, *args: str, **config) -> tuple[int, str, str]:
    return run_container(engine, IMAGE, *args, **config)


@pytest.mark.root
def test_the_image_has_python3_as_its_command_and_a_full_path(image_service, debian_image):
    config = image_service.inspect(IMAGE)["Config"]
    assert config["Cmd"] == ["python3"]
    assert f"PATH={PATH}" in config["Env"]
    assert image_service.resolve(IMAGE) == debian_image


@pytest.mark.root
def test_python3_runs_and_is_the_release_python(engine):
    code, out, err = run(engine, "python3", "-c", "import sys, json; print(sys.version_info[:2])")
    assert (code, err) == (0, ""), err
    assert re.fullmatch(r"\(3, \d+\)\n", out), out
    # The image is made for the host's own Debian release: same python3 minor.
    host = subprocess.run(["/usr/bin/python3", "-c", "import sys; print(sys.version_info[:2])"],
                          capture_output=True, text=True, check=True).stdout
    assert out == host


@pytest.mark.root
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


@pytest.mark.root
def test_the_path_from_the_image_finds_the_tools_and_iproute2_sees_only_loopback(engine):
    script = 'echo "$PATH"; for tool in python3 ps ip busybox; do command -v "$tool"; done; ip -o link show'
    code, out, err = run(engine, "sh", "-c", script)
    assert (code, err) == (0, ""), err
    lines = out.splitlines()
    assert len(lines) == 6 and lines[0] == PATH, out
    for tool, path in zip(["python3", "ps", "ip", "busybox"], lines[1:5]):
        assert re.fullmatch(rf"/usr/s?bin/{tool}", path), (tool, path)  # ip moves between releases
    assert [line.split(":")[1].strip() for line in lines[5:]] == ["lo"]


@pytest.mark.root
def test_id_and_procps_ps_see_the_container_only(engine):
    code, out, err = run(engine, "sh", "-c", "id; ps --version; ps -e -o pid=,comm=")
    assert (code, err) == (0, ""), err
    identity, version, *processes = out.strip().split("\n")
    assert identity == "uid=0(root) gid=0(root) groups=0(root)"
    assert version.startswith("ps from procps-ng")
    table = [line.split() for line in processes]
    assert table[0] == ["1", "sh"] and [comm for _, comm in table] == ["sh", "ps"]


# ------------------------------------------------------------ the builder's inputs

SOURCES_LIST = """\
# the main archive
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian bookworm main contrib
deb-src http://mirror.example/debian bookworm main
deb http://mirror.example/debian trixie main
"""
DEBIAN_SOURCES = """\
Types: deb deb-src
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Enabled: no

Types: deb
URIs: http://extra.example/debian
Suites: bookworm-backports
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBGQ
 -----END PGP PUBLIC KEY BLOCK-----
"""
OTHER_SOURCES = """\
Types: deb
URIs: https://vendor.example/node
Suites: nodistro
Components: main
"""


def _apt_dir(tmp_path: Path) -> Path:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(SOURCES_LIST)
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEBIAN_SOURCES)
    (tmp_path / "sources.list.d" / "vendor.sources").write_text(OTHER_SOURCES)
    (tmp_path / "sources.list.d" / "old.list.disabled").write_text("deb http://old.example/ bookworm main\n")
    return tmp_path


def test_the_builder_takes_the_release_sources_apt_is_configured_with(tmp_path):
    sources = debian_image.configured_sources("bookworm", _apt_dir(tmp_path))
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    assert [source.line() for source in sources[:3]] == [
        f"deb [signed-by={keyring} arch=amd64] http://mirror.example/debian bookworm main contrib",
        f"deb [signed-by={keyring}] http://mirror.example/debian bookworm main",
        f"deb [signed-by={keyring}] http://mirror.example/debian bookworm-updates main",
    ]
    backports = sources[3]
    assert len(sources) == 4 and backports.suite == "bookworm-backports" and backports.inline_key
    assert backports.signed_by.splitlines()[1] == ""  # deb822's " ." line
    assert backports.line("/tmp/key.asc") == (
        "deb [signed-by=/tmp/key.asc] http://extra.example/debian bookworm-backports main")


def test_no_source_for_the_release_is_a_clear_error(tmp_path):
    with pytest.raises(debian_image.DebianImageError, match="no apt source for Debian 'sid'"):
        debian_image.configured_sources("sid", _apt_dir(tmp_path))


def test_the_cache_key_follows_release_packages_mirrors_and_builder(tmp_path):
    sources = debian_image.configured_sources("bookworm", _apt_dir(tmp_path))
    key = debian_image.cache_key(debian_image.cache_inputs("bookworm", "amd64", sources))
    assert key == debian_image.cache_key(debian_image.cache_inputs("bookworm", "amd64", list(sources)))
    assert len({key,
                debian_image.cache_key(debian_image.cache_inputs("trixie", "amd64", sources)),
                debian_image.cache_key(debian_image.cache_inputs("bookworm", "arm64", sources)),
                debian_image.cache_key(debian_image.cache_inputs("bookworm", "amd64", sources[:1])),
                debian_image.cache_key(debian_image.cache_inputs("bookworm", "amd64", sources,
                                                                 ("python3",)))}) == 5

"""``docker volume ...`` (the real docker CLI, 28.x) against our daemon:
create, ls and its filters, inspect, rm and its refusals, prune; and a named
volume that outlives the containers that use it."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.root


def _ok(done) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def _ran(done) -> bytes:
    """A ``docker run --rm``'s output."""
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_create_inspect_ls_and_its_filters(daemon):
    assert _ok(daemon.docker("volume", "create", "--label", "tier=db", "data")) == "data\n"
    anonymous = _ok(daemon.docker("volume", "create")).strip()
    assert len(anonymous) == 64
    [view] = json.loads(_ok(daemon.docker("volume", "inspect", "data")))
    assert {k: view[k] for k in ("Name", "Driver", "Labels", "Scope", "Options")} == {
        "Name": "data", "Driver": "local", "Labels": {"tier": "db"}, "Scope": "local", "Options": None}
    assert view["Mountpoint"].endswith("/volumes/data/_data") and view["CreatedAt"].endswith("Z")
    assert json.loads(_ok(daemon.docker("volume", "inspect", anonymous)))[0]["Labels"] == {
        "com.docker.volume.anonymous": ""}
    assert sorted(_ok(daemon.docker("volume", "ls", "-q")).split()) == sorted(["data", anonymous])
    assert _ok(daemon.docker("volume", "ls", "-q", "--filter", "label=tier=db")) == "data\n"
    assert _ok(daemon.docker("volume", "ls", "-q", "--filter", "label=tier")) == "data\n"
    assert _ok(daemon.docker("volume", "ls", "-q", "--filter", "label=tier=web")) == ""
    assert _ok(daemon.docker("volume", "ls", "-q", "--filter", "name=dat")) == "data\n"
    assert "local     data" in _ok(daemon.docker("volume", "ls", "--filter", "driver=local"))
    done = daemon.docker("volume", "ls", "--filter", "colour=red")
    assert done.returncode == 1 and b"invalid filter 'colour'" in done.stderr


def test_dangling_rm_refusals_and_force(daemon):
    _ok(daemon.docker("volume", "create", "used"))
    _ok(daemon.docker("volume", "create", "free"))
    cid = _ok(daemon.docker("create", "-v", "used:/data", "busybox", "true")).strip()
    assert _ok(daemon.docker("volume", "ls", "-q", "--filter", "dangling=true")) == "free\n"
    assert _ok(daemon.docker("volume", "ls", "-q", "--filter", "dangling=false")) == "used\n"
    done = daemon.docker("volume", "rm", "used")
    assert done.returncode == 1
    assert f"remove used: volume is in use - [{cid}]".encode() in done.stderr
    done = daemon.docker("volume", "rm", "-f", "used")  # force does not take a volume from a container
    assert done.returncode == 1 and b"volume is in use" in done.stderr
    done = daemon.docker("volume", "rm", "nosuch")
    assert done.returncode == 1 and b"get nosuch: no such volume" in done.stderr
    assert _ok(daemon.docker("volume", "rm", "-f", "nosuch")) == "nosuch\n"
    done = daemon.docker("volume", "inspect", "nosuch")
    assert done.returncode == 1 and b"no such volume" in done.stderr
    _ok(daemon.docker("rm", cid))
    assert _ok(daemon.docker("volume", "rm", "used", "free")) == "used\nfree\n"
    assert _ok(daemon.docker("volume", "ls", "-q")) == ""


def test_prune_takes_anonymous_volumes_unless_all(daemon):
    _ok(daemon.docker("volume", "create", "named"))
    _ok(daemon.docker("volume", "create", "kept"))
    anonymous = _ok(daemon.docker("volume", "create")).strip()
    cid = _ok(daemon.docker("create", "-v", "kept:/data", "busybox", "true")).strip()
    out = _ok(daemon.docker("volume", "prune", "-f"))
    assert anonymous in out and "named" not in out and "Total reclaimed space" in out
    assert sorted(_ok(daemon.docker("volume", "ls", "-q")).split()) == ["kept", "named"]
    out = _ok(daemon.docker("volume", "prune", "-f", "--all"))
    assert "named" in out and "kept" not in out  # in use: never pruned
    assert _ok(daemon.docker("volume", "ls", "-q")) == "kept\n"
    _ok(daemon.docker("rm", cid))


def test_a_named_volume_outlives_its_containers(daemon):
    _ran(daemon.docker("run", "--rm", "-v", "shared:/data", "busybox", "sh", "-c", "echo x > /data/f"))
    assert _ok(daemon.docker("volume", "ls", "-q")) == "shared\n"  # created on first use, kept by --rm
    assert _ran(daemon.docker("run", "--rm", "-v", "shared:/data", "busybox", "cat", "/data/f")) == b"x\n"
    assert daemon.docker("ps", "-aq").stdout == b""
    pruned = json.loads(daemon.raw(_request("POST", '/v1.45/volumes/prune?filters={"all":["true"]}'))
                        .partition(b"\r\n\r\n")[2])
    assert pruned == {"VolumesDeleted": ["shared"], "SpaceReclaimed": 2}


def test_create_refuses_other_drivers_and_options_by_name(daemon):
    done = daemon.docker("volume", "create", "-d", "nfs", "v1")
    assert done.returncode == 1 and b"volume driver 'nfs' is not supported" in done.stderr
    done = daemon.docker("volume", "create", "-o", "type=nfs", "-o", "o=addr=10.0.0.1", "-o", "device=:/x", "v2")
    assert done.returncode == 1 and b"type=nfs is not supported" in done.stderr
    done = daemon.docker("volume", "create", "-o", "size=1g", "v3")
    assert done.returncode == 1 and b"invalid option: 'size'" in done.stderr
    answer = daemon.raw(_request("POST", "/v1.45/volumes/create", {"Name": "bad name"}))
    assert answer.startswith(b"HTTP/1.1 400") and b"includes invalid characters" in answer
    answer = daemon.raw(_request("DELETE", "/v1.45/volumes/nosuch"))
    assert answer.startswith(b"HTTP/1.1 404") and b"get nosuch: no such volume" in answer
    assert _ok(daemon.docker("volume", "ls", "-q")) == ""


def test_bind_style_volume_shows_the_hosts_directory(daemon, tmp_path):
    host = tmp_path / "host"
    host.mkdir()
    (host / "f").write_text("from the host\n")
    _ok(daemon.docker("volume", "create", "-o", "type=none", "-o", "o=bind", "-o", f"device={host}", "hostdir"))
    [view] = json.loads(_ok(daemon.docker("volume", "inspect", "hostdir")))
    assert view["Options"] == {"type": "none", "o": "bind", "device": str(host)}
    assert _ok(daemon.docker("run", "--name", "reader", "-v", "hostdir:/data", "busybox", "cat", "/data/f")) == \
        "from the host\n"
    _ok(daemon.docker("rm", "reader"))
    _ok(daemon.docker("volume", "rm", "hostdir"))
    assert (host / "f").exists()  # removing the volume leaves the host's directory


def _request(method: str, target: str, body: dict | None = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    return (f"{method} {target} HTTP/1.1\r\nHost: d\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data


def test_a_containers_anonymous_volume_is_pruned_without_all(daemon):
    assert daemon.docker("run", "--name", "anon", "--mount", "type=volume,target=/data", "busybox",
                         "true").returncode == 0
    [volume] = _ok(daemon.docker("volume", "ls", "-q")).split()
    assert json.loads(_ok(daemon.docker("volume", "inspect", volume)))[0]["Labels"] == {
        "com.docker.volume.anonymous": ""}
    assert daemon.docker("rm", "anon").returncode == 0
    _ok(daemon.docker("volume", "prune", "-f"))
    assert _ok(daemon.docker("volume", "ls", "-q")) == ""

"""The local volume service: names, bind-style options, in-use protection."""
from __future__ import annotations

import pytest

from engine.containers.errors import Conflict, InvalidRequest, NotFound
from engine.volumes.service import VolumeService


def test_create_inspect_list_remove(tmp_path):
    volumes = VolumeService(tmp_path)
    view = volumes.create("data", labels={"a": "b"})
    assert view["Name"] == "data" and view["Driver"] == "local" and view["Labels"] == {"a": "b"}
    assert volumes.path("data") == tmp_path / "volumes" / "data" / "_data"
    assert volumes.path("data").is_dir()
    assert volumes.create("data")["Labels"] == {"a": "b"}  # creating again returns the volume
    assert [v["Name"] for v in volumes.list()] == ["data"]
    volumes.remove("data")
    assert volumes.list() == [] and not (tmp_path / "volumes" / "data").exists()
    with pytest.raises(NotFound, match="get data: no such volume"):
        volumes.inspect("data")
    volumes.remove("data", force=True)  # force: a missing volume is fine


def test_bind_style_volumes_use_the_device(tmp_path):
    device = tmp_path / "host"
    device.mkdir()
    volumes = VolumeService(tmp_path / "root")
    volumes.create("bv", options={"type": "none", "o": "bind", "device": str(device)})
    assert volumes.path("bv") == device
    with pytest.raises(InvalidRequest, match="no such directory"):
        volumes.create("cv", options={"type": "none", "o": "bind", "device": str(tmp_path / "nope")})
    with pytest.raises(InvalidRequest, match="not supported"):
        volumes.create("dv", options={"type": "nfs", "o": "addr=1.2.3.4"})


@pytest.mark.parametrize("name", ["-bad", "a b", "x/y", "é", "x"])  # docker: 2 characters at least
def test_invalid_names_are_refused_with_dockers_wording(tmp_path, name):
    with pytest.raises(InvalidRequest, match="includes invalid characters"):
        VolumeService(tmp_path).create(name)


def test_a_volume_in_use_is_kept_and_prune_skips_it(tmp_path):
    volumes = VolumeService(tmp_path, in_use=lambda name: ["abc"] if name == "used" else [])
    volumes.create("used")
    volumes.create("free")
    with pytest.raises(Conflict, match=r"remove used: volume is in use - \[abc\]"):
        volumes.remove("used")
    assert volumes.prune() == ["free"]
    assert [v["Name"] for v in volumes.list()] == ["used"]


def test_anonymous_volumes_get_a_random_name(tmp_path):
    view = VolumeService(tmp_path).create()
    assert len(view["Name"]) == 64

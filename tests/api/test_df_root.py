"""``GET /system/df`` through ``docker system df`` (and ``-v``) and raw:
docker's shape, and sizes that follow what the containers and volumes hold."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.root


def _ok(done) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def _df(daemon, query: str = "") -> dict:
    answer = daemon.raw(f"GET /v1.45/system/df{query} HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n".encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), answer
    return json.loads(body)


def test_df_counts_images_containers_and_volumes(daemon):
    empty = _df(daemon)
    assert set(empty) == {"LayersSize", "Images", "Containers", "Volumes", "BuildCache"}
    assert empty["Containers"] == [] and empty["Volumes"] == [] and empty["BuildCache"] == []
    [image] = empty["Images"]
    assert image["RepoTags"] == ["busybox:latest"] and image["Containers"] == 0
    assert empty["LayersSize"] == image["Size"] > 0 and image["SharedSize"] == 0

    _ok(daemon.docker("volume", "create", "data"))
    _ok(daemon.docker("run", "--name", "writer", "-v", "data:/data", "busybox",
                      "sh", "-c", "head -c 100000 /dev/zero > /data/f; head -c 5000 /dev/zero > /big"))
    _ok(daemon.docker("tag", "busybox", "other:1"))
    used = _df(daemon)
    [box] = used["Containers"]
    assert box["Names"] == ["/writer"] and 5000 <= box["SizeRw"] < 20000
    assert box["SizeRootFs"] == box["SizeRw"] + image["Size"]
    [volume] = used["Volumes"]
    assert volume["Name"] == "data" and volume["UsageData"] == {"Size": 100000, "RefCount": 1}
    assert [i["Containers"] for i in used["Images"]] == [1]
    assert used["LayersSize"] == image["Size"]  # a second tag adds no layer

    only = _df(daemon, "?type=volume")
    assert set(only) == {"Volumes"}

    table = _ok(daemon.docker("system", "df"))
    assert table.splitlines()[0].split()[:2] == ["TYPE", "TOTAL"]
    assert {line.split()[0] for line in table.splitlines()[1:]} == {"Images", "Containers", "Local", "Build"}
    verbose = _ok(daemon.docker("system", "df", "-v"))
    assert "writer" in verbose and "data" in verbose and "busybox" in verbose
    _ok(daemon.docker("rm", "writer"))
    _ok(daemon.docker("volume", "rm", "data"))

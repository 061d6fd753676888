"""docker-py (the PyPI ``docker`` package) against our daemon's socket: the
client most Python tools use, through its models and its error tree."""
from __future__ import annotations

import time

import pytest

docker = pytest.importorskip("docker")

pytestmark = pytest.mark.root


@pytest.fixture
def client(daemon):
    c = docker.DockerClient(base_url="unix://" + str(daemon.socket), version="1.45", timeout=30)
    yield c
    c.close()


def test_ping_version_info(client):
    assert client.ping() is True
    assert client.version()["ApiVersion"] == "1.45"
    info = client.info()
    assert info["OSType"] == "linux" and info["Images"] >= 1


def test_run_returns_the_output_and_removes(client):
    try:
        assert client.containers.run("busybox", ["echo", "hello"], remove=True) == b"hello\n"
        assert client.containers.run("busybox", ["sh", "-c", "echo oops >&2"], remove=True,
                                     stdout=False, stderr=True) == b"oops\n"
    finally:
        for box in client.containers.list(all=True):
            box.remove(force=True)


def test_run_raises_container_error_on_a_non_zero_exit(client):
    try:
        with pytest.raises(docker.errors.ContainerError) as caught:
            client.containers.run("busybox", ["sh", "-c", "echo bad >&2; exit 3"], remove=True)
        assert caught.value.exit_status == 3 and b"bad" in caught.value.stderr
    finally:
        for box in client.containers.list(all=True):
            box.remove(force=True)


def test_run_detached_with_auto_remove(client):
    box = client.containers.run("busybox", ["true"], detach=True, auto_remove=True)
    deadline = time.monotonic() + 10
    while client.api.containers(all=True, filters={"id": box.id}) and time.monotonic() < deadline:
        time.sleep(0.05)  # summaries only: models.list() would inspect each, racing the removal
    assert client.api.containers(all=True) == []


def test_run_detached_and_lifecycle(client):
    box = client.containers.run("busybox", ["sleep", "60"], detach=True, name="sleepy")
    box.reload()
    assert box.status == "running" and box.name == "sleepy"
    top = box.top()
    assert any("sleep" in " ".join(p) for p in top["Processes"])
    stats = box.stats(stream=False)
    assert "memory_stats" in stats and "cpu_stats" in stats
    box.pause()
    box.reload()
    assert box.status == "paused"
    box.unpause()
    box.rename("dozy")
    box.reload()
    assert box.name == "dozy"
    box.restart(timeout=1)
    box.reload()
    assert box.status == "running"
    box.kill()
    assert box.wait(timeout=10)["StatusCode"] == 137
    box.remove()
    with pytest.raises(docker.errors.NotFound):
        client.containers.get("dozy")


def test_create_start_wait_logs(client):
    box = client.containers.create("busybox", ["sh", "-c", "echo one; echo two >&2"])
    box.start()
    assert box.wait(timeout=10) == {"StatusCode": 0, "Error": None}
    assert box.logs() == b"one\ntwo\n"
    assert box.logs(stderr=False) == b"one\n"
    assert b"".join(box.logs(stream=True)) == b"one\ntwo\n"
    box.remove()


def test_logs_follow_and_stop(client):
    box = client.containers.run("busybox", ["sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.2; done"],
                                detach=True)
    assert b"".join(box.logs(stream=True, follow=True)) == b"1\n2\n3\n"
    sleeper = client.containers.run("busybox", ["sleep", "60"], detach=True)
    started = time.monotonic()
    sleeper.stop(timeout=1)
    assert time.monotonic() - started < 10
    sleeper.reload()
    assert sleeper.status == "exited"
    box.remove()
    sleeper.remove()


def test_list_with_filters(client):
    a = client.containers.run("busybox", ["sleep", "60"], detach=True, labels={"tier": "web"}, name="a1")
    b = client.containers.create("busybox", ["true"], labels={"tier": "db"}, name="b1")
    assert [c.id for c in client.containers.list()] == [a.id]
    assert {c.id for c in client.containers.list(all=True)} == {a.id, b.id}
    assert [c.id for c in client.containers.list(all=True, filters={"label": "tier=db"})] == [b.id]
    assert [c.id for c in client.containers.list(all=True, filters={"name": "a1"})] == [a.id]
    assert [c.id for c in client.containers.list(all=True, filters={"status": "created"})] == [b.id]
    a.remove(force=True)
    b.remove()


def test_exec_run(client):
    box = client.containers.run("busybox", ["sleep", "60"], detach=True)
    # the sleep: output written at once may be lost (test_exec_output_written_at_once)
    result = box.exec_run(["sh", "-c", "sleep 0.2; echo out; echo err >&2; exit 2"])
    assert result.exit_code == 2 and b"out" in result.output and b"err" in result.output
    code, (out, err) = box.exec_run(["sh", "-c", "sleep 0.2; echo out; echo err >&2"], demux=True)
    assert (code, out, err) == (0, b"out\n", b"err\n")
    box.remove(force=True)


def test_exec_output_written_at_once(client):
    box = client.containers.run("busybox", ["sleep", "60"], detach=True)
    try:
        outputs = [box.exec_run(["echo", "out"]).output for _ in range(40)]
        assert outputs.count(b"out\n") == 40
    finally:
        box.remove(force=True)


def test_exec_with_stdin_over_the_socket(client):
    box = client.containers.run("busybox", ["sleep", "60"], detach=True)
    exec_id = client.api.exec_create(box.id, ["cat"], stdin=True)["Id"]
    sock = client.api.exec_start(exec_id, socket=True)
    raw = sock._sock
    raw.sendall(b"piped\n")
    raw.shutdown(1)  # SHUT_WR: cat sees end of input
    data = b""
    raw.settimeout(10)
    while chunk := raw.recv(4096):
        data += chunk
    sock.close()
    assert data.endswith(b"piped\n")  # after the 8-byte frame header
    assert client.api.exec_inspect(exec_id)["ExitCode"] == 0
    box.remove(force=True)


def test_images_list_get_tag_save_load_remove(client):
    image = client.images.get("busybox")
    assert "busybox:latest" in image.tags
    assert image.id in {i.id for i in client.images.list()}
    assert image.tag("mine/box", "v1") is True
    assert "mine/box:v1" in client.images.get("mine/box:v1").tags
    assert [i.id for i in client.images.list(name="mine/box")] == [image.id]
    archive = b"".join(client.images.get("mine/box:v1").save(named="mine/box:v1"))
    client.images.remove("mine/box:v1")
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get("mine/box:v1")
    [loaded] = client.images.load(archive)
    assert loaded.id == image.id and "mine/box:v1" in loaded.tags
    client.images.remove("mine/box:v1")


def test_image_import(client):
    from tests.fixtures.images import CACHE_DIR, busybox_rootfs_tar
    data = busybox_rootfs_tar(CACHE_DIR).read_bytes()
    answer = client.api.import_image_from_data(data, repository="imported", tag="x")
    assert "sha256:" in answer
    image = client.images.get("imported:x")
    assert image.tags == ["imported:x"]
    client.images.remove("imported:x")


@pytest.mark.xfail(strict=True, raises=docker.errors.NotFound,
                   reason="daemon gap: GET /containers/{id}/export is not routed (404 page not found)")
def test_container_export(client):
    box = client.containers.create("busybox", ["true"])
    try:
        assert len(b"".join(box.export())) > 0
    finally:
        box.remove()


def test_volumes(client):
    volume = client.volumes.create("data", labels={"k": "v"})
    assert volume.name == "data" and client.volumes.get("data").attrs["Labels"] == {"k": "v"}
    assert "data" in [v.name for v in client.volumes.list()]
    client.volumes.create("spare")
    client.volumes.get("spare").remove()
    with pytest.raises(docker.errors.NotFound):
        client.volumes.get("spare")
    pruned = client.volumes.prune(filters={"all": "true"})
    assert "data" in pruned["VolumesDeleted"]
    assert client.volumes.list() == []


def test_events_since_until(client):
    since = int(time.time()) - 1
    box = client.containers.create("busybox", ["true"], name="evented")
    box.remove()
    until = int(time.time()) + 1
    events = list(client.events(since=since, until=until, decode=True,
                                filters={"type": "container"}))
    actions = [e["Action"] for e in events if e.get("Actor", {}).get("ID") == box.id]
    assert actions == ["create", "destroy"]


def test_errors_name_docker_statuses(client):
    with pytest.raises(docker.errors.NotFound) as caught:
        client.containers.get("nope")
    assert caught.value.status_code == 404
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get("no/such:image")
    with pytest.raises(docker.errors.ImageNotFound):
        client.containers.create("no/such:image", ["true"])
    box = client.containers.create("busybox", ["true"], name="taken")
    with pytest.raises(docker.errors.APIError) as conflict:
        client.containers.create("busybox", ["true"], name="taken")
    assert conflict.value.status_code == 409
    box.remove()

"""engine.client against a real daemon (tests/api/conftest.py): the flows the
orchestrator relies on, through docker-py's interface. Endpoints the daemon
does not serve yet (it answers "page not found") are skipped, not failed."""
from __future__ import annotations

import time

import pytest

from engine.client import (
    APIError,
    Container,
    ContainerError,
    DockerClient,
    ImageNotFound,
    NotFound,
    errors,
    from_env,
)
from tests.fixtures.images import CACHE_DIR, busybox_rootfs_tar

pytestmark = pytest.mark.root


@pytest.fixture
def client(daemon):
    with DockerClient(base_url=f"unix://{daemon.socket}", timeout=20) as made:
        yield made


def _served(call, *args, **kwargs):
    """The call's result, or a skip when the daemon lacks the endpoint."""
    try:
        return call(*args, **kwargs)
    except NotFound as error:
        if (error.explanation or "").startswith("page not found"):
            pytest.skip(f"the daemon does not serve this yet: {error.explanation}")
        raise


def test_an_address_where_nothing_listens_is_a_connection_failure(tmp_path):
    client = DockerClient(base_url=f"unix://{tmp_path}/none.sock")
    with pytest.raises(errors.ConnectionFailed):
        client.ping()


def test_system_images_and_errors(client, daemon):
    assert client.ping() is True
    assert client.api.api_version == "1.45"
    assert client.version()["ApiVersion"] == "1.45"
    info = client.info()
    assert info["Images"] == 1 and info["Containers"] == 0
    from_dockyard = from_env({"DOCKYARD_HOST": f"unix://{daemon.socket}", "DOCKER_HOST": "unix:///nonexistent"})
    from_docker = from_env({"DOCKER_HOST": f"unix://{daemon.socket}"})
    assert from_dockyard.ping() and from_docker.ping()
    images = client.images.list()
    assert [image.tags for image in images] == [["busybox:latest"]]
    busybox = client.images.get("busybox:latest")
    assert busybox == images[0] and busybox.short_id.startswith("sha256:")
    with pytest.raises(ImageNotFound) as raised:
        client.images.get("nosuch:latest")
    assert raised.value.status_code == 404 and "No such image" in raised.value.explanation
    with pytest.raises(NotFound) as raised:
        client.containers.get("nosuch")
    assert not isinstance(raised.value, ImageNotFound)
    assert "No such container: nosuch" in raised.value.explanation
    client.containers.create("busybox", ["true"], name="taken")
    with pytest.raises(APIError) as raised:
        client.containers.create("busybox", ["true"], name="taken")
    assert raised.value.status_code == 409 and 'name "/taken" is already in use' in raised.value.explanation
    assert str(raised.value).startswith("409 Client Error for http://localhost/v1.45/containers/create")


def test_create_start_wait_logs_remove_list(client):
    container = client.containers.create("busybox", ["sh", "-c", 'echo "$GREETING from $(pwd)"; exit 4'],
                                         name="flow", environment={"GREETING": "hello"}, working_dir="/tmp",
                                         labels={"app": "flow"})
    assert (container.name, container.status, container.labels) == ("flow", "created", {"app": "flow"})
    assert container.short_id == container.id[:12]
    assert client.containers.get("flow") == container
    assert container.image.tags == ["busybox:latest"]
    container.start()
    assert container.wait()["StatusCode"] == 4
    assert container.logs() == b"hello from /tmp\n"
    stamped = container.logs(timestamps=True)
    assert stamped.endswith(b" hello from /tmp\n") and stamped[:4].isdigit()
    container.reload()
    assert container.status == "exited" and container.attrs["State"]["ExitCode"] == 4
    container.remove()
    with pytest.raises(NotFound):
        client.containers.get(container.id)
    web = client.containers.run("busybox", ["sleep", "30"], detach=True, name="web", labels={"tier": "front"})
    job = client.containers.create("busybox", ["true"], name="job", labels={"tier": "back"})
    assert [c.name for c in client.containers.list()] == ["web"]
    assert sorted(c.name for c in client.containers.list(all=True)) == ["job", "web"]
    assert [c.id for c in client.containers.list(sparse=True)] == [web.id]
    by_name = client.containers.list(all=True, filters={"name": "job"})
    by_label = client.containers.list(all=True, filters={"label": "tier=front"})
    assert [c.id for c in by_name] == [job.id]
    assert [c.id for c in by_label] == [web.id]
    web.remove(force=True)
    job.remove()


def test_run_output_container_error_and_remove(client):
    script = "echo out; echo err >&2"
    assert client.containers.run("busybox", ["sh", "-c", script], remove=True) == b"out\n"
    both = client.containers.run("busybox", ["sh", "-c", script], stderr=True, remove=True)
    assert sorted(both.splitlines()) == [b"err", b"out"]
    assert client.containers.list(all=True) == []
    with pytest.raises(ContainerError) as raised:
        client.containers.run("busybox", "sh -c 'echo out; echo boom >&2; exit 3'", name="failing")
    error = raised.value
    assert (error.exit_status, error.stderr, error.image) == (3, b"boom\n", "busybox")
    assert error.command == "sh -c 'echo out; echo boom >&2; exit 3'" and error.container.name == "failing"
    error.container.reload()
    assert error.container.status == "exited"  # kept without remove=True
    assert _served(client.containers.prune)["ContainersDeleted"] == [error.container.id]
    detached = client.containers.run("busybox", ["sh", "-c", "sleep 0.5"], detach=True, remove=True)
    assert isinstance(detached, Container) and detached.attrs["HostConfig"]["AutoRemove"] is True
    assert detached.wait(condition="removed")["StatusCode"] == 0
    with pytest.raises(NotFound):
        detached.reload()


def test_stop_kill_restart_follow_attach_and_wait_timeout(client):
    container = client.containers.run("busybox", ["sleep", "30"], detach=True, name="sleeper")
    container.reload()
    assert container.status == "running"
    started = time.monotonic()
    with pytest.raises(errors.Timeout):
        container.wait(timeout=0.3)
    assert time.monotonic() - started < 5
    assert [process[-1] for process in _served(container.top)["Processes"]] == ["sleep 30"]
    assert "memory_stats" in _served(container.stats, stream=False)
    _served(container.pause)
    container.reload()
    assert container.status == "paused"
    container.unpause()
    _served(container.rename, "renamed")
    container.reload()
    assert container.name == "renamed"
    container.stop(timeout=1)
    container.reload()
    assert container.status == "exited" and container.attrs["State"]["ExitCode"] == 137
    _served(container.restart, timeout=1)
    container.reload()
    assert container.status == "running"
    container.kill(signal="SIGKILL")
    assert container.wait()["StatusCode"] == 137
    container.remove(force=True)
    counter = client.containers.create("busybox", ["sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.05; done"])
    attached = counter.attach(stream=True)  # before start: the daemon holds it until then, as docker run does
    counter.start()
    assert b"".join(counter.logs(stream=True, follow=True)) == b"1\n2\n3\n"
    assert b"".join(attached) == b"1\n2\n3\n"
    assert counter.logs(tail=1) == b"3\n"
    counter.remove()


def test_exec_run(client):
    container = client.containers.run("busybox", ["sleep", "30"], detach=True)
    result = _served(container.exec_run, ["sh", "-c", "echo in; echo err >&2; exit 2"])
    assert result.exit_code == 2 and sorted(result.output.splitlines()) == [b"err", b"in"]
    demuxed = container.exec_run(["sh", "-c", "echo in; echo err >&2"], demux=True)
    assert demuxed.output == (b"in\n", b"err\n")
    container.remove(force=True)


def test_volumes_create_get_list_remove(client):
    volume = _served(client.volumes.create, "data", labels={"k": "v"})
    assert volume.name == "data" and client.volumes.get("data").attrs["Labels"] == {"k": "v"}
    assert [v.name for v in client.volumes.list()] == ["data"]
    client.containers.run("busybox", ["sh", "-c", "echo kept > /data/f"], volumes={"data": {"bind": "/data"}},
                          remove=True)
    assert client.containers.run("busybox", ["cat", "/data/f"], volumes=["data:/data:ro"], remove=True) == b"kept\n"
    client.volumes.remove("data")
    with pytest.raises(NotFound):
        client.volumes.get("data")


def test_images_tag_remove_save_load(client):
    busybox = client.images.get("busybox")
    assert _served(busybox.tag, "copy", "v1") is True
    assert sorted(client.images.get("copy:v1").tags) == ["busybox:latest", "copy:v1"]
    client.images.remove("copy:v1")
    with pytest.raises(ImageNotFound):
        client.images.get("copy:v1")
    archive = b"".join(_served(busybox.save, named=True))
    client.images.remove("busybox:latest")
    assert client.images.list() == []
    loaded = _served(client.images.load, archive)
    assert [(image.id, image.tags) for image in loaded] == [(busybox.id, ["busybox:latest"])]
    imported = _served(client.images.import_image, busybox_rootfs_tar(CACHE_DIR), repository="imported",
                       tag="v1", changes=['CMD ["echo", "from import"]'])
    assert imported.tags == ["imported:v1"] and imported.attrs["Config"]["Cmd"] == ["echo", "from import"]
    assert client.containers.run("imported:v1", remove=True) == b"from import\n"
    assert len(_served(imported.history)) >= 1

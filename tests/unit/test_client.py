"""engine.client's logic without a daemon: addresses, version negotiation,
docker-py's keyword arguments to the create request (the expected bodies
are what docker-py 7 sends), frame demuxing, JSON streams, error selection.
httpx.MockTransport stands in for the socket."""
from __future__ import annotations

import json
import struct

import httpx
import pytest

from engine.client import APIClient, DockerClient, errors, from_env
from engine.client.client import host_from_env
from engine.client.runargs import _container_path
from engine.client.streams import consume, frames, json_documents, output
from engine.client.transport import DEFAULT_HOST, Endpoint, parse_host
from engine.client.types import HostConfig, Mount
from engine.client.utils import (
    convert_port_bindings,
    convert_volume_binds,
    parse_bytes,
    parse_repository_tag,
)


def frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxI", stream, len(data)) + data


class Recorder:
    """A MockTransport handler: answers by path suffix, keeps the requests."""

    def __init__(self, answers: dict | None = None, api_version: str | None = "1.45") -> None:
        self.answers = answers or {}
        self.api_version = api_version
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/_ping":
            headers = {"Api-Version": self.api_version} if self.api_version else {}
            return httpx.Response(200, text="OK", headers=headers)
        for suffix, answer in self.answers.items():
            if request.url.path.endswith(suffix):
                return answer(request) if callable(answer) else answer
        return httpx.Response(404, json={"message": f"page not found: {request.url.path}"})

    def client(self, **kwargs) -> DockerClient:
        return DockerClient(transport=httpx.MockTransport(self), **kwargs)

    def last(self, suffix: str) -> httpx.Request:
        return [r for r in self.requests if r.url.path.endswith(suffix)][-1]


# -- addresses ------------------------------------------------------------------------
@pytest.mark.parametrize("address, endpoint", [
    (None, Endpoint("http://localhost", "/run/dockyard/engine.sock")),
    ("", Endpoint("http://localhost", "/run/dockyard/engine.sock")),
    ("unix:///var/run/docker.sock", Endpoint("http://localhost", "/var/run/docker.sock")),
    ("http+unix:///run/podman/podman.sock", Endpoint("http://localhost", "/run/podman/podman.sock")),
    ("unix://relative/engine.sock", Endpoint("http://localhost", "relative/engine.sock")),
    ("tcp://127.0.0.1:2375", Endpoint("http://127.0.0.1:2375")),
    ("127.0.0.1:2375", Endpoint("http://127.0.0.1:2375")),
    ("http://docker.local:2375/", Endpoint("http://docker.local:2375")),
    ("https://docker.local:2376", Endpoint("https://docker.local:2376")),
])
def test_addresses(address, endpoint):
    assert parse_host(address) == endpoint


@pytest.mark.parametrize("address, words", [
    ("tcp://127.0.0.1", "port is required"),
    ("ssh://user@host", "not supported"),
    ("ftp://host:21", "Invalid bind address protocol"),
    ("unix:///x?y=1", "Invalid bind address format"),
])
def test_bad_addresses(address, words):
    with pytest.raises(errors.DockerException, match=words):
        parse_host(address)


@pytest.mark.parametrize("environment, address", [
    ({"DOCKYARD_HOST": "unix:///a.sock", "DOCKER_HOST": "unix:///b.sock"}, "unix:///a.sock"),
    ({"DOCKER_HOST": "unix:///b.sock"}, "unix:///b.sock"),
    ({"DOCKYARD_HOST": "", "DOCKER_HOST": ""}, DEFAULT_HOST),
    ({}, "unix:///run/dockyard/engine.sock"),
    ({"DOCKYARD_RUN": "/tmp/dy-run"}, "unix:///tmp/dy-run/engine.sock"),
])
def test_the_address_prefers_dockyard_host_then_docker_host_then_our_socket(environment, address):
    assert host_from_env(environment) == address


@pytest.mark.parametrize("environment", [{"DOCKYARD_HOST": "unix:///a.sock"}, {"DOCKER_HOST": "unix:///b.sock"}])
def test_from_env_with_a_host_given_starts_nothing(environment):
    assert from_env(environment).api.base_url == next(iter(environment.values()))


# -- version negotiation --------------------------------------------------------------
@pytest.mark.parametrize("server, chosen", [("1.45", "1.45"), ("1.41", "1.41"), ("1.47", "1.45"),
                                            ("1.9", "1.9")])
def test_the_api_version_is_the_lower_of_ours_and_the_daemons(server, chosen):
    recorder = Recorder({"/info": httpx.Response(200, json={})}, api_version=server)
    if chosen == "1.9":
        with pytest.raises(errors.InvalidVersion):
            recorder.client().info()
        return
    recorder.client().info()
    assert recorder.last("/info").url.path == f"/v{chosen}/info"
    assert [r.url.path for r in recorder.requests].count("/_ping") == 1


def test_without_api_version_header_the_version_document_decides():
    recorder = Recorder({"/version": httpx.Response(200, json={"ApiVersion": "1.43"}),
                         "/info": httpx.Response(200, json={})}, api_version=None)
    recorder.client().info()
    assert recorder.last("/info").url.path == "/v1.43/info"


def test_a_given_version_is_not_negotiated():
    recorder = Recorder({"/info": httpx.Response(200, json={})})
    DockerClient(version="1.41", transport=httpx.MockTransport(recorder)).info()
    assert [r.url.path for r in recorder.requests] == ["/v1.41/info"]


# -- run/create keyword arguments -> the create request ---------------------------------
BASE = {"AttachStderr": True, "AttachStdin": False, "AttachStdout": True, "NetworkDisabled": False,
        "OpenStdin": False, "StdinOnce": False, "Tty": False, "Image": "busybox"}


def _created(**kwargs) -> tuple[dict, dict]:
    recorder = Recorder({"/containers/create": httpx.Response(201, json={"Id": "c1"}),
                         "/containers/c1/json": httpx.Response(200, json={"Id": "c1"})})
    recorder.client().containers.create("busybox", **kwargs)
    request = recorder.last("/containers/create")
    return json.loads(request.content), dict(request.url.params)


@pytest.mark.parametrize("kwargs, expected", [
    ({"command": "echo hi"}, {"Cmd": ["echo", "hi"], "HostConfig": {"NetworkMode": "default"}}),
    ({"volumes": {"vol": {"bind": "/p", "mode": "rw"}, "/h": {"bind": "/q", "ro": True}}},
     {"HostConfig": {"Binds": ["vol:/p:rw", "/h:/q:ro"], "NetworkMode": "default"},
      "Volumes": {"/p": {}, "/q": {}}}),
    ({"volumes": ["name:/p:ro", "/x:/y", "/anon"], "detach": True},
     {"HostConfig": {"Binds": ["name:/p:ro", "/x:/y", "/anon"], "NetworkMode": "default"},
      "Volumes": {"/anon": {}, "/p": {}, "/y": {}}, "AttachStderr": False, "AttachStdout": False}),
    ({"mounts": [Mount("/t", None, type="tmpfs")], "network_mode": "host", "mem_limit": "512m",
      "cpu_shares": 512, "nano_cpus": 500000000, "pids_limit": 100, "cap_add": ["NET_ADMIN"],
      "cap_drop": ["ALL"], "privileged": True, "read_only": True, "tmpfs": {"/run": "size=1m"},
      "ulimits": [{"name": "nofile", "soft": 10, "hard": 20}], "sysctls": {"net.ipv4.ip_forward": 1},
      "init": True, "extra_hosts": {"h": "1.2.3.4", "a": "5.6.7.8"}, "auto_remove": True, "hostname": "hh",
      "shm_size": "64m"},
     {"HostConfig": {"AutoRemove": True, "CapAdd": ["NET_ADMIN"], "CapDrop": ["ALL"], "CpuShares": 512,
                     "ExtraHosts": ["a:5.6.7.8", "h:1.2.3.4"], "Init": True, "Memory": 536870912,
                     "Mounts": [{"Target": "/t", "Source": None, "Type": "tmpfs", "ReadOnly": False}],
                     "NanoCpus": 500000000, "NetworkMode": "host", "PidsLimit": 100, "Privileged": True,
                     "ReadonlyRootfs": True, "ShmSize": 67108864, "Sysctls": {"net.ipv4.ip_forward": "1"},
                     "Tmpfs": {"/run": "size=1m"}, "Ulimits": [{"Hard": 20, "Name": "nofile", "Soft": 10}]},
      "Hostname": "hh"}),
    ({"tmpfs": ["/run:size=1m", "/tmp"], "extra_hosts": ["x:1.1.1.1"], "read_only": False, "init": False,
      "privileged": False, "environment": [], "labels": ["x", "y"],
      "ports": {"80/tcp": 8080, 53: ("127.0.0.1", 53), "90/udp": [1, 2]}},
     {"ExposedPorts": {"53/tcp": {}, "80/tcp": {}, "90/udp": {}},
      "HostConfig": {"ExtraHosts": ["x:1.1.1.1"], "Init": False, "NetworkMode": "default",
                     "PortBindings": {"53/tcp": [{"HostIp": "127.0.0.1", "HostPort": "53"}],
                                      "80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                                      "90/udp": [{"HostIp": "", "HostPort": "1"}, {"HostIp": "", "HostPort": "2"}]},
                     "ReadonlyRootfs": False, "Tmpfs": {"/run": "size=1m", "/tmp": ""}},
      "Labels": {"x": "", "y": ""}}),
    ({"network": "mynet", "networking_config": {"mynet": {"Aliases": ["a"]}}, "domainname": "d"},
     {"Domainname": "d", "HostConfig": {"NetworkMode": "mynet"},
      "NetworkingConfig": {"EndpointsConfig": {"mynet": {"Aliases": ["a"]}}}}),
])
def test_keyword_arguments_become_dockers_create_body(kwargs, expected):
    body, params = _created(**kwargs)
    assert body == {**BASE, **expected} and params == {}


def test_config_fields_name_and_platform():
    body, params = _created(command=["sh", "-c", "x"], name="n1", environment={"A": "1", "B": None},
                            working_dir="/w", user=1000, entrypoint="/bin/sh -c", labels={"a": "b"}, tty=True,
                            stdin_open=True, platform="linux/amd64")
    assert params == {"name": "n1", "platform": "linux/amd64"}
    assert body == {**BASE, "AttachStdin": True, "StdinOnce": True, "OpenStdin": True, "Tty": True,
                    "Cmd": ["sh", "-c", "x"], "Entrypoint": ["/bin/sh", "-c"], "Env": ["A=1", "B"],
                    "User": "1000", "WorkingDir": "/w", "Labels": {"a": "b"},
                    "HostConfig": {"NetworkMode": "default"}}


@pytest.mark.parametrize("kwargs, error, words", [
    ({"bogus": 1}, TypeError, "run() got an unexpected keyword argument 'bogus'"),
    ({"bogus": 1, "other": 2}, TypeError, "run() got unexpected keyword arguments 'bogus', 'other'"),
    ({"cpu_shares": "5"}, TypeError, "Invalid type for cpu_shares param: expected int"),
    ({"ulimits": {"a": 1}}, TypeError, "Invalid type for ulimits param: expected list"),
    ({"userns_mode": "private"}, ValueError, "Invalid value for userns_mode param: private"),
    ({"network_mode": "host", "ports": {80: 80}}, errors.InvalidArgument, "incompatible with port_bindings"),
    ({"mem_limit": "5x"}, errors.DockerException, "should specify the units"),
])
def test_bad_keyword_arguments(kwargs, error, words):
    with pytest.raises(error) as raised:
        _created(**kwargs)
    assert words in str(raised.value)


def test_run_refuses_unknown_arguments_before_asking_the_daemon():
    recorder = Recorder()
    with pytest.raises(TypeError, match="'colour'"):
        recorder.client(version="1.45").containers.run("busybox", "true", colour="red")
    assert recorder.requests == []


def test_host_config_rows_match_docker_py():
    assert HostConfig("1.45", mem_reservation="1k", memswap_limit=-1, group_add=[10, "audio"],
                      devices=["/dev/fuse"], restart_policy={"Name": "always"}, cgroupns="private") == {
        "MemoryReservation": 1024, "MemorySwap": -1, "GroupAdd": ["10", "audio"],
        "Devices": [{"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"}],
        "RestartPolicy": {"Name": "always"}, "CgroupnsMode": "private", "NetworkMode": "default"}
    with pytest.raises(errors.InvalidVersion):
        HostConfig("1.45", init_path="/x")


# -- conversions -----------------------------------------------------------------------
@pytest.mark.parametrize("value, size", [("512m", 536870912), ("1k", 1024), ("2gb", 2147483648), ("100", 100),
                                         (64, 64), ("1.5k", 1536)])
def test_parse_bytes(value, size):
    assert parse_bytes(value) == size


def test_binds_ports_and_container_paths():
    assert convert_volume_binds({"v": {"bind": "/p", "mode": "ro", "propagation": "rshared"}, "/h": "/q"}) == \
        ["v:/p:ro,rshared", "/h:/q:rw"]
    assert convert_port_bindings({8080: None}) == {"8080/tcp": [{"HostIp": "", "HostPort": ""}]}
    assert [_container_path(b) for b in ("name:/p:ro", "/x:/y", "/anon", "v:/p:rw", "/a:ro")] == \
        ["/p", "/y", "/anon", "/p", "/a"]
    assert parse_repository_tag("localhost:5000/app") == ("localhost:5000/app", None)
    assert parse_repository_tag("localhost:5000/app:v1") == ("localhost:5000/app", "v1")
    assert parse_repository_tag("app@sha256:abc") == ("app", "sha256:abc")


# -- streams ---------------------------------------------------------------------------
STREAM = frame(1, b"out 1\n") + frame(2, b"err\n") + frame(1, b"") + frame(1, b"out 2\n")


@pytest.mark.parametrize("cut", [1, 3, 8, 9, 100])
def test_frames_are_found_however_the_network_cuts_the_stream(cut):
    chunks = [STREAM[i:i + cut] for i in range(0, len(STREAM), cut)]
    assert list(frames(chunks)) == [(1, b"out 1\n"), (2, b"err\n"), (1, b"out 2\n")]


def test_a_stream_cut_short_keeps_the_partial_payload_and_drops_a_partial_header():
    assert list(frames([frame(1, b"whole") + frame(2, b"partial")[:-3]])) == [(1, b"whole"), (2, b"part")]
    assert list(frames([frame(1, b"whole") + b"\x01\x00\x00"])) == [(1, b"whole")]


def test_output_joined_demuxed_and_raw():
    assert consume(output([STREAM], tty=False)) == b"out 1\nerr\nout 2\n"
    assert consume(output([STREAM], tty=False, demux=True), demux=True) == (b"out 1\nout 2\n", b"err\n")
    assert consume(output([frame(1, b"x")], tty=False, demux=True), demux=True) == (b"x", None)
    assert consume(output([b"\x01raw", b" bytes"], tty=True)) == b"\x01raw bytes"


def test_json_documents_across_chunks():
    text = b'{"stream": "a"}\n{"stream"' + b': "b"}{"status": "c"}\n'
    assert list(json_documents([text[i:i + 5] for i in range(0, len(text), 5)])) == \
        [{"stream": "a"}, {"stream": "b"}, {"status": "c"}]
    with pytest.raises(errors.StreamParseError):
        list(json_documents([b'{"broken": ']))


def test_logs_decode_frames_by_content_type_and_join_them():
    multiplexed = httpx.Response(200, content=STREAM,
                                 headers={"Content-Type": "application/vnd.docker.multiplexed-stream"})
    raw = httpx.Response(200, content=b"tty output", headers={"Content-Type": "application/vnd.docker.raw-stream"})
    recorder = Recorder({"/containers/m/logs": multiplexed, "/containers/r/logs": raw})
    client = recorder.client()
    assert client.api.logs("m") == b"out 1\nerr\nout 2\n"
    assert list(client.api.logs("m", stream=True)) == [b"out 1\n", b"err\n", b"out 2\n"]
    assert client.api.logs("r") == b"tty output"
    assert dict(recorder.last("/logs").url.params) == {"stderr": "1", "stdout": "1", "timestamps": "0",
                                                       "follow": "0", "tail": "all"}


def test_list_sends_docker_filters_and_booleans():
    recorder = Recorder({"/containers/json": httpx.Response(200, json=[])})
    recorder.client().containers.list(all=True, filters={"label": ["a=b"], "name": "web"})
    assert dict(recorder.last("/containers/json").url.params) == {
        "limit": "-1", "all": "1", "size": "0", "trunc_cmd": "0",
        "filters": json.dumps({"label": ["a=b"], "name": ["web"]})}


# -- errors ----------------------------------------------------------------------------
def _answer(status: int, message: str | None = None, text: str = "") -> httpx.Response:
    request = httpx.Request("GET", "http://localhost/v1.45/images/x/json")
    if message is None:
        return httpx.Response(status, text=text, request=request)
    return httpx.Response(status, json={"message": message}, request=request)


@pytest.mark.parametrize("answer, kind", [
    (_answer(404, "No such image: nosuch:latest"), errors.ImageNotFound),
    (_answer(404, "pull access denied for x, repository does not exist or may require 'docker login'"),
     errors.ImageNotFound),
    (_answer(404, "No such container: nosuch"), errors.NotFound),
    (_answer(404, "No such volume: v"), errors.NotFound),
    (_answer(409, 'Conflict. The container name "/a" is already in use'), errors.APIError),
    (_answer(500, None, "plain text\n"), errors.APIError),
])
def test_the_error_is_chosen_by_status_and_dockers_words(answer, kind):
    error = errors.from_response(answer)
    assert type(error) is kind and error.status_code == answer.status_code
    assert error.explanation == (answer.json()["message"] if answer.text.startswith("{") else "plain text")


def test_an_api_errors_text_is_docker_pys():
    error = errors.from_response(_answer(404, "No such image: x"))
    assert str(error) == '404 Client Error for http://localhost/v1.45/images/x/json: Not Found ("No such image: x")'
    assert error.is_client_error() and not error.is_server_error()


def test_errors_from_the_daemon_reach_the_caller_typed():
    recorder = Recorder({"/images/nosuch/json": httpx.Response(404, json={"message": "No such image: nosuch"})})
    with pytest.raises(errors.ImageNotFound):
        recorder.client().images.get("nosuch")


@pytest.mark.parametrize("raised, kind", [
    (httpx.ConnectError("[Errno 2] No such file or directory"), errors.ConnectionFailed),
    (httpx.ReadTimeout("timed out"), errors.Timeout),
    (httpx.RemoteProtocolError("peer closed connection"), errors.TransportError),
])
def test_transport_failures_become_client_errors(raised, kind):
    def handler(request):
        raise raised
    client = DockerClient(base_url="unix:///nowhere.sock", version="1.45", transport=httpx.MockTransport(handler))
    with pytest.raises(kind) as caught:
        client.info()
    assert isinstance(caught.value, errors.DockerException) and "unix:///nowhere.sock" in str(caught.value)


def test_api_client_needs_an_id():
    with pytest.raises(errors.NullResource):
        APIClient(version="1.45", transport=httpx.MockTransport(Recorder())).inspect_container(None)


def test_the_client_imports_no_other_engine_module():
    """It must work against any Docker-compatible daemon, so it knows none of ours."""
    import ast
    from pathlib import Path
    package = Path(__file__).resolve().parents[2] / "engine" / "client"
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for name in names:
                assert not (name.startswith("engine.") and not name.startswith("engine.client")), (path, name)
                assert not name.startswith("orchestrator"), (path, name)


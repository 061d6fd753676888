"""Bad input on the engine's socket: each gets docker's status code and a
clear message, and the daemon keeps serving (a ``/_ping`` after each)."""
from __future__ import annotations

import json
import socket
import threading

import pytest

pytestmark = pytest.mark.root


def _exchange(daemon, request: bytes) -> tuple[int, dict, bytes]:
    """Status, headers and body of the answer to one raw request."""
    answer = daemon.raw(request)
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    if headers.get("Transfer-Encoding") == "chunked":
        body = _unchunk(body)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, body = body.partition(b"\r\n")
        n = int(size, 16)
        if n == 0:
            break
        out, body = out + body[:n], body[n + 2:]
    return out


def _post(path: str, body: bytes, content_type: str = "application/json") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: docker\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n".encode()


def _alive(daemon) -> None:
    status, _, body = _exchange(daemon, _get("/_ping"))
    assert (status, body) == (200, b"OK")


def _error(daemon, request: bytes, status: int, *words: str) -> str:
    got, _, body = _exchange(daemon, request)
    assert got == status, body
    message = json.loads(body)["message"]
    assert "Traceback" not in message
    for word in words:
        assert word in message, message
    _alive(daemon)
    return message


def _create(body) -> bytes:
    text = body if isinstance(body, bytes) else json.dumps(body).encode()
    return _post("/v1.45/containers/create", text)


def test_malformed_json_and_a_body_that_is_not_an_object(daemon):
    _error(daemon, _create(b'{"Image": "busybox",'), 400, "JSON")
    _error(daemon, _create(b'["busybox"]'), 400, "object")
    _error(daemon, _create(b'"busybox"'), 400, "object")
    _error(daemon, _post("/v1.45/volumes/create", b"{nope"), 400, "JSON")


def test_unknown_fields(daemon):
    # docker ignores unknown top-level fields
    status, _, body = _exchange(daemon, _create({"Image": "busybox", "Cmd": ["true"], "Frobnicate": 1}))
    assert status == 201, body
    cid = json.loads(body)["Id"]
    assert _exchange(daemon, (f"DELETE /v1.45/containers/{cid} HTTP/1.1\r\nHost: d\r\n"
                              "Connection: close\r\n\r\n").encode())[0] == 204
    # a HostConfig field the runtime cannot honour is refused, by name
    _error(daemon, _create({"Image": "busybox", "HostConfig": {"Runtime": "runsc"}}), 400, "Runtime")
    _error(daemon, _create({"Image": "busybox", "HostConfig": {"DeviceCgroupRules": ["c 1:3 mr"]}}),
           400, "DeviceCgroupRules")


@pytest.mark.parametrize("body, field", [
    ({"Image": "busybox", "Cmd": 5}, "Cmd"),
    ({"Image": "busybox", "Entrypoint": 5}, "Entrypoint"),
    ({"Image": 7}, "Image"),
    ({"Image": "busybox", "HostConfig": "x"}, "HostConfig"),
    ({"Image": "busybox", "Env": {"A": "1"}}, "Env"),
    ({"Image": "busybox", "Labels": [1]}, "Labels"),
    ({"Image": "busybox", "HostConfig": {"Binds": "x"}}, "Binds"),
    ({"Image": "busybox", "HostConfig": {"Memory": "lots"}}, "Memory"),
    ({"Image": "busybox", "Tty": "yes"}, "Tty"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_wrong_types(daemon, body, field):
    """docker's 400 (json: cannot unmarshal ...), and nothing is created."""
    _error(daemon, _create(body), 400, field)
    assert daemon.docker("ps", "-aq").stdout == b""


def test_wrong_types_leave_the_daemon_serving(daemon):
    for body in ({"Image": "busybox", "Cmd": 5}, {"Image": 7}, {"Image": "busybox", "HostConfig": "x"}):
        status, _, answer = _exchange(daemon, _create(body))
        assert status in (400, 500), answer
        assert "Traceback" not in json.loads(answer)["message"]
        _alive(daemon)
    assert json.loads(_exchange(daemon, _get("/v1.45/containers/json?all=1"))[2]) == []


def test_a_json_body_over_8_mib_is_refused_with_413(daemon):
    size = 64 * 2**20 + 1
    head = (f"POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\nConnection: close\r\n\r\n").encode()
    with socket.socket(socket.AF_UNIX) as connection:
        connection.settimeout(20)
        connection.connect(str(daemon.socket))
        connection.sendall(head)

        def send_body() -> None:
            try:
                chunk = b" " * 2**20
                for _ in range(65):
                    connection.sendall(chunk)
            except OSError:
                pass  # the daemon answered and closed: expected

        sender = threading.Thread(target=send_body, daemon=True)
        sender.start()
        answer = _read_to_end(connection)
        sender.join(20)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"a JSON request body must be smaller than 8388608 bytes" in answer
    _alive(daemon)


def test_a_content_length_over_64_gib_is_refused_before_the_body(daemon):
    head = (b"POST /v1.45/images/load HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\n"
            b"Content-Length: 100000000000\r\n\r\n")
    with socket.socket(socket.AF_UNIX) as connection:
        connection.settimeout(10)
        connection.connect(str(daemon.socket))
        connection.sendall(head)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 "), answer
    assert b"larger than 68719476736 bytes" in answer
    _alive(daemon)


def test_paths_with_dot_dot(daemon):
    for path in ("/containers/../../etc/passwd/json", "/v1.45/containers/../../etc/passwd/json",
                 "/v1.45/images/../../../etc/passwd/json", "/v1.45/volumes/.."):
        status, _, body = _exchange(daemon, _get(path))
        assert status in (301, 400, 404), (path, status, body)
        assert b"root:" not in body
        _alive(daemon)


def test_api_versions_out_of_range(daemon):
    _error(daemon, _get("/v9.99/containers/json"), 400, "too new", "1.45")
    _error(daemon, _get("/v1.10/containers/json"), 400, "too old", "1.24")
    _error(daemon, _get("/v1.45/no/such/endpoint"), 404, "page not found")


def test_a_request_line_that_is_not_http(daemon):
    answer = daemon.raw(b"HELLO THERE\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    answer = daemon.raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64)  # a TLS hello
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400 "), answer
    _alive(daemon)


def test_a_header_too_large(daemon):
    big = b"X-Big: " + b"a" * (2 * 2**20) + b"\r\n"
    with socket.socket(socket.AF_UNIX) as connection:
        connection.settimeout(10)
        connection.connect(str(daemon.socket))
        try:
            connection.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n" + big + b"\r\n")
        except OSError:
            pass
        answer = _read_to_end(connection)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    _alive(daemon)


def _read_to_end(connection) -> bytes:
    """What the daemon sends until it closes (a reset after its answer is fine)."""
    answer = b""
    try:
        while chunk := connection.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer


def test_clients_that_leave_mid_request(daemon):
    for partial in (b"GET /_pi", b"POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\n",
                    b"POST /v1.45/containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 100\r\n\r\n{\"Im"):
        with socket.socket(socket.AF_UNIX) as connection:
            connection.connect(str(daemon.socket))
            connection.sendall(partial)
        _alive(daemon)
    # and one that leaves while its answer streams
    with socket.socket(socket.AF_UNIX) as connection:
        connection.connect(str(daemon.socket))
        connection.sendall(_get("/v1.45/events"))
        connection.settimeout(5)
        assert connection.recv(100).startswith(b"HTTP/1.1 200")
    _alive(daemon)
    assert json.loads(_exchange(daemon, _get("/v1.45/containers/json?all=1"))[2]) == []


@pytest.mark.parametrize("field, value", [
    ("Links", ["other:alias"]), ("CpuPeriod", 100000),
    ("CpuQuota", 50000), ("OomKillDisable", True),
])
def test_host_config_fields_not_honoured_yet_are_refused_by_name(daemon, field, value):
    _error(daemon, _create({"Image": "busybox", "HostConfig": {field: value}}), 400, field)


def test_an_older_api_version_is_served(daemon):
    status, _, body = _exchange(daemon, b"GET /v1.41/version HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
    assert status == 200 and json.loads(body)["ApiVersion"] == "1.45"


def test_a_large_image_import_is_spooled_not_refused(daemon, tmp_path):
    import io
    import os
    import tarfile
    tar = tmp_path / "big.tar"
    with tarfile.open(tar, "w") as archive:
        data = os.urandom(12 * 2**20)  # more than is kept in memory
        info = tarfile.TarInfo("big")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    with open(tar, "rb") as handle:
        done = daemon.docker("import", "-", "big:1", input=handle.read())
    assert done.returncode == 0, done.stderr
    assert daemon.docker("image", "inspect", "big:1", "--format", "{{.Size}}").stdout.strip() != b"0"

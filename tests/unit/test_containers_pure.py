"""Container logic without a kernel: Entrypoint/Cmd, environment, users,
the state machine's rules and wording, json-file logs."""
from __future__ import annotations

import json

import pytest

from engine.containers import config, lifecycle, logs
from engine.containers.errors import Conflict, InvalidRequest


@pytest.mark.parametrize("image, request_, expected", [
    ({"Cmd": ["sh"]}, {}, ["sh"]),
    ({"Entrypoint": ["/init"], "Cmd": ["a"]}, {}, ["/init", "a"]),
    ({"Entrypoint": ["/init"], "Cmd": ["a"]}, {"Cmd": ["b"]}, ["/init", "b"]),
    # a request's entrypoint drops the image's Cmd
    ({"Entrypoint": ["/init"], "Cmd": ["a"]}, {"Entrypoint": ["/other"]}, ["/other"]),
    ({"Cmd": ["a"]}, {"Entrypoint": ["/e"], "Cmd": ["x", "y"]}, ["/e", "x", "y"]),
    ({"Entrypoint": ["/init"]}, {"Entrypoint": []}, None),
    ({"Cmd": ["sh"]}, {"Cmd": "echo 'a b'"}, ["echo", "a b"]),
])
def test_command_follows_dockers_rules(image, request_, expected):
    if expected is None:
        with pytest.raises(InvalidRequest, match="no command"):
            config.command(image, request_)
    else:
        assert config.command(image, request_) == expected


def test_environment_request_wins_and_path_has_a_default():
    env = config.environment({"Env": ["A=1", "B=2"]}, {"Env": ["B=3"], "Hostname": "h"})
    assert env[:2] == ["A=1", "B=3"] and "HOSTNAME=h" in env
    assert any(e.startswith("PATH=/usr/local/sbin") for e in env)


PASSWD = "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
GROUP = "root:x:0:\napp:x:1000:\nextra:x:2000:app\nwheel:x:10:root,app\n"


@pytest.mark.parametrize("spec, expected", [
    ("", (0, 0, [10])),
    ("app", (1000, 1000, [10, 2000])),
    ("1000", (1000, 1000, [10, 2000])),
    ("4242", (4242, 0, [])),
    ("app:extra", (1000, 2000, [10])),
    ("app:33", (1000, 33, [10, 2000])),
    ("4242:4343", (4242, 4343, [])),
])
def test_user_resolves_in_the_images_files(spec, expected):
    files = {"/etc/passwd": PASSWD, "/etc/group": GROUP}
    assert config.user(spec, files.get) == expected


@pytest.mark.parametrize("spec, message", [("nobody", "unable to find user nobody"),
                                           ("app:nogroup", "unable to find group nogroup")])
def test_unknown_user_or_group_is_an_error(spec, message):
    with pytest.raises(InvalidRequest, match=message):
        config.user(spec, {"/etc/passwd": PASSWD, "/etc/group": GROUP}.get)


def test_unsupported_host_config_fields_are_named():
    assert config.unsupported({"Memory": 1, "Devices": [{"PathOnHost": "/dev/kvm"}], "Runtime": ""}) \
        == ["Devices"]


@pytest.mark.parametrize("operation, state, message", [
    ("kill", "exited", "Cannot kill container: web: Container web is not running"),
    ("pause", "paused", "is already paused"),
    ("unpause", "running", "Container web is not paused"),
    ("remove", "running", 'cannot remove container "/web": container is running: stop the container'),
    ("start", "paused", "cannot start a paused container"),
])
def test_illegal_transitions_use_dockers_wording(operation, state, message):
    with pytest.raises(Conflict, match=message):
        lifecycle.check(operation, state, "web")


@pytest.mark.parametrize("record, alive, frozen, exit_record, state", [
    ({"pid": 0}, False, False, None, "created"),
    ({"pid": 5}, True, False, None, "running"),
    ({"pid": 5}, True, True, None, "paused"),
    ({"pid": 5}, False, False, {"exit_code": 3}, "exited"),
    ({"pid": 5}, False, False, None, "dead"),
])
def test_state_is_derived_from_the_kernel(record, alive, frozen, exit_record, state):
    assert lifecycle.derive(record, alive, frozen, exit_record) == state


def test_log_writer_splits_lines_keeps_partial_ones_and_rotates(tmp_path):
    path = tmp_path / "c-json.log"
    writer = logs.LogWriter(path, max_size="200", max_file=3)
    writer.write("stdout", b"one\ntw")
    writer.write("stdout", b"o\n")
    writer.write("stderr", b"err")
    writer.flush("stderr")
    for i in range(10):
        writer.write("stdout", f"line {i}\n".encode())
    writer.close()
    entries = logs.read(path)
    texts = [e.data for e in entries]
    assert b"line 9\n" == texts[-1]
    assert len(list(tmp_path.glob("c-json.log*"))) <= 3  # rotation keeps max-file files
    first = json.loads(path.read_text().splitlines()[0])
    assert set(first) == {"log", "stream", "time"} and first["time"].endswith("Z")
    assert [e.data for e in logs.read(path, tail=2)] == [b"line 8\n", b"line 9\n"]


def test_log_reader_orders_rotated_files_oldest_first(tmp_path):
    path = tmp_path / "c-json.log"
    writer = logs.LogWriter(path, max_size="120", max_file=5)
    for i in range(12):
        writer.write("stdout", f"{i:02d}\n".encode())
    writer.close()
    numbers = [int(e.data) for e in logs.read(path)]
    assert numbers == sorted(numbers) and numbers[-1] == 11


@pytest.mark.parametrize("text, size", [("10m", 10_000_000), ("100k", 100_000), ("2g", 2 * 10 ** 9),
                                        ("512", 512), (None, 0), ("-1", 0)])
def test_max_size_is_read_like_docker(text, size):
    assert logs.parse_size(text) == size

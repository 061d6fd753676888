"""A container's stdin: /dev/null unless OpenStdin, then a pipe (or with a
tty the terminal) that the engine keeps open and hands to attach."""
from __future__ import annotations

import os
import time

import pytest

from engine.containers.errors import Conflict

pytestmark = pytest.mark.root


def _output(engine, cid: str) -> bytes:
    return b"".join(e.data for e in engine.logs(cid))


def _running_after(engine, cid: str, seconds: float) -> bool:
    time.sleep(seconds)
    return engine.inspect(cid)["State"]["Running"]


def test_without_open_stdin_the_process_reads_end_of_file(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["cat"], "HostConfig": {}})
    engine.start(cid)
    assert engine.wait(cid, timeout=10)["StatusCode"] == 0
    with pytest.raises(Conflict, match="You cannot attach to a stopped container"):
        engine.stdin(cid)
    engine.remove(cid)


def test_stdin_once_the_first_attach_closes_it(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["sh", "-c", "cat; echo done"], "HostConfig": {},
                         "OpenStdin": True, "StdinOnce": True})
    engine.start(cid)
    assert _running_after(engine, cid, 0.2)  # waits for input, does not see EOF
    fd = engine.stdin(cid)
    os.write(fd, b"hello\n")
    os.close(fd)
    assert engine.wait(cid, timeout=10)["StatusCode"] == 0
    assert _output(engine, cid) == b"hello\ndone\n"
    engine.remove(cid)


def test_open_stdin_stays_open_between_attaches(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["cat"], "HostConfig": {}, "OpenStdin": True})
    engine.start(cid)
    for word in (b"one\n", b"two\n"):
        fd = engine.stdin(cid)
        os.write(fd, word)
        os.close(fd)
    assert _running_after(engine, cid, 0.2)
    deadline = time.monotonic() + 5
    while _output(engine, cid) != b"one\ntwo\n" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _output(engine, cid) == b"one\ntwo\n"
    engine.kill(cid)
    engine.wait(cid, timeout=10)
    engine.remove(cid)


def test_with_a_tty_stdin_is_the_terminal(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["sh", "-c", "read line; echo got:$line"],
                         "HostConfig": {}, "OpenStdin": True, "Tty": True})
    engine.start(cid)
    fd = engine.stdin(cid)
    os.write(fd, b"abc\n")
    os.close(fd)
    assert engine.wait(cid, timeout=10)["StatusCode"] == 0
    assert b"got:abc" in _output(engine, cid)
    engine.remove(cid)


def test_attach_needs_open_stdin(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["sleep", "30"], "HostConfig": {}})
    engine.start(cid)
    with pytest.raises(Conflict, match="not created with an open stdin"):
        engine.stdin(cid)
    engine.remove(cid, force=True)

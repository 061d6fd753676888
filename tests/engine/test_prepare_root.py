"""A container's PID 1 is prepared at create and only let go at start
(runc create/start): the supervisor's ``prepare``, ``start`` and ``discard``."""
from __future__ import annotations

import os
import time

import pytest

from engine.containers import supervisor
from engine.containers.errors import InvalidRequest
from engine.runtime import process
from tests.fixtures.containers import run_container

pytestmark = pytest.mark.root


def _prepared_pid(engine, cid: str) -> int:
    """The supervisor's child whose mount namespace has this container's root mounted."""
    sup = supervisor.request(engine.run, {"op": "ping"})["pid"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for child in process.children_of(sup):
            try:
                with open(f"/proc/{child}/mountinfo") as handle:
                    if f"/containers/{cid}/" in handle.read():
                        return child
            except FileNotFoundError:
                pass
        time.sleep(0.01)
    raise AssertionError(f"no prepared process for {cid}")


def _mounted_root(pid: int) -> bool:
    with open(f"/proc/{pid}/mountinfo") as handle:
        return any(line.split()[4] == "/" and "overlay" in line for line in handle)


def test_create_prepares_the_pid_1_and_start_lets_it_exec(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["sh", "-c", "echo $$; sleep 30"], "HostConfig": {}})
    pid = _prepared_pid(engine, cid)
    deadline = time.monotonic() + 5
    while not _mounted_root(pid) and time.monotonic() < deadline:  # it builds while we go on
        time.sleep(0.01)
    assert _mounted_root(pid)
    assert engine.inspect(cid)["State"]["Status"] == "created"
    engine.start(cid)
    assert engine.inspect(cid)["State"]["Pid"] == pid
    engine.remove(cid, force=True)


def test_removing_a_created_container_kills_its_prepared_pid_1(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["true"], "HostConfig": {}})
    pid = _prepared_pid(engine, cid)
    start = process.start_time(pid)
    engine.remove(cid)
    assert not process.alive(pid, start)
    assert not engine.cgroups.exists(cid)


def test_start_prepares_anew_when_the_spec_changed(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["echo", "old"], "HostConfig": {}})
    old = _prepared_pid(engine, cid)
    request = engine._start_request(engine._find(cid), "start")
    request["spec"]["args"] = ["echo", "new"]
    request["key"] = "a later revision"
    without_spec = {k: v for k, v in request.items() if k != "spec"}
    assert supervisor.request(engine.run, without_spec) == {"unprepared": True}
    reply = supervisor.request(engine.run, request)
    assert reply["pid"] != old
    assert engine.wait(cid, timeout=10)["StatusCode"] == 0
    assert [e.data for e in engine.logs(cid)] == [b"new\n"]
    engine.remove(cid)


def test_a_set_up_failure_is_reported_by_start_and_leaves_nothing(engine, tmp_path):
    afile = tmp_path / "a-file"
    afile.write_text("x")
    cid = engine.create({"Image": "busybox", "Cmd": ["true"],  # a file onto a directory
                         "HostConfig": {"Binds": [f"{afile}:/etc"]}})
    with pytest.raises(InvalidRequest, match="failed to create task for container: .*etc"):
        engine.start(cid)
    assert engine.inspect(cid)["State"]["Status"] == "created"
    engine.remove(cid)


def test_a_container_created_before_the_supervisor_restarted_still_starts(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["echo", "hi"], "HostConfig": {}})
    pid = _prepared_pid(engine, cid)
    engine.shutdown()  # discards what it prepared
    deadline = time.monotonic() + 5
    while process.start_time(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.start_time(pid) is None
    engine.start(cid)
    assert engine.wait(cid, timeout=10)["StatusCode"] == 0
    assert [e.data for e in engine.logs(cid)] == [b"hi\n"]
    engine.remove(cid)
    assert run_container(engine, "busybox", "true")[0] == 0
    assert os.path.exists(engine.run / supervisor.SOCKET)


def test_only_so_many_containers_are_prepared_at_once(engine):
    from engine.containers.supervisor import MAX_PREPARED
    ids = [engine.create({"Image": "busybox", "Cmd": ["echo", str(i)], "HostConfig": {}})
           for i in range(MAX_PREPARED + 4)]
    sup = supervisor.request(engine.run, {"op": "ping"})["pid"]
    time.sleep(0.5)
    assert len(process.children_of(sup)) <= MAX_PREPARED + 1  # and the spare
    for index, cid in enumerate(ids):  # the ones not prepared are prepared at start
        engine.start(cid)
        assert engine.wait(cid, timeout=10)["StatusCode"] == 0
        assert [e.data for e in engine.logs(cid)] == [f"{index}\n".encode()]
        engine.remove(cid)

"""The supervisor's spare: a container's PID 1 forked ahead of need, so
that a start does not wait for a fork (engine.runtime.process.Spare)."""
from __future__ import annotations

import os
import signal
import time

import pytest

from engine.containers import supervisor
from engine.runtime import process
from tests.fixtures.containers import run_container

pytestmark = pytest.mark.root


def _spares(engine) -> list[int]:
    """Children of the supervisor that are in a PID namespace of their own
    and are no container's PID 1."""
    sup = supervisor.request(engine.run, {"op": "ping"})["pid"]
    own = os.stat(f"/proc/{sup}/ns/pid").st_ino
    pids = {engine.inspect(c["Id"])["State"]["Pid"] for c in engine.list(all=True)}
    found = []
    for child in process.children_of(sup):
        try:
            if os.stat(f"/proc/{child}/ns/pid").st_ino != own and child not in pids:
                found.append(child)
        except FileNotFoundError:
            pass
    return found


def _settled_spare(engine) -> int:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        spares = _spares(engine)
        if len(spares) == 1:
            return spares[0]
        time.sleep(0.01)
    raise AssertionError(f"expected one spare, found {_spares(engine)}")


def test_a_start_uses_the_spare_and_the_supervisor_forks_the_next(engine):
    assert run_container(engine, "busybox", "true")[0] == 0  # starts the supervisor
    spare = _settled_spare(engine)
    cid = engine.create({"Image": "busybox", "Cmd": ["sleep", "30"], "HostConfig": {}})
    engine.start(cid)
    assert engine.inspect(cid)["State"]["Pid"] == spare
    assert _settled_spare(engine) not in (spare, 0)
    engine.remove(cid, force=True)


def test_a_dead_spare_is_replaced_by_a_fork_at_start(engine):
    assert run_container(engine, "busybox", "true")[0] == 0
    spare = _settled_spare(engine)
    os.kill(spare, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while process.start_time(spare) is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert run_container(engine, "busybox", "sh", "-c", "echo $$; echo err >&2") == (0, "1\n", "err\n")


def test_shutdown_takes_the_spare_with_it(engine):
    assert run_container(engine, "busybox", "true")[0] == 0
    spare = _settled_spare(engine)
    engine.shutdown()
    deadline = time.monotonic() + 5
    while process.start_time(spare) is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.start_time(spare) is None

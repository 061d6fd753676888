"""engine.runtime.cgroups on the real kernel (root). Each test works under
its own parent group ``dockyard-test-<random>`` so a user's engine is never
touched, and ends with a leak check: no group, no directory named after the
parent in any hierarchy, no process left running.

Written against this machine's cgroup v1 (hybrid) layout; the reads go
through ``limit_file`` so the same tests run on a pure v2 host.
"""
from __future__ import annotations

import glob
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.runtime.cgroups import CGROUP_ROOT, Limits, detect

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not (CGROUP_ROOT / "memory" / "cgroup.procs").exists()
                       and not (CGROUP_ROOT / "cgroup.controllers").exists(), reason="no cgroupfs"),
]

MB = 2**20
NAME = "c1"


def leftovers(parent: str) -> list[str]:
    return glob.glob(str(CGROUP_ROOT / "*" / parent)) + glob.glob(str(CGROUP_ROOT / parent))


@pytest.fixture
def driver():
    parent = f"dockyard-test-{secrets.token_hex(4)}"
    cg = detect(parent=parent)
    yield cg
    left = cg.list()
    for name in left:
        cg.destroy(name)
    cg.remove_parent()
    assert left == [], "the test left groups behind"
    assert leftovers(parent) == []


@pytest.fixture
def spawn():
    """Start processes held at a gate (a line on stdin) so that they can be
    put into a group before they do anything; all must be gone at the end."""
    started: list[subprocess.Popen] = []

    def start(*argv: str, stderr=subprocess.DEVNULL) -> subprocess.Popen:
        gated = ["sh", "-c", 'read go; exec "$@"', "gate", *argv]
        process = subprocess.Popen(gated, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr)
        started.append(process)
        return process

    yield start
    alive = [p.pid for p in started if p.poll() is None]
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=5)
    assert alive == [], "processes outlived their group"


def release(process: subprocess.Popen) -> None:
    process.stdin.write(b"go\n")
    process.stdin.close()


def limit_file(cg, controller: str, v1_file: str, v2_file: str) -> str:
    if cg.version == 1:
        return (cg.mounts[controller] / cg.parent / NAME / v1_file).read_text().strip()
    return (cg.path(NAME) / v2_file).read_text().strip()


def proc_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_limits_are_written_and_read_back(driver):
    driver.create(NAME)
    driver.apply(NAME, Limits(memory=64 * MB, memory_swap=128 * MB, pids=7, cpus=0.5, cpu_shares=512,
                              cpuset_cpus="0", cpuset_mems="0"))
    assert limit_file(driver, "memory", "memory.limit_in_bytes", "memory.max") == str(64 * MB)
    if driver.supports_swap_limit(NAME):
        assert limit_file(driver, "memory", "memory.memsw.limit_in_bytes", "memory.swap.max") == str(
            128 * MB if driver.version == 1 else 64 * MB)
    assert limit_file(driver, "pids", "pids.max", "pids.max") == "7"
    assert limit_file(driver, "cpuset", "cpuset.cpus", "cpuset.cpus") == "0"
    if driver.version == 1:
        assert limit_file(driver, "cpu", "cpu.cfs_quota_us", "") == "50000"
        assert limit_file(driver, "cpu", "cpu.cfs_period_us", "") == "100000"
        assert limit_file(driver, "cpu", "cpu.shares", "") == "512"
    else:
        assert limit_file(driver, "cpu", "", "cpu.max") == "50000 100000"
        assert limit_file(driver, "cpu", "", "cpu.weight") == "20"
    driver.apply(NAME, Limits(memory=-1, pids=-1, cpus=0))        # and back to unlimited
    assert driver.stats(NAME).memory_limit is None
    assert limit_file(driver, "pids", "pids.max", "pids.max") == "max"
    driver.destroy(NAME)


def test_v1_cpuset_is_copied_down_and_blkio_weight_lands(driver):
    if driver.version != 1:
        pytest.skip("v1 layout")
    driver.create(NAME)
    cpuset = driver.mounts["cpuset"]
    assert limit_file(driver, "cpuset", "cpuset.cpus", "") == (cpuset / "cpuset.cpus").read_text().strip()
    assert (cpuset / driver.parent / "cpuset.mems").read_text().strip() == (cpuset / "cpuset.mems").read_text().strip()
    driver.apply(NAME, Limits(blkio_weight=300))
    group = driver.mounts["blkio"] / driver.parent / NAME
    weight = group / "blkio.weight" if (group / "blkio.weight").exists() else group / "blkio.bfq.weight"
    assert weight.read_text().split()[-1] == "300"
    driver.destroy(NAME)


def test_processes_join_are_listed_and_counted(driver, spawn):
    driver.create(NAME)
    sleeps = [spawn("sleep", "30"), spawn("sleep", "30")]
    for process in sleeps:
        driver.add(NAME, process.pid)
    assert driver.pids(NAME) == sorted(p.pid for p in sleeps)
    assert driver.stats(NAME).pids_current == 2
    hierarchy = ":memory:" if driver.version == 1 else "0::"
    cgroup = Path(f"/proc/{sleeps[0].pid}/cgroup").read_text().splitlines()
    assert next(entry for entry in cgroup if hierarchy in entry).endswith(f":{driver.cgroup_path(NAME)}")
    assert driver.exists(NAME) and driver.list() == [NAME]
    driver.destroy(NAME)
    assert [p.wait(timeout=5) for p in sleeps] == [-signal.SIGKILL] * 2


def test_freeze_stops_the_process_and_thaw_resumes_it(driver, spawn):
    driver.create(NAME)
    process = spawn("sleep", "30")
    driver.add(NAME, process.pid)
    release(process)
    driver.freeze(NAME)
    assert driver.frozen(NAME)
    if driver.version == 1:
        assert limit_file(driver, "freezer", "freezer.state", "") == "FROZEN"
    assert proc_state(process.pid) in ("D", "T")          # frozen tasks sleep uninterruptibly
    driver.thaw(NAME)
    assert not driver.frozen(NAME)
    deadline = time.monotonic() + 5  # the thawed task is woken by the scheduler, not at once
    while proc_state(process.pid) not in ("S", "R") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc_state(process.pid) in ("S", "R")
    driver.destroy(NAME)
    assert process.wait(timeout=5) == -signal.SIGKILL


def test_pids_max_stops_the_fourth_fork(driver, spawn, tmp_path):
    driver.create(NAME)
    driver.apply(NAME, Limits(pids=3))
    errors = tmp_path / "stderr"
    with errors.open("wb") as stderr:
        shell = spawn("sh", "-c", "for i in 1 2 3 4 5; do sleep 5 & done; wait", stderr=stderr)
    driver.add(NAME, shell.pid)
    release(shell)
    assert shell.wait(timeout=5) != 0
    assert "fork" in errors.read_text().lower()
    assert driver.stats(NAME).pids_current <= 3
    driver.destroy(NAME)                                   # the two sleeps that did start


def test_oom_kill_is_seen(driver, spawn):
    driver.create(NAME)
    driver.apply(NAME, Limits(memory=50 * MB, memory_swap=50 * MB))
    hog = spawn(sys.executable, "-c", "b = bytearray(200 * 2**20)")
    driver.add(NAME, hog.pid)
    assert not driver.oom_killed(NAME)
    release(hog)
    assert hog.wait(timeout=10) == -signal.SIGKILL
    assert driver.oom_killed(NAME) and driver.stats(NAME).oom_kills >= 1
    driver.destroy(NAME)


def test_kill_all_signals_every_process(driver, spawn):
    driver.create(NAME)
    terms = [spawn("sleep", "30"), spawn("sleep", "30")]
    for process in terms:
        driver.add(NAME, process.pid)
        release(process)
    driver.kill_all(NAME, signal.SIGTERM)
    assert [p.wait(timeout=5) for p in terms] == [-signal.SIGTERM] * 2
    forker = spawn("sh", "-c", "while :; do sleep 30 & sleep 0.01; done")
    driver.add(NAME, forker.pid)
    release(forker)
    driver.kill_all(NAME, signal.SIGKILL)
    assert forker.wait(timeout=5) == -signal.SIGKILL
    driver.destroy(NAME)


def test_destroy_removes_every_directory_with_processes_inside(driver, spawn):
    driver.create(NAME)
    outer, inner = spawn("sleep", "30"), spawn("sleep", "30")
    driver.add(NAME, outer.pid)
    driver.add(NAME, inner.pid)
    nested = driver.path(NAME) / "inner"      # a group the container made for itself
    nested.mkdir()
    (nested / "cgroup.procs").write_text(str(inner.pid))
    assert driver.pids(NAME) == sorted([outer.pid, inner.pid])
    driver.destroy(NAME)
    assert not driver.exists(NAME)
    assert not [d for d in driver.dirs(NAME) if d.exists()]
    assert [outer.wait(timeout=5), inner.wait(timeout=5)] == [-signal.SIGKILL] * 2
    driver.destroy(NAME)                      # idempotent


def test_list_finds_leftovers(driver):
    for name in ("a", "b"):
        driver.create(name)
    assert driver.list() == ["a", "b"]
    for name in driver.list():
        driver.destroy(name)
    assert driver.list() == []

"""engine.runtime.cgroups on fake cgroupfs trees under tmp_path, no root.

``FakeCgroupFS`` stands in for the kernel at the one seam the drivers use
(``CgroupFiles``): mkdir fills a new group with its hierarchy's files, as a
mounted cgroupfs does; cgroup.procs, cgroup.subtree_control, cgroup.freeze
and cgroup.kill behave as the kernel's; rmdir refuses a populated group;
kill(2) and the clock are recorded, never real. Every write is recorded as
(path relative to the tree, value), so tests assert the exact writes.
"""
from __future__ import annotations

import dataclasses
import errno
import signal
from pathlib import Path

import pytest

from engine.runtime import cgroups
from engine.runtime.cgroups import (
    CgroupFiles,
    Limits,
    Stats,
    blkio_to_io_weight,
    detect,
    parse_keyed,
    shares_to_weight,
    swap_only,
)
from engine.runtime.cgroups_v1 import CgroupV1Driver
from engine.runtime.cgroups_v2 import CgroupV2Driver
from engine.runtime.errors import RuntimeFailure

UNLIMITED = "9223372036854771712"
P = "dockyard-test"
MB = 2**20

# What a new v1 group shows in each hierarchy (kernel defaults), as on this
# machine: BFQ's blkio.bfq.weight, no CFQ blkio.weight.
V1_FILES = {
    "memory": {"memory.limit_in_bytes": UNLIMITED, "memory.memsw.limit_in_bytes": UNLIMITED,
               "memory.usage_in_bytes": "0", "memory.max_usage_in_bytes": "0",
               "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0"},
    "cpu": {"cpu.shares": "1024", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1"},
    "cpuacct": {"cpuacct.usage": "0"},
    "cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
    "pids": {"pids.max": "max", "pids.current": "0"},
    "blkio": {"blkio.bfq.weight": "100"},
    "freezer": {"freezer.state": "THAWED"},
    "devices": {"devices.list": "a *:* rwm", "devices.allow": "", "devices.deny": ""},
}
V1_CORE = {"cgroup.procs": ""}   # tasks, notify_on_release...: never read, left out for speed
V1_ROOT = {"cpuset.cpus": "0-3", "cpuset.mems": "0"}

V2_FILES = {
    "memory": {"memory.current": "0", "memory.max": "max", "memory.swap.max": "max", "memory.peak": "0",
               "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0"},
    "cpu": {"cpu.weight": "100", "cpu.max": "max 100000"},
    "pids": {"pids.max": "max", "pids.current": "0"},
    "io": {"io.weight": "default 100"},
    "cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
}
V2_CORE = {"cgroup.procs": "", "cgroup.subtree_control": "", "cgroup.events": "populated 0\nfrozen 0",
           "cgroup.freeze": "0", "cgroup.kill": "", "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0"}
V2_OFFERED = "cpuset cpu io memory hugetlb pids rdma misc"


class FakeCgroupFS(CgroupFiles):
    def __init__(self, root: Path, version: int, drop: tuple[str, ...] = ()) -> None:
        self.root, self.version, self.drop = root, version, set(drop)
        self.writes: list[tuple[str, str]] = []
        self.kills: list[tuple[int, int]] = []
        self.refuse: dict[tuple[str, str], int] = {}   # (path, value) -> errno
        self.scripted: dict[str, list[str]] = {}       # path -> values read before the file's own
        self.immortal: set[int] = set()
        self.freeze_sticks = False
        self.now = 0.0

    def rel(self, path) -> str:
        return Path(path).relative_to(self.root).as_posix()

    def read(self, path):
        queue = self.scripted.get(self.rel(path))
        return queue.pop(0) if queue else super().read(path)

    def write(self, path, value):
        path, rel = Path(path), self.rel(path)
        self.writes.append((rel, value))
        if (rel, value) in self.refuse:
            raise RuntimeFailure(f"cgroup: writing {value!r} to {path}: refused", self.refuse[rel, value])
        if path.name == "cgroup.procs":
            value = " ".join(dict.fromkeys(path.read_text().split() + [value]))
        elif path.name == "cgroup.subtree_control":
            enabled = path.read_text().split()
            enabled += [word[1:] for word in value.split() if word[1:] not in enabled]
            value = " ".join(enabled)
        elif path.name == "cgroup.freeze" and not self.freeze_sticks:
            (path.parent / "cgroup.events").write_text(f"populated 0\nfrozen {value}")
        elif path.name == "cgroup.kill":
            for procs in path.parent.rglob("cgroup.procs"):
                procs.write_text("")
            return
        path.write_text(value)

    def mkdir(self, path):
        path = Path(path)
        if path.exists():
            return
        path.mkdir()
        if self.version == 1:
            files = dict(V1_CORE)
            for controller in self.rel(path).split("/")[0].split(","):
                files.update(V1_FILES.get(controller, {}))
        else:
            files = dict(V2_CORE, **{"cgroup.controllers": (path.parent / "cgroup.subtree_control").read_text()})
            for controller in files["cgroup.controllers"].split():
                files.update(V2_FILES.get(controller, {}))
        for name, text in files.items():
            if name not in self.drop:
                (path / name).write_text(text)

    def rmdir(self, path):
        path = Path(path)
        if not path.exists():
            return
        if (path / "cgroup.procs").read_text().split() or any(p.is_dir() for p in path.iterdir()):
            raise RuntimeFailure(f"cgroup: rmdir {path}: busy", errno.EBUSY)
        for file in path.iterdir():
            file.unlink()
        path.rmdir()

    def kill(self, pid, sig):
        self.kills.append((pid, sig))
        if sig == signal.SIGKILL and pid not in self.immortal:
            for procs in self.root.rglob("cgroup.procs"):
                procs.write_text(" ".join(w for w in procs.read_text().split() if w != str(pid)))

    def sleep(self, seconds):
        self.now += seconds

    def monotonic(self):
        return self.now


def v1_tree(tmp_path, mounts=tuple(V1_FILES), drop=(), unified=True) -> FakeCgroupFS:
    """A v1 (hybrid) layout: one mounted hierarchy per entry of ``mounts``."""
    fs = FakeCgroupFS(tmp_path, 1, drop)
    for mount in mounts:
        (tmp_path / mount).mkdir()
        for name, text in V1_CORE.items():
            (tmp_path / mount / name).write_text(text)
        for controller in mount.split(","):
            for name, default in V1_FILES.get(controller, {}).items():
                if name not in drop:
                    (tmp_path / mount / name).write_text(V1_ROOT.get(name, default))
    if unified:   # hybrid: an almost empty cgroup2 at root/unified, to be ignored
        (tmp_path / "unified").mkdir()
        (tmp_path / "unified" / "cgroup.controllers").write_text("hugetlb")
        (tmp_path / "unified" / "cgroup.procs").write_text("")
    (tmp_path / "systemd").mkdir()   # name=systemd: not ours either
    (tmp_path / "systemd" / "cgroup.procs").write_text("")
    return fs


def v2_tree(tmp_path, offered=V2_OFFERED, drop=()) -> FakeCgroupFS:
    fs = FakeCgroupFS(tmp_path, 2, drop)
    for name, text in {"cgroup.controllers": offered, "cgroup.subtree_control": "", "cgroup.procs": "1",
                       "cpu.stat": "usage_usec 0"}.items():
        (tmp_path / name).write_text(text)
    return fs


@pytest.fixture
def v1(tmp_path):
    fs = v1_tree(tmp_path)
    driver = detect(tmp_path, parent=P, files=fs)
    driver.create("c1")
    fs.writes.clear()
    return driver, fs


@pytest.fixture
def v2(tmp_path):
    fs = v2_tree(tmp_path)
    driver = detect(tmp_path, parent=P, files=fs)
    driver.create("c1")
    fs.writes.clear()
    return driver, fs


def text(fs, rel: str) -> str:
    return (fs.root / rel).read_text()


# -- detect --------------------------------------------------------------------

def test_detect_picks_v2_on_a_pure_cgroup2_root(tmp_path):
    driver = detect(tmp_path, files=v2_tree(tmp_path))
    assert isinstance(driver, CgroupV2Driver) and driver.version == 2 and driver.parent == "dockyard"


def test_detect_picks_v1_on_a_hybrid_layout_and_ignores_unified_and_systemd(tmp_path):
    driver = detect(tmp_path, files=v1_tree(tmp_path))
    assert isinstance(driver, CgroupV1Driver) and driver.version == 1
    assert list(driver.mounts) == ["memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "freezer", "devices"]
    assert all(mount.name != "unified" for mount in driver.mounts.values())


def test_detect_picks_v1_on_a_legacy_layout(tmp_path):
    assert detect(tmp_path, files=v1_tree(tmp_path, unified=False)).version == 1


def test_v1_skips_directories_that_are_not_mounted(tmp_path):
    fs = v1_tree(tmp_path, mounts=("memory", "pids"))
    (tmp_path / "freezer").mkdir()                 # an empty mount point: no cgroup.procs
    assert list(detect(tmp_path, files=fs).mounts) == ["memory", "pids"]


# -- create --------------------------------------------------------------------

def test_v1_create_makes_the_group_in_every_hierarchy_and_copies_cpuset_down(tmp_path):
    fs = v1_tree(tmp_path)
    driver = detect(tmp_path, parent=P, files=fs)
    driver.create("c1")
    for mount in V1_FILES:
        assert (tmp_path / mount / P / "c1" / "cgroup.procs").exists()
    assert fs.writes == [(f"cpuset/{P}/cpuset.cpus", "0-3"), (f"cpuset/{P}/cpuset.mems", "0"),
                         (f"cpuset/{P}/c1/cpuset.cpus", "0-3"), (f"cpuset/{P}/c1/cpuset.mems", "0")]
    fs.writes.clear()
    driver.create("c2")            # the parent keeps its values: only the new level is filled
    assert fs.writes == [(f"cpuset/{P}/c2/cpuset.cpus", "0-3"), (f"cpuset/{P}/c2/cpuset.mems", "0")]


def test_v1_cpuset_copy_down_at_every_level_of_a_nested_parent(tmp_path):
    fs = v1_tree(tmp_path, mounts=("memory", "cpuset"))
    detect(tmp_path, parent="a/b", files=fs).create("c")
    assert [path for path, _ in fs.writes] == [
        "cpuset/a/cpuset.cpus", "cpuset/a/cpuset.mems", "cpuset/a/b/cpuset.cpus", "cpuset/a/b/cpuset.mems",
        "cpuset/a/b/c/cpuset.cpus", "cpuset/a/b/c/cpuset.mems"]
    assert text(fs, "cpuset/a/b/c/cpuset.cpus") == "0-3"


def test_v1_combined_cpu_cpuacct_mount_is_used_once(tmp_path):
    mounts = ("memory", "cpu,cpuacct", "pids")
    fs = v1_tree(tmp_path, mounts=mounts)
    (tmp_path / "cpu").symlink_to("cpu,cpuacct")
    (tmp_path / "cpuacct").symlink_to("cpu,cpuacct")
    driver = detect(tmp_path, parent=P, files=fs)
    assert driver.mounts["cpu"] == driver.mounts["cpuacct"] == tmp_path / "cpu,cpuacct"
    driver.create("c1")
    driver.apply("c1", Limits(cpus=2))
    assert fs.writes == [(f"cpu,cpuacct/{P}/c1/cpu.cfs_period_us", "100000"),
                         (f"cpu,cpuacct/{P}/c1/cpu.cfs_quota_us", "200000")]
    driver.add("c1", 42)
    assert [path for path, _ in fs.writes[2:]] == [f"{m}/{P}/c1/cgroup.procs" for m in mounts]


def test_v1_a_failed_create_leaves_nothing(tmp_path):
    fs = v1_tree(tmp_path)
    fs.refuse[(f"cpuset/{G1}/cpuset.cpus", "0-3")] = errno.EACCES
    driver = detect(tmp_path, parent=P, files=fs)
    with pytest.raises(RuntimeFailure):
        driver.create("c1")
    assert not driver.exists("c1") and not list(tmp_path.glob(f"*/{G1}"))


def test_v2_a_failed_create_leaves_nothing(tmp_path, monkeypatch):
    fs = v2_tree(tmp_path)
    real_mkdir = fs.mkdir

    def mkdir(path):
        if fs.rel(path) == G1:
            raise RuntimeFailure(f"cgroup: mkdir {path}: No space left on device", errno.ENOSPC)
        real_mkdir(path)
    monkeypatch.setattr(fs, "mkdir", mkdir)
    driver = detect(tmp_path, parent=P, files=fs)
    with pytest.raises(RuntimeFailure, match="No space"):
        driver.create("c1")
    assert not driver.exists("c1")


def test_v1_create_needs_a_memory_hierarchy(tmp_path):
    driver = detect(tmp_path, files=v1_tree(tmp_path, mounts=("cpu", "pids")))
    with pytest.raises(RuntimeFailure, match="no memory hierarchy"):
        driver.create("c1")


def test_v2_create_enables_controllers_at_every_parent(tmp_path):
    fs = v2_tree(tmp_path)
    driver = detect(tmp_path, parent=P, files=fs)
    driver.create("c1")
    assert fs.writes == [("cgroup.subtree_control", "+cpu +memory +pids +io +cpuset"),
                         (f"{P}/cgroup.subtree_control", "+cpu +memory +pids +io +cpuset")]
    assert text(fs, f"{P}/c1/cgroup.controllers") == "cpu memory pids io cpuset"
    fs.writes.clear()
    driver.create("c2")
    assert fs.writes == []


def test_v2_create_enables_only_what_the_kernel_offers(tmp_path):
    fs = v2_tree(tmp_path, offered="cpu memory pids")
    detect(tmp_path, parent=P, files=fs).create("c1")
    assert fs.writes == [("cgroup.subtree_control", "+cpu +memory +pids"),
                         (f"{P}/cgroup.subtree_control", "+cpu +memory +pids")]


def test_v2_create_falls_back_to_one_controller_at_a_time(tmp_path):
    fs = v2_tree(tmp_path, offered="cpu memory pids")
    fs.refuse[("cgroup.subtree_control", "+cpu +memory +pids")] = errno.EBUSY
    fs.refuse[("cgroup.subtree_control", "+cpu")] = errno.EBUSY   # e.g. a realtime process
    driver = detect(tmp_path, parent=P, files=fs)
    driver.create("c1")
    assert fs.writes[:4] == [("cgroup.subtree_control", "+cpu +memory +pids"), ("cgroup.subtree_control", "+cpu"),
                             ("cgroup.subtree_control", "+memory"), ("cgroup.subtree_control", "+pids")]
    with pytest.raises(RuntimeFailure, match="cpus: .*cpu controller could not be enabled"):
        driver.apply("c1", Limits(cpus=1))


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../escape"])
def test_names_must_be_one_path_component(v1, name):
    driver, _ = v1
    with pytest.raises(ValueError):
        driver.create(name)


# -- apply: the exact writes ------------------------------------------------------

G1 = f"{P}/c1"

V1_WRITES = [
    (Limits(), []),
    (Limits(memory=0, memory_swap=0, cpu_shares=0, blkio_weight=0), []),   # docker's "unset"
    (Limits(memory=50 * MB), [(f"memory/{G1}/memory.limit_in_bytes", "52428800")]),
    (Limits(memory=50 * MB, memory_swap=100 * MB), [(f"memory/{G1}/memory.limit_in_bytes", "52428800"),
                                                    (f"memory/{G1}/memory.memsw.limit_in_bytes", "104857600")]),
    (Limits(memory=-1), [(f"memory/{G1}/memory.limit_in_bytes", "-1"),
                         (f"memory/{G1}/memory.memsw.limit_in_bytes", "-1")]),
    (Limits(memory_swap=-1), [(f"memory/{G1}/memory.memsw.limit_in_bytes", "-1")]),
    (Limits(cpu_shares=512), [(f"cpu/{G1}/cpu.shares", "512")]),
    (Limits(cpus=1.5), [(f"cpu/{G1}/cpu.cfs_period_us", "100000"), (f"cpu/{G1}/cpu.cfs_quota_us", "150000")]),
    (Limits(cpus=0), [(f"cpu/{G1}/cpu.cfs_period_us", "100000"), (f"cpu/{G1}/cpu.cfs_quota_us", "-1")]),
    (Limits(cpuset_cpus="0-1", cpuset_mems="0"), [(f"cpuset/{G1}/cpuset.cpus", "0-1"),
                                                  (f"cpuset/{G1}/cpuset.mems", "0")]),
    (Limits(pids=3), [(f"pids/{G1}/pids.max", "3")]),
    (Limits(pids=0), [(f"pids/{G1}/pids.max", "max")]),
    (Limits(pids=-1), [(f"pids/{G1}/pids.max", "max")]),
    (Limits(blkio_weight=300), [(f"blkio/{G1}/blkio.bfq.weight", "300")]),
    (Limits(devices=("c 1:3 rwm", "c *:* m")), [(f"devices/{G1}/devices.deny", "a"),
                                               (f"devices/{G1}/devices.allow", "c 1:3 rwm"),
                                               (f"devices/{G1}/devices.allow", "c *:* m")]),
]


@pytest.mark.parametrize("limits, writes", V1_WRITES)
def test_v1_apply_writes(v1, limits, writes):
    driver, fs = v1
    driver.apply("c1", limits)
    assert fs.writes == writes


V2_WRITES = [
    (Limits(), []),
    (Limits(memory=50 * MB), [(f"{G1}/memory.max", "52428800")]),
    (Limits(memory=50 * MB, memory_swap=100 * MB), [(f"{G1}/memory.swap.max", "52428800"),
                                                    (f"{G1}/memory.max", "52428800")]),
    (Limits(memory=50 * MB, memory_swap=50 * MB), [(f"{G1}/memory.swap.max", "0"), (f"{G1}/memory.max", "52428800")]),
    (Limits(memory=-1), [(f"{G1}/memory.swap.max", "max"), (f"{G1}/memory.max", "max")]),
    (Limits(memory_swap=-1), [(f"{G1}/memory.swap.max", "max")]),
    (Limits(cpus=1.5), [(f"{G1}/cpu.max", "150000 100000")]),
    (Limits(cpus=0), [(f"{G1}/cpu.max", "max 100000")]),
    (Limits(cpu_shares=1024), [(f"{G1}/cpu.weight", "39")]),
    (Limits(cpuset_cpus="0-1", cpuset_mems="0"), [(f"{G1}/cpuset.cpus", "0-1"), (f"{G1}/cpuset.mems", "0")]),
    (Limits(pids=3), [(f"{G1}/pids.max", "3")]),
    (Limits(pids=-1), [(f"{G1}/pids.max", "max")]),
    (Limits(blkio_weight=300), [(f"{G1}/io.weight", "2930")]),
]


@pytest.mark.parametrize("limits, writes", V2_WRITES)
def test_v2_apply_writes(v2, limits, writes):
    driver, fs = v2
    driver.apply("c1", limits)
    assert fs.writes == writes


def test_v1_blkio_weight_prefers_cfq_file_when_present(tmp_path):
    fs = v1_tree(tmp_path)
    driver = detect(tmp_path, parent=P, files=fs)
    driver.create("c1")
    (tmp_path / "blkio" / G1 / "blkio.weight").write_text("500")
    fs.writes.clear()
    driver.apply("c1", Limits(blkio_weight=300))
    assert fs.writes == [(f"blkio/{G1}/blkio.weight", "300")]


def test_v2_bfq_weight_takes_the_blkio_scale(v2):
    driver, fs = v2
    (fs.root / G1 / "io.bfq.weight").write_text("100")
    driver.apply("c1", Limits(blkio_weight=300))
    assert fs.writes == [(f"{G1}/io.bfq.weight", "300")]


@pytest.mark.parametrize("current, new, first", [
    (("104857600", "104857600"), (200 * MB, 300 * MB), "memsw"),   # raising past memsw: memsw first
    (("209715200", "314572800"), (50 * MB, 60 * MB), "memory"),    # lowering: memory first
    (("209715200", "314572800"), (250 * MB, 400 * MB), "memory"),  # still under memsw: memory first
    (("104857600", "104857600"), (-1, None), "memsw"),            # unlimited: memsw first
])
def test_v1_memory_and_swap_are_written_in_the_order_the_kernel_accepts(v1, current, new, first):
    driver, fs = v1
    (fs.root / f"memory/{G1}/memory.limit_in_bytes").write_text(current[0])
    (fs.root / f"memory/{G1}/memory.memsw.limit_in_bytes").write_text(current[1])
    driver.apply("c1", Limits(memory=new[0], memory_swap=new[1]))
    assert len(fs.writes) == 2 and ("memsw" in fs.writes[0][0]) == (first == "memsw")


@pytest.mark.parametrize("tree", ["v1", "v2"])
def test_swap_accounting_is_reported(request, tree):
    assert request.getfixturevalue(tree)[0].supports_swap_limit("c1")


def test_v1_memory_above_the_current_memsw_needs_memory_swap_too(v1):
    driver, fs = v1
    driver.apply("c1", Limits(memory=50 * MB, memory_swap=50 * MB))
    fs.writes.clear()
    with pytest.raises(RuntimeFailure, match="memory: 104857600 is above the current memory.swap limit 52428800"):
        driver.apply("c1", Limits(memory=100 * MB))
    assert fs.writes == []


def test_v1_swap_is_dropped_without_swap_accounting(tmp_path):
    fs = v1_tree(tmp_path, drop=("memory.memsw.limit_in_bytes",))
    driver = detect(tmp_path, parent=P, files=fs)
    driver.create("c1")
    fs.writes.clear()
    assert not driver.supports_swap_limit("c1")
    driver.apply("c1", Limits(memory=50 * MB, memory_swap=100 * MB))
    assert fs.writes == [(f"memory/{G1}/memory.limit_in_bytes", "52428800")]


def test_v2_swap_is_dropped_without_swap_accounting(tmp_path):
    fs = v2_tree(tmp_path, drop=("memory.swap.max",))
    driver = detect(tmp_path, parent=P, files=fs)
    driver.create("c1")
    fs.writes.clear()
    assert not driver.supports_swap_limit("c1")
    driver.apply("c1", Limits(memory=50 * MB, memory_swap=100 * MB))
    assert fs.writes == [(f"{G1}/memory.max", "52428800")]


# -- conversions ---------------------------------------------------------------------

@pytest.mark.parametrize("shares, weight", [(2, 1), (512, 20), (1024, 39), (4096, 157), (262144, 10000),
                                            (1, 1), (10**6, 10000)])
def test_shares_to_weight_as_runc(shares, weight):
    assert shares_to_weight(shares) == weight


@pytest.mark.parametrize("blkio, io", [(10, 1), (100, 910), (500, 4950), (1000, 10000)])
def test_blkio_to_io_weight_as_runc(blkio, io):
    assert blkio_to_io_weight(blkio) == io


@pytest.mark.parametrize("memory, memory_swap, swap", [
    (None, None, None), (100, None, None), (-1, None, -1), (100, -1, -1), (None, -1, -1),
    (100, 100, 0), (100, 300, 200)])
def test_swap_only(memory, memory_swap, swap):
    assert swap_only(memory, memory_swap) == swap


# -- errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("limits, message", [
    (Limits(memory_swap=100 * MB), "memory_swap: a swap limit needs a memory limit"),
    (Limits(memory=-1, memory_swap=100 * MB), "memory_swap: a swap limit needs a memory limit"),
    (Limits(memory=100 * MB, memory_swap=50 * MB), "memory_swap: 52428800 is below the memory limit"),
    (Limits(memory=-5), "memory: -5 is not a size"),
    (Limits(cpus=-1), "cpus: -1 is negative"),
    (Limits(cpus=0.001), "cpus: 0.001 is below the minimum 0.01"),
    (Limits(cpu_shares=-2), "cpu_shares: -2 is negative"),
    (Limits(blkio_weight=5), "blkio_weight: 5 is outside 10..1000"),
])
@pytest.mark.parametrize("tree", ["v1", "v2"])
def test_impossible_limits_are_refused_by_name(request, tree, limits, message):
    driver, fs = request.getfixturevalue(tree)
    with pytest.raises(RuntimeFailure, match=message):
        driver.apply("c1", limits)
    assert fs.writes == []


@pytest.mark.parametrize("limits, mounts, message", [
    (Limits(blkio_weight=300), ("memory", "cpu", "pids"), "blkio_weight: not supported.*no blkio cgroup hierarchy"),
    (Limits(cpus=1), ("memory", "pids"), "cpus: not supported.*no cpu cgroup hierarchy"),
    (Limits(cpu_shares=100), ("memory",), "cpu_shares: not supported.*no cpu cgroup"),
    (Limits(pids=5), ("memory",), "pids: not supported.*no pids cgroup"),
    (Limits(cpuset_cpus="0"), ("memory",), "cpuset_cpus: not supported.*no cpuset cgroup"),
])
def test_v1_unsupported_limits_are_errors_naming_the_limit(tmp_path, limits, mounts, message):
    fs = v1_tree(tmp_path, mounts=mounts)
    driver = detect(tmp_path, parent=P, files=fs)
    driver.create("c1")
    fs.writes.clear()
    with pytest.raises(RuntimeFailure, match=message) as caught:
        driver.apply("c1", dataclasses.replace(limits, memory=50 * MB))
    assert caught.value.errno == errno.EOPNOTSUPP
    assert fs.writes == []            # checked before anything is written


def test_v1_blkio_without_any_weight_file(tmp_path):
    fs = v1_tree(tmp_path, drop=("blkio.bfq.weight",))
    driver = detect(tmp_path, parent=P, files=fs)
    driver.create("c1")
    with pytest.raises(RuntimeFailure, match="blkio_weight: .*neither blkio.weight nor blkio.bfq.weight"):
        driver.apply("c1", Limits(blkio_weight=300))


def test_v1_missing_quota_file_is_named(tmp_path):
    fs = v1_tree(tmp_path, drop=("cpu.cfs_quota_us",))   # CONFIG_CFS_BANDWIDTH off
    driver = detect(tmp_path, parent=P, files=fs)
    driver.create("c1")
    with pytest.raises(RuntimeFailure, match="cpus: not supported.*cpu.cfs_quota_us"):
        driver.apply("c1", Limits(cpus=1))


@pytest.mark.parametrize("limits, message", [
    (Limits(blkio_weight=300), "blkio_weight: not supported.*no io controller"),
    (Limits(pids=3), "pids: not supported.*no pids controller"),
    (Limits(cpu_shares=512), "cpu_shares: not supported.*no cpu controller"),
])
def test_v2_unsupported_limits_are_errors_naming_the_limit(tmp_path, limits, message):
    fs = v2_tree(tmp_path, offered="memory")
    driver = detect(tmp_path, parent=P, files=fs)
    driver.create("c1")
    fs.writes.clear()
    with pytest.raises(RuntimeFailure, match=message):
        driver.apply("c1", limits)
    assert fs.writes == []


def test_a_write_the_kernel_refuses_names_the_limit_file_and_value(v1):
    driver, fs = v1
    fs.refuse[(f"cpuset/{G1}/cpuset.cpus", "7")] = errno.EINVAL
    with pytest.raises(RuntimeFailure, match=r"cpuset_cpus: .*'7'.*cpuset.cpus") as caught:
        driver.apply("c1", Limits(cpuset_cpus="7"))
    assert caught.value.errno == errno.EINVAL


@pytest.mark.parametrize("tree", ["v1", "v2"])
def test_apply_to_a_missing_group(request, tree):
    driver, _ = request.getfixturevalue(tree)
    with pytest.raises(RuntimeFailure, match="cgroup nope: no such group") as caught:
        driver.apply("nope", Limits(memory=50 * MB))
    assert caught.value.errno == errno.ENOENT


# -- processes -----------------------------------------------------------------------

def test_v1_add_joins_every_hierarchy(v1):
    driver, fs = v1
    driver.add("c1", 4242)
    assert fs.writes == [(f"{m}/{G1}/cgroup.procs", "4242") for m in V1_FILES]
    assert driver.pids("c1") == [4242]


def test_v2_add_and_pids_including_subgroups(v2):
    driver, fs = v2
    driver.add("c1", 4242)
    assert fs.writes == [(f"{G1}/cgroup.procs", "4242")]
    fs.mkdir(fs.root / G1 / "inner")
    (fs.root / G1 / "inner" / "cgroup.procs").write_text("77\n0\n")   # 0: a pid outside our namespace
    assert driver.pids("c1") == [77, 4242]


def test_add_refuses_pid_zero(v1):
    with pytest.raises(ValueError):
        v1[0].add("c1", 0)


# -- stats and OOM -------------------------------------------------------------------

def test_v1_stats(v1):
    driver, fs = v1
    for rel, content in {f"memory/{G1}/memory.usage_in_bytes": "1234",
                         f"memory/{G1}/memory.limit_in_bytes": "52428800",
                         f"memory/{G1}/memory.max_usage_in_bytes": "4096",
                         f"memory/{G1}/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
                         f"cpuacct/{G1}/cpuacct.usage": "987654321\n",
                         f"pids/{G1}/pids.current": "3\n"}.items():
        (fs.root / rel).write_text(content)
    assert driver.stats("c1") == Stats(memory_usage=1234, memory_limit=52428800, memory_max_usage=4096,
                                       cpu_usage_ns=987654321, pids_current=3, oom_kills=2)
    assert driver.oom_killed("c1")


def test_v1_unlimited_memory_reads_as_none_and_no_oom(v1):
    driver, _ = v1
    stats = driver.stats("c1")
    assert stats.memory_limit is None and stats.oom_kills == 0 and not driver.oom_killed("c1")


def test_v1_oom_control_of_an_old_kernel_has_no_counter(v1):
    driver, fs = v1
    (fs.root / f"memory/{G1}/memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 1\n")
    assert driver.oom_kills("c1") == 0


def test_v2_stats(v2):
    driver, fs = v2
    for name, content in {"memory.current": "1234\n", "memory.max": "52428800\n", "memory.peak": "8192\n",
                          "cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n",
                          "pids.current": "3\n",
                          "memory.events": "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n"}.items():
        (fs.root / G1 / name).write_text(content)
    assert driver.stats("c1") == Stats(memory_usage=1234, memory_limit=52428800, memory_max_usage=8192,
                                       cpu_usage_ns=1_500_000, pids_current=3, oom_kills=1)
    assert driver.oom_killed("c1")


def test_v2_stats_without_memory_peak_or_pids_controller(tmp_path):
    fs = v2_tree(tmp_path, offered="cpu memory", drop=("memory.peak",))
    driver = detect(tmp_path, parent=P, files=fs)
    driver.create("c1")
    driver.add("c1", 5)
    driver.add("c1", 6)
    stats = driver.stats("c1")
    assert stats.memory_limit is None and stats.memory_max_usage is None and stats.pids_current == 2
    assert not driver.oom_killed("c1")


def test_parse_keyed():
    assert parse_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 12\n") == {
        "oom_kill_disable": 0, "under_oom": 0, "oom_kill": 12}


# -- freezer ---------------------------------------------------------------------------

def test_v1_freeze_and_thaw(v1):
    driver, fs = v1
    driver.freeze("c1")
    assert driver.frozen("c1")
    driver.thaw("c1")
    assert not driver.frozen("c1")
    assert fs.writes == [(f"freezer/{G1}/freezer.state", "FROZEN"), (f"freezer/{G1}/freezer.state", "THAWED")]


def test_v1_freeze_waits_while_freezing(v1):
    driver, fs = v1
    fs.scripted[f"freezer/{G1}/freezer.state"] = ["FREEZING", "FREEZING"]
    driver.freeze("c1")
    assert fs.writes == [(f"freezer/{G1}/freezer.state", "FROZEN")] * 3
    assert driver.frozen("c1")


def test_v1_freeze_gives_up_thawed(v1):
    driver, fs = v1
    driver.freeze_timeout = 0.2
    fs.scripted[f"freezer/{G1}/freezer.state"] = ["FREEZING"] * 1000
    with pytest.raises(RuntimeFailure, match="still FREEZING"):
        driver.freeze("c1")
    assert fs.writes[-1] == (f"freezer/{G1}/freezer.state", "THAWED")
    assert (f"freezer/{G1}/freezer.state", "THAWED") in fs.writes[:100]   # runc's thaw-and-retry


def test_v1_freeze_without_freezer(tmp_path):
    driver = detect(tmp_path, parent=P, files=v1_tree(tmp_path, mounts=("memory",)))
    driver.create("c1")
    with pytest.raises(RuntimeFailure, match="freeze: not supported.*no freezer"):
        driver.freeze("c1")
    assert not driver.frozen("c1")


def test_v2_freeze_and_thaw(v2):
    driver, fs = v2
    driver.freeze("c1")
    assert driver.frozen("c1")
    driver.thaw("c1")
    assert not driver.frozen("c1")
    assert fs.writes == [(f"{G1}/cgroup.freeze", "1"), (f"{G1}/cgroup.freeze", "0")]


def test_v2_freeze_times_out_and_undoes(v2):
    driver, fs = v2
    fs.freeze_sticks = True
    with pytest.raises(RuntimeFailure, match="did not reach frozen 1"):
        driver.freeze("c1")
    assert fs.writes == [(f"{G1}/cgroup.freeze", "1"), (f"{G1}/cgroup.freeze", "0")]


def test_v2_freeze_on_an_old_kernel(tmp_path):
    driver = detect(tmp_path, parent=P, files=v2_tree(tmp_path, drop=("cgroup.freeze",)))
    driver.create("c1")
    with pytest.raises(RuntimeFailure, match="freeze: not supported.*cgroup.freeze"):
        driver.freeze("c1")


# -- kill_all --------------------------------------------------------------------------

def test_v1_kill_all_sigterm_signals_each_pid(v1):
    driver, fs = v1
    driver.add("c1", 11)
    driver.add("c1", 12)
    fs.writes.clear()
    driver.kill_all("c1", signal.SIGTERM)
    assert fs.kills == [(11, signal.SIGTERM), (12, signal.SIGTERM)] and fs.writes == []


def test_v1_kill_all_sigkill_holds_the_group_frozen(v1):
    driver, fs = v1
    driver.add("c1", 11)
    fs.writes.clear()
    driver.kill_all("c1", signal.SIGKILL)
    assert fs.kills == [(11, signal.SIGKILL)]
    assert fs.writes == [(f"freezer/{G1}/freezer.state", "FROZEN"), (f"freezer/{G1}/freezer.state", "THAWED")]


def test_v2_kill_all_uses_cgroup_kill(v2):
    driver, fs = v2
    driver.add("c1", 11)
    fs.writes.clear()
    driver.kill_all("c1", signal.SIGKILL)
    assert fs.writes == [(f"{G1}/cgroup.kill", "1")] and fs.kills == [] and driver.pids("c1") == []


def test_v2_kill_all_without_cgroup_kill(tmp_path):
    fs = v2_tree(tmp_path, drop=("cgroup.kill",))
    driver = detect(tmp_path, parent=P, files=fs)
    driver.create("c1")
    driver.add("c1", 11)
    driver.kill_all("c1", signal.SIGKILL)
    assert fs.kills == [(11, signal.SIGKILL)]


# -- destroy, list, exists ---------------------------------------------------------------

def test_v1_destroy_kills_what_remains_and_removes_every_directory(v1):
    driver, fs = v1
    driver.add("c1", 4242)
    fs.mkdir(fs.root / "memory" / G1 / "inner")
    driver.destroy("c1")
    assert fs.kills == [(4242, signal.SIGKILL)]
    assert not driver.exists("c1") and not list(fs.root.glob(f"*/{G1}"))
    driver.destroy("c1")          # idempotent
    driver.destroy("never-made")


def test_v2_destroy_uses_cgroup_kill(v2):
    driver, fs = v2
    driver.add("c1", 4242)
    driver.destroy("c1")
    assert (f"{G1}/cgroup.kill", "1") in fs.writes and not (fs.root / G1).exists()


def test_destroy_gives_up_on_an_unkillable_process(v1, monkeypatch):
    monkeypatch.setattr(cgroups, "DESTROY_TIMEOUT", 0.2)
    driver, fs = v1
    driver.add("c1", 4242)
    fs.immortal.add(4242)
    with pytest.raises(RuntimeFailure, match=r"cannot remove .*processes \[4242\] remain") as caught:
        driver.destroy("c1")
    assert caught.value.errno == errno.EBUSY and fs.now >= cgroups.DESTROY_TIMEOUT


@pytest.mark.parametrize("tree", ["v1", "v2"])
def test_list_exists_and_remove_parent(request, tree):
    driver, fs = request.getfixturevalue(tree)
    driver.create("c2")
    assert driver.list() == ["c1", "c2"] and driver.exists("c2") and not driver.exists("c3")
    driver.remove_parent()                        # still holds groups: stays
    assert driver.list() == ["c1", "c2"]
    driver.destroy("c1")
    driver.destroy("c2")
    driver.remove_parent()
    assert driver.list() == [] and not list(fs.root.glob(f"**/{P}"))
    driver.remove_parent()                        # idempotent


def test_remove_parent_of_a_nested_parent(tmp_path):
    fs = v1_tree(tmp_path, mounts=("memory", "pids"))
    driver = detect(tmp_path, parent="a/b", files=fs)
    driver.create("c")
    driver.destroy("c")
    driver.remove_parent()
    assert not (tmp_path / "memory" / "a").exists() and (tmp_path / "memory").exists()


@pytest.mark.parametrize("tree", ["v1", "v2"])
def test_cgroup_path_as_proc_shows_it(request, tree):
    assert request.getfixturevalue(tree)[0].cgroup_path("c1") == f"/{P}/c1"


@pytest.mark.parametrize("parent", ["", "/abs", "a/../b", "."])
def test_parent_must_be_a_plain_relative_path(tmp_path, parent):
    with pytest.raises(ValueError):
        detect(tmp_path, parent=parent, files=v2_tree(tmp_path))


# -- the real CgroupFiles on plain files --------------------------------------------------

def test_real_files_translate_errors(tmp_path):
    files = CgroupFiles()
    with pytest.raises(RuntimeFailure, match=r"writing '1' to .*missing") as caught:
        files.write(tmp_path / "missing", "1")
    assert caught.value.errno == errno.ENOENT
    with pytest.raises(RuntimeFailure, match="reading"):
        files.read(tmp_path / "missing")
    (tmp_path / "f").write_text("long old value")
    files.write(tmp_path / "f", "new")
    assert files.read(tmp_path / "f") == "new"
    files.mkdir(tmp_path / "d")
    files.mkdir(tmp_path / "d")
    files.rmdir(tmp_path / "d")
    files.rmdir(tmp_path / "d")
    assert files.children(tmp_path / "gone") == []


def test_real_files_never_signal_pid_zero_or_groups():
    with pytest.raises(RuntimeFailure, match="refusing"):
        CgroupFiles().kill(0, signal.SIGKILL)
    with pytest.raises(RuntimeFailure, match="refusing"):
        CgroupFiles().kill(-1, signal.SIGKILL)


def test_real_files_kill_of_a_gone_process_is_quiet():
    CgroupFiles().kill(2**22 + 1, signal.SIGTERM)   # above any pid_max: ESRCH

"""cgroup v1 (legacy, or the "hybrid" layout with an empty cgroup2 at
``root/unified``): one hierarchy per controller under ``root``, a combined
mount such as ``cpu,cpuacct`` serving both names. The group is made in each
hierarchy we use; cpuset values are copied down, since an empty cpuset.cpus
makes every later join fail with ENOSPC.

Imports only engine.runtime.cgroups and errors.
"""
from __future__ import annotations

import errno as errnos
from pathlib import Path

from .cgroups import (
    CFS_PERIOD,
    CgroupDriver,
    CgroupFiles,
    Limits,
    Stats,
    check_name,
    cpu_quota,
    parse_keyed,
    unsupported,
)
from .errors import RuntimeFailure

# The primary hierarchy first: /proc/<pid>/cgroup's memory line names the group.
CONTROLLERS = ("memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "freezer", "devices")
# The kernel's "no limit" is LONG_MAX rounded down to a page; anything this
# large is no limit at all.
UNLIMITED_FLOOR = 1 << 62


class CgroupV1Driver(CgroupDriver):
    version = 1

    def __init__(self, root: Path, parent: str = "dockyard", files: CgroupFiles | None = None,
                 **options) -> None:
        super().__init__(root, parent, files, **options)
        self.mounts = self._discover()

    def _discover(self) -> dict[str, Path]:
        """controller -> its hierarchy's mount directory under root. A
        directory counts only if it is a mounted cgroupfs (has cgroup.procs);
        symlinks (``cpu -> cpu,cpuacct``) are skipped for the real mount."""
        mounts = {}
        for directory in self.files.children(self.root):
            if not self.files.exists(directory / "cgroup.procs"):
                continue
            for controller in directory.name.split(","):
                if controller in CONTROLLERS:
                    mounts[controller] = directory
        return {controller: mounts[controller] for controller in CONTROLLERS if controller in mounts}

    def _hierarchies(self) -> list[Path]:
        return list(dict.fromkeys(self.mounts.values()))

    def _group(self, controller: str, name: str) -> Path | None:
        mount = self.mounts.get(controller)
        return None if mount is None else mount / self.parent / name

    # -- life cycle ------------------------------------------------------------

    def create(self, name: str) -> None:
        if "memory" not in self.mounts:
            raise RuntimeFailure(f"cgroup: no memory hierarchy under {self.root}", errnos.ENOENT)
        check_name(name)
        try:
            for hierarchy in self._hierarchies():
                group = hierarchy
                for part in [*self.parent.split("/"), name]:
                    group = group / part
                    self.files.mkdir(group)
                    if hierarchy == self.mounts.get("cpuset"):
                        self._inherit_cpuset(group)
        except RuntimeFailure:
            self._undo_create(name)
            raise

    def _inherit_cpuset(self, group: Path) -> None:
        for file in ("cpuset.cpus", "cpuset.mems"):
            if not self.files.read(group / file):
                self.files.write(group / file, self.files.read(group.parent / file))

    # -- limits ----------------------------------------------------------------

    def _file(self, limit: str, controller: str, name: str, file: str) -> Path:
        group = self._group(controller, name)
        if group is None:
            raise unsupported(limit, f"no {controller} cgroup hierarchy under {self.root}")
        if not self.files.exists(group):
            raise RuntimeFailure(f"cgroup {name}: no such group ({group})", errnos.ENOENT)
        if not self.files.exists(group / file):
            raise unsupported(limit, f"the kernel offers no {file} (in {group})")
        return group / file

    def _limit_writes(self, name: str, limits: Limits) -> list[tuple[str, Path, str]]:
        writes = self._memory_writes(name, limits)
        if limits.cpu_shares is not None:
            writes.append(("cpu_shares", self._file("cpu_shares", "cpu", name, "cpu.shares"),
                           str(limits.cpu_shares)))
        if limits.cpus is not None:
            quota = cpu_quota(limits.cpus)
            writes.append(("cpus", self._file("cpus", "cpu", name, "cpu.cfs_period_us"), str(CFS_PERIOD)))
            writes.append(("cpus", self._file("cpus", "cpu", name, "cpu.cfs_quota_us"), str(quota)))
        for limit, file in (("cpuset_cpus", "cpuset.cpus"), ("cpuset_mems", "cpuset.mems")):
            value = getattr(limits, limit)
            if value is not None:
                writes.append((limit, self._file(limit, "cpuset", name, file), value))
        if limits.pids is not None:
            writes.append(("pids", self._file("pids", "pids", name, "pids.max"),
                           "max" if limits.pids <= 0 else str(limits.pids)))
        if limits.blkio_weight is not None:
            writes.append(("blkio_weight", self._blkio_weight_file(name), str(limits.blkio_weight)))
        if limits.devices is not None:
            writes.append(("devices", self._file("devices", "devices", name, "devices.deny"), "a"))
            allow = self._file("devices", "devices", name, "devices.allow")
            writes.extend(("devices", allow, rule) for rule in limits.devices)
        return writes

    def _blkio_weight_file(self, name: str) -> Path:
        # CFQ's blkio.weight left with Linux 5.0; BFQ offers blkio.bfq.weight.
        try:
            return self._file("blkio_weight", "blkio", name, "blkio.weight")
        except RuntimeFailure as failure:
            if failure.errno != errnos.EOPNOTSUPP or "blkio" not in self.mounts:
                raise
        try:
            return self._file("blkio_weight", "blkio", name, "blkio.bfq.weight")
        except RuntimeFailure:
            raise unsupported("blkio_weight", "neither blkio.weight nor blkio.bfq.weight exists"
                              " (no CFQ or BFQ I/O scheduler)") from None

    def _memory_writes(self, name: str, limits: Limits) -> list[tuple[str, Path, str]]:
        memory, swap = limits.memory, limits.memory_swap
        if memory is None and swap is None:
            return []
        if memory == -1 and swap is None:
            swap = -1          # as runc: unlimited memory means unlimited swap too
        limit_file = self._file("memory" if memory is not None else "memory_swap", "memory", name,
                                "memory.limit_in_bytes")
        memsw = limit_file.parent / "memory.memsw.limit_in_bytes"
        if swap is not None and not self.files.exists(memsw):
            swap = None        # no swap accounting: docker drops the limit (supports_swap_limit)
        if memory is not None and swap is None and self.files.exists(memsw):
            current = self._read_int(memsw)
            if _above(memory, current):
                raise RuntimeFailure(f"memory: {memory} is above the current memory+swap limit {current};"
                                     " set memory_swap as well", errnos.EINVAL)
        memory_write = [("memory", limit_file, str(memory))] if memory is not None else []
        swap_write = [("memory_swap", memsw, str(swap))] if swap is not None else []
        # The kernel keeps memory <= memory+swap after every write: raise the
        # one that must make room first.
        if memory_write and swap_write and _above(memory, self._read_int(memsw)):
            return swap_write + memory_write
        return memory_write + swap_write

    def supports_swap_limit(self, name: str) -> bool:
        mount = self.mounts.get("memory")   # every group has memsw files, or none has
        return mount is not None and self.files.exists(mount / "memory.memsw.limit_in_bytes")

    # -- reading ---------------------------------------------------------------

    def stats(self, name: str) -> Stats:
        self._require(name)
        memory = self._group("memory", name)
        cpuacct = self._group("cpuacct", name)
        pids = self._group("pids", name)
        limit = self._read_int(memory / "memory.limit_in_bytes", None) if memory else None
        current = self._read_int(pids / "pids.current", None) if pids else None
        return Stats(
            memory_usage=self._read_int(memory / "memory.usage_in_bytes") if memory else 0,
            memory_limit=None if limit is None or limit >= UNLIMITED_FLOOR else limit,
            memory_max_usage=self._read_int(memory / "memory.max_usage_in_bytes", None) if memory else None,
            cpu_usage_ns=self._read_int(cpuacct / "cpuacct.usage") if cpuacct else 0,
            pids_current=len(self.pids(name)) if current is None else current,
            oom_kills=self.oom_kills(name))

    def oom_kills(self, name: str) -> int:
        """``oom_kill N`` of memory.oom_control (Linux 4.13 and later)."""
        memory = self._group("memory", name)
        if memory is None or not self.files.exists(memory / "memory.oom_control"):
            return 0
        return parse_keyed(self.files.read(memory / "memory.oom_control")).get("oom_kill", 0)

    # -- freezer ---------------------------------------------------------------

    def _state_file(self, name: str, what: str) -> Path:
        group = self._group("freezer", name)
        if group is None:
            raise unsupported(what, f"no freezer cgroup hierarchy under {self.root}")
        return group / "freezer.state"

    def freeze(self, name: str) -> None:
        """FROZEN, waiting until the kernel says so. A group can hang in
        FREEZING; like runc, thaw briefly now and then and try again."""
        state = self._state_file(name, "freeze")
        deadline = self.files.monotonic() + self.freeze_timeout
        attempt = 0
        while True:
            self.files.write(state, "FROZEN")
            if self.files.read(state) == "FROZEN":
                return
            attempt += 1
            if self.files.monotonic() > deadline:
                self.files.write(state, "THAWED")
                raise RuntimeFailure(f"cgroup {name}: still FREEZING after {self.freeze_timeout}s",
                                     errnos.EBUSY)
            if attempt % 50 == 0:
                self.files.write(state, "THAWED")
                self.files.sleep(0.01)
            else:
                self.files.sleep(0.001)

    def thaw(self, name: str) -> None:
        state = self._state_file(name, "thaw")
        self.files.write(state, "THAWED")
        if not self._wait_for(lambda: self.files.read(state) == "THAWED", self.freeze_timeout):
            raise RuntimeFailure(f"cgroup {name}: not THAWED after {self.freeze_timeout}s", errnos.EBUSY)

    def frozen(self, name: str) -> bool:
        group = self._group("freezer", name)
        return (group is not None and self.files.exists(group / "freezer.state")
                and self.files.read(group / "freezer.state") == "FROZEN")

    def _can_freeze(self, name: str) -> bool:
        group = self._group("freezer", name)
        return group is not None and self.files.exists(group / "freezer.state")


def _above(value: int, limit: int | None) -> bool:
    """value > limit, with -1 and None meaning no limit."""
    if value == -1:
        return limit is not None and limit != -1 and limit < UNLIMITED_FLOOR
    return limit is not None and value > limit

"""cgroup v2 (the unified hierarchy at ``root``): one tree, controllers
handed down level by level through ``cgroup.subtree_control``. A limit's
file exists only where its controller is enabled, so a missing file is
reported with the reason the controller is missing.

Imports only engine.runtime.cgroups and errors.
"""
from __future__ import annotations

import errno as errnos
import signal as signals
from pathlib import Path

from .cgroups import (
    CFS_PERIOD,
    CgroupDriver,
    CgroupFiles,
    Limits,
    Stats,
    blkio_to_io_weight,
    check_name,
    cpu_quota,
    parse_keyed,
    shares_to_weight,
    swap_only,
    unsupported,
)
from .errors import RuntimeFailure

CONTROLLERS = ("cpu", "memory", "pids", "io", "cpuset")


def _max(value: int) -> str:
    return "max" if value == -1 else str(value)


class CgroupV2Driver(CgroupDriver):
    version = 2

    def __init__(self, root: Path, parent: str = "dockyard", files: CgroupFiles | None = None,
                 **options) -> None:
        super().__init__(root, parent, files, **options)
        self._not_enabled: dict[str, str] = {}   # controller -> why enabling it failed

    def _hierarchies(self) -> list[Path]:
        return [self.root]

    # -- life cycle ------------------------------------------------------------

    def create(self, name: str) -> None:
        group = self.root
        try:
            for part in [*self.parent.split("/"), check_name(name)]:
                self._enable_controllers(group)
                group = group / part
                self.files.mkdir(group)
        except RuntimeFailure:
            self._undo_create(name)
            raise

    def _enable_controllers(self, group: Path) -> None:
        """Hand our controllers to the children of ``group``, those the kernel
        offers there. All in one write; if the kernel refuses (one controller
        busy, say), one by one, remembering why for apply's error."""
        offered = self.files.read(group / "cgroup.controllers").split()
        enabled = self.files.read(group / "cgroup.subtree_control").split()
        wanted = [c for c in CONTROLLERS if c in offered and c not in enabled]
        if not wanted:
            return
        control = group / "cgroup.subtree_control"
        try:
            self.files.write(control, " ".join(f"+{c}" for c in wanted))
            return
        except RuntimeFailure:
            pass
        for controller in wanted:
            try:
                self.files.write(control, f"+{controller}")
            except RuntimeFailure as failure:
                self._not_enabled[controller] = str(failure)

    # -- limits ----------------------------------------------------------------

    def _file(self, limit: str, controller: str, group: Path, file: str) -> Path:
        if not self.files.exists(group / file):
            raise unsupported(limit, self._why_missing(controller, group, file))
        return group / file

    def _why_missing(self, controller: str, group: Path, file: str) -> str:
        if controller in self._not_enabled:
            return f"the {controller} controller could not be enabled: {self._not_enabled[controller]}"
        offered = self.files.read(self.root / "cgroup.controllers").split()
        if controller not in offered:
            return (f"the kernel offers no {controller} controller in {self.root}"
                    f" (cgroup.controllers: {' '.join(offered) or 'none'})")
        return f"the kernel offers no {file} in {group}"

    def _limit_writes(self, name: str, limits: Limits) -> list[tuple[str, Path, str]]:
        # limits.devices is not enforced here: cgroup v2 has no devices files,
        # its rules need a BPF_CGROUP_DEVICE program, which this driver does
        # not load yet.
        group = self._require(name)
        writes = []
        swap = swap_only(limits.memory, limits.memory_swap)
        if swap is not None and self.files.exists(group / "memory.swap.max"):
            writes.append(("memory_swap", group / "memory.swap.max", _max(swap)))
        if limits.memory is not None:
            writes.append(("memory", self._file("memory", "memory", group, "memory.max"),
                           _max(limits.memory)))
        if limits.cpus is not None:
            quota = cpu_quota(limits.cpus)
            writes.append(("cpus", self._file("cpus", "cpu", group, "cpu.max"), f"{_max(quota)} {CFS_PERIOD}"))
        if limits.cpu_shares is not None:
            writes.append(("cpu_shares", self._file("cpu_shares", "cpu", group, "cpu.weight"),
                           str(shares_to_weight(limits.cpu_shares))))
        for limit, file in (("cpuset_cpus", "cpuset.cpus"), ("cpuset_mems", "cpuset.mems")):
            value = getattr(limits, limit)
            if value is not None:
                writes.append((limit, self._file(limit, "cpuset", group, file), value))
        if limits.pids is not None:
            writes.append(("pids", self._file("pids", "pids", group, "pids.max"),
                           "max" if limits.pids <= 0 else str(limits.pids)))
        if limits.blkio_weight is not None:
            writes.append(self._io_weight(group, limits.blkio_weight))
        return writes

    def _io_weight(self, group: Path, weight: int) -> tuple[str, Path, str]:
        # BFQ takes blkio's own 10..1000 scale; io.weight its wider one.
        if self.files.exists(group / "io.bfq.weight"):
            return "blkio_weight", group / "io.bfq.weight", str(weight)
        return ("blkio_weight", self._file("blkio_weight", "io", group, "io.weight"),
                str(blkio_to_io_weight(weight)))

    def supports_swap_limit(self, name: str) -> bool:
        return self.files.exists(self.path(name) / "memory.swap.max")

    # -- reading ---------------------------------------------------------------

    def stats(self, name: str) -> Stats:
        group = self._require(name)
        cpu = parse_keyed(self.files.read(group / "cpu.stat")) if self.files.exists(group / "cpu.stat") else {}
        current = self._read_int(group / "pids.current", None)
        return Stats(
            memory_usage=self._read_int(group / "memory.current"),
            memory_limit=self._read_int(group / "memory.max", None),
            memory_max_usage=self._read_int(group / "memory.peak", None),
            cpu_usage_ns=cpu.get("usage_usec", 0) * 1000,
            pids_current=len(self.pids(name)) if current is None else current,
            oom_kills=self.oom_kills(name))

    def oom_kills(self, name: str) -> int:
        events = self.path(name) / "memory.events"
        if not self.files.exists(events):
            return 0
        return parse_keyed(self.files.read(events)).get("oom_kill", 0)

    # -- freezer (Linux 5.2) ---------------------------------------------------

    def _frozen_is(self, group: Path, value: int) -> bool:
        return parse_keyed(self.files.read(group / "cgroup.events")).get("frozen") == value

    def _set_frozen(self, name: str, value: int, what: str) -> None:
        group = self._require(name)
        if not self.files.exists(group / "cgroup.freeze"):
            raise unsupported(what, "the kernel has no cgroup.freeze (Linux 5.2 or later)")
        self.files.write(group / "cgroup.freeze", str(value))
        if self._wait_for(lambda: self._frozen_is(group, value), self.freeze_timeout):
            return
        if value:
            self.files.write(group / "cgroup.freeze", "0")
        raise RuntimeFailure(f"cgroup {name}: cgroup.events did not reach frozen {value}"
                             f" in {self.freeze_timeout}s", errnos.EBUSY)

    def freeze(self, name: str) -> None:
        self._set_frozen(name, 1, "freeze")

    def thaw(self, name: str) -> None:
        self._set_frozen(name, 0, "thaw")

    def frozen(self, name: str) -> bool:
        group = self.path(name)
        return self.files.exists(group / "cgroup.events") and self._frozen_is(group, 1)

    def _can_freeze(self, name: str) -> bool:
        return self.files.exists(self.path(name) / "cgroup.freeze")

    # -- killing (cgroup.kill: Linux 5.14) -------------------------------------

    def kill_all(self, name: str, sig: int) -> None:
        if sig == signals.SIGKILL and self._kill_group(self.path(name)):
            return
        super().kill_all(name, sig)

    def _kill_group(self, group: Path) -> bool:
        if not self.files.exists(group / "cgroup.kill"):
            return False
        self.files.write(group / "cgroup.kill", "1")
        return True

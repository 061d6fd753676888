"""Control groups: one container = one cgroup named ``<parent>/<name>`` in
every hierarchy we use. This module owns the version-independent part: the
requested limits and reported stats, the driver interface, ``detect``, the
life cycle that both versions share (add, pids, kill, destroy, list) and the
pure conversions (docker's memory+swap, runc's shares->weight).
``cgroups_v1`` and ``cgroups_v2`` hold what differs.

Every filesystem root is a parameter, and every read, write, mkdir, rmdir,
kill(2) and sleep goes through one ``CgroupFiles`` object, so unit tests run
the drivers on a fake tree under tmp_path and see each write (STYLE 1, 2).
OSError becomes RuntimeFailure in ``CgroupFiles`` and nowhere else.

Imports nothing above engine.runtime.
"""
from __future__ import annotations

import errno as errnos
import os
import signal as signals
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from .errors import RuntimeFailure

CGROUP_ROOT = Path("/sys/fs/cgroup")
CFS_PERIOD = 100_000           # microseconds, docker's and runc's period for --cpus
CFS_QUOTA_MIN = 1_000          # the kernel refuses a smaller quota (EINVAL)
DESTROY_TIMEOUT = 2.0          # seconds of kill-and-retry before destroy gives up
FREEZE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Limits:
    """What a container asks for, with docker's meanings: ``None`` leaves the
    kernel's value alone, ``memory_swap`` is memory plus swap (-1 unlimited),
    ``pids`` of 0 or -1 is unlimited, ``cpus`` of 0 is unlimited."""
    memory: int | None = None
    memory_swap: int | None = None
    cpu_shares: int | None = None
    cpus: float | None = None
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    pids: int | None = None
    blkio_weight: int | None = None
    # Device rules ("TYPE MAJOR:MINOR ACCESS", devices.allow syntax) the group
    # may use; every other device is denied. None: all (privileged).
    devices: tuple[str, ...] | None = None


# Docker's default device rules (runc's AllowedDevices): any node may be
# made (mknod), only these be read or written.
DEFAULT_DEVICES = (
    "c *:* m", "b *:* m",
    "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",  # null zero full random urandom
    "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",  # tty console ptmx pts
)


@dataclass(frozen=True)
class Stats:
    memory_usage: int
    memory_limit: int | None        # None: no limit
    memory_max_usage: int | None    # None: the kernel does not report it
    cpu_usage_ns: int
    pids_current: int
    oom_kills: int


# -- pure conversions ----------------------------------------------------------

def swap_only(memory: int | None, memory_swap: int | None) -> int | None:
    """Swap alone (v2's memory.swap.max) from docker's memory+swap; -1 is
    unlimited, None is "leave alone". Same rules as runc's
    ConvertMemorySwapToCgroupV2Value."""
    if memory == -1 and memory_swap is None:
        return -1               # "memory unlimited" means swap too, as on v1
    if memory_swap is None or memory_swap == -1:
        return memory_swap
    if memory is None or memory == -1:
        raise RuntimeFailure("memory_swap: a swap limit needs a memory limit as well")
    if memory_swap < memory:
        raise RuntimeFailure(f"memory_swap: {memory_swap} is below the memory limit {memory};"
                             " memory_swap is memory plus swap")
    return memory_swap - memory


def shares_to_weight(shares: int) -> int:
    """v1 cpu.shares [2, 262144] -> v2 cpu.weight [1, 10000], as runc does."""
    shares = min(max(shares, 2), 262_144)
    return 1 + ((shares - 2) * 9999) // 262_142


def blkio_to_io_weight(weight: int) -> int:
    """v1 blkio.weight [10, 1000] -> v2 io.weight [1, 10000], as runc does."""
    return 1 + ((weight - 10) * 9999) // 990


def cpu_quota(cpus: float) -> int:
    """Microseconds per CFS_PERIOD for ``cpus`` CPUs; -1 (no quota) for 0."""
    if cpus == 0:
        return -1
    quota = round(cpus * CFS_PERIOD)
    if quota < CFS_QUOTA_MIN:
        raise RuntimeFailure(f"cpus: {cpus} is below the minimum {CFS_QUOTA_MIN / CFS_PERIOD}")
    return quota


def check_limits(limits: Limits) -> Limits:
    """Reject impossible values with the limit's name; normalize docker's
    "0 means unset" values to None."""
    limits = replace(limits, **{field: None for field in ("memory", "memory_swap", "cpu_shares", "blkio_weight",
                                                          "cpuset_cpus", "cpuset_mems")
                                if getattr(limits, field) in (0, "")})
    for field in ("memory", "memory_swap"):
        value = getattr(limits, field)
        if value is not None and value < -1:
            raise RuntimeFailure(f"{field}: {value} is not a size in bytes (-1 for unlimited)")
    if limits.cpu_shares is not None and limits.cpu_shares < 0:
        raise RuntimeFailure(f"cpu_shares: {limits.cpu_shares} is negative")
    if limits.cpus is not None and limits.cpus < 0:
        raise RuntimeFailure(f"cpus: {limits.cpus} is negative")
    if limits.blkio_weight is not None and not 10 <= limits.blkio_weight <= 1000:
        raise RuntimeFailure(f"blkio_weight: {limits.blkio_weight} is outside 10..1000")
    swap_only(limits.memory, limits.memory_swap)
    return limits


def parse_keyed(text: str) -> dict[str, int]:
    """``key value`` lines (memory.oom_control, memory.events, cpu.stat)."""
    values = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            values[key] = int(value)
    return values


def parse_pids(text: str) -> list[int]:
    # A pid outside our pid namespace reads as 0; never hand 0 to kill(2).
    return [pid for pid in (int(word) for word in text.split()) if pid > 0]


# -- the seam ------------------------------------------------------------------

class CgroupFiles:
    """The real cgroupfs, kill(2) and clock. Failures become RuntimeFailure
    naming the file (and the value written), with the errno kept."""

    def read(self, path: Path) -> str:
        try:
            with open(path, encoding="ascii") as file:
                return file.read().strip()
        except OSError as error:
            raise RuntimeFailure(f"cgroup: reading {path}: {error.strerror}", error.errno) from None

    def write(self, path: Path, value: str) -> None:
        # One write(2) per value: cgroupfs parses each write on its own.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
            try:
                os.write(fd, value.encode())
            finally:
                os.close(fd)
        except OSError as error:
            raise RuntimeFailure(f"cgroup: writing {value!r} to {path}: {error.strerror}",
                                 error.errno) from None

    def exists(self, path: Path) -> bool:
        return os.path.exists(path)

    def children(self, path: Path) -> list[Path]:
        """Child groups (directories) of a group, sorted; none if it is gone."""
        try:
            with os.scandir(path) as entries:  # the entries' types come with them: no stat each
                return sorted(Path(entry.path) for entry in entries if entry.is_dir(follow_symlinks=False))
        except FileNotFoundError:
            return []

    def mkdir(self, path: Path) -> None:
        try:
            os.mkdir(path)
        except FileExistsError:
            pass
        except OSError as error:
            raise RuntimeFailure(f"cgroup: mkdir {path}: {error.strerror}", error.errno) from None

    def rmdir(self, path: Path) -> None:
        try:
            os.rmdir(path)
        except FileNotFoundError:
            pass
        except OSError as error:
            raise RuntimeFailure(f"cgroup: rmdir {path}: {error.strerror}", error.errno) from None

    def kill(self, pid: int, sig: int) -> None:
        if pid <= 0:
            raise RuntimeFailure(f"cgroup: refusing to signal pid {pid}")
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass                # exited between listing and signalling
        except OSError as error:
            raise RuntimeFailure(f"cgroup: kill({pid}, {sig}): {error.strerror}", error.errno) from None

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def monotonic(self) -> float:
        return time.monotonic()


# -- the driver ----------------------------------------------------------------

def detect(root: Path = CGROUP_ROOT, parent: str = "dockyard",
           files: CgroupFiles | None = None) -> CgroupDriver:
    """v2 when ``root`` is a cgroup2 mount (it has cgroup.controllers), else
    v1 (legacy, or hybrid with a mostly empty cgroup2 at root/unified)."""
    files = files or CgroupFiles()
    if files.exists(Path(root) / "cgroup.controllers"):
        from .cgroups_v2 import CgroupV2Driver
        return CgroupV2Driver(Path(root), parent, files)
    from .cgroups_v1 import CgroupV1Driver
    return CgroupV1Driver(Path(root), parent, files)


def _check_parent(parent: str) -> str:
    parts = PurePosixPath(parent).parts
    if not parts or parent.startswith("/") or any(part in (".", "..") for part in parts):
        raise ValueError(f"cgroup parent {parent!r} must be a relative path without . or ..")
    return "/".join(parts)


def check_name(name: str) -> str:
    if not name or "/" in name or name in (".", "..") or "\0" in name:
        raise ValueError(f"cgroup name {name!r} must be one path component")
    return name


class CgroupDriver(ABC):
    """The cgroups of our containers, all below ``parent`` in each hierarchy."""
    version: int

    def __init__(self, root: Path, parent: str = "dockyard", files: CgroupFiles | None = None,
                 freeze_timeout: float = FREEZE_TIMEOUT) -> None:
        self.root = Path(root)
        self.parent = _check_parent(parent)
        self.files = files or CgroupFiles()
        self.freeze_timeout = freeze_timeout

    # What each version decides.
    @abstractmethod
    def _hierarchies(self) -> list[Path]:
        """The mount of every hierarchy we use, the primary one first."""

    @abstractmethod
    def create(self, name: str) -> None: ...

    @abstractmethod
    def _limit_writes(self, name: str, limits: Limits) -> list[tuple[str, Path, str]]:
        """(limit, file, value) in the order to write, after checking that
        every requested limit is supported; writes nothing itself."""

    @abstractmethod
    def stats(self, name: str) -> Stats: ...

    @abstractmethod
    def oom_kills(self, name: str) -> int: ...

    @abstractmethod
    def freeze(self, name: str) -> None: ...

    @abstractmethod
    def thaw(self, name: str) -> None: ...

    @abstractmethod
    def frozen(self, name: str) -> bool: ...

    @abstractmethod
    def _can_freeze(self, name: str) -> bool: ...

    @abstractmethod
    def supports_swap_limit(self, name: str) -> bool:
        """False when the kernel does not account swap: a memory_swap request
        is then dropped, as docker does (with a warning the caller prints)."""

    # Shared behaviour.
    def _parent_dirs(self) -> list[Path]:
        return [hierarchy / self.parent for hierarchy in self._hierarchies()]

    def dirs(self, name: str) -> list[Path]:
        """The group in every hierarchy, the primary one first."""
        check_name(name)
        return [parent / name for parent in self._parent_dirs()]

    def path(self, name: str) -> Path:
        return self.dirs(name)[0]

    def cgroup_path(self, name: str) -> str:
        """As /proc/<pid>/cgroup shows it (memory line on v1, ``0::`` on v2)."""
        return f"/{self.parent}/{check_name(name)}"

    def apply(self, name: str, limits: Limits) -> None:
        for limit, path, value in self._limit_writes(name, check_limits(limits)):
            try:
                self.files.write(path, value)
            except RuntimeFailure as failure:
                raise RuntimeFailure(f"{limit}: {failure}", failure.errno) from None

    def add(self, name: str, pid: int) -> None:
        if pid <= 0:
            raise ValueError(f"pid {pid} cannot join a cgroup")
        for group in self.dirs(name):
            self.files.write(group / "cgroup.procs", str(pid))

    def pids(self, name: str) -> list[int]:
        """Every process in the group and its sub-groups (a container may make
        its own), from the primary hierarchy."""
        return self._tree_pids(self.path(name))

    def exists(self, name: str) -> bool:
        return any(self.files.exists(group) for group in self.dirs(name))

    def list(self) -> list[str]:
        names = set()
        for parent in self._parent_dirs():
            names.update(child.name for child in self.files.children(parent))
        return sorted(names)

    def oom_killed(self, name: str) -> bool:
        return self.oom_kills(name) > 0

    def kill_all(self, name: str, sig: int) -> None:
        """Signal every process. For SIGKILL the group is frozen first when
        it can be, so that a forking process cannot outrun the loop."""
        hold = sig == signals.SIGKILL and self._can_freeze(name)
        if hold:
            try:
                self.freeze(name)
            except RuntimeFailure:
                hold = False     # stuck freezing: signal anyway, unheld
        for pid in self._all_pids(name):
            self.files.kill(pid, sig)
        if hold:
            self.thaw(name)      # a frozen process cannot act on SIGKILL

    def destroy(self, name: str) -> None:
        """Remove the group everywhere; SIGKILL what is still inside and
        retry until DESTROY_TIMEOUT. Missing groups are fine."""
        deadline = self.files.monotonic() + DESTROY_TIMEOUT
        while True:
            busy = [group for group in self.dirs(name) if not self._remove_tree(group)]
            if not busy:
                return
            left = sorted({pid for group in busy for pid in self._tree_pids(group)})
            if self.files.monotonic() > deadline:
                raise RuntimeFailure(f"cgroup {name}: cannot remove {busy[0]}: processes {left} remain",
                                     errnos.EBUSY)
            for group in busy:
                if not self._kill_group(group):
                    for pid in self._tree_pids(group):
                        self.files.kill(pid, signals.SIGKILL)
            self.files.sleep(0.01)

    def remove_parent(self) -> None:
        """Remove the (empty) parent group, down to the hierarchy root: for
        tests and for uninstalling. A parent still holding groups stays."""
        for hierarchy in self._hierarchies():
            level = hierarchy / self.parent
            while level != hierarchy and self._rmdir_if_empty(level):
                level = level.parent

    # Helpers.
    def _undo_create(self, name: str) -> None:
        try:
            self.destroy(name)
        except RuntimeFailure:
            pass                 # the create failure is the one to report

    def _kill_group(self, group: Path) -> bool:
        """SIGKILL a whole group at once if the kernel can; False if not."""
        return False

    def _require(self, name: str) -> Path:
        group = self.path(name)
        if not self.files.exists(group):
            raise RuntimeFailure(f"cgroup {name}: no such group ({group})", errnos.ENOENT)
        return group

    def _rmdir_if_empty(self, group: Path) -> bool:
        try:
            self.files.rmdir(group)
        except RuntimeFailure as failure:
            if failure.errno in (errnos.EBUSY, errnos.ENOTEMPTY):
                return False
            raise
        return True

    def _tree(self, group: Path) -> list[Path]:
        """The group and its descendants, deepest first."""
        found = []
        for child in self.files.children(group):
            found.extend(self._tree(child))
        return found + [group]

    def _tree_pids(self, group: Path) -> list[int]:
        pids = []
        for member in self._tree(group):
            procs = member / "cgroup.procs"
            if self.files.exists(procs):
                pids.extend(parse_pids(self.files.read(procs)))
        return sorted(set(pids))

    def _all_pids(self, name: str) -> list[int]:
        return sorted({pid for group in self.dirs(name) for pid in self._tree_pids(group)})

    def _remove_tree(self, group: Path) -> bool:
        """rmdir deepest first; False while processes keep a group busy."""
        if not self.files.exists(group):
            return True
        try:
            self.files.rmdir(group)  # the usual case: a group without children
            return True
        except RuntimeFailure:
            pass
        try:
            for member in self._tree(group):
                self.files.rmdir(member)
        except RuntimeFailure as failure:
            if failure.errno in (errnos.EBUSY, errnos.ENOTEMPTY):
                return False
            raise
        return True

    def _read_int(self, path: Path, default: int | None = 0) -> int | None:
        if not self.files.exists(path):
            return default
        text = self.files.read(path)
        return None if text == "max" else int(text)

    def _wait_for(self, done, timeout: float) -> bool:
        """Poll ``done()`` with short growing sleeps until it holds or time is up."""
        deadline = self.files.monotonic() + timeout
        pause = 0.001
        while not done():
            if self.files.monotonic() > deadline:
                return False
            self.files.sleep(pause)
            pause = min(pause * 2, 0.05)
        return True


def unsupported(limit: str, why: str) -> RuntimeFailure:
    return RuntimeFailure(f"{limit}: not supported on this host: {why}", errnos.EOPNOTSUPP)

"""What the runtime needs to start one container, as plain data.

Built by engine.containers (from the image config and the create request),
serialized to the supervisor as JSON, read by the child before exec. No
logic beyond (de)serialization. Standard library only.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Mount:
    target: str  # inside the container
    type: str  # bind | tmpfs | volume (a bind of the volume's directory)
    source: str = ""  # host path for bind/volume
    read_only: bool = False
    propagation: str = "rprivate"
    options: list[str] = field(default_factory=list)  # tmpfs: size=..., mode=...
    copy_up: bool = False  # volume: fill it with the image's content there when empty


@dataclass
class Spec:
    id: str
    rootfs_lower: list[str]  # image layer dirs, top first
    rootfs_upper: str
    rootfs_work: str
    rootfs_merged: str
    args: list[str]
    env: list[str]
    cwd: str = "/"
    uid: int = 0
    gid: int = 0
    groups: list[int] = field(default_factory=list)
    hostname: str = ""
    domainname: str = ""
    namespaces: list[str] = field(default_factory=lambda: ["mnt", "uts", "ipc", "pid", "net", "cgroup"])
    netns_path: str = ""  # join this network namespace instead of a new one
    etc_files: dict[str, str] = field(default_factory=dict)  # /etc/hosts -> host file to bind
    mounts: list[Mount] = field(default_factory=list)
    read_only: bool = False
    shm_size: int = 64 * 1024 * 1024
    capabilities: int | None = None  # bitmask; None: keep the engine's
    no_new_privileges: bool = False
    seccomp_filter: str = ""  # the BPF program (hex), built by the engine; "" for none
    seccomp_flags: int = 0
    privileged: bool = False
    masked_paths: list[str] = field(default_factory=list)
    readonly_paths: list[str] = field(default_factory=list)
    sysctls: dict[str, str] = field(default_factory=dict)
    rlimits: dict[str, tuple[int, int]] = field(default_factory=dict)
    tty: bool = False
    cgroup: str = ""  # the cgroup name (the supervisor makes it, on v2 adds the pid)
    # cgroup v1: the ``tasks`` files the process joins by itself at start by
    # writing "0" (a task moving itself takes no global lock; a move by
    # another process waits for an RCU grace period, ~10 ms here). Their
    # parent groups exist when it starts. Empty: the supervisor adds it.
    cgroup_tasks: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """A JSON-ready dict (shallow: the values are JSON already, but mounts)."""
        data = dict(self.__dict__)
        data["mounts"] = [dict(m.__dict__) for m in self.mounts]
        return data

    @classmethod
    def from_json(cls, data: dict) -> Spec:
        data = dict(data)
        data["mounts"] = [Mount(**m) for m in data.get("mounts", [])]
        data["rlimits"] = {k: tuple(v) for k, v in data.get("rlimits", {}).items()}
        return cls(**data)


# Docker's masked and read-only paths (moby oci/defaults.go).
MASKED_PATHS = ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                "/sys/firmware", "/sys/devices/virtual/powercap"]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

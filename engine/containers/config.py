"""From a create request (docker's ``Config`` + ``HostConfig``) and the
image's config to what the runtime runs: the command (Entrypoint/Cmd exactly
as docker combines them), environment, working directory, user (resolved in
the image's /etc/passwd and /etc/group), mounts and limits.

Unsupported fields are refused by name, never ignored. Pure apart from
reading the image's /etc files (given as a lookup).
"""
from __future__ import annotations

import shlex
from collections.abc import Callable

from .errors import InvalidRequest

ReadFile = Callable[[str], str | None]  # path inside the image -> text, or None

# What the runtime honours; any other HostConfig field set to a non-zero
# value is refused by name (CPU quota and period, ... are not done yet).
SUPPORTED_HOST_CONFIG = {
    "Binds", "Mounts", "Tmpfs", "ReadonlyRootfs", "Memory", "MemorySwap", "NanoCpus", "CpuShares",
    "CpusetCpus", "CpusetMems", "PidsLimit", "BlkioWeight", "CapAdd", "CapDrop", "Privileged",
    "SecurityOpt", "Sysctls", "Ulimits", "ShmSize", "ExtraHosts", "NetworkMode", "LogConfig",
    "AutoRemove", "Init", "Dns", "DnsSearch", "DnsOptions", "GroupAdd", "PortBindings", "PublishAllPorts",
    "RestartPolicy",
}


def command(image: dict, config: dict) -> list[str]:
    """docker's rule: Entrypoint (request, else image) + Cmd (request, else
    image — but a request's non-empty Entrypoint drops the image's Cmd)."""
    entrypoint = config.get("Entrypoint")
    cmd = config.get("Cmd")
    if isinstance(entrypoint, str):
        entrypoint = shlex.split(entrypoint)
    if isinstance(cmd, str):
        cmd = shlex.split(cmd)
    if entrypoint == [""]:  # the docker CLI's --entrypoint "": none at all
        entrypoint = []
    if not entrypoint:  # moby: an empty one drops the image's entrypoint, not its Cmd
        if not cmd:
            cmd = image.get("Cmd") or []
        if entrypoint is None:
            entrypoint = image.get("Entrypoint") or []
    elif cmd is None:
        cmd = []
    args = list(entrypoint or []) + list(cmd or [])
    if not args:
        raise InvalidRequest("no command specified")
    return args


def environment(image: dict, config: dict) -> list[str]:
    merged: dict[str, str] = {}
    for entry in (image.get("Env") or []) + (config.get("Env") or []):
        key, _, value = entry.partition("=")
        merged[key] = value
    merged.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    if "HOSTNAME" not in merged and config.get("Hostname"):
        merged["HOSTNAME"] = config["Hostname"]
    return [f"{k}={v}" for k, v in merged.items()]


def _passwd(text: str | None) -> list[list[str]]:
    return [line.split(":") for line in (text or "").splitlines() if line and not line.startswith("#")]


def user(spec: str, read_file: ReadFile) -> tuple[int, int, list[int]]:
    """``name``, ``uid``, ``uid:gid``, ``name:group`` -> (uid, gid, supplementary gids)."""
    if not spec:
        spec = "0"
    name, _, group = spec.partition(":")
    users = _passwd(read_file("/etc/passwd"))
    groups = _passwd(read_file("/etc/group"))
    entry = next((u for u in users if len(u) > 3 and (u[0] == name or u[2] == name)), None)
    if entry:
        uid, gid, login = int(entry[2]), int(entry[3]), entry[0]
    elif name.isdigit():
        uid, gid, login = int(name), 0, None
    else:
        raise InvalidRequest(f"unable to find user {name}: no matching entries in passwd file")
    if group:
        found = next((g for g in groups if len(g) > 2 and (g[0] == group or g[2] == group)), None)
        if found:
            gid = int(found[2])
        elif group.isdigit():
            gid = int(group)
        else:
            raise InvalidRequest(f"unable to find group {group}: no matching entries in group file")
    supplementary = sorted({int(g[2]) for g in groups if len(g) > 3 and login
                            and login in g[3].split(",") and int(g[2]) != gid})
    return uid, gid, supplementary


def unsupported(host_config: dict) -> list[str]:
    """HostConfig fields set to something other than their zero value that
    the runtime cannot honour yet."""
    return sorted(k for k, v in host_config.items()
                  if k not in SUPPORTED_HOST_CONFIG and v not in (None, "", 0, False, [], {}))


_IPC_SYSCTLS = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}


def check_sysctls(sysctls: dict, network_mode: str) -> None:
    """Only namespaced sysctls, as docker allows them (a container must not
    change the host's kernel)."""
    for key in sysctls:
        if key in _IPC_SYSCTLS or key.startswith("fs.mqueue."):
            continue
        if key.startswith("net.") and network_mode != "host":
            continue
        reason = ("sysctls of the host's network namespace cannot be set" if key.startswith("net.")
                  else "it is not namespaced")
        raise InvalidRequest(f"sysctl {key!r} is not allowed: {reason}")


def check_ulimits(ulimits: list[dict]) -> None:
    """A limit above the engine's own hard limit cannot be granted (the
    kernel answers EPERM): say so before anything starts."""
    import resource
    names = {"nofile": resource.RLIMIT_NOFILE, "nproc": resource.RLIMIT_NPROC,
             "core": resource.RLIMIT_CORE, "memlock": resource.RLIMIT_MEMLOCK,
             "stack": resource.RLIMIT_STACK}
    for entry in ulimits:
        name = entry.get("Name")
        soft, hard = entry.get("Soft"), entry.get("Hard")
        if soft is not None and hard is not None and soft > hard:
            raise InvalidRequest(f"ulimit {name}: soft limit {soft} is above the hard limit {hard}")
        if name in names:
            ceiling = resource.getrlimit(names[name])[1]
            if ceiling != resource.RLIM_INFINITY and hard is not None and hard > ceiling:
                raise InvalidRequest(f"ulimit {name}={soft}:{hard} is above the engine's own hard "
                                     f"limit {ceiling}; ask for {ceiling} at most")

"""docker-py's container types: ``HostConfig`` (keyword arguments -> the
create request's ``HostConfig``, one table row per argument),
``ContainerConfig`` (the rest of the create request), and the small dicts
``Ulimit``, ``LogConfig``, ``Mount``, ``Healthcheck``, ``DeviceRequest``.

The rows follow docker-py's ``docker/types/containers.py``: which value is
sent at all (``None`` or any false value left out), the type checks and their
words, the API version an argument needs. Pure.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InvalidArgument, InvalidVersion, unexpected_kwargs
from ..utils import (
    convert_port_bindings,
    convert_tmpfs_mounts,
    convert_volume_binds,
    format_environment,
    format_extra_hosts,
    normalize_links,
    parse_bytes,
    parse_devices,
    split_command,
    version_gte,
    version_lt,
)


class Ulimit(dict):
    def __init__(self, **kwargs) -> None:
        name = kwargs.get("name", kwargs.get("Name"))
        soft = kwargs.get("soft", kwargs.get("Soft"))
        hard = kwargs.get("hard", kwargs.get("Hard"))
        if not isinstance(name, str):
            raise ValueError("Ulimit.name must be a string")  # noqa: TRY004 - docker-py's exception
        if soft and not isinstance(soft, int):
            raise ValueError("Ulimit.soft must be an integer")
        if hard and not isinstance(hard, int):
            raise ValueError("Ulimit.hard must be an integer")
        super().__init__({"Name": name, "Soft": soft, "Hard": hard})


class LogConfig(dict):
    def __init__(self, **kwargs) -> None:
        config = kwargs.get("config", kwargs.get("Config")) or {}
        if config and not isinstance(config, dict):
            raise ValueError("LogConfig.config must be a dictionary")
        super().__init__({"Type": kwargs.get("type", kwargs.get("Type")), "Config": config})


class DeviceRequest(dict):
    def __init__(self, **kwargs) -> None:
        fields = {"Driver": ("driver", str, ""), "Count": ("count", int, 0),
                  "DeviceIDs": ("device_ids", list, []), "Capabilities": ("capabilities", list, []),
                  "Options": ("options", dict, {})}
        words = {str: "a string", int: "an integer", list: "a list", dict: "a dict"}
        for key, (name, kind, default) in fields.items():
            value = kwargs.get(name, kwargs.get(key))
            if value is None:
                value = default
            elif not isinstance(value, kind):
                raise ValueError(f"DeviceRequest.{name} must be {words[kind]}")
            self[key] = value


class Healthcheck(dict):
    def __init__(self, **kwargs) -> None:
        test = kwargs.get("test", kwargs.get("Test"))
        if isinstance(test, str):
            test = ["CMD-SHELL", test]
        super().__init__({"Test": test,
                          "Interval": kwargs.get("interval", kwargs.get("Interval")),
                          "Timeout": kwargs.get("timeout", kwargs.get("Timeout")),
                          "Retries": kwargs.get("retries", kwargs.get("Retries")),
                          "StartPeriod": kwargs.get("start_period", kwargs.get("StartPeriod"))})


class Mount(dict):
    """One entry of ``HostConfig.Mounts``: bind, volume, tmpfs (or npipe)."""

    def __init__(self, target, source, type="volume", read_only=False, consistency=None,
                 propagation=None, no_copy=False, labels=None, driver_config=None,
                 tmpfs_size=None, tmpfs_mode=None) -> None:
        if type not in ("bind", "volume", "tmpfs", "npipe"):
            raise InvalidArgument(f'Unsupported mount type: "{type}"')
        super().__init__({"Target": target, "Source": source, "Type": type, "ReadOnly": read_only})
        if consistency:
            self["Consistency"] = consistency
        if type == "bind":
            extra = [labels, driver_config, no_copy, tmpfs_size, tmpfs_mode]
            if propagation is not None:
                self["BindOptions"] = {"Propagation": propagation}
        elif type == "volume":
            extra = [propagation, tmpfs_size, tmpfs_mode]
            options = {"NoCopy": True} if no_copy else {}
            options.update({k: v for k, v in (("Labels", labels), ("DriverConfig", driver_config)) if v})
            if options:
                self["VolumeOptions"] = options
        elif type == "tmpfs":
            extra = [propagation, labels, driver_config, no_copy]
            options = {}
            if tmpfs_mode:
                if not isinstance(tmpfs_mode, int):
                    raise InvalidArgument("tmpfs_mode must be an integer")
                options["Mode"] = tmpfs_mode
            if tmpfs_size:
                options["SizeBytes"] = parse_bytes(tmpfs_size)
            if options:
                self["TmpfsOptions"] = options
        else:
            extra = []
        if any(extra):
            raise InvalidArgument(f"Incompatible options have been provided for the {type} type mount.")

    @classmethod
    def parse_mount_string(cls, text: str) -> Mount:
        parts = text.split(":")
        if len(parts) > 3:
            raise InvalidArgument(f'Invalid mount format "{text}"')
        if len(parts) == 1:
            return cls(target=parts[0], source=None)
        kind = "bind" if parts[0].startswith("/") else "volume"
        read_only = not (len(parts) == 2 or parts[2] == "rw")
        return cls(parts[1], parts[0], read_only=read_only, type=kind)


def _type_error(param: str, value, expected: str) -> TypeError:
    return TypeError(f"Invalid type for {param} param: expected {expected} but found {type(value)}")


def _only_host(param: str) -> Callable:
    def check(value):
        if value != "host":
            raise ValueError(f"Invalid value for {param} param: {value}")
        return value
    return check


def _sysctls(value: dict) -> dict:
    return {key: str(item) for key, item in value.items()}


def _ulimits(value: list) -> list:
    return [item if isinstance(item, Ulimit) else Ulimit(**item) for item in value]


def _log_config(value) -> LogConfig:
    return value if isinstance(value, LogConfig) else LogConfig(**value)


def _device_requests(value: list) -> list:
    return [item if isinstance(item, DeviceRequest) else DeviceRequest(**item) for item in value]


def _lxc_conf(value):
    if isinstance(value, dict):
        return [{"Key": key, "Value": str(item)} for key, item in value.items()]
    return value


@dataclass(frozen=True)
class Rule:
    key: str  # the HostConfig field
    truthy: bool = False  # sent only when true (else: when not None)
    kind: tuple[type | tuple, str] | None = None  # docker-py's type check and its word
    convert: Callable = lambda value: value
    since: str | None = None  # the API version the field needs


_INT, _LIST, _DICT, _STR = (int, "int"), (list, "list"), (dict, "dict"), (str, "str")

HOST_CONFIG: dict[str, Rule] = {
    "mem_limit": Rule("Memory", convert=parse_bytes),
    "memswap_limit": Rule("MemorySwap", convert=parse_bytes),
    "mem_reservation": Rule("MemoryReservation", True, convert=parse_bytes),
    "kernel_memory": Rule("KernelMemory", True, convert=parse_bytes),
    "mem_swappiness": Rule("MemorySwappiness", kind=_INT),
    "shm_size": Rule("ShmSize", convert=parse_bytes),
    "pid_mode": Rule("PidMode", True),
    "ipc_mode": Rule("IpcMode", True),
    "privileged": Rule("Privileged", True),
    "oom_kill_disable": Rule("OomKillDisable", True),
    "oom_score_adj": Rule("OomScoreAdj", True, _INT, since="1.22"),
    "publish_all_ports": Rule("PublishAllPorts", True),
    "read_only": Rule("ReadonlyRootfs"),
    "dns_search": Rule("DnsSearch", True),
    "restart_policy": Rule("RestartPolicy", True, _DICT),
    "cap_add": Rule("CapAdd", True),
    "cap_drop": Rule("CapDrop", True),
    "devices": Rule("Devices", True, convert=parse_devices),
    "group_add": Rule("GroupAdd", True, convert=lambda groups: [str(group) for group in groups]),
    "dns": Rule("Dns"),
    "dns_opt": Rule("DnsOptions"),
    "security_opt": Rule("SecurityOpt", kind=_LIST),
    "sysctls": Rule("Sysctls", True, _DICT, _sysctls),
    "volumes_from": Rule("VolumesFrom", convert=lambda v: v.split(",") if isinstance(v, str) else v),
    "binds": Rule("Binds", convert=convert_volume_binds),
    "port_bindings": Rule("PortBindings", convert=convert_port_bindings),
    "extra_hosts": Rule("ExtraHosts", convert=lambda v: format_extra_hosts(v) if isinstance(v, dict) else v),
    "links": Rule("Links", convert=normalize_links),
    "lxc_conf": Rule("LxcConf", convert=_lxc_conf),
    "cgroup_parent": Rule("CgroupParent"),
    "ulimits": Rule("Ulimits", kind=_LIST, convert=_ulimits),
    "log_config": Rule("LogConfig", kind=((dict,), "LogConfig"), convert=_log_config),
    "cpu_quota": Rule("CpuQuota", True, _INT),
    "cpu_period": Rule("CpuPeriod", True, _INT),
    "cpu_shares": Rule("CpuShares", True, _INT),
    "cpuset_cpus": Rule("CpusetCpus", True),
    "cpuset_mems": Rule("CpusetMems", True, _STR),
    "cpu_rt_period": Rule("CPURealtimePeriod", True, _INT, since="1.25"),
    "cpu_rt_runtime": Rule("CPURealtimeRuntime", True, _INT, since="1.25"),
    "blkio_weight": Rule("BlkioWeight", True, _INT, since="1.22"),
    "blkio_weight_device": Rule("BlkioWeightDevice", True, _LIST, since="1.22"),
    "device_read_bps": Rule("BlkioDeviceReadBps", True, _LIST, since="1.22"),
    "device_write_bps": Rule("BlkioDeviceWriteBps", True, _LIST, since="1.22"),
    "device_read_iops": Rule("BlkioDeviceReadIOps", True, _LIST, since="1.22"),
    "device_write_iops": Rule("BlkioDeviceWriteIOps", True, _LIST, since="1.22"),
    "tmpfs": Rule("Tmpfs", True, convert=convert_tmpfs_mounts, since="1.22"),
    "userns_mode": Rule("UsernsMode", True, convert=_only_host("userns_mode"), since="1.23"),
    "uts_mode": Rule("UTSMode", True, convert=_only_host("uts_mode")),
    "pids_limit": Rule("PidsLimit", True, _INT, since="1.23"),
    "isolation": Rule("Isolation", True, (str, "string"), since="1.24"),
    "auto_remove": Rule("AutoRemove", True, since="1.25"),
    "storage_opt": Rule("StorageOpt", since="1.24"),
    "init": Rule("Init", since="1.25"),
    "volume_driver": Rule("VolumeDriver"),
    "cpu_count": Rule("CpuCount", True, _INT, since="1.25"),
    "cpu_percent": Rule("CpuPercent", True, _INT, since="1.25"),
    "nano_cpus": Rule("NanoCpus", True, _INT, since="1.25"),
    "runtime": Rule("Runtime", True, since="1.25"),
    "mounts": Rule("Mounts", since="1.30"),
    "device_cgroup_rules": Rule("DeviceCgroupRules", kind=_LIST, since="1.28"),
    "device_requests": Rule("DeviceRequests", kind=_LIST, convert=_device_requests, since="1.40"),
    "cgroupns": Rule("CgroupnsMode", True),
}
_SPECIAL = ("network_mode", "init_path")


def _given(rule: Rule, value) -> bool:
    return bool(value) if rule.truthy else value is not None


def _version_error(param: str, version: str, less_than: bool = True) -> InvalidVersion:
    return InvalidVersion(f"{param} param is not supported in API versions {'<' if less_than else '>'} {version}")


class HostConfig(dict):
    """``HostConfig(version, mem_limit="1g", ...)``: docker-py's keyword arguments."""

    def __init__(self, version: str, **kwargs) -> None:
        super().__init__()
        unknown = [key for key in kwargs if key not in HOST_CONFIG and key not in _SPECIAL]
        if unknown:
            raise unexpected_kwargs("HostConfig", unknown)
        if kwargs.get("pid_mode") and version_lt(version, "1.24") and kwargs["pid_mode"] != "host":
            raise ValueError(f"Invalid value for pid_mode param: {kwargs['pid_mode']}")
        network_mode = kwargs.get("network_mode")
        if network_mode == "host" and kwargs.get("port_bindings"):
            raise InvalidArgument('"host" network_mode is incompatible with port_bindings')
        for param, rule in HOST_CONFIG.items():
            value = kwargs.get(param)
            if not _given(rule, value):
                continue
            if rule.kind and not isinstance(value, rule.kind[0]):
                raise _type_error(param, value, rule.kind[1])
            if rule.since and version_lt(version, rule.since):
                raise _version_error(param, rule.since)
            self[rule.key] = rule.convert(value)
        self["NetworkMode"] = network_mode or "default"
        if kwargs.get("init_path") is not None:
            if version_lt(version, "1.25"):
                raise _version_error("init_path", "1.25")
            if version_gte(version, "1.29"):
                raise _version_error("init_path", "1.29", less_than=False)
            self["InitPath"] = kwargs["init_path"]


def container_config(version: str, image, command, hostname=None, user=None, detach=False,
                     stdin_open=False, tty=False, ports=None, environment=None, volumes=None,
                     network_disabled=False, entrypoint=None, working_dir=None, domainname=None,
                     host_config=None, mac_address=None, labels=None, stop_signal=None,
                     networking_config=None, healthcheck=None, stop_timeout=None, runtime=None) -> dict:
    """The create request's body, as docker-py's ``ContainerConfig`` (its
    ``None`` values are left out when sent)."""
    if stop_timeout is not None and version_lt(version, "1.25"):
        raise InvalidVersion("stop_timeout was only introduced in API version 1.25")
    if healthcheck is not None and version_lt(version, "1.29") and "StartPeriod" in healthcheck:
        raise InvalidVersion("healthcheck start period was introduced in API version 1.29")
    if isinstance(command, str):
        command = split_command(command)
    if isinstance(entrypoint, str):
        entrypoint = split_command(entrypoint)
    if isinstance(environment, dict):
        environment = format_environment(environment)
    if isinstance(labels, list):
        labels = {label: "" for label in labels}
    if isinstance(ports, list):
        exposed = {}
        for port in ports:
            number, protocol = (port[0], port[1] if len(port) == 2 else "tcp") if isinstance(port, tuple) \
                else (port, "tcp")
            exposed[f"{number}/{protocol}"] = {}
        ports = exposed
    if isinstance(volumes, str):
        volumes = [volumes]
    if isinstance(volumes, list):
        volumes = {path: {} for path in volumes}
    if healthcheck and isinstance(healthcheck, dict):
        healthcheck = Healthcheck(**healthcheck)
    attached = not detach
    return {
        "Hostname": hostname, "Domainname": domainname, "ExposedPorts": ports,
        "User": str(user) if user is not None else None, "Tty": tty, "OpenStdin": stdin_open,
        "StdinOnce": attached and bool(stdin_open), "AttachStdin": attached and bool(stdin_open),
        "AttachStdout": attached, "AttachStderr": attached, "Env": environment, "Cmd": command,
        "Image": image, "Volumes": volumes, "NetworkDisabled": network_disabled,
        "Entrypoint": entrypoint, "WorkingDir": working_dir, "HostConfig": host_config,
        "NetworkingConfig": networking_config, "MacAddress": mac_address, "Labels": labels,
        "StopSignal": stop_signal, "Healthcheck": healthcheck, "StopTimeout": stop_timeout,
        "Runtime": runtime,
    }

"""``containers.run`` / ``containers.create`` keyword arguments -> the
arguments of ``APIClient.create_container``, as docker-py splits them
(``docker/models/containers.py: _create_container_args``): some go to the
container's config, some to its ``HostConfig``, ``ports``, ``volumes`` and
``network`` to both; anything else is a ``TypeError`` naming it. Pure.
"""
from __future__ import annotations

from .errors import unexpected_kwargs
from .types import HostConfig, NetworkingConfig

# copied as they are to create_container
RUN_CREATE_KWARGS = (
    "command", "detach", "domainname", "entrypoint", "environment", "healthcheck", "hostname", "image",
    "labels", "mac_address", "name", "network_disabled", "platform", "stdin_open", "stop_signal", "tty",
    "use_config_proxy", "user", "working_dir",
)

# copied as they are to the HostConfig
RUN_HOST_CONFIG_KWARGS = (
    "auto_remove", "blkio_weight_device", "blkio_weight", "cap_add", "cap_drop", "cgroup_parent",
    "cgroupns", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota", "cpu_shares", "cpuset_cpus",
    "cpuset_mems", "cpu_rt_period", "cpu_rt_runtime", "device_cgroup_rules", "device_read_bps",
    "device_read_iops", "device_write_bps", "device_write_iops", "devices", "device_requests", "dns_opt",
    "dns_search", "dns", "extra_hosts", "group_add", "init", "init_path", "ipc_mode", "isolation",
    "kernel_memory", "links", "log_config", "lxc_conf", "mem_limit", "mem_reservation", "mem_swappiness",
    "memswap_limit", "mounts", "nano_cpus", "network_mode", "oom_kill_disable", "oom_score_adj",
    "pid_mode", "pids_limit", "privileged", "publish_all_ports", "read_only", "restart_policy",
    "security_opt", "shm_size", "storage_opt", "sysctls", "tmpfs", "ulimits", "userns_mode", "uts_mode",
    "version", "volume_driver", "volumes_from", "runtime",
)


def create_container_args(kwargs: dict) -> dict:
    """``kwargs`` must hold ``image``, ``command`` and ``version`` (the API's)."""
    kwargs = dict(kwargs)
    create = {key: kwargs.pop(key) for key in list(kwargs) if key in RUN_CREATE_KWARGS}
    host = {key: kwargs.pop(key) for key in list(kwargs) if key in RUN_HOST_CONFIG_KWARGS}
    ports = kwargs.pop("ports", {})
    if ports:
        host["port_bindings"] = ports
    volumes = kwargs.pop("volumes", {})
    if volumes:
        host["binds"] = volumes
    network = kwargs.pop("network", None)
    networking_config = kwargs.pop("networking_config", None)
    if network:
        if networking_config and network not in networking_config:
            networking_config = None  # it must describe the network it names
        create["networking_config"] = (NetworkingConfig(networking_config) if networking_config
                                       else {network: None})
        host["network_mode"] = network
    if kwargs:
        raise unexpected_kwargs("run", kwargs)
    create["host_config"] = HostConfig(**host)
    port_bindings = create["host_config"].get("PortBindings")
    if port_bindings:
        create["ports"] = [tuple(port.split("/", 1)) for port in sorted(port_bindings)]
    if volumes:
        create["volumes"] = ([target.get("bind") for target in volumes.values()] if isinstance(volumes, dict)
                             else [_container_path(bind) for bind in volumes])
    return create


def _container_path(bind: str) -> str:
    """``"name:/p:ro"`` -> ``"/p"``; ``"/p"`` -> ``"/p"``. (docker-py first
    splits off a Windows drive, which turns a one-letter volume name into
    one: Linux only here.)"""
    parts = bind.split(":", 1)
    if len(parts) == 1 or parts[1] in ("ro", "rw"):
        return parts[0]
    if parts[1].endswith((":ro", ":rw")):
        return parts[1][:-3]
    return parts[1]

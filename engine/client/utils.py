"""docker-py's small conversions from Python values to the API's, pure:
versions, byte sizes, filters, environment, binds, ports, tmpfs, links,
devices, repository:tag."""
from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime
from itertools import zip_longest

from .errors import DockerException

BYTE_UNITS = {"b": 1, "k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024}
PROPAGATION_MODES = ("rshared", "shared", "rslave", "slave", "rprivate", "private")


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def version_lt(v1: str, v2: str) -> bool:
    for a, b in zip_longest(version_tuple(v1), version_tuple(v2), fillvalue=0):
        if a != b:
            return a < b
    return False


def version_gte(v1: str, v2: str) -> bool:
    return not version_lt(v1, v2)


def parse_bytes(value) -> int | float:
    """``"512m"`` -> 536870912; numbers pass unchanged (docker-py's rules)."""
    if isinstance(value, (int, float)):
        return value
    if len(value) == 0:
        return 0
    if value[-2:-1].isalpha() and value[-1].isalpha() and value[-1] in "bB":
        value = value[:-1]
    suffix = value[-1].lower()
    if suffix.isdigit():
        digits, suffix = value, "b"
    else:
        digits = value[:-1]
    if suffix not in BYTE_UNITS:
        raise DockerException(f"The specified value for memory ({value}) should specify the units. "
                              "The postfix should be one of the `b` `k` `m` `g` characters")
    try:
        return int(float(digits) * BYTE_UNITS[suffix])
    except ValueError as error:
        raise DockerException(f"Failed converting the string value for memory ({digits}) "
                              "to an integer.") from error


def convert_filters(filters: dict) -> str:
    """``{"label": "a=b", "dangling": True}`` -> docker's JSON of string lists."""
    result = {}
    for key, value in filters.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, list):
            value = [value]
        result[key] = [item if isinstance(item, str) else str(item) for item in value]
    return json.dumps(result)


def format_environment(environment: dict) -> list[str]:
    def entry(key, value):
        if value is None:
            return key
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        return f"{key}={value}"
    return [entry(key, value) for key, value in environment.items()]


def format_extra_hosts(extra_hosts: dict) -> list[str]:
    return [f"{host}:{address}" for host, address in sorted(extra_hosts.items())]


def split_command(command: str) -> list[str]:
    return shlex.split(command)


def convert_volume_binds(binds) -> list[str]:
    """``{"name": {"bind": "/p", "mode": "ro"}}`` -> ``["name:/p:ro"]``; a list passes."""
    if isinstance(binds, list):
        return binds
    result = []
    for source, target in binds.items():
        if isinstance(source, bytes):
            source = source.decode("utf-8")
        if not isinstance(target, dict):
            if isinstance(target, bytes):
                target = target.decode("utf-8")
            result.append(f"{source}:{target}:rw")
            continue
        if "ro" in target and "mode" in target:
            raise ValueError(f'Binding cannot contain both "ro" and "mode": {target!r}')
        bind = target["bind"]
        if isinstance(bind, bytes):
            bind = bind.decode("utf-8")
        if "ro" in target:
            mode = "ro" if target["ro"] else "rw"
        else:
            mode = target.get("mode", "rw")
        if target.get("propagation") in PROPAGATION_MODES:
            mode = f"{mode},{target['propagation']}" if mode else target["propagation"]
        result.append(f"{source}:{bind}:{mode}")
    return result


def _port_binding(binding) -> dict:
    result = {"HostIp": "", "HostPort": ""}
    if isinstance(binding, tuple):
        if len(binding) == 2:
            result["HostIp"], result["HostPort"] = binding[0], binding[1]
        elif isinstance(binding[0], str):
            result["HostIp"] = binding[0]
        else:
            result["HostPort"] = binding[0]
    elif isinstance(binding, dict):
        if "HostPort" not in binding:
            raise ValueError(binding)
        result["HostPort"] = binding["HostPort"]
        if "HostIp" in binding:
            result["HostIp"] = binding["HostIp"]
    else:
        result["HostPort"] = binding
    result["HostPort"] = "" if result["HostPort"] is None else str(result["HostPort"])
    return result


def convert_port_bindings(port_bindings: dict) -> dict:
    """``{"80/tcp": 8080, 53: ("127.0.0.1", 53)}`` -> docker's PortBindings."""
    result = {}
    for port, value in port_bindings.items():
        key = str(port)
        if "/" not in key:
            key += "/tcp"
        values = value if isinstance(value, list) else [value]
        result[key] = [_port_binding(binding) for binding in values]
    return result


def convert_tmpfs_mounts(tmpfs) -> dict:
    """``["/run:size=64m"]`` -> ``{"/run": "size=64m"}``; a dict passes."""
    if isinstance(tmpfs, dict):
        return tmpfs
    if not isinstance(tmpfs, list):
        message = f"Expected tmpfs value to be either a list or a dict, found: {type(tmpfs).__name__}"
        raise ValueError(message)  # noqa: TRY004 - docker-py's exception
    result = {}
    for mount in tmpfs:
        if not isinstance(mount, str):
            message = f"Expected item in tmpfs list to be a string, found: {type(mount).__name__}"
            raise ValueError(message)  # noqa: TRY004 - docker-py's exception
        path, _, options = mount.partition(":")
        result[path] = options
    return result


def normalize_links(links) -> list[str]:
    if isinstance(links, dict):
        links = links.items()
    return [f"{name}:{alias}" if alias else name for name, alias in sorted(links)]


def parse_devices(devices: list) -> list[dict]:
    """``"/dev/fuse:/dev/fuse:rwm"`` -> docker's device mapping."""
    result = []
    for device in devices:
        if isinstance(device, dict):
            result.append(device)
            continue
        if not isinstance(device, str):
            raise DockerException(f"Invalid device type {type(device)}")
        parts = device.split(":")
        result.append({"PathOnHost": parts[0],
                       "PathInContainer": parts[1] if len(parts) > 1 else parts[0],
                       "CgroupPermissions": parts[2] if len(parts) > 2 else "rwm"})
    return result


def parse_repository_tag(name: str) -> tuple[str, str | None]:
    """``"repo:tag"`` / ``"repo@sha256:..."`` -> (repo, tag or digest); a
    registry's port is not a tag."""
    repository, at, digest = name.rpartition("@")
    if at:
        return repository, digest
    repository, colon, tag = name.rpartition(":")
    if colon and "/" not in tag:
        return repository, tag
    return name, None


def datetime_to_timestamp(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return delta.seconds + delta.days * 24 * 3600


def query(params: dict) -> dict:
    """Query parameters as the daemon reads them: None left out, booleans as
    1/0 (docker reads any of 1/true/True; podman's ParseBool too)."""
    result = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        result[key] = value
    return result

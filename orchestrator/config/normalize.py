"""The merged model made whole: defaults, names, implicit dependencies,
environment resolution, and the consistency checks that need the whole
project (compose-go's SetDefaultValues, Normalize, checkConsistency).

Owns: defaults (build context, secret targets, port mode/protocol), the
implicit ``default`` network, resource names (``<project>_<key>``), the
``depends_on`` entries compose adds for links and ``service:`` references,
``environment: [FOO]`` taking FOO's value from the environment, env_file and
label_file contents, and every "refers to undefined ..." check.

Pure apart from reading env_file/label_file files. Imports dotenv, errors.
"""
from __future__ import annotations

import ipaddress
import posixpath

from .errors import SchemaError


def apply_defaults(model: dict) -> None:
    for service in (model.get("services") or {}).values():
        if not isinstance(service, dict):
            continue
        if isinstance(service.get("build"), dict):
            service["build"].setdefault("context", ".")
        for entry in (service.get("depends_on") or {}).values():
            if isinstance(entry, dict):
                entry.setdefault("condition", "service_started")
                entry.setdefault("required", True)
        for secret in service.get("secrets") or []:
            secret.setdefault("target", f"/run/secrets/{secret.get('source')}")
        for port in service.get("ports") or []:
            if isinstance(port, dict):  # not yet a mapping when not interpolated
                port.setdefault("protocol", "tcp")
                port.setdefault("mode", "ingress")
        requests = ((service.get("deploy") or {}).get("resources") or {}).get("reservations") or {}
        for request in (requests.get("devices") or []) + (service.get("gpus") or []):
            if "count" not in request and "device_ids" not in request:
                request["count"] = "all"


def check_semantics(model: dict) -> None:
    """compose-go's validation.Validate: rules the schema cannot express."""
    for section, keys in (("configs", ("file", "environment", "content")),
                          ("secrets", ("file", "environment"))):
        for name, resource in (model.get(section) or {}).items():
            resource = resource or {}
            present = [k for k in keys if k in resource]
            if len(present) > 1:
                raise SchemaError(f"{'|'.join(keys)} attributes are mutually exclusive").at(path=(section, name))
            if not present and "driver" not in resource and "external" not in resource:
                raise SchemaError(f"one of {'|'.join(keys)} must be set").at(path=(section, name))
    for name, volume in (model.get("volumes") or {}).items():
        if isinstance(volume, dict) and volume.get("external"):
            extra = sorted(k for k in volume if k not in ("external", "name") and not k.startswith("x-"))
            if extra:
                raise SchemaError(f"conflicting parameters \"external\" and \"{extra[0]}\" specified").at(
                    path=("volumes", name))
    for name, service in (model.get("services") or {}).items():
        for index, port in enumerate((service or {}).get("ports") or []):
            host_ip = port.get("host_ip") if isinstance(port, dict) else None
            if host_ip:
                try:
                    ipaddress.ip_address(host_ip)
                except ValueError:
                    raise SchemaError(f"invalid ip address: {host_ip}").at(
                        path=("services", name, "ports", index, "host_ip")) from None
        for index, trigger in enumerate(((service or {}).get("develop") or {}).get("watch") or []):
            if trigger.get("path") == "":
                raise SchemaError("value can't be blank").at(
                    path=("services", name, "develop", "watch", index, "path"))


def _resolve_mapping(mapping, environment: dict, keep_empty: bool):
    if isinstance(mapping, list):  # KEY=VALUE lists of a model not interpolated
        out_list = []
        for entry in mapping:
            if isinstance(entry, str) and "=" not in entry:
                if entry in environment:
                    entry = f"{entry}={environment[entry]}"
                elif not keep_empty:
                    continue
            out_list.append(entry)
        return out_list
    out = {}
    for key, value in mapping.items():
        if value is not None:
            out[key] = value
        elif key in environment:
            out[key] = environment[key]
        elif keep_empty:
            out[key] = None
    return out


def _implied_dependencies(service: dict) -> None:
    depends_on = service.get("depends_on") or {}
    started = "service_started"
    for link in service.get("links") or []:
        name = link.split(":")[0] if len(link.split(":")) == 2 else link
        depends_on.setdefault(name, {"condition": started, "restart": True, "required": True})
    for key in ("network_mode", "ipc", "pid", "uts", "cgroup"):
        value = service.get(key)
        if isinstance(value, str) and value.startswith("service:"):
            depends_on.setdefault(value[len("service:"):],
                                  {"condition": started, "restart": True, "required": True})
    for source in service.get("volumes_from") or []:
        if not source.startswith("container:"):
            depends_on.setdefault(source.split(":")[0],
                                  {"condition": started, "restart": False, "required": True})
    if depends_on:
        service["depends_on"] = depends_on


def _default_network(model: dict) -> None:
    networks = model.get("networks") or {}
    uses_default = False
    for service in (model.get("services") or {}).values():
        if "provider" in service or "network_mode" in service:
            continue
        if not service.get("networks"):
            service["networks"] = {"default": None}
            uses_default = True
        elif "default" in service["networks"]:
            uses_default = True
    if uses_default and "default" not in networks:
        networks["default"] = None
    if networks:
        model["networks"] = networks


def normalize(model: dict, project_name: str, environment: dict) -> dict:
    """compose-go's Normalize on the merged model (in place; returns it)."""
    for name, service in list((model.get("services") or {}).items()):
        if service is None:
            service = model["services"][name] = {}
    _default_network(model)
    for service in (model.get("services") or {}).values():
        if service.get("pull_policy") == "if_not_present":
            service["pull_policy"] = "missing"
        build = service.get("build")
        if isinstance(build, dict):
            build.setdefault("context", ".")
            if build.get("dockerfile") is None and build.get("dockerfile_inline") is None:
                build["dockerfile"] = "Dockerfile"
            if isinstance(build.get("args"), (dict, list)):
                build["args"] = _resolve_mapping(build["args"], environment, keep_empty=False)
        if isinstance(service.get("environment"), (dict, list)):
            service["environment"] = _resolve_mapping(service["environment"], environment, keep_empty=True)
        _implied_dependencies(service)
        for volume in service.get("volumes") or []:
            if isinstance(volume, dict) and volume.get("target"):
                volume["target"] = posixpath.normpath(volume["target"])
    for section in ("networks", "volumes", "configs", "secrets"):
        resources = model.get(section)
        if not isinstance(resources, dict):
            continue
        for key, resource in resources.items():
            resource = dict(resource or {})
            if resource.get("name") is None:
                resource["name"] = key if resource.get("external") is True else f"{project_name}_{key}"
            resources[key] = resource
    return model

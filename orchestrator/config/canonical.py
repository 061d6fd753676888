"""Short syntax to long syntax, one file at a time (compose-go's transform).

Owns the per-key rewrites that make later stages simple: ports and volumes
strings become mappings, ``depends_on``/``networks`` lists become mappings,
``env_file``/``build``/``extends`` strings become mappings, and so on. Runs on
a file that passed validation, so shapes are known; value syntaxes that the
schema cannot check (``80800:80``) fail here with the key path.

The rewrites are a table keyed by service key; top-level resources have one
rule. Must not import other stages except syntax, errors.
"""
from __future__ import annotations

import posixpath
from typing import Callable

from . import syntax
from .errors import SchemaError, quote


def _invalid(path: tuple, exc: ValueError) -> SchemaError:
    return SchemaError(str(exc)).at(path=path)


def _string_list(value, path):
    return [value] if isinstance(value, str) else value


def _to_null_map(value, path):
    if isinstance(value, list):
        return {str(name): None for name in value}
    return value


def _depends_on(value, path):
    # Entries of the long syntax get their defaults after the merge
    # (normalize.apply_defaults): an override may complete an entry.
    if isinstance(value, list):
        return {name: {"condition": "service_started", "required": True} for name in value}
    return value


def _env_file(value, path):
    entries = [value] if isinstance(value, str) else value
    out = []
    for entry in entries:
        if isinstance(entry, str):
            out.append({"path": entry, "required": True})
        else:
            entry.setdefault("required", True)
            out.append(entry)
    return out


def _ports(value, path, lenient=False):
    out = []
    for index, entry in enumerate(value):
        if isinstance(entry, dict):
            if "published" in entry and entry["published"] is not None:
                entry["published"] = syntax.go_string(entry["published"])
            out.append(entry)
            continue
        try:
            out.extend(syntax.parse_port(syntax.go_string(entry)))
        except ValueError as exc:
            if lenient:  # not interpolated: ${...} is no port yet
                return value
            raise _invalid(path + (index,), exc) from None
    return out


def _volumes(value, path, lenient=False):
    out = []
    for index, entry in enumerate(value):
        if isinstance(entry, str):
            try:
                entry = syntax.parse_volume(entry)
            except ValueError as exc:
                if lenient:
                    out.append(entry)
                    continue
                raise _invalid(path + (index,), exc) from None
            if entry.get("target"):
                entry["target"] = posixpath.normpath(entry["target"])
        out.append(entry)
    return out


def _devices(value, path):
    out = []
    for index, entry in enumerate(value):
        if isinstance(entry, str):
            parts = entry.split(":")
            if len(parts) > 3:
                raise _invalid(path + (index,), ValueError(
                    f"confusing device mapping {quote(entry)}, please use long syntax"))
            source = parts[0]
            target = parts[1] if len(parts) > 1 and parts[1] else source
            permissions = parts[2] if len(parts) == 3 else "rwm"
            entry = {"source": source, "target": target, "permissions": permissions}
        out.append(entry)
    return out


def _file_mounts(value, path):
    return [{"source": e} if isinstance(e, str) else e for e in value]


def _build(value, path):
    if isinstance(value, str):
        return {"context": value}
    if "ssh" in value:
        value["ssh"] = _ssh(value["ssh"], path + ("ssh",))
    if isinstance(value.get("additional_contexts"), list):
        value["additional_contexts"] = _key_values(value["additional_contexts"], path + ("additional_contexts",))
    if "secrets" in value:
        value["secrets"] = _file_mounts(value["secrets"], path + ("secrets",))
    if "args" in value and value["args"] is not None:
        value["args"] = _ENV(value["args"], path + ("args",))
    if "labels" in value and value["labels"] is not None:
        value["labels"] = _LABELS(value["labels"], path + ("labels",))
    for key in ("provenance", "sbom"):
        if key in value and not isinstance(value[key], str):
            value[key] = syntax.go_string(value[key])
    return value


def _ssh(value, path):
    if isinstance(value, dict):
        return value
    out = {}
    for index, entry in enumerate(value):
        key, found, target = entry.partition("=")
        if not found and key != "default":
            raise _invalid(path + (index,), ValueError(f"invalid ssh key {quote(entry)} (use ID=PATH or default)"))
        out[key] = target if found else None
    return out


def _key_values(value, path):
    out = {}
    for index, entry in enumerate(value):
        key, found, val = str(entry).partition("=")
        if not found:
            raise _invalid(path + (index,), ValueError(f"invalid value {quote(entry)}, expected key=value"))
        out[key] = val
    return out


def _key_value_map(bare):
    """``[KEY=VALUE, KEY]`` lists become mappings; a bare KEY maps to ``bare``
    (null for environment-like keys, "" for labels)."""
    def rule(value, path):
        if isinstance(value, dict):
            return value
        out = {}
        for index, entry in enumerate(value):
            key, found, val = syntax.go_string(entry).partition("=")
            if key != key.rstrip():
                raise _invalid(path + (index,), ValueError(
                    f"{quote(key.rstrip())} is declared with a trailing space before '='"))
            out[key] = val if found else bare
        return out
    return rule


_ENV = _key_value_map(None)
_LABELS = _key_value_map("")


def _extends(value, path):
    return {"service": value} if isinstance(value, str) else value


def _gpus(value, path):
    return [{"count": "all"}] if isinstance(value, str) else value


def _develop(value, path):
    for trigger in value.get("watch") or []:
        for key in ("ignore", "include"):
            if key in trigger:
                trigger[key] = _string_list(trigger[key], path)
    return value


SERVICE_RULES: dict[str, Callable] = {
    "build": _build,
    "depends_on": _depends_on,
    "env_file": _env_file,
    "label_file": _string_list,
    "extends": _extends,
    "gpus": _gpus,
    "networks": _to_null_map,
    "models": _to_null_map,
    "volumes": _volumes,
    "dns": _string_list,
    "devices": _devices,
    "secrets": _file_mounts,
    "configs": _file_mounts,
    "ports": _ports,
    "develop": _develop,
    "environment": _ENV,
    "labels": _LABELS,
    "annotations": _LABELS,
    "sysctls": _LABELS,
}


def _external(resource, path):
    """``external: {name: x}`` (deprecated) becomes ``external: true`` + ``name: x``."""
    if not isinstance(resource, dict):
        return resource
    external = resource.get("external")
    if isinstance(external, dict):
        resource["external"] = True
        if "name" in external:
            if "name" in resource and resource["name"] != external["name"]:
                raise SchemaError("name and external.name conflict; only use name").at(path=path + ("external",))
            resource["name"] = external["name"]
    return resource


_LENIENT = {"ports": _ports, "volumes": _volumes}
# compose's model before interpolation keeps these in the form written.
_KEPT_AS_WRITTEN = ("environment", "labels", "annotations", "sysctls")


def canonical(document: dict, *, lenient: bool = False) -> dict:
    """Rewrite ``document`` (one validated file) into long syntax. ``lenient``
    (for a file that was not interpolated) keeps values that do not parse yet.

    Mutates and returns it."""
    services = document.get("services")
    if isinstance(services, dict):
        for name, service in services.items():
            if not isinstance(service, dict):
                continue
            for key, rule in SERVICE_RULES.items():
                if key in service and service[key] is not None:
                    if lenient and key in _KEPT_AS_WRITTEN:
                        continue
                    if lenient and key in _LENIENT:
                        service[key] = _LENIENT[key](service[key], ("services", name, key), True)
                    else:
                        service[key] = rule(service[key], ("services", name, key))
            deploy = service.get("deploy")
            if isinstance(deploy, dict) and deploy.get("labels") is not None:
                deploy["labels"] = _LABELS(deploy["labels"], ("services", name, "deploy", "labels"))
    for section in ("volumes", "networks", "secrets", "configs"):
        resources = document.get(section)
        if isinstance(resources, dict):
            for name in resources:
                resources[name] = _external(resources[name], (section, name))
                resource = resources[name]
                if isinstance(resource, dict) and resource.get("labels") is not None:
                    resource["labels"] = _LABELS(resource["labels"], (section, name, "labels"))
    if isinstance(document.get("include"), list):
        document["include"] = [{"path": e} if isinstance(e, str) else e for e in document["include"]]
    return document

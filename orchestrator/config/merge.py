"""Merging compose files (override files, extends) as the specification says.

Owns the per-key merge rules (a table keyed by path pattern): mappings merge
key by key, ``command``/``entrypoint``/``healthcheck.test`` replace, lists
append, environment-like mappings take the later value even when it is null,
``logging`` merges only for the same driver, ``ipam.config`` merges by subnet;
then the unicity rules (a table too) that keep one entry per port, volume
target, secret target, capability, ... with the later definition winning in
the place of the first. Also ``!reset`` and ``!override``.

Works on canonical (long syntax) documents. Must not import other stages
except pathtable and errors.
"""
from __future__ import annotations

from . import syntax
from .pathtable import PathTable

# -- merge rules -------------------------------------------------------------


def _replace(base, other, path):
    return other


def _update(base, other, path):
    """Environment-like mappings: later keys win, even with a null value."""
    if isinstance(base, dict) and isinstance(other, dict):
        merged = dict(base)
        merged.update(other)
        return merged
    return _sequence_update(base, other, path)


def _sequence_update(base, other, path):
    """How compose merges them in its raw model (``config --no-interpolate``):
    as ``KEY=VALUE`` sequences, one entry per key, the later one in place."""
    return _dedupe(_as_sequence(base) + _as_sequence(other), _key_value)


def _as_sequence(value) -> list:
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if item is None:
                out.append(key)
            elif isinstance(item, list):
                out.extend(f"{key}={syntax.go_string(v)}" for v in item)
            else:
                out.append(f"{key}={syntax.go_string(item)}")
        return sorted(out)
    if isinstance(value, list):
        return list(value)
    return [value] if value is not None else []


def _append_sequence(base, other, path):
    return _as_sequence(base) + _as_sequence(other)


def _extra_hosts(base, other, path):
    left = _as_sequence(base)
    return left + [h for h in _as_sequence(other) if h not in left]


def _logging(base, other, path):
    if not isinstance(base, dict) or not isinstance(other, dict):
        return other
    if "driver" not in base or "driver" not in other or base["driver"] == other["driver"]:
        return merge_values(base, other, path, generic=True)
    return other


def _ipam_config(base, other, path):
    merged: list = []
    for original in base or []:
        for override in other or []:
            if override.get("subnet") != original.get("subnet"):
                if not any(m.get("subnet") == override.get("subnet") for m in merged):
                    merged.append(override)
                    continue
            combined = merge_values(original, override, path, generic=True)
            index = next((i for i, m in enumerate(merged)
                          if m.get("subnet") == combined.get("subnet")), None)
            if index is None:
                merged.append(combined)
            else:
                merged[index] = combined
    return merged


_KV = ("environment", "labels", "annotations", "sysctls", "build.args", "build.labels",
       "build.additional_contexts", "deploy.labels")
_RULES = {
    "services.*.command": _replace,
    "services.*.entrypoint": _replace,
    "services.*.healthcheck.test": _replace,
    "services.*.ulimits.*": _replace,
    "services.*.logging": _logging,
    "services.*.extra_hosts": _extra_hosts,
    "services.*.build.extra_hosts": _extra_hosts,
    **{f"services.*.{key}": _update for key in _KV},
    **{f"services.*.{key}": _append_sequence for key in
       ("dns", "dns_opt", "dns_search", "env_file", "label_file", "tmpfs")},
    "networks.*.labels": _update,
    "volumes.*.labels": _update,
    "networks.*.ipam.config": _ipam_config,
}
RULES = PathTable(_RULES)
RAW_RULES = PathTable({path: (_sequence_update if rule is _update else rule)
                       for path, rule in _RULES.items()})


def merge_values(base, other, path: tuple = (), *, generic: bool = False, rules=RULES):
    """``other`` merged over ``base``. Neither is modified, but the result
    shares their unmerged parts: documents are built fresh for each merge and
    not used after it (extends copies its base first)."""
    if not generic:
        rule = rules.lookup(path)
        if rule is not None:
            return rule(base, other, path)
    if other is None:
        return base
    if isinstance(base, dict) and isinstance(other, dict):
        merged = dict(base)
        for key, value in other.items():
            if key in merged:
                merged[key] = merge_values(merged[key], value, path + (key,), rules=rules)
            else:
                merged[key] = value
        return merged
    if isinstance(base, list) and isinstance(other, list):
        return base + other
    return other


# -- unicity -------------------------------------------------------------------


def _key_value(entry) -> str:
    return str(entry).partition("=")[0]


def _target(entry) -> str:
    return entry.get("target", "") if isinstance(entry, dict) else str(entry)


def _port(entry) -> str:
    if not isinstance(entry, dict):
        return str(entry)
    return "{}:{}:{}/{}".format(entry.get("host_ip", "0.0.0.0"), entry.get("published", ""),
                               entry.get("target"), entry.get("protocol", "tcp"))


def _mount(default: str):
    def index(entry) -> str:
        if isinstance(entry, dict):
            return entry.get("target") or f"{default}/{entry.get('source')}"
        return f"{default}/{entry}"
    return index


def _env_file(entry) -> str:
    return entry.get("path", "") if isinstance(entry, dict) else str(entry)


UNIQUE = {
    **{key: _key_value for key in (
        "cap_add", "cap_drop", "dns", "dns_opt", "dns_search", "links", "profiles",
        "tmpfs", "expose", "build.tags", "build.args", "build.platforms",
        "build.additional_contexts", "build.labels")},
    "volumes": _target,
    "devices": _target,
    "ports": _port,
    "secrets": _mount("/run/secrets"),
    "configs": _mount(""),
    "env_file": _env_file,
}


def _dedupe(entries: list, index) -> list:
    out: list = []
    positions: dict = {}
    for entry in entries:
        key = index(entry)
        if key in positions:
            out[positions[key]] = entry
        else:
            positions[key] = len(out)
            out.append(entry)
    return out


def enforce_unicity(service: dict) -> dict:
    """One entry per key in the service's lists; the later one wins in place."""
    for key, index in UNIQUE.items():
        holder, _, leaf = key.rpartition(".")
        parent = service.get(holder) if holder else service
        if isinstance(parent, dict) and isinstance(parent.get(leaf), list):
            parent[leaf] = _dedupe(parent[leaf], index)
    for network in (service.get("networks") or {}).values():
        if isinstance(network, dict):
            for key in ("aliases", "link_local_ips"):
                if isinstance(network.get(key), list):
                    network[key] = _dedupe(network[key], _key_value)
    return service


# -- !reset and !override --------------------------------------------------------


def apply_tags(base: dict, document: dict, tags: dict) -> None:
    """Before ``document`` is merged over ``base``: paths tagged ``!reset`` or
    ``!override`` in it are removed from ``base``; ``!reset`` ones also from
    ``document`` (reset means the key is gone)."""
    for path, tag in sorted(tags.items(), key=lambda item: len(item[0])):
        if not path or any(isinstance(p, int) for p in path):
            continue
        _delete(base, path)
        if tag == "!reset":
            _delete(document, path)


def _delete(data, path: tuple) -> None:
    for part in path[:-1]:
        if not isinstance(data, dict) or part not in data:
            return
        data = data[part]
    if isinstance(data, dict):
        data.pop(path[-1], None)


def merge_documents(base: dict, other: dict, *, raw: bool = False) -> dict:
    """A whole file merged over the project so far; services then get unicity.
    ``raw``: the files were not interpolated (compose's raw model)."""
    merged = merge_values(base, other, (), rules=RAW_RULES if raw else RULES)
    for service in (merged.get("services") or {}).values():
        if isinstance(service, dict):
            enforce_unicity(service)
    return merged

"""The project as Docker Compose v2 prints it: Go struct shapes.

``docker compose config`` marshals compose-go's Go structs, so its output has
each struct's field order, Go's ``omitempty`` rules, sorted map keys, and
types of its own (byte sizes as decimal strings, durations as ``1m30s``, file
modes as ``0440``). This module holds those shapes as tables, one per struct,
and renders a canonical model into the document ``config --format json`` (or
yaml) prints: the compatibility contract of ``dockyard config``.

Standard library only, plus syntax (value parsers) and errors.
"""
from __future__ import annotations


from . import syntax
from .errors import SchemaError

JSON, YAML = "json", "yaml"
_OMIT = object()


# -- scalar kinds: value, format -> rendered value or _OMIT --------------------

def _s(v, fmt):
    return _OMIT if v is None or v == "" else syntax.go_string(v)


def _s_always(v, fmt):
    return "" if v is None else syntax.go_string(v)


def _i(v, fmt):
    return _OMIT if v in (None, 0) else int(v)


def _i_ptr(v, fmt):
    return _OMIT if v is None else int(v)


def _f(v, fmt):
    if v in (None, 0, ""):
        return _OMIT
    value = float(v)
    return int(value) if value.is_integer() else value


def _b(v, fmt):
    return True if v is True else _OMIT


def _b_ptr(v, fmt):
    return _OMIT if v is None else bool(v)


def _b_always(v, fmt):
    return bool(v)


def _bytes(v, fmt):
    if v in (None, ""):
        return _OMIT
    value = syntax.parse_bytes(v)
    return _OMIT if value == 0 else str(value)


def _dur(v, fmt):
    if v in (None, ""):
        return _OMIT
    value = syntax.parse_duration(v)
    return _OMIT if value == 0 else syntax.format_duration(value)


def _dur_ptr(v, fmt):
    return _OMIT if v is None else syntax.format_duration(syntax.parse_duration(v))


def _strings(v, fmt):
    if not v:
        return _OMIT
    return [syntax.go_string(x) for x in ([v] if isinstance(v, str) else v)]


def _as_mapping(v, bare):
    """A mapping, or a ``KEY=VALUE`` list read as one (bare KEY -> ``bare``)."""
    if isinstance(v, list):
        pairs = (syntax.go_string(e).partition("=") for e in v)
        return {key: (value if found else bare) for key, found, value in pairs}
    return v


def _string_map(v, fmt):
    v = _as_mapping(v, "")
    if not v:
        return _OMIT
    return {k: ("" if v[k] is None else syntax.go_string(v[k])) for k in sorted(v)}


def _env_map(v, fmt):
    v = _as_mapping(v, None)
    if not v:
        return _OMIT
    return {k: (None if v[k] is None else syntax.go_string(v[k])) for k in sorted(v)}


def _multi_options(v, fmt):
    if not v:
        return _OMIT
    return {k: [syntax.go_string(x) for x in (v[k] if isinstance(v[k], list) else [v[k]])]
            for k in sorted(v)}


def _command(v, fmt):
    if v is None:
        return None if fmt == JSON else _OMIT
    if isinstance(v, str):
        return syntax.shell_words(v)
    return [syntax.go_string(x) for x in v]


def _hook_command(v, fmt):
    return _command(v, fmt)


def _health_test(v, fmt):
    if not v:
        return _OMIT
    if isinstance(v, str):
        return ["CMD-SHELL", v]
    return [syntax.go_string(x) for x in v]


def _hosts(v, fmt):
    if not v:
        return _OMIT
    hosts = syntax.parse_hosts(v)
    return sorted(f"{host}={ip}" for host, ips in hosts.items() for ip in ips) or _OMIT


def _file_mode(v, fmt):
    if v is None:
        return _OMIT
    value = int(v, 8) if isinstance(v, str) else int(v)
    return f"0{value:o}"


def _device_count(v, fmt):
    if v in (None, 0):
        return _OMIT
    if isinstance(v, str):
        return -1 if v.lower() == "all" else int(v)
    return int(v)


def _ulimit(v, fmt):
    if isinstance(v, dict):
        soft, hard = int(v.get("soft") or 0), int(v.get("hard") or 0)
        out = {}
        if fmt == YAML or soft:
            out["soft"] = soft
        if fmt == YAML or hard:
            out["hard"] = hard
        return out
    return int(v)


def _ulimits(v, fmt):
    if not v:
        return _OMIT
    return {k: _ulimit(v[k], fmt) for k in sorted(v)}


def _ssh(v, fmt):
    if not v:
        return _OMIT
    return [k if v[k] is None else f"{k}: {v[k]}" for k in v]


def _env_files(v, fmt):
    if not v:
        return _OMIT
    out = []
    for entry in v:
        if entry.get("required", True):
            out.append(entry["path"])
        else:
            item = {"path": entry["path"], "required": False}
            if fmt == JSON and entry.get("format"):
                item["format"] = entry["format"]
            out.append(item)
    return out


def _external(v, fmt):
    return True if v is True or (isinstance(v, str) and v.lower() == "true") else _OMIT




# -- structs -----------------------------------------------------------------
# A struct is a list of (key, kind). Nested structs: ("obj", S) a pointer
# (omitted when absent), ("val", S) a value struct (JSON always prints it,
# yaml omits it when empty), ("list", S), ("dict", S) a map of pointers.

def obj(shape): return ("obj", shape)
def val(shape): return ("val", shape)
def lst(shape): return ("list", shape)
def dct(shape): return ("dict", shape)


DEVICE_REQUEST = [("capabilities", _strings), ("driver", _s), ("count", _device_count),
                  ("device_ids", _strings), ("options", _string_map)]
DISCRETE = [("kind", _s_always), ("value", _i_ptr)]
RESOURCE = [("cpus", _f), ("memory", _bytes), ("pids", _i), ("devices", lst(DEVICE_REQUEST)),
            ("generic_resources", lst([("discrete_resource_spec", obj(DISCRETE))]))]
UPDATE = [("parallelism", _i_ptr), ("delay", _dur), ("failure_action", _s), ("monitor", _dur),
          ("max_failure_ratio", _f), ("order", _s)]
RESTART_POLICY = [("condition", _s), ("delay", _dur_ptr), ("max_attempts", _i_ptr), ("window", _dur_ptr)]
PLACEMENT = [("constraints", _strings), ("preferences", lst([("spread", _s)])),
             ("max_replicas_per_node", _i)]
DEPLOY = [("mode", _s), ("replicas", _i_ptr), ("labels", _string_map), ("update_config", obj(UPDATE)),
          ("rollback_config", obj(UPDATE)),
          ("resources", val([("limits", obj(RESOURCE)), ("reservations", obj(RESOURCE))])),
          ("restart_policy", obj(RESTART_POLICY)), ("placement", val(PLACEMENT)), ("endpoint_mode", _s)]
FILE_REF = [("source", _s), ("target", _s), ("uid", _s), ("gid", _s), ("mode", _file_mode)]
BUILD = [("context", _s), ("dockerfile", _s), ("dockerfile_inline", _s), ("entitlements", _strings),
         ("args", _env_map), ("provenance", _s), ("sbom", _s), ("ssh", _ssh), ("labels", _string_map),
         ("cache_from", _strings), ("cache_to", _strings), ("no_cache", _b),
         ("additional_contexts", _string_map), ("pull", _b), ("extra_hosts", _hosts), ("isolation", _s),
         ("network", _s), ("target", _s), ("secrets", lst(FILE_REF)), ("shm_size", _bytes),
         ("tags", _strings), ("ulimits", _ulimits), ("platforms", _strings), ("privileged", _b)]
THROTTLE = {JSON: [("Path", _s_always), ("Rate", _bytes)], YAML: [("path", _s_always), ("rate", _bytes)]}
WEIGHT = {JSON: [("Path", _s_always), ("Weight", _i_ptr)], YAML: [("path", _s_always), ("weight", _i_ptr)]}
BLKIO = [("weight", _i), ("weight_device", lst(WEIGHT)), ("device_read_bps", lst(THROTTLE)),
         ("device_read_iops", lst(THROTTLE)), ("device_write_bps", lst(THROTTLE)),
         ("device_write_iops", lst(THROTTLE))]
HOOK = [("command", _hook_command), ("user", _s), ("privileged", _b), ("working_dir", _s),
        ("environment", _env_map)]
TRIGGER = [("path", _s_always), ("action", _s_always), ("target", _s), ("exec", val(HOOK)),
           ("include", _strings), ("ignore", _strings), ("initial_sync", _b)]
HEALTHCHECK = [("test", _health_test), ("timeout", _dur_ptr), ("interval", _dur_ptr), ("retries", _i_ptr),
               ("start_period", _dur_ptr), ("start_interval", _dur_ptr), ("disable", _b)]
SERVICE_NETWORK = [("aliases", _strings), ("driver_opts", _string_map), ("gw_priority", _i),
                   ("interface_name", _s), ("ipv4_address", _s), ("ipv6_address", _s),
                   ("link_local_ips", _strings), ("mac_address", _s), ("priority", _i)]
PORT = [("name", _s), ("mode", _s), ("host_ip", _s), ("target", _i), ("published", _s),
        ("protocol", _s), ("app_protocol", _s)]
VOLUME_MOUNT = [("type", _s), ("source", _s), ("target", _s), ("read_only", _b), ("consistency", _s),
                ("bind", obj([("selinux", _s), ("propagation", _s), ("create_host_path", _b), ("recursive", _s)])),
                ("volume", obj([("labels", _string_map), ("nocopy", _b), ("subpath", _s)])),
                ("tmpfs", obj([("size", _bytes), ("mode", _i)])),
                ("image", obj([("subpath", _s)]))]
DEPENDENCY = [("condition", _s), ("restart", _b), ("required", _b_always)]
SERVICE = [
    ("profiles", _strings), ("annotations", _string_map), ("attach", _b_ptr), ("build", obj(BUILD)),
    ("develop", obj([("watch", lst(TRIGGER))])), ("blkio_config", obj(BLKIO)), ("cap_add", _strings),
    ("cap_drop", _strings), ("cgroup_parent", _s), ("cgroup", _s), ("cpu_count", _i), ("cpu_percent", _f),
    ("cpu_period", _i), ("cpu_quota", _i), ("cpu_rt_period", _i), ("cpu_rt_runtime", _i), ("cpus", _f),
    ("cpuset", _s), ("cpu_shares", _i), ("command", _command), ("configs", lst(FILE_REF)),
    ("container_name", _s),
    ("credential_spec", obj([("config", _s), ("file", _s), ("registry", _s)])),
    ("depends_on", dct(DEPENDENCY)), ("deploy", obj(DEPLOY)), ("device_cgroup_rules", _strings),
    ("devices", lst([("source", _s), ("target", _s), ("permissions", _s)])), ("dns", _strings),
    ("dns_opt", _strings), ("dns_search", _strings), ("dockerfile", _s), ("domainname", _s),
    ("entrypoint", _command), ("provider", obj([("type", _s), ("options", _multi_options)])),
    ("environment", _env_map), ("env_file", _env_files), ("expose", _strings),
    ("extends", obj([("file", _s), ("service", _s)])), ("external_links", _strings),
    ("extra_hosts", _hosts), ("group_add", _strings), ("gpus", lst(DEVICE_REQUEST)), ("hostname", _s),
    ("healthcheck", obj(HEALTHCHECK)), ("image", _s), ("init", _b_ptr), ("ipc", _s), ("isolation", _s),
    ("labels", _string_map), ("label_file", _strings), ("links", _strings),
    ("logging", obj([("driver", _s), ("options", _string_map)])), ("log_driver", _s),
    ("log_opt", _string_map), ("mem_limit", _bytes), ("mem_reservation", _bytes),
    ("memswap_limit", _bytes), ("mem_swappiness", _bytes), ("mac_address", _s),
    ("models", dct([("endpoint_var", _s), ("model_var", _s)])), ("net", _s), ("network_mode", _s),
    ("networks", dct(SERVICE_NETWORK)), ("oom_kill_disable", _b), ("oom_score_adj", _i), ("pid", _s),
    ("pids_limit", _i), ("platform", _s), ("ports", lst(PORT)), ("privileged", _b), ("pull_policy", _s),
    ("read_only", _b), ("restart", _s), ("runtime", _s), ("scale", _i_ptr), ("secrets", lst(FILE_REF)),
    ("security_opt", _strings), ("shm_size", _bytes), ("stdin_open", _b), ("stop_grace_period", _dur_ptr),
    ("stop_signal", _s), ("storage_opt", _string_map), ("sysctls", _string_map), ("tmpfs", _strings),
    ("tty", _b), ("ulimits", _ulimits), ("use_api_socket", _b), ("user", _s), ("userns_mode", _s),
    ("uts", _s), ("volume_driver", _s), ("volumes", lst(VOLUME_MOUNT)), ("volumes_from", _strings),
    ("working_dir", _s), ("post_start", lst(HOOK)), ("pre_stop", lst(HOOK)),
]
IPAM_POOL = [("subnet", _s), ("gateway", _s), ("ip_range", _s), ("aux_addresses", _string_map)]
NETWORK = [("name", _s), ("driver", _s), ("driver_opts", _string_map),
           ("ipam", val([("driver", _s), ("config", lst(IPAM_POOL))])), ("external", _external),
           ("internal", _b), ("attachable", _b), ("labels", _string_map),
           ("enable_ipv4", _b_ptr), ("enable_ipv6", _b_ptr)]
VOLUME = [("name", _s), ("driver", _s), ("driver_opts", _string_map), ("external", _external),
          ("labels", _string_map)]
FILE_OBJECT = [("name", _s), ("file", _s), ("environment", _s), ("content", _s), ("external", _external),
               ("labels", _string_map), ("driver", _s), ("driver_opts", _string_map),
               ("template_driver", _s)]
MODEL = [("name", _s), ("model", _s), ("context_size", _i), ("runtime_flags", _strings)]


# Fields rendered even when absent (JSON's null command, {} value structs).
_PRESENT_WHEN_ABSENT = {_command, _hook_command, _b_always, _s_always}


def _emits_when_absent(kind, fmt: str) -> bool:
    if callable(kind):
        return kind in _PRESENT_WHEN_ABSENT and (fmt == JSON or kind not in (_command, _hook_command))
    return kind[0] == "val" and fmt == JSON


def _struct(shape, data, fmt: str, path: tuple) -> dict:
    if isinstance(shape, dict):
        shape = shape[fmt]
    data = data if isinstance(data, dict) else {}
    out: dict = {}
    for key, kind in shape:
        name = key.lower()
        if name not in data and not _emits_when_absent(kind, fmt):
            continue
        value = data.get(name)
        try:
            rendered = _field(kind, value, fmt, path + (name,))
        except (ValueError, TypeError) as exc:
            raise SchemaError(str(exc)).at(path=path + (name,)) from None
        if rendered is not _OMIT:
            out[key] = rendered
    if fmt == YAML:  # yaml prints a struct's `x-` keys inline; JSON drops them
        for key in sorted(k for k in data if isinstance(k, str) and k.startswith("x-")):
            out[key] = go_map(data[key])
    return out


def go_map(value):
    """A free-form value (an extension) as Go prints it: map keys sorted."""
    if isinstance(value, dict):
        return {k: go_map(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [go_map(v) for v in value]
    return value


def _field(kind, value, fmt: str, path: tuple):
    if callable(kind):
        return kind(value, fmt)
    form, shape = kind
    if form == "obj":
        return _OMIT if value is None else _struct(shape, value, fmt, path)
    if form == "val":
        rendered = _struct(shape, value, fmt, path)
        return _OMIT if fmt == YAML and not rendered else rendered
    if not value:
        return _OMIT
    if form == "list":
        return [_struct(shape, item, fmt, path + (i,)) for i, item in enumerate(value)]
    return {k: (None if value[k] is None else _struct(shape, value[k], fmt, path + (k,)))
            for k in sorted(value)}


def _resources(model: dict, section: str, shape, fmt: str) -> dict:
    resources = model.get(section) or {}
    out = {}
    for name in sorted(resources):
        resource = dict(resources[name] or {})
        if section == "secrets":
            resource.pop("content", None)
        if section == "configs" and resource.get("environment"):
            resource.pop("content", None)
        out[name] = _struct(shape, resource, fmt, (section, name))
    return out


def render(model: dict, fmt: str = YAML) -> dict:
    """The document ``docker compose config --format FMT`` prints for ``model``."""
    out: dict = {}
    if model.get("name"):
        out["name"] = model["name"]
    services = model.get("services") or {}
    out["services"] = {name: _struct(SERVICE, services[name], fmt, ("services", name))
                       for name in sorted(services)}
    for section, shape in (("networks", NETWORK), ("volumes", VOLUME), ("secrets", FILE_OBJECT),
                           ("configs", FILE_OBJECT), ("models", MODEL)):
        if section == "models" and fmt == JSON:
            continue  # compose's MarshalJSON leaves models out
        rendered = _resources(model, section, shape, fmt)
        if rendered:
            out[section] = rendered
    for key in sorted(k for k in model if k.startswith("x-")):
        out[key] = go_map(model[key])
    if fmt == JSON:
        out = {key: out[key] for key in sorted(out)}
    return out


def escape_dollars(value):
    """compose re-escapes every literal ``$`` of its output as ``$$``."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, dict):
        return {escape_dollars(k): escape_dollars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape_dollars(v) for v in value]
    return value

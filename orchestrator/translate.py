"""A compose service -> the body of the Docker Engine API's ``POST /containers/create``.

Owns how every key of a service, in the shape ``docker compose config
--format json`` prints, becomes Config / HostConfig / NetworkingConfig
fields, as Docker Compose v2.40.3 does it (``pkg/compose/create.go``):
compose's labels, binds versus mounts, published ports, networks and
aliases, resources, restart policy, health check. Owns too which keys
Dockyard's engine cannot honour yet: ``KEYS`` gives every service key a
rule (mapped, handled elsewhere in this module, ignored because the
orchestrator owns it, or refused), ``unsupported`` names every refused key
and sub-key, and ``create_body`` raises them all at once before a body is
built, so the user reads our message and not the engine's.

    ConfigError (orchestrator.config.errors)
     └── TranslateError   .problems: one line per problem, each naming the service
          ├── Unsupported   keys or values the engine cannot honour yet
          └── Unresolved    a network, volume, secret or container the Context lacks

Pure: no I/O, no clock. Must not import ``engine`` or any orchestrator
module but ``naming``, ``graph`` (its plain-Python ``references``) and
``config.errors``.
"""
from __future__ import annotations

import platform as _platform
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrator import naming
from orchestrator.config.errors import ConfigError
from orchestrator.graph import references

# The compose release whose behaviour (and com.docker.compose.version) we reproduce.
COMPOSE_VERSION = "2.40.3"
FIX = "remove it, or run this project with docker compose"
LABEL = "com.docker.compose."
_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
HOST_PLATFORM = "linux/" + _ARCH.get(_platform.machine(), _platform.machine())


class TranslateError(ConfigError):
    """Problems found while translating one service; ``problems`` lists them."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class Unsupported(TranslateError):
    """Keys or values the Dockyard engine cannot honour yet."""


class Unresolved(TranslateError):
    """References the Context cannot resolve (a missing container, network, ...)."""


@dataclass(frozen=True)
class Context:
    """What a service's body needs from its project and from what already exists."""

    project: str
    working_dir: str
    config_files: list[str]
    networks: dict[str, str]     # compose network key -> engine network name
    volumes: dict[str, str]      # compose volume key -> engine volume name
    containers: dict[str, str]   # service -> the name of a running container of it
    secrets: dict[str, dict]     # top-level secrets, canonical JSON shape
    configs: dict[str, dict]
    environment: dict[str, str]


@dataclass
class _Job:
    ctx: Context
    service_name: str
    service: dict
    name: str
    oneoff: bool
    unsupported: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


Body = dict  # {"Config"|"HostConfig"|"NetworkingConfig": {field: value}}
Build = Callable[[Any, _Job], Body]
Check = Callable[[Any], list[str]]  # value -> problems, without "service X: "


# -- small conversions ---------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9,
            "m": 60 * 10**9, "h": 3600 * 10**9}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?", re.IGNORECASE)


def duration_ns(text: str | int) -> int:
    """A Go duration string ("1m30s", "500ms") -> nanoseconds."""
    if isinstance(text, int):
        return text
    if text in ("0", ""):
        return 0
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"invalid duration {text!r}")
    return int(sum(float(n) * _UNIT_NS[u] for n, u in parts))


def size_bytes(value: str | int) -> int:
    """A byte count as the loader prints it ("1073741824", 1024) or with a unit ("64m")."""
    if isinstance(value, int) or str(value).lstrip("-").isdigit():
        return int(value)
    match = _SIZE.fullmatch(str(value).strip())
    if not match:
        raise ValueError(f"invalid size {value!r}")
    return int(float(match[1]) * 1024 ** "bkmgtp".index((match[2] or "b").lower()))


def _strings(value) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or ()]


def _is_set(value) -> bool:
    return value is not None and value is not False and value not in ("", 0, [], {})


def _refuse(path: str, value=None, fix: str = FIX) -> str:
    shown = "" if value is None else f" {naming.go_json(value)}"
    return f'"{path}"{shown} is not supported by the Dockyard engine yet ({fix})'


def _port_keys(spec: str) -> list[str]:
    """An expose entry ("80", "4000-4002/udp") -> ExposedPorts keys, ranges expanded."""
    ports, _, protocol = str(spec).partition("/")
    low, _, high = ports.partition("-")
    return [f"{p}/{protocol or 'tcp'}" for p in range(int(low), int(high or low) + 1)]


# -- labels ----------------------------------------------------------------------------

def dependencies_label(service: dict) -> str:
    """``svc:condition:restart`` for every dependency, the implied ones (links,
    network_mode service:X, ...) included, as compose's loader adds them."""
    deps = references(service)
    return ",".join(f"{d.service}:{d.condition}:{str(d.restart).lower()}" for d in deps.values())


def labels(ctx: Context, service_name: str, service: dict, *, number: int, oneoff: bool,
           config_hash: str, depends_on_label: str, image_id: str | None = None,
           slug: str = "") -> dict[str, str]:
    """Config.Labels as compose v2 sets them: the service's own labels, then
    compose's, which win (``mergeLabels(service.Labels, service.CustomLabels)``).
    A one-off container has no container-number (compose passes -1)."""
    out = {k: str(v) for k, v in (service.get("labels") or {}).items()}
    out.update({
        LABEL + "project": ctx.project,
        LABEL + "service": service_name,
        LABEL + "version": COMPOSE_VERSION,
        LABEL + "project.working_dir": ctx.working_dir,
        LABEL + "project.config_files": ",".join(ctx.config_files),
        LABEL + "oneoff": "True" if oneoff else "False",
    })
    if oneoff and slug:
        out[LABEL + "slug"] = slug
    if image_id:
        out[LABEL + "image"] = image_id
    out[LABEL + "config-hash"] = config_hash
    if not oneoff:
        out[LABEL + "container-number"] = str(number)
    out[LABEL + "depends_on"] = depends_on_label
    return out


# -- builders: one per mapped key --------------------------------------------------------

def _field(section: str, name: str, convert: Callable = lambda v: v) -> Build:
    return lambda value, job: {section: {name: convert(value)}}


def _environment(value: dict, job: _Job) -> Body:
    # compose sends a null as a bare "KEY" (the engine then unsets it); Dockyard omits it
    return {"Config": {"Env": [f"{k}={v}" for k, v in value.items() if v is not None]}}


def _ulimits(value: dict, job: _Job) -> Body:
    out = []
    for name, limit in sorted(value.items()):
        soft, hard = (limit, limit) if isinstance(limit, int) else (limit.get("soft"), limit.get("hard"))
        out.append({"Name": name, "Soft": int(soft), "Hard": int(hard)})
    return {"HostConfig": {"Ulimits": out}}


def _extra_hosts(value, job: _Job) -> Body:
    if isinstance(value, dict):
        value = [f"{h}={ip}" for h, ips in value.items() for ip in _strings(ips)]
    return {"HostConfig": {"ExtraHosts": [e.replace("=", ":", 1) if "=" in e else e for e in value]}}


def _expose(value, job: _Job) -> Body:
    return {"Config": {"ExposedPorts": {k: {} for spec in value for k in _port_keys(spec)}}}


def _ports(value: list, job: _Job) -> Body:
    exposed, bindings = {}, {}
    for port in value:
        key = f"{port['target']}/{port.get('protocol') or 'tcp'}"
        exposed[key] = {}
        bindings.setdefault(key, []).append(
            {"HostIp": port.get("host_ip") or "", "HostPort": str(port.get("published") or "")})
    return {"Config": {"ExposedPorts": exposed}, "HostConfig": {"PortBindings": bindings}}


def _tmpfs(value, job: _Job) -> Body:
    entries = (entry.partition(":") for entry in _strings(value))
    return {"HostConfig": {"Tmpfs": {path: options for path, _, options in entries}}}


def _security_opt(value: list, job: _Job) -> Body:
    out = []
    for option in value:
        key, _, rest = option.partition("=") if "=" in option else option.partition(":")
        if key == "seccomp" and rest not in ("unconfined", "builtin") and not rest.startswith("/"):
            rest = f"{job.ctx.working_dir.rstrip('/')}/{rest}"  # compose: project.RelativePath
            option = f"seccomp={rest}"
        out.append(option)
    return {"HostConfig": {"SecurityOpt": out}}


def _healthcheck(value: dict, job: _Job) -> Body:
    disabled = value.get("disable") in (True, "true", "True")
    test = ["NONE"] if disabled else value.get("test")
    out: dict = {} if test is None else {"Test": ["CMD-SHELL", test] if isinstance(test, str) else list(test)}
    for key, name in (("interval", "Interval"), ("timeout", "Timeout"),
                      ("start_period", "StartPeriod"), ("start_interval", "StartInterval")):
        out[name] = duration_ns(value[key]) if value.get(key) is not None else 0
    out["Retries"] = int(value.get("retries") or 0)
    return {"Config": {"Healthcheck": out}}


_RESTART = {"none": "no", "no": "no", "any": "always", "always": "always",
            "on-failure": "on-failure", "unless-stopped": "unless-stopped"}


def _restart_policy(condition: str, attempts) -> dict:
    return {"Name": _RESTART.get(condition, condition), "MaximumRetryCount": int(attempts or 0)}


def _restart(value: str, job: _Job) -> Body:
    condition, _, attempts = value.partition(":")
    return {"HostConfig": {"RestartPolicy": _restart_policy(condition, attempts if attempts.isdigit() else 0)}}


def _deploy(value: dict, job: _Job) -> Body:
    host: dict = {}
    limits = (value.get("resources") or {}).get("limits") or {}
    if limits.get("cpus"):
        host["NanoCpus"] = round(float(limits["cpus"]) * 1e9)
    if limits.get("memory"):
        host["Memory"] = size_bytes(limits["memory"])
    if limits.get("pids") and int(limits["pids"]) > 0:
        host["PidsLimit"] = int(limits["pids"])
    policy = value.get("restart_policy")
    if policy is not None and policy.get("condition"):
        host["RestartPolicy"] = _restart_policy(policy["condition"], policy.get("max_attempts"))
    return {"HostConfig": host}


def _logging(value: dict, job: _Job) -> Body:
    options = {k: str(v) for k, v in (value.get("options") or {}).items() if v is not None}
    return {"HostConfig": {"LogConfig": {"Type": value.get("driver") or "json-file", "Config": options}}}


def _blkio(value: dict, job: _Job) -> Body:
    return {"HostConfig": {"BlkioWeight": int(value["weight"])} if value.get("weight") else {}}


# -- volumes, secrets and configs ------------------------------------------------------------

def _bind(entry: dict, job: _Job) -> tuple[str, Any]:
    """compose prefers the old Binds API (which creates a missing host path)
    and uses Mounts only when create_host_path is off or a propagation is set."""
    bind, access = entry.get("bind"), "ro" if entry.get("read_only") else "rw"
    if bind is None or (bind.get("create_host_path") and not bind.get("propagation")):
        return "Binds", f"{entry['source']}:{entry['target']}:{access}"
    options = {k: v for k, v in (("Propagation", bind.get("propagation")),
                                 ("CreateMountpoint", bind.get("create_host_path"))) if v}
    return "Mounts", _mount("bind", entry["source"], entry, BindOptions=options)


def _volume(entry: dict, job: _Job) -> tuple[str, Any] | None:
    nocopy = bool((entry.get("volume") or {}).get("nocopy"))
    source = entry.get("source")
    if source and source not in job.ctx.volumes:
        job.unresolved.append(f"volume {naming.go_json(source)} is not among the project's volumes")
        return None
    if source and not nocopy:  # compose: the Binds API unless an option needs Mounts
        access = "ro" if entry.get("read_only") else "rw"
        return "Binds", f"{job.ctx.volumes[source]}:{entry['target']}:{access}"
    name = job.ctx.volumes[source] if source else None
    return "Mounts", _mount("volume", name, entry, VolumeOptions={"NoCopy": True} if nocopy else {})


def _tmpfs_mount(entry: dict, job: _Job) -> tuple[str, Any]:
    tmpfs = entry.get("tmpfs") or {}
    options = {"SizeBytes": size_bytes(tmpfs["size"])} if tmpfs.get("size") else {}
    if tmpfs.get("mode"):
        options["Mode"] = int(str(tmpfs["mode"]), 8) if isinstance(tmpfs["mode"], str) else tmpfs["mode"]
    return "Mounts", _mount("tmpfs", None, entry, TmpfsOptions=options)


def _mount(kind: str, source: str | None, entry: dict, **options: dict) -> dict:
    mount = {"Type": kind, "Target": entry["target"]}
    if source:
        mount["Source"] = source
    if entry.get("read_only"):
        mount["ReadOnly"] = True
    mount.update({k: v for k, v in options.items() if v})
    return mount


VOLUME_TYPES: dict[str, Callable] = {"bind": _bind, "volume": _volume, "tmpfs": _tmpfs_mount}


def _volumes(value: list, job: _Job) -> Body:
    host: dict = {"Binds": [], "Mounts": []}
    for entry in value:
        make = VOLUME_TYPES.get(entry.get("type", "volume"))  # other types: refused by the check
        made = make(entry, job) if make else None
        if made:
            host[made[0]].append(made[1])
    return {"HostConfig": {k: v for k, v in host.items() if v}}


_NOT_A_FILE = {"external": "external", "environment": "from an environment variable",
               "content": "inline content"}


def _file_mounts(kind: str, base: str) -> Build:
    """secrets / configs: a read-only bind of a file-based one (what compose does);
    environment- and content-based ones compose copies in after create: not yet."""
    def build(value: list, job: _Job) -> Body:
        defined = getattr(job.ctx, kind)
        mounts = []
        for i, ref in enumerate(value):
            ref = {"source": ref} if isinstance(ref, str) else ref
            source, target = ref["source"], ref.get("target") or ref["source"]
            top = defined.get(source)
            if top is None:
                job.unresolved.append(f"{kind[:-1]} {naming.go_json(source)} is not among the project's {kind}")
            elif top.get("external") or not top.get("file"):
                how = next((w for k, w in _NOT_A_FILE.items() if top.get(k)), "without a file")
                job.unsupported.append(_refuse(f"{kind}[{i}]", source,
                                               f"it is {how}: only file-based {kind} are; {FIX}"))
            else:
                path = target if target.startswith("/") else base + target
                mounts.append({"Type": "bind", "Source": top["file"], "Target": path, "ReadOnly": True})
        return {"HostConfig": {"Mounts": mounts}}
    return build


def _dedupe_targets(host: dict) -> None:
    """Secrets and configs give way to a volume at the same target, as in compose."""
    seen = {b.split(":")[1] for b in host.get("Binds", [])}
    kept = []
    for mount in host.get("Mounts", []):
        if mount["Target"] not in seen:
            seen.add(mount["Target"])
            kept.append(mount)
    if "Mounts" in host:
        host["Mounts"] = kept


# -- networking -------------------------------------------------------------------------------

def _network_mode(mode: str, job: _Job) -> str:
    if mode.startswith("service:"):
        target = mode[len("service:"):]
        if target not in job.ctx.containers:
            job.unresolved.append(f"cannot share network namespace with service {target}: container missing")
            return mode
        return "container:" + job.ctx.containers[target]
    return mode


def networks_by_priority(networks: dict) -> list[str]:
    """compose-go's NetworksByPriority: priority high to low, then name."""
    return sorted(networks, key=lambda k: (-((networks[k] or {}).get("priority") or 0), k))


def _endpoint(config: dict, job: _Job) -> dict:
    # compose: the container name always; with `up` (not `run`) the service name and aliases
    aliases = [job.name] if job.oneoff else [job.name, job.service_name, *_strings(config.get("aliases"))]
    endpoint: dict = {"Aliases": aliases}
    if config.get("ipv4_address"):
        endpoint["IPAMConfig"] = {"IPv4Address": config["ipv4_address"]}
    return endpoint


def _networking(job: _Job) -> Body:
    mode = job.service.get("network_mode")
    if mode:
        return {"HostConfig": {"NetworkMode": _network_mode(mode, job)}}
    networks = job.service.get("networks") or {}
    if isinstance(networks, list):
        networks = dict.fromkeys(networks)
    if not networks:
        if "default" not in job.ctx.networks:
            return {"HostConfig": {"NetworkMode": "none"}}
        networks = {"default": None}
    endpoints = {}
    for key in networks_by_priority(networks):
        if key not in job.ctx.networks:
            job.unresolved.append(f"network {naming.go_json(key)} is not among the project's networks")
            continue
        endpoints[job.ctx.networks[key]] = _endpoint(networks[key] or {}, job)
    if not endpoints:
        return {}
    return {"HostConfig": {"NetworkMode": next(iter(endpoints))},
            "NetworkingConfig": {"EndpointsConfig": endpoints}}


# -- checks: what each mapped key may hold that the engine cannot honour -------------------------

def _check_keys(path: str, value: dict | None, allowed: set[str]) -> list[str]:
    return [_refuse(f"{path}.{k}") for k, v in (value or {}).items()
            if k not in allowed and not k.startswith("x-") and _is_set(v)]


def _check_networks(value) -> list[str]:
    if isinstance(value, list):
        return []
    return [p for key, config in value.items()
            for p in _check_keys(f"networks.{key}", config, {"aliases", "ipv4_address", "priority"})]


def _check_network_mode(value: str) -> list[str]:
    prefix, sep, _ = value.partition(":")
    if value == "disabled" or (sep and prefix not in ("service", "container")):
        return [_refuse("network_mode", value, "use host, none, bridge, service:NAME or container:NAME; " + FIX)]
    return []


_VOLUME_ENTRY = {"type", "source", "target", "read_only", "bind", "volume", "tmpfs",
                 "consistency"}  # consistency: no effect on Linux, docker ignores it too
_VOLUME_OPTIONS = {"bind": {"propagation", "create_host_path"}, "volume": {"nocopy"},
                   "tmpfs": {"size", "mode"}}


def _check_volumes(value: list) -> list[str]:
    problems = []
    for i, entry in enumerate(value):
        kind = entry.get("type", "volume")
        if kind not in VOLUME_TYPES:
            problems.append(_refuse(f"volumes[{i}].type", kind, f"bind, volume or tmpfs; {FIX}"))
            continue
        problems += _check_keys(f"volumes[{i}]", entry, _VOLUME_ENTRY)
        for option, allowed in _VOLUME_OPTIONS.items():
            if option == kind:
                problems += _check_keys(f"volumes[{i}].{option}", entry.get(option), allowed)
            elif _is_set(entry.get(option)):
                problems.append(_refuse(f"volumes[{i}].{option}", fix=f"a {kind} mount has no {option} options"))
    return problems


def _check_protocol(path: str, protocol: str) -> list[str]:
    return [] if protocol in ("tcp", "udp") else [_refuse(path, protocol, f"tcp or udp; {FIX}")]


def _check_ports(value: list) -> list[str]:
    problems = []
    for i, port in enumerate(value):  # mode, name and app_protocol change nothing here, as in compose
        problems += _check_protocol(f"ports[{i}].protocol", port.get("protocol") or "tcp")
        if ":" in (port.get("host_ip") or ""):
            problems.append(_refuse(f"ports[{i}].host_ip", port["host_ip"], f"IPv4 addresses only; {FIX}"))
    return problems


def _check_expose(value) -> list[str]:
    return [p for i, spec in enumerate(value)
            for p in _check_protocol(f"expose[{i}]", str(spec).partition("/")[2] or "tcp")]


def _check_logging(value: dict) -> list[str]:
    problems = []
    if value.get("driver") not in (None, "", "json-file"):
        problems.append(_refuse("logging.driver", value["driver"], f"json-file only; {FIX}"))
    problems += _check_keys("logging.options", value.get("options"), {"max-size", "max-file"})
    return problems + _check_keys("logging", value, {"driver", "options"})


def _check_healthcheck(value: dict) -> list[str]:
    if value.get("start_interval") is not None and value.get("start_period") is None:
        # compose refuses it too: https://github.com/moby/moby/issues/48874
        return ['"healthcheck.start_interval" requires "healthcheck.start_period" to be set']
    return []


def _check_security_opt(value: list) -> list[str]:
    problems = []
    for i, option in enumerate(value):
        key = re.split("[=:]", option, maxsplit=1)[0]
        if key not in ("no-new-privileges", "seccomp"):
            problems.append(_refuse(f"security_opt[{i}]", option,
                                    f"no-new-privileges and seccomp are; {FIX}"))
    return problems


_DEFAULT_REF = {"uid": ("0",), "gid": ("0",), "mode": ("0444", "444", 0o444)}


def _check_refs(kind: str) -> Check:
    def check(value: list) -> list[str]:
        return [_refuse(f"{kind}[{i}].{key}", ref[key], f"the file is mounted read-only as it is; {FIX}")
                for i, ref in enumerate(value) if isinstance(ref, dict)
                for key, defaults in _DEFAULT_REF.items()
                if ref.get(key) is not None and ref[key] not in defaults]
    return check


def _check_platform(value: str) -> list[str]:
    if value == "linux" or value == HOST_PLATFORM or value.startswith(HOST_PLATFORM + "/"):
        return []
    return [_refuse("platform", value, f"this machine runs {HOST_PLATFORM}; {FIX}")]


def _check_deploy(value: dict) -> list[str]:
    problems = []
    for key, sub in value.items():
        rule = DEPLOY_KEYS.get(key)
        if rule is None and _is_set(sub):
            problems.append(_refuse(f"deploy.{key}"))
        elif rule is not None and rule is not _IGNORE and sub is not None:
            problems += rule(sub)
    return problems


def _check_resources(value: dict) -> list[str]:
    problems = _check_keys("deploy.resources.limits", value.get("limits"), {"cpus", "memory", "pids"})
    problems += _check_keys("deploy.resources.reservations", value.get("reservations"), set())
    return problems + _check_keys("deploy.resources", value, {"limits", "reservations"})


_IGNORE: Check = lambda value: []
DEPLOY_KEYS: dict[str, Check] = {
    "replicas": _IGNORE,  # the orchestrator's: how many containers it makes
    "resources": _check_resources,
    "restart_policy": lambda v: _check_keys("deploy.restart_policy", v, {"condition", "max_attempts"}),
    "mode": lambda v: [] if v == "replicated" else [_refuse("deploy.mode", v)],
    # swarm only: docker compose ignores them too
    "labels": _IGNORE, "placement": _IGNORE, "update_config": _IGNORE,
    "rollback_config": _IGNORE, "endpoint_mode": _IGNORE,
}


# -- the table: every service key, mapped, handled elsewhere, ignored or refused ----------------

MAPPED, ELSEWHERE, IGNORED, REFUSED = "mapped", "elsewhere", "ignored", "refused"


@dataclass(frozen=True)
class Rule:
    kind: str
    build: Build | None = None
    check: Check | None = None
    note: str = ""  # ELSEWHERE / IGNORED: where or why; REFUSED: the fix


def mapped(build: Build, check: Check | None = None) -> Rule:
    return Rule(MAPPED, build, check)


def elsewhere(note: str, check: Check | None = None) -> Rule:
    return Rule(ELSEWHERE, None, check, note)


def ignored(note: str) -> Rule:
    return Rule(IGNORED, note=note)


def refused(fix: str = FIX) -> Rule:
    return Rule(REFUSED, note=fix)


_C, _H = "Config", "HostConfig"
_list = lambda v: _strings(v)

# Built in this order: deploy comes after restart, mem_limit, cpus and pids_limit
# because compose lets deploy's values win.
KEYS: dict[str, Rule] = {
    "image": elsewhere("Config.Image, set for every service (naming.image_name)"),
    "labels": elsewhere("Config.Labels, with compose's own: labels()"),
    "networks": elsewhere("NetworkMode and EndpointsConfig: _networking", _check_networks),
    "network_mode": elsewhere("NetworkMode: _networking", _check_network_mode),
    "command": mapped(_field(_C, "Cmd", _list)),
    "entrypoint": mapped(_field(_C, "Entrypoint", _list)),  # [] stays []: the image's is dropped
    "environment": mapped(_environment),
    "working_dir": mapped(_field(_C, "WorkingDir")),
    "user": mapped(_field(_C, "User", str)),
    "hostname": mapped(_field(_C, "Hostname")),
    "domainname": mapped(_field(_C, "Domainname")),
    "tty": mapped(_field(_C, "Tty", bool)),
    "stdin_open": mapped(_field(_C, "OpenStdin", bool)),
    "stop_signal": mapped(_field(_C, "StopSignal")),
    "stop_grace_period": mapped(_field(_C, "StopTimeout", lambda v: duration_ns(v) // 10**9)),
    "healthcheck": mapped(_healthcheck, _check_healthcheck),
    "expose": mapped(_expose, _check_expose),
    "ports": mapped(_ports, _check_ports),
    "init": mapped(_field(_H, "Init", bool)),
    "privileged": mapped(_field(_H, "Privileged", bool)),
    "read_only": mapped(_field(_H, "ReadonlyRootfs", bool)),
    "cap_add": mapped(_field(_H, "CapAdd", _list)),
    "cap_drop": mapped(_field(_H, "CapDrop", _list)),
    "security_opt": mapped(_security_opt, _check_security_opt),
    "sysctls": mapped(_field(_H, "Sysctls", lambda v: {k: str(x) for k, x in v.items()})),
    "ulimits": mapped(_ulimits),
    "shm_size": mapped(_field(_H, "ShmSize", size_bytes)),
    "mem_limit": mapped(_field(_H, "Memory", size_bytes)),
    "memswap_limit": mapped(_field(_H, "MemorySwap", size_bytes)),
    "cpus": mapped(_field(_H, "NanoCpus", lambda v: round(float(v) * 1e9))),
    "cpu_shares": mapped(_field(_H, "CpuShares", int)),
    "cpuset": mapped(_field(_H, "CpusetCpus", str)),
    "pids_limit": mapped(_field(_H, "PidsLimit", int)),
    "blkio_config": mapped(_blkio, lambda v: _check_keys("blkio_config", v, {"weight"})),
    "dns": mapped(_field(_H, "Dns", _list)),
    "dns_search": mapped(_field(_H, "DnsSearch", _list)),
    "dns_opt": mapped(_field(_H, "DnsOptions", _list)),
    "extra_hosts": mapped(_extra_hosts),
    "group_add": mapped(_field(_H, "GroupAdd", _list)),
    "tmpfs": mapped(_tmpfs),
    "volumes": mapped(_volumes, _check_volumes),
    "secrets": mapped(_file_mounts("secrets", "/run/secrets/"), _check_refs("secrets")),
    "configs": mapped(_file_mounts("configs", "/"), _check_refs("configs")),
    "logging": mapped(_logging, _check_logging),
    "restart": mapped(_restart),
    "deploy": mapped(_deploy, _check_deploy),
    "platform": elsewhere("checked only: the image must be this machine's", _check_platform),
    # the orchestrator's, or already resolved by the loader
    "build": ignored("the orchestrator builds (or refuses to)"),
    "pull_policy": ignored("the orchestrator pulls"),
    "pull_refresh_after": ignored("the orchestrator pulls"),
    "depends_on": ignored("the orchestrator orders and waits; Config.Labels depends_on"),
    "profiles": ignored("the loader selects services"),
    "scale": ignored("the orchestrator decides how many containers"),
    "container_name": ignored("the container's name arrives as an argument"),
    "extends": ignored("resolved by the loader"),
    "env_file": ignored("merged into environment by the loader"),
    "label_file": ignored("merged into labels by the loader"),
    "develop": ignored("watch is the orchestrator's"),
    "attach": ignored("which logs `up` attaches to is the CLI's"),
    # the engine has no such thing yet
    "links": refused("Dockyard's engine has no links: reach the service by its name, "
                     "every network resolves it; " + FIX),
    "external_links": refused("Dockyard's engine has no links; " + FIX),
    **{key: refused() for key in (
        "volumes_from", "ipc", "pid", "uts", "userns_mode", "cgroup", "cgroup_parent", "devices",
        "device_cgroup_rules", "gpus", "runtime", "isolation", "mac_address", "cpu_quota", "cpu_period",
        "cpu_rt_period", "cpu_rt_runtime", "cpu_count", "cpu_percent", "oom_kill_disable",
        "oom_score_adj", "mem_reservation", "mem_swappiness", "storage_opt", "credential_spec",
        "annotations", "post_start", "pre_stop", "use_api_socket", "models", "provider")},
}


def unsupported(service_name: str, service: dict) -> list[str]:
    """Every key and sub-key of ``service`` the Dockyard engine cannot honour
    yet, one message each, naming the service and the key path."""
    problems: list[str] = []
    for key, value in service.items():
        rule = KEYS.get(key)
        if key.startswith("x-") or value is None:
            continue
        if rule is None:
            problems.append(f'"{key}" is not a service key Dockyard knows ({FIX})')
        elif rule.kind == REFUSED and _is_set(value):
            problems.append(_refuse(key, fix=rule.note))
        elif rule.check is not None:
            problems += rule.check(value)
    return [f"service {service_name}: {p}" for p in problems]


# -- the body -----------------------------------------------------------------------------------

def _merge(body: dict, part: Body) -> None:
    for section, fields in part.items():
        target = body.setdefault(section, {})
        for key, value in fields.items():
            old = target.get(key)
            if isinstance(value, list) and isinstance(old, list):
                target[key] = old + value
            elif isinstance(value, dict) and isinstance(old, dict):
                target[key] = {**old, **value}
            else:
                target[key] = value


def create_body(ctx: Context, service_name: str, service: dict, *, number: int, name: str,
                config_hash: str, oneoff: bool = False, depends_on_label: str | None = None,
                image_id: str | None = None, slug: str = "") -> dict:
    """The JSON body of ``POST /containers/create?name=NAME`` for container
    ``name`` of ``service``. ``depends_on_label`` None: derived from the service
    (``dependencies_label``). A one-off container (``run``) gets no restart
    policy and, as without ``--use-aliases``, only its name as alias.
    Raises Unsupported, then Unresolved, each listing every problem."""
    job = _Job(ctx, service_name, service, name, oneoff)
    if depends_on_label is None:
        depends_on_label = dependencies_label(service)
    body: dict = {"Config": {
        "Image": naming.image_name(ctx.project, service_name, service),
        "Tty": False, "OpenStdin": False, "StdinOnce": False,
        "AttachStdin": False, "AttachStdout": True, "AttachStderr": True,
        "Labels": labels(ctx, service_name, service, number=number, oneoff=oneoff, config_hash=config_hash,
                         depends_on_label=depends_on_label, image_id=image_id, slug=slug)},
        "HostConfig": {}}
    for key, rule in KEYS.items():
        if rule.build is not None and service.get(key) is not None:
            _merge(body, rule.build(service[key], job))
    _merge(body, _networking(job))
    problems = unsupported(service_name, service) + [f"service {service_name}: {p}" for p in job.unsupported]
    if problems:
        raise Unsupported(problems)
    if job.unresolved:
        raise Unresolved([f"service {service_name}: {p}" for p in job.unresolved])
    host = body["HostConfig"]
    _dedupe_targets(host)
    if oneoff:  # compose run clears restart and deploy.restart_policy
        host.pop("RestartPolicy", None)
    return {**body.pop("Config"), **body}

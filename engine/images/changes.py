"""docker's ``--change`` instructions (import/commit) applied to an image config.

Owns the Dockerfile-instruction subset docker accepts in ``--change``: CMD,
ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER,
VOLUME, WORKDIR. Input is the ``config`` section of an OCI image config
(Cmd, Env, ...); output is a new dict. Variable substitution (``$VAR``) is not
performed, as docker's import does not either for most instructions.

Pure: standard library and engine.images.errors only.
"""
from __future__ import annotations

import copy
import json
import re
import shlex
from collections.abc import Iterable

from engine.images.errors import InvalidChange

VALID = ("cmd", "entrypoint", "env", "expose", "healthcheck", "label", "onbuild",
         "stopsignal", "user", "volume", "workdir")


def apply_changes(config: dict | None, changes: Iterable[str]) -> dict:
    """Apply each change in order; raise InvalidChange naming the bad one."""
    result = copy.deepcopy(config) if config else {}
    state = {"cmd_set": False}
    for change in changes:
        line = change.strip()
        if not line:
            continue
        word, _, rest = line.partition(" ")
        if "\t" in word:
            word, _, tail = word.partition("\t")
            rest = f"{tail} {rest}"
        instruction = word.lower()
        if instruction not in VALID:
            raise InvalidChange(f"{instruction} is not a valid change command")
        _HANDLERS[instruction](result, rest.strip(), state)
    return result


def _json_list(rest: str) -> list[str] | None:
    if not rest.startswith("["):
        return None
    try:
        value = json.loads(rest)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def _command(rest: str) -> list[str]:
    exec_form = _json_list(rest)
    return exec_form if exec_form is not None else ["/bin/sh", "-c", rest]


def _cmd(config: dict, rest: str, state: dict) -> None:
    config["Cmd"] = _command(rest)
    state["cmd_set"] = True


def _entrypoint(config: dict, rest: str, state: dict) -> None:
    exec_form = _json_list(rest)
    if exec_form is not None:
        config["Entrypoint"] = exec_form
    elif rest:
        config["Entrypoint"] = ["/bin/sh", "-c", rest]
    else:
        config["Entrypoint"] = None
    if not state["cmd_set"]:
        config["Cmd"] = None     # docker: ENTRYPOINT resets a CMD not set alongside it


def _pairs(instruction: str, rest: str) -> list[tuple[str, str]]:
    """``K=V K2="v 2"`` or the legacy ``K V with spaces`` form."""
    if not rest:
        raise InvalidChange(f"{instruction} requires at least one argument")
    first = rest.split(None, 1)[0]
    if "=" not in first:
        parts = rest.split(None, 1)
        if len(parts) < 2:
            raise InvalidChange(f"{instruction} must have two arguments")
        return [(parts[0], parts[1])]
    try:
        words = shlex.split(rest, posix=True)
    except ValueError as error:
        raise InvalidChange(f"{instruction} {rest}: {error}") from None
    pairs = []
    for word in words:
        key, equals, value = word.partition("=")
        if not equals:
            raise InvalidChange(f"Syntax error - can't find = in {word!r}. Must be of the form: name=value")
        if not key:
            raise InvalidChange(f"{instruction} names can not be blank")
        pairs.append((key, value))
    return pairs


def _env(config: dict, rest: str, state: dict) -> None:
    env = list(config.get("Env") or [])
    for key, value in _pairs("ENV", rest):
        entry = f"{key}={value}"
        for index, existing in enumerate(env):
            if existing.split("=", 1)[0] == key:
                env[index] = entry
                break
        else:
            env.append(entry)
    config["Env"] = env


def _label(config: dict, rest: str, state: dict) -> None:
    labels = dict(config.get("Labels") or {})
    labels.update(_pairs("LABEL", rest))
    config["Labels"] = labels


_PORT_RE = re.compile(r"(\d+)(?:-(\d+))?(?:/(tcp|udp|sctp))?")


def _expose(config: dict, rest: str, state: dict) -> None:
    if not rest:
        raise InvalidChange("EXPOSE requires at least one argument")
    ports = dict(config.get("ExposedPorts") or {})
    for spec in rest.split():
        match = _PORT_RE.fullmatch(spec.lower())
        if not match:
            raise InvalidChange(f"Invalid containerPort: {spec}")
        start = int(match.group(1))
        end = int(match.group(2) or start)
        if end < start or end > 65535:
            raise InvalidChange(f"Invalid range specified for the Port: {spec}")
        for port in range(start, end + 1):
            ports[f"{port}/{match.group(3) or 'tcp'}"] = {}
    config["ExposedPorts"] = ports


def _volume(config: dict, rest: str, state: dict) -> None:
    paths = _json_list(rest)
    if paths is None:
        paths = rest.split()
    if not paths or any(not path.strip() for path in paths):
        raise InvalidChange("VOLUME specified can not be an empty string")
    volumes = dict(config.get("Volumes") or {})
    volumes.update({path: {} for path in paths})
    config["Volumes"] = volumes


def _workdir(config: dict, rest: str, state: dict) -> None:
    if not rest:
        raise InvalidChange("WORKDIR requires exactly one argument")
    if not rest.startswith("/"):
        current = config.get("WorkingDir") or "/"
        rest = re.sub(r"/+", "/", f"/{current}/{rest}").rstrip("/") or "/"
    config["WorkingDir"] = rest


def _user(config: dict, rest: str, state: dict) -> None:
    if not rest:
        raise InvalidChange("USER requires exactly one argument")
    config["User"] = rest


def _stopsignal(config: dict, rest: str, state: dict) -> None:
    if not rest or len(rest.split()) != 1:
        raise InvalidChange("STOPSIGNAL requires exactly one argument")
    config["StopSignal"] = rest


def _onbuild(config: dict, rest: str, state: dict) -> None:
    trigger = rest.split(None, 1)[0].upper() if rest else ""
    if trigger in ("ONBUILD", "FROM", "MAINTAINER", ""):
        raise InvalidChange(f"{trigger or 'ONBUILD'} isn't allowed as an ONBUILD trigger")
    config["OnBuild"] = list(config.get("OnBuild") or []) + [rest]


_DURATION_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
                   "m": 60_000_000_000, "h": 3_600_000_000_000}
_DURATION_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str) -> int:
    """A Go duration ("1m30s", "500ms") in nanoseconds."""
    if text == "0":
        return 0
    position, total = 0, 0.0
    for match in _DURATION_RE.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if position != len(text) or not text:
        raise InvalidChange(f'time: invalid duration "{text}"')
    return int(total)


_HEALTH_FLAGS = {"interval": "Interval", "timeout": "Timeout", "start-period": "StartPeriod",
                 "start-interval": "StartInterval", "retries": "Retries"}


def _healthcheck(config: dict, rest: str, state: dict) -> None:
    match = re.fullmatch(r"((?:--\S+\s+)*)(\S*)\s*(.*)", rest, re.DOTALL)
    flags, kind, command = match.group(1).split(), match.group(2).upper(), match.group(3)
    health: dict = {}
    for word in flags:
        flag, equals, value = word[2:].partition("=")
        if flag not in _HEALTH_FLAGS or not equals:
            raise InvalidChange(f"Unknown flag: {flag}")
        if flag == "retries":
            if not value.isdigit():
                raise InvalidChange(f'strconv.ParseInt: parsing "{value}": invalid syntax')
            health["Retries"] = int(value)
        else:
            health[_HEALTH_FLAGS[flag]] = parse_duration(value)
    if kind == "NONE":
        if command or health:
            raise InvalidChange("HEALTHCHECK NONE takes no arguments")
        config["Healthcheck"] = {"Test": ["NONE"]}
        return
    if kind != "CMD":
        raise InvalidChange(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)' if kind
                            else "Missing command after HEALTHCHECK CMD")
    if not command:
        raise InvalidChange("Missing command after HEALTHCHECK CMD")
    exec_form = _json_list(command)
    health["Test"] = ["CMD", *exec_form] if exec_form is not None else ["CMD-SHELL", command]
    config["Healthcheck"] = health


_HANDLERS = {"cmd": _cmd, "entrypoint": _entrypoint, "env": _env, "expose": _expose,
             "healthcheck": _healthcheck, "label": _label, "onbuild": _onbuild,
             "stopsignal": _stopsignal, "user": _user, "volume": _volume, "workdir": _workdir}

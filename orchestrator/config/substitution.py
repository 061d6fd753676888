"""The interpolation stage: ${VAR} substitution over a whole document.

Owns where compose interpolates (every string value, never keys) and the
type casts compose applies afterwards to paths whose values must be numbers
or booleans (``privileged: ${PRIV}`` becomes a boolean), so that validation
sees what Docker Compose v2 sees. The substitution engine itself is
``interpolate.substitute``.

Must not import other loader stages except interpolate, pathtable, errors.
"""
from __future__ import annotations

from typing import Callable

from .errors import InterpolationError, quote
from .interpolate import substitute
from .pathtable import Node, PathTable


def _to_int(text: str) -> int:
    if not text.lstrip("+-").isdigit() or text.count("+") + text.count("-") > 1:
        raise ValueError(f"invalid integer: {quote(text)}")
    return int(text)


def _to_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"invalid number: {quote(text)}") from None


class _Yaml11Boolean(ValueError):
    """A YAML 1.1 word (yes/no/on/off/y/n) where a boolean goes: accepted
    with a warning, as compose does."""

    def __init__(self, value: bool, text: str) -> None:
        super().__init__(text)
        self.value, self.text = value, text


def _to_bool(text: str) -> bool:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("y", "yes", "on", "n", "no", "off"):
        raise _Yaml11Boolean(low in ("y", "yes", "on"), text)
    raise ValueError(f"invalid boolean: {quote(text)} (use true or false)")


_SERVICE_CASTS = {
    "cpu_count": _to_int, "cpu_percent": _to_float, "cpu_period": _to_int,
    "cpu_quota": _to_int, "cpu_rt_period": _to_int, "cpu_rt_runtime": _to_int,
    "cpus": _to_float, "cpu_shares": _to_int, "init": _to_bool,
    "deploy.replicas": _to_int,
    "deploy.update_config.parallelism": _to_int,
    "deploy.update_config.max_failure_ratio": _to_float,
    "deploy.rollback_config.parallelism": _to_int,
    "deploy.rollback_config.max_failure_ratio": _to_float,
    "deploy.restart_policy.max_attempts": _to_int,
    "deploy.placement.max_replicas_per_node": _to_int,
    "healthcheck.retries": _to_int, "healthcheck.disable": _to_bool,
    "oom_kill_disable": _to_bool, "oom_score_adj": _to_int, "pids_limit": _to_int,
    "ports.[].target": _to_int, "privileged": _to_bool, "read_only": _to_bool,
    "scale": _to_int, "stdin_open": _to_bool, "tty": _to_bool,
    "ulimits.*": _to_int, "ulimits.*.hard": _to_int, "ulimits.*.soft": _to_int,
    "volumes.[].read_only": _to_bool, "volumes.[].volume.nocopy": _to_bool,
}
CASTS: PathTable[Callable[[str], object]] = PathTable({
    **{f"services.*.{k}": v for k, v in _SERVICE_CASTS.items()},
    **{f"networks.*.{k}": _to_bool for k in
       ("external", "internal", "attachable", "enable_ipv4", "enable_ipv6")},
    "volumes.*.external": _to_bool,
    "secrets.*.external": _to_bool,
    "configs.*.external": _to_bool,
})


def interpolate(data, lookup: Callable[[str], str | None],
                warn: Callable[[str], None] | None = None):
    """``data`` with every string value substituted and typed paths cast.

    ``warn`` hears what compose warns about: variables that are not set, and
    YAML 1.1 booleans. Errors carry the key path; the caller adds the file
    and line."""
    return _Walker(lookup, warn or (lambda message: None)).walk(data, (), CASTS.root)


class _Walker:
    def __init__(self, lookup, warn) -> None:
        self.lookup = lookup
        self.warn = warn
        self.unset: set[str] = set()

    def _on_unset(self, name: str) -> None:
        if name not in self.unset:
            self.unset.add(name)
            self.warn(f"The {quote(name)} variable is not set. Defaulting to a blank string.")

    def walk(self, value, path: tuple, node: Node | None):
        if isinstance(value, str):
            return self._string(value, path, node)
        if isinstance(value, dict):
            return {k: self.walk(v, path + (k,), node.child(k) if node else None)
                    for k, v in value.items()}
        if isinstance(value, list):
            child = node.child(0) if node else None
            return [self.walk(v, path + (i,), child) for i, v in enumerate(value)]
        return value

    def _string(self, value: str, path: tuple, node: Node | None):
        if "$" in value:
            try:
                value = substitute(value, self.lookup, on_unset=self._on_unset)
            except InterpolationError as exc:
                raise exc.at(path=path)
        if node is None or not node.has_value:
            return value
        try:
            return node.value(value)
        except _Yaml11Boolean as old:
            self.warn(f"{quote(old.text)} for boolean is not supported by YAML 1.2, "
                      f"please use `{str(old.value).lower()}`")
            return old.value
        except ValueError as exc:
            raise InterpolationError(f"failed to cast to expected type: {exc}").at(path=path) from None

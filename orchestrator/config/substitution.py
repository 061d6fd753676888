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

from .errors import InterpolationError
from .interpolate import substitute
from .pathtable import Node, PathTable


def _to_int(text: str) -> int:
    if not text.lstrip("+-").isdigit() or text.count("+") + text.count("-") > 1:
        raise ValueError(f"invalid integer: {text!r}")
    return int(text)


def _to_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"invalid number: {text!r}") from None


def _to_bool(text: str) -> bool:
    low = text.lower()
    if low in ("true", "y", "yes", "on"):
        return True
    if low in ("false", "n", "no", "off"):
        return False
    raise ValueError(f"invalid boolean: {text!r} (use true or false)")


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


def interpolate(data, lookup: Callable[[str], str | None]):
    """``data`` with every string value substituted and typed paths cast.

    Errors carry the key path; the caller adds the file and line."""
    return _walk(data, (), CASTS.root, lookup)


def _walk(value, path: tuple, node: Node | None, lookup):
    if isinstance(value, str):
        if "$" in value:
            try:
                value = substitute(value, lookup)
            except InterpolationError as exc:
                raise exc.at(path=path)
        if node is not None and node.has_value:
            try:
                return node.value(value)
            except ValueError as exc:
                raise InterpolationError(f"failed to cast to expected type: {exc}").at(path=path) from None
        return value
    if isinstance(value, dict):
        return {k: _walk(v, path + (k,), node.child(k) if node else None, lookup)
                for k, v in value.items()}
    if isinstance(value, list):
        child = node.child(0) if node else None
        return [_walk(v, path + (i,), child, lookup) for i, v in enumerate(value)]
    return value

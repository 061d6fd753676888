"""What a container may do, from its HostConfig: capabilities (cap_add,
cap_drop, privileged), seccomp (security_opt seccomp=..., privileged) and
no_new_privileges. The policy above the runtime's mechanism."""
from __future__ import annotations

import functools

from engine.runtime import capabilities, seccomp

from .errors import InvalidRequest


def capabilities_for(host: dict) -> int:
    try:
        return capabilities.effective_set(host.get("CapAdd") or [], host.get("CapDrop") or [],
                                          bool(host.get("Privileged")))
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None


def seccomp_for(host: dict, mask: int) -> tuple[str, int]:
    """The BPF program (hex) and its flags, or ("", 0) for none."""
    options = tuple(host.get("SecurityOpt") or ())
    if any(o.startswith("seccomp") for o in options):  # a profile file may change: read it anew
        return _seccomp.__wrapped__(options, bool(host.get("Privileged")), mask)
    return _seccomp(options, bool(host.get("Privileged")), mask)


@functools.lru_cache(maxsize=64)
def _seccomp(security_opt: tuple, privileged: bool, mask: int) -> tuple[str, int]:
    # Most containers share the default profile and capability set: compile it once.
    try:
        profile = seccomp.profile_for(list(security_opt), privileged)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    if profile is None:
        return "", 0
    return seccomp.build_filter(profile, mask).hex(), seccomp.filter_flags(profile)


def no_new_privileges(host: dict) -> bool:
    for option in host.get("SecurityOpt") or []:
        key, _, value = option.replace("=", ":", 1).partition(":")
        if key == "no-new-privileges":
            return value.lower() in ("", "true")
    return False

"""What a container may do, from its HostConfig: capabilities (cap_add,
cap_drop, privileged), seccomp (security_opt seccomp=..., privileged) and
no_new_privileges. The policy above the runtime's mechanism."""
from __future__ import annotations

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
    try:
        profile = seccomp.profile_for(host.get("SecurityOpt") or [], bool(host.get("Privileged")))
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

"""Which capabilities a container gets, from its HostConfig (cap_add,
cap_drop, privileged): the policy above the runtime's mechanism."""
from __future__ import annotations


def capabilities_for(host: dict) -> int | None:
    from engine.runtime import capabilities
    return capabilities.effective_set(host.get("CapAdd") or [], host.get("CapDrop") or [],
                                      bool(host.get("Privileged")))

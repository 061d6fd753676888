"""Restart policies, docker's: which exits restart a container, and after
how long. ``no`` never; ``always`` after any exit; ``unless-stopped`` the
same, but not once a user stopped it; ``on-failure[:N]`` after a non-zero
exit, at most N times. A stop or kill by a user (``manually_stopped``)
holds any policy off until the next start. The delay doubles from 100 ms
with each restart in a row, up to a minute, and starts over once a run
lasted 10 seconds. The daemon keeps time and runs them; this is the rules."""
from __future__ import annotations

from .errors import InvalidRequest

POLICIES = ("no", "always", "unless-stopped", "on-failure")
FIRST_DELAY, MAX_DELAY, RESET_AFTER = 0.1, 60.0, 10.0


def check(policy: dict | None, auto_remove: bool) -> None:
    """Refuse what docker refuses at create."""
    name = (policy or {}).get("Name") or "no"
    count = (policy or {}).get("MaximumRetryCount") or 0
    if name not in POLICIES:
        raise InvalidRequest(f"invalid restart policy '{name}' (one of: {', '.join(POLICIES)})")
    if count and name != "on-failure":
        raise InvalidRequest("invalid restart policy: maximum retry count can only be used with 'on-failure'")
    if count < 0:
        raise InvalidRequest("invalid restart policy: maximum retry count cannot be negative")
    if auto_remove and name != "no":
        raise InvalidRequest("conflicting options: cannot specify both --restart and --rm")


def wanted(policy: dict | None, exit_code: int, restarts: int, manually_stopped: bool) -> bool:
    """Whether this exit restarts the container (``restarts``: how many
    times the policy restarted it in a row already)."""
    name = (policy or {}).get("Name") or "no"
    if name == "no" or manually_stopped:
        return False
    if name == "on-failure":
        limit = (policy or {}).get("MaximumRetryCount") or 0
        return exit_code != 0 and (not limit or restarts < limit)
    return True


def delay(previous: float, ran_for: float) -> float:
    """The wait before the next restart, after waiting ``previous`` last time."""
    if ran_for >= RESET_AFTER or previous <= 0:
        return FIRST_DELAY
    return min(previous * 2, MAX_DELAY)


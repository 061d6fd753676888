"""The container state machine (runc's, with docker's names and wording).

States: created, running, paused, restarting, exited, dead, removing. The
current state is never trusted from the record alone: ``derive`` re-reads it
from the kernel (the pid with its start time, the freezer) and the exit
record the supervisor wrote.
"""
from __future__ import annotations

from .errors import Conflict

CREATED, RUNNING, PAUSED, RESTARTING, EXITED, DEAD, REMOVING = (
    "created", "running", "paused", "restarting", "exited", "dead", "removing")

# operation -> the states it may start from
ALLOWED = {
    "start": {CREATED, EXITED},
    "stop": {RUNNING, PAUSED, RESTARTING, CREATED, EXITED},
    "kill": {RUNNING, PAUSED, RESTARTING},
    "pause": {RUNNING},
    "unpause": {PAUSED},
    "remove": {CREATED, EXITED, DEAD},
    "exec": {RUNNING},
    "attach": {RUNNING, PAUSED},
}


def check(operation: str, state: str, name: str) -> None:
    """Raise docker's error when ``operation`` is illegal in ``state``."""
    if state in ALLOWED[operation]:
        return
    if operation == "kill":
        raise Conflict(f"Cannot kill container: {name}: Container {name} is not running")
    if operation == "pause":
        if state == PAUSED:
            raise Conflict(f"cannot pause container {name}: Container {name} is already paused")
        raise Conflict(f"Container {name} is not running")
    if operation == "unpause":
        raise Conflict(f"Container {name} is not paused")
    if operation == "remove":
        verb = "stop" if state != PAUSED else "unpause and then stop"
        raise Conflict(f"cannot remove container \"/{name}\": container is {state}: "
                       f"{verb} the container before removing or force remove")
    if operation == "start" and state == PAUSED:
        raise Conflict("cannot start a paused container, try unpause instead")
    if operation == "exec":
        raise Conflict(f"Container {name} is not running")
    if operation == "attach":
        raise Conflict("You cannot attach to a stopped container, start it first")
    raise Conflict(f"Container {name} is {state}: cannot {operation}")


def derive(record: dict, alive: bool, frozen: bool, exit_record: dict | None) -> str:
    """The state from what the kernel and the supervisor say now."""
    if record.get("pid"):
        if alive:
            return PAUSED if frozen else RUNNING
        return EXITED if exit_record or record.get("finished_at") else DEAD
    return EXITED if record.get("finished_at") else CREATED

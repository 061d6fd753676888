"""``docker cp``, the engine's side: what the archive process
(``engine.runtime.archive``) needs to see a container's filesystem, and the
command that runs it. A running (or paused) container is seen through its
PID 1's mount namespace; a stopped one through its overlay, mounted in the
archive process's own private namespace, and its binds and volumes (a
created container's prepared PID 1 is let go first: an overlay's upper dir
may be in one mount only).

Functions of the ContainerService (its first argument); they only read.
"""
from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from . import lifecycle

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


def request(service, ref: str, path: str, **options) -> dict:
    """The archive process's request for the container ``ref`` and ``path``;
    ``options``: owner, no_overwrite_dir_non_dir (put)."""
    record = service._find(ref)
    state = service.state(record)
    found = {"name": record["name"], "path": path, **options}
    if state in (lifecycle.RUNNING, lifecycle.PAUSED):
        return {**found, "pid": record["pid"], "pid_start_time": record.get("pid_start_time")}
    if state == lifecycle.CREATED:  # its prepared PID 1 has the overlay mounted: one mount at a time
        service._discard(record)   # (start prepares it again)
    directory = service._dir(record["id"])
    return {**found, "lower": list(service._layers(record["image"])), "upper": str(directory / "upper"),
            "work": str(directory / "work"), "merged": str(directory / "merged"),
            "read_only": bool(record["host_config"].get("ReadonlyRootfs")),
            "mounts": [dataclasses.asdict(m) for m in service._mounts(record)]}


def owner(service, ref: str) -> list[int] | None:
    """docker cp -a (copyUIDGID): the container's user owns what is copied
    in, when the container names one; otherwise the tar's owners stay."""
    record = service._find(ref)
    user = record["config"].get("User") or ""
    if not user:
        return None
    uid, gid, _ = service._user(record, user)
    return [uid, gid]


def command(op: str, found: dict) -> tuple[list[str], str]:
    """(argv, cwd) of the archive process for ``op`` (stat, get, put)."""
    return [sys.executable, "-m", "engine.runtime.archive", op, json.dumps(found)], _PACKAGE_PARENT

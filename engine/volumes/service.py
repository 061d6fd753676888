"""Named volumes, ``local`` driver: a directory per volume under the state
root (``ROOT/volumes/<name>/_data``, docker's layout), or a host directory for
bind-style volumes (``type: none, o: bind, device: PATH``). Create, inspect,
list, remove, prune; records through the state store.

What a container does with a volume (mounting, copying image content into an
empty one) is the runtime's; this service only owns the volumes.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from pathlib import Path

from engine.containers.errors import Conflict, InvalidRequest, NotFound
from engine.state.store import StateStore

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


class VolumeNotFound(NotFound):
    def __init__(self, name: str) -> None:
        Exception.__init__(self, f"get {name}: no such volume")


class VolumeService:
    def __init__(self, root: Path, in_use=lambda name: []) -> None:
        self.root = Path(root)
        self.store = StateStore(self.root)
        self.in_use = in_use

    def _data(self, name: str) -> Path:
        return self.root / "volumes" / name / "_data"

    def create(self, name: str | None = None, driver: str = "local", labels: dict | None = None,
               options: dict | None = None) -> dict:
        name = name or secrets.token_hex(32)
        if not _NAME.match(name):
            raise InvalidRequest(f'create {name}: "{name}" includes invalid characters for a local volume '
                                 'name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed')
        if driver != "local":
            raise InvalidRequest(f"volume driver {driver!r} is not supported (only local)")
        existing = self.store.read("volumes", name)
        if existing:
            return self._view(existing)
        options = dict(options or {})
        if options and not (options.get("o") == "bind" and options.get("device")):
            raise InvalidRequest(f"volume options {sorted(options)} are not supported: "
                                 "only type=none, o=bind, device=PATH")
        if options.get("device") and not os.path.isdir(options["device"]):
            raise InvalidRequest(f"failed to mount local volume: {options['device']}: no such directory")
        self._data(name).mkdir(parents=True, exist_ok=True)
        record = {"name": name, "driver": driver, "labels": dict(labels or {}), "options": options,
                  "created": time.time()}
        self.store.write("volumes", name, record)
        return self._view(record)

    def path(self, name: str) -> Path:
        """The host directory a container mounts for the volume."""
        record = self.store.read("volumes", name)
        if record is None:
            raise VolumeNotFound(name)
        device = record["options"].get("device")
        return Path(device) if device else self._data(name)

    def _view(self, record: dict) -> dict:
        return {"Name": record["name"], "Driver": record["driver"], "Mountpoint": str(self._data(record["name"])),
                "Labels": record["labels"] or None, "Options": record["options"] or None, "Scope": "local",
                "CreatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record["created"]))}

    def inspect(self, name: str) -> dict:
        record = self.store.read("volumes", name)
        if record is None:
            raise VolumeNotFound(name)
        return self._view(record)

    def list(self) -> list[dict]:
        return [self._view(r) for _, r in self.store.records("volumes")]

    def remove(self, name: str, force: bool = False) -> None:
        if self.store.read("volumes", name) is None:
            if force:
                return
            raise VolumeNotFound(name)
        users = self.in_use(name)
        if users:
            raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
        shutil.rmtree(self.root / "volumes" / name, ignore_errors=True)
        self.store.delete("volumes", name)

    def prune(self) -> list[str]:
        removed = []
        for view in self.list():
            if not self.in_use(view["Name"]):
                self.remove(view["Name"])
                removed.append(view["Name"])
        return removed

"""Named volumes, ``local`` driver: a directory per volume under the state
root (``ROOT/volumes/<name>/_data``, docker's layout), or a host directory for
bind-style volumes (``type: none, o: bind, device: PATH``). Create, inspect,
list, remove, prune; records through the state store.

Filters are docker's, already decoded to ``{key: [value, ...]}``: list takes
name (a regexp search), label (``key`` or ``key=value``), dangling and
driver; prune takes label, label! and all. A volume created without a name is
anonymous (docker's ``com.docker.volume.anonymous`` label), and a prune
without ``all=true`` removes only those, as docker does since 23.0.

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
ANONYMOUS = "com.docker.volume.anonymous"
LIST_FILTERS = ("dangling", "driver", "label", "name")
PRUNE_FILTERS = ("all", "label", "label!")
_BIND_STYLE = {"type": ("none",), "o": ("bind", "rbind")}  # and device=PATH


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
        labels = dict(labels or {})
        if not name:
            name, labels[ANONYMOUS] = secrets.token_hex(32), ""
        if not _NAME.match(name):
            raise InvalidRequest(f'create {name}: "{name}" includes invalid characters for a local volume '
                                 'name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed')
        if driver != "local":
            raise InvalidRequest(f"volume driver {driver!r} is not supported (only local)")
        existing = self.store.read("volumes", name)
        if existing:
            return self._view(existing)
        options = dict(options or {})
        _check_options(options)
        self._data(name).mkdir(parents=True, exist_ok=True)
        record = {"name": name, "driver": driver, "labels": labels, "options": options,
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

    def list(self, filters: dict[str, list[str]] | None = None) -> list[dict]:
        """The volumes, by name; ``filters``: docker's list filters."""
        filters = _checked(filters or {}, LIST_FILTERS)
        views = sorted((self._view(r) for _, r in self.store.records("volumes")), key=lambda v: v["Name"])
        return [v for v in views if self._matches(v, filters)]

    def _matches(self, view: dict, filters: dict[str, list[str]]) -> bool:
        if "name" in filters and not any(_search(p, view["Name"]) for p in filters["name"]):
            return False
        if "driver" in filters and view["Driver"] not in filters["driver"]:
            return False
        if not all(_has_label(view, wanted) for wanted in filters.get("label", [])):
            return False
        if any(_has_label(view, unwanted) for unwanted in filters.get("label!", [])):
            return False
        if "dangling" in filters:
            return _boolean(filters, "dangling") == (not self.in_use(view["Name"]))
        return True

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

    def prune(self, filters: dict[str, list[str]] | None = None) -> list[str]:
        """Remove unused volumes: the names removed. ``filters``: docker's
        prune filters; without any, every unused volume goes (``all=true``)."""
        return self.prune_report(filters if filters is not None else {"all": ["true"]})["VolumesDeleted"]

    def prune_report(self, filters: dict[str, list[str]]) -> dict:
        """docker's prune: the unused volumes that match ``filters``, only
        anonymous ones unless ``all=true``; answers docker's report."""
        filters = _checked(filters, PRUNE_FILTERS)
        if not _boolean(filters, "all"):
            filters = {**filters, "label": [*filters.get("label", []), ANONYMOUS]}
        removed, space = [], 0
        for view in self.list():
            if not self._matches(view, filters) or self.in_use(view["Name"]):
                continue
            size = _size(self._data(view["Name"]))
            try:
                self.remove(view["Name"])
            except (Conflict, VolumeNotFound):  # taken or removed meanwhile: not ours to count
                continue
            removed.append(view["Name"])
            space += size
        return {"VolumesDeleted": removed, "SpaceReclaimed": space}


def _check_options(options: dict) -> None:
    """The local driver's options this engine mounts: bind-style only."""
    for key in options:
        if key not in ("type", "o", "device"):
            raise InvalidRequest(f"invalid option: {key!r}")  # docker's words for an unknown key
    for key, allowed in _BIND_STYLE.items():
        if key in options and options[key] not in allowed:
            raise InvalidRequest(f"volume option {key}={options[key]} is not supported: "
                                 "only type=none, o=bind, device=PATH (a bind-style volume)")
    if options and not options.get("device"):
        raise InvalidRequest("volume options need device=PATH: only bind-style volumes "
                             "(type=none, o=bind, device=PATH) are supported")
    if options.get("device") and not os.path.isdir(options["device"]):
        raise InvalidRequest(f"failed to mount local volume: {options['device']}: no such directory")


def _checked(filters: dict[str, list[str]], accepted: tuple[str, ...]) -> dict[str, list[str]]:
    for key in filters:
        if key not in accepted:
            raise InvalidRequest(f"invalid filter '{key}'")
    return filters


def _boolean(filters: dict[str, list[str]], key: str) -> bool:
    """A filter that must hold one boolean (docker's dangling, all)."""
    values = filters.get(key, [])
    if not values:
        return False
    if len(values) == 1 and values[0].lower() in ("1", "true", "t"):
        return True
    if len(values) == 1 and values[0].lower() in ("0", "false", "f"):
        return False
    raise InvalidRequest(f"invalid filter '{key}={'|'.join(values)}'")


def _search(pattern: str, name: str) -> bool:
    """docker's name filter: equal, or a regexp found in the name."""
    try:
        return pattern == name or re.search(pattern, name) is not None
    except re.error:
        return False


def _has_label(view: dict, wanted: str) -> bool:
    key, eq, value = wanted.partition("=")
    labels = view["Labels"] or {}
    return key in labels and (not eq or labels[key] == value)


def _size(path: Path) -> int:
    """Bytes in the files under ``path``, each inode once (docker's directory.Size)."""
    seen, total = set(), 0
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                info = os.lstat(os.path.join(directory, name))
            except OSError:
                continue
            if (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_size
    return total

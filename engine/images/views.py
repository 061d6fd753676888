"""Docker's JSON shapes for images: inspect, list (summary) and history.

Pure functions from what the store knows (an image record, its config, its
references, layer sizes) to the dicts the Engine API returns (v1.45:
ImageInspect, ImageSummary, ImageHistoryResponseItem). Standard library and
engine.images.reference only; no file system.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from engine.images.reference import Reference

ZERO_TIME = "0001-01-01T00:00:00Z"
_CONFIG_DEFAULTS = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False,
    "AttachStdout": False, "AttachStderr": False, "Tty": False, "OpenStdin": False,
    "StdinOnce": False, "Env": None, "Cmd": None, "Image": "", "Volumes": None,
    "WorkingDir": "", "Entrypoint": None, "OnBuild": None, "Labels": None,
}


def unix_time(text: str | None) -> int:
    """An RFC 3339 time (nanoseconds allowed) as Unix seconds; 0 if absent."""
    if not text:
        return 0
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.strip()).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def now_rfc3339() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def split_references(refs: list[Reference]) -> tuple[list[str], list[str]]:
    """RepoTags and RepoDigests, familiar and sorted."""
    tags = sorted(ref.familiar for ref in refs if not ref.digest)
    digests = sorted(ref.familiar for ref in refs if ref.digest)
    return tags, digests


def image_size(record: dict, layer_sizes: dict[str, int]) -> int:
    return sum(layer_sizes.get(layer["diff_id"], 0) for layer in record["layers"])


def inspect_view(record: dict, config: dict, refs: list[Reference],
                 layer_sizes: dict[str, int], layer_dirs: list[Path]) -> dict:
    tags, digests = split_references(refs)
    view = {
        "Id": record["id"],
        "RepoTags": tags,
        "RepoDigests": digests,
        "Parent": "",
        "Comment": config.get("comment", ""),
        "Created": config.get("created", ""),
        "DockerVersion": config.get("docker_version", ""),
        "Author": config.get("author", ""),
        "Config": {**_CONFIG_DEFAULTS, **(config.get("config") or {})},
        "Architecture": config.get("architecture", ""),
        "Os": config.get("os", ""),
        "Size": image_size(record, layer_sizes),
        "GraphDriver": _graph_driver(layer_dirs),
        "RootFS": {"Type": "layers",
                   "Layers": [layer["diff_id"] for layer in record["layers"]]},
        "Metadata": {"LastTagTime": record.get("last_tag_time") or ZERO_TIME},
    }
    for key, field in (("Variant", "variant"), ("OsVersion", "os.version")):
        if config.get(field):
            view[key] = config[field]
    return view


def _graph_driver(layer_dirs: list[Path]) -> dict:
    data = {}
    if layer_dirs:
        data["UpperDir"] = str(layer_dirs[0])
    if len(layer_dirs) > 1:
        data["LowerDir"] = ":".join(str(path) for path in layer_dirs[1:])
    return {"Name": "overlay2", "Data": data}


def summary_view(record: dict, config: dict, refs: list[Reference],
                 layer_sizes: dict[str, int]) -> dict:
    tags, digests = split_references(refs)
    return {
        "Id": record["id"],
        "ParentId": "",
        "RepoTags": tags,
        "RepoDigests": digests,
        "Created": unix_time(config.get("created")),
        "Size": image_size(record, layer_sizes),
        "SharedSize": -1,
        "Labels": (config.get("config") or {}).get("Labels") or {},
        "Containers": -1,
    }


def history_view(record: dict, config: dict, refs: list[Reference],
                 layer_sizes: dict[str, int]) -> list[dict]:
    sizes = [layer_sizes.get(layer["diff_id"], 0) for layer in record["layers"]]
    history = config.get("history") or [
        {"created": config.get("created")} for _ in record["layers"]] or [{}]
    items, next_layer = [], 0
    for entry in history:
        size = 0
        if not entry.get("empty_layer") and next_layer < len(sizes):
            size, next_layer = sizes[next_layer], next_layer + 1
        items.append({
            "Id": "<missing>",
            "Created": unix_time(entry.get("created")),
            "CreatedBy": entry.get("created_by", ""),
            "Tags": None,
            "Size": size,
            "Comment": entry.get("comment", ""),
        })
    items.reverse()
    items[0]["Id"] = record["id"]
    items[0]["Tags"] = split_references(refs)[0]
    return items

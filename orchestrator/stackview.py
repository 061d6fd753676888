"""The output of ``top``, ``ls``, ``images`` and ``events`` as docker compose
v2 (2.40.3) prints it: ``top``'s per-process table, ``ls``'s project list
(``running(2), exited(1)``), ``images``'s rows, an event's line and JSON
object. Pure: takes the engine's documents, returns lines and values.

Must not import: the engine or its client, anything that does I/O.
"""
from __future__ import annotations

import re
import time
from datetime import datetime

from .cli.formats import go_json, human_duration, human_size, tabulate
from .plan import NUMBER, PROJECT, SERVICE

CONFIG_FILES = "com.docker.compose.project.config_files"
COMPOSE_PREFIX = "com.docker.compose."


def top_lines(processes: list[tuple[str, str, str, dict]]) -> list[str]:
    """``processes``: (container name, service, replica, ``/top`` answer) per
    container. compose's table: SERVICE and # first, the titles in the order
    first met, CMD last, ``-`` where a container has no such column."""
    header = {"SERVICE": 0, "#": 1}
    rows = []
    for _, service, replica, top in sorted(processes, key=lambda p: p[0]):
        titles = top.get("Titles") or []
        for process in top.get("Processes") or []:
            row = {"SERVICE": service, "#": replica}
            for index, title in enumerate(titles):
                header.setdefault(title, len(header))
                row[title] = process[index] if index < len(process) else ""
            rows.append(row)
    if not rows:
        return []
    titles = sorted(header, key=header.get)
    if "CMD" in titles:
        titles.remove("CMD")
        titles.append("CMD")
    lines = ["\t".join(titles)] + ["\t".join(row.get(title, "-") for title in titles) for row in rows]
    return tabulate(lines, minwidth=4, padding=2)


def combined_status(states: list[str]) -> str:
    counts: dict[str, int] = {}
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    return ", ".join(f"{state}({counts[state]})" for state in sorted(counts))


def stacks(summaries: list[dict]) -> tuple[list[dict], list[str]]:
    """The projects in a container list, by name: {Name, Status, ConfigFiles};
    and warnings (a container without the config files label: ``N/A``)."""
    by_project: dict[str, list[dict]] = {}
    for summary in summaries:
        by_project.setdefault((summary.get("Labels") or {}).get(PROJECT, ""), []).append(summary)
    out, warnings = [], []
    for name in sorted(by_project):
        found = by_project[name]
        files: list[str] = []
        for summary in found:
            labels = summary.get("Labels") or {}
            if CONFIG_FILES not in labels:
                warnings.append(f'no label "{CONFIG_FILES}" set on container "{summary["Id"]}" of compose project')
                files = ["N/A"]
                break
            files += [f for f in labels[CONFIG_FILES].split(",") if f not in files]
        out.append({"Name": name, "Status": combined_status([s.get("State", "") for s in found]),
                    "ConfigFiles": ",".join(files)})
    return out, warnings


def ls_lines(projects: list[dict]) -> list[str]:
    lines = ["NAME\tSTATUS\tCONFIG FILES"] + [f"{p['Name']}\t{p['Status']}\t{p['ConfigFiles']}" for p in projects]
    return tabulate(lines, minwidth=20, padding=3)


def compose_json(value) -> str:
    """compose's ``formatter.ToJSON``: compact, and unlike json.Marshal no
    HTML escaping."""
    import json
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def reference_parts(image: str) -> tuple[str, str]:
    """(repository, tag) as compose reads a container's image with
    ``reference.ParseDockerRef``: the familiar name, ``latest`` when no tag is
    given, no tag for a digest reference, nothing for an image ID."""
    if re.fullmatch(r"(sha256:)?[0-9a-f]{64}", image):
        return "", ""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    tag = ""
    if ":" in name[slash + 1:]:
        name, tag = name.rsplit(":", 1)
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    if digest:
        return name, ""
    return name, tag or "latest"


def platform_text(image: dict) -> str:
    """containerd's ``platforms.Format``."""
    if not image.get("Os"):
        return "unknown"
    return "/".join(p for p in (image["Os"], image.get("Architecture"), image.get("Variant")) if p)


def _go_time(text: str | None) -> float | None:
    """An RFC 3339 timestamp (nanoseconds allowed) as Unix seconds; None for Go's zero time."""
    if not text or text.startswith("0001-01-01"):
        return None
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    if not match:
        return None
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    seconds = datetime.fromisoformat(match.group(1) + zone).timestamp()
    return seconds + float(match.group(2) or 0)


def image_row(container: str, image_ref: str, image: dict) -> dict:
    """One container's image, compose's ``--format json`` fields."""
    repository, tag = reference_parts(image_ref)
    tagged = (image.get("Metadata") or {}).get("LastTagTime")
    last = tagged if _go_time(tagged) is not None else image.get("Created") or tagged
    return {"ID": image.get("Id", ""), "ContainerName": container, "Repository": repository, "Tag": tag,
            "Platform": platform_text(image), "Size": int(image.get("Size") or 0), "LastTagTime": last}


def images_lines(rows: list[dict], now: float | None = None) -> list[str]:
    now = time.time() if now is None else now
    lines = ["CONTAINER\tREPOSITORY\tTAG\tPLATFORM\tIMAGE ID\tSIZE\tCREATED"]
    for row in sorted(rows, key=lambda r: r["ContainerName"]):
        stamp = _go_time(row["LastTagTime"])
        created = human_duration(now - stamp) + " ago" if stamp is not None else ""
        lines.append("\t".join([row["ContainerName"], row["Repository"] or "<none>", row["Tag"] or "<none>",
                                row["Platform"], short_id(row["ID"])[:12], human_size(row["Size"], 3), created]))
    return tabulate(lines, minwidth=20, padding=3)


def short_id(image_id: str) -> str:
    return image_id.split(":", 1)[1] if ":" in image_id else image_id


def event_of(document: dict, services: tuple[str, ...] = ()) -> dict | None:
    """A daemon event as compose keeps it (containers only, not one-off ones,
    of the services asked for; the compose labels left out), else None."""
    if document.get("Type") != "container":
        return None
    attributes = (document.get("Actor") or {}).get("Attributes") or {}
    if attributes.get("com.docker.compose.oneoff") == "True":
        return None
    service = attributes.get(SERVICE, "")
    if services and service not in services:
        return None
    nanos = document.get("timeNano") or int(document.get("time", 0)) * 10**9
    return {"time": int(nanos), "service": service, "id": (document.get("Actor") or {}).get("ID", ""),
            "action": document.get("Action", ""),
            "attributes": {k: v for k, v in attributes.items() if not k.startswith(COMPOSE_PREFIX)}}


def event_line(event: dict) -> str:
    """``2024-01-01 12:00:00.000000 container start <id> (image=..., name=...)``
    in local time (compose's ``api.Event.String``; it ends with a newline of
    its own, so compose prints an empty line after each event)."""
    seconds, nanos = divmod(event["time"], 10**9)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)) + f".{nanos // 1000:06d}"
    attributes = ", ".join(f"{k}={v}" for k, v in sorted(event["attributes"].items()))
    return f"{stamp} container {event['action']} {event['id']} ({attributes})\n"


def rfc3339nano(nanoseconds: int) -> str:
    """Go's ``time.RFC3339Nano`` in local time: trailing zeros of the fraction dropped, ``Z`` for UTC."""
    seconds, nanos = divmod(nanoseconds, 10**9)
    moment = datetime.fromtimestamp(seconds).astimezone()
    fraction = f".{nanos:09d}".rstrip("0").rstrip(".")
    offset = moment.utcoffset()
    if not offset:
        zone = "Z"
    else:
        minutes = int(offset.total_seconds()) // 60
        zone = f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + zone


def event_json(event: dict) -> str:
    """compose's ``events --json`` object (json.Marshal of a map: keys sorted)."""
    return go_json({"action": event["action"], "attributes": event["attributes"], "id": event["id"],
                    "service": event["service"], "time": rfc3339nano(event["time"]), "type": "container"},
                   sort_keys=True)


def replica(summary: dict) -> str:
    return (summary.get("Labels") or {}).get(NUMBER, "")

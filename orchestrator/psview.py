"""``dockyard ps``'s output, as docker compose v2 prints it: the table
(NAME IMAGE COMMAND SERVICE CREATED STATUS PORTS), ``--format json`` (one
object per line, compose's fields), a Go template, ``-q`` and
``--services``. Pure: takes the engine's container list entries."""
from __future__ import annotations

import time

from .cli.formats import format_rows

HEADERS = {"Name": "NAME", "Image": "IMAGE", "Command": "COMMAND", "Service": "SERVICE",
           "RunningFor": "CREATED", "Status": "STATUS", "Ports": "PORTS", "ID": "CONTAINER ID",
           "State": "STATE", "Project": "PROJECT", "CreatedAt": "CREATED AT", "Health": "HEALTH",
           "ExitCode": "EXIT CODE", "Networks": "NETWORKS"}
TABLE = "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}"


def _ago(seconds: float) -> str:
    from engine.client.units import human_duration  # noqa: PLC0415 - the docker CLI's own wording
    return f"{human_duration(seconds)} ago"


def ports_text(ports: list[dict]) -> str:
    """docker's PORTS column: ``0.0.0.0:8080->80/tcp, 443/tcp``."""
    out = []
    for port in sorted(ports, key=lambda p: (p.get("PrivatePort", 0), p.get("Type", ""), p.get("IP", ""))):
        if port.get("PublicPort"):
            out.append(f"{port.get('IP') or '0.0.0.0'}:{port['PublicPort']}->{port['PrivatePort']}/{port['Type']}")
        else:
            out.append(f"{port['PrivatePort']}/{port['Type']}")
    return ", ".join(dict.fromkeys(out))


def _health(status: str) -> str:
    for word, health in (("(health: starting)", "starting"), ("(healthy)", "healthy"), ("(unhealthy)", "unhealthy")):
        if status.endswith(word):
            return health
    return ""


def row(summary: dict, now: float) -> dict:
    labels = summary.get("Labels") or {}
    command = summary.get("Command") or ""
    status = summary.get("Status") or ""
    exit_code = int(status[len("Exited ("):].split(")")[0]) if status.startswith("Exited (") else 0
    return {"Command": f'"{command[:19] + "…" if len(command) > 20 else command}"',
            "CreatedAt": time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(summary.get("Created", 0))),
            "ExitCode": exit_code, "Health": _health(status), "ID": summary["Id"][:12], "Image": summary.get("Image"),
            "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
            "Name": summary["Names"][0].lstrip("/"), "Names": summary["Names"][0].lstrip("/"),
            "Networks": ",".join(sorted((summary.get("NetworkSettings") or {}).get("Networks") or {})),
            "Ports": ports_text(summary.get("Ports") or []), "Project": labels.get("com.docker.compose.project", ""),
            "RunningFor": _ago(now - summary.get("Created", now)), "Service": labels.get("com.docker.compose.service", ""),
            "State": summary.get("State", ""), "Status": status,
            "Publishers": [{"URL": p.get("IP", ""), "TargetPort": p["PrivatePort"], "PublishedPort": p.get("PublicPort", 0),
                            "Protocol": p["Type"]} for p in summary.get("Ports") or []]}


def render_ps(summaries: list[dict], *, quiet: bool = False, services: bool = False, template: str = "table",
              now: float | None = None) -> list[str]:
    now = time.time() if now is None else now
    rows = sorted((row(s, now) for s in summaries), key=lambda r: r["Name"])
    if quiet:
        return [s["Id"] for s in sorted(summaries, key=lambda s: s["Names"][0])]
    if services:
        return list(dict.fromkeys(r["Service"] for r in rows))
    if template == "table":
        template = TABLE
    return format_rows(template, rows, HEADERS)

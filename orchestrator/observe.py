"""What the engine has of a project, found by compose's labels, as the
planner's ``Snapshot`` (one label-filtered list of containers, one of
networks and one of volumes: never a call per container).

Imports engine.client only (through the client object passed in).
"""
from __future__ import annotations

from .plan import HASH, NUMBER, ONEOFF, PROJECT, SERVICE, Existing, Snapshot


def existing(summary: dict) -> Existing:
    """A container list entry (``/containers/json``) as the planner sees it."""
    labels = summary.get("Labels") or {}
    status = summary.get("Status") or ""
    code = 0
    if status.startswith("Exited ("):
        code = int(status[len("Exited ("):].split(")", 1)[0])
    return Existing(summary["Id"], (summary.get("Names") or ["/"])[0].lstrip("/"), labels.get(SERVICE, ""),
                    int(labels.get(NUMBER) or 0), labels.get(HASH, ""), summary.get("State", ""), code,
                    labels.get(ONEOFF, "False") == "True")


def containers(client, project: str) -> list[dict]:
    return client.api.containers(all=True, filters={"label": [f"{PROJECT}={project}"]})


def snapshot(client, project: str, network_names: list[str] = (), volume_names: list[str] = ()) -> Snapshot:
    """The project's containers, and which of the named networks and volumes exist."""
    found = tuple(existing(s) for s in containers(client, project))
    networks = {n["Name"] for n in client.api.networks()} & set(network_names)
    volumes = {v["Name"] for v in (client.api.volumes().get("Volumes") or [])} & set(volume_names)
    return Snapshot(found, frozenset(networks), frozenset(volumes))


def project_networks(client, project: str) -> list[str]:
    return sorted(n["Name"] for n in client.api.networks(filters={"label": [f"{PROJECT}={project}"]}))


def project_volumes(client, project: str) -> list[str]:
    return sorted(v["Name"] for v in client.api.volumes(filters={"label": [f"{PROJECT}={project}"]}).get(
        "Volumes") or [])

"""Docker's JSON shapes of a container: the list entry (``/containers/json``)
and inspect (``/containers/{id}/json``), from its record and derived state."""
from __future__ import annotations

import time

from engine.client.units import human_duration

from . import config as merge
from . import health, lifecycle, logs, networking

ZERO_TIME = "0001-01-01T00:00:00Z"


def summary(record: dict, state: str, exit_record: dict, endpoints: dict | None = None,
            now: float | None = None, volume_source=lambda name: "") -> dict:
    command = merge.command(record["image_config"], record["config"])
    return {"Id": record["id"], "Names": [f"/{record['name']}"], "Image": record["image_ref"],
            "ImageID": record["image"], "Command": " ".join(command),
            "Created": int(record["created"]), "State": state,
            "Status": status(record, state, exit_record, time.time() if now is None else now),
            "Labels": (record["config"].get("Labels") or {}),
            "Ports": networking.summary_ports(record, endpoints), "Mounts": mounts(record, volume_source),
            "HostConfig": {"NetworkMode": networking.mode(record["host_config"])},
            "NetworkSettings": {"Networks": networking.settings(record, endpoints)["Networks"]}}


def status(record: dict, state: str, exit_record: dict, now: float) -> str:
    """docker ps's STATUS: "Up 3 minutes", "Exited (0) 2 seconds ago", "Created"."""
    if state in (lifecycle.RUNNING, lifecycle.PAUSED):
        text = "Up " + human_duration(now - record.get("started_at", now))
        if state == lifecycle.PAUSED:
            return text + " (Paused)"
        status = (record.get("health") or {}).get("Status")
        if status:
            text += " (health: starting)" if status == health.STARTING else f" ({status})"
        return text
    if state in (lifecycle.EXITED, lifecycle.RESTARTING):
        finished = exit_record.get("finished_at", now)
        word = "Exited" if state == lifecycle.EXITED else "Restarting"
        return f"{word} ({exit_record.get('exit_code', 0)}) {human_duration(now - finished)} ago"
    return state.capitalize()


def inspect(record: dict, state: str, exit_record: dict, endpoints: dict | None = None,
            network_id=lambda name: "", volume_source=lambda name: "") -> dict:
    running = state in (lifecycle.RUNNING, lifecycle.PAUSED)
    command = merge.command(record["image_config"], record["config"])
    return {
        "Id": record["id"], "Name": f"/{record['name']}", "Image": record["image"],
        "Created": logs.timestamp(record["created"]), "Path": command[0], "Args": command[1:],
        "State": {"Status": state, "Running": running, "Paused": state == lifecycle.PAUSED,
                  "Restarting": state == lifecycle.RESTARTING, "OOMKilled": bool(exit_record.get("oom_killed")),
                  "Dead": state == lifecycle.DEAD, "Pid": record["pid"] if running else 0,
                  **({"Health": health.view(record["health"])} if record.get("health") else {}),
                  "ExitCode": exit_record.get("exit_code", 0), "Error": "",
                  "StartedAt": logs.timestamp(record["started_at"]) if record.get("started_at")
                  else ZERO_TIME,
                  "FinishedAt": logs.timestamp(exit_record["finished_at"]) if exit_record
                  else ZERO_TIME},
        "Config": {**record["config"], "Hostname": record["hostname"]},
        "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {}}, **record["host_config"]},
        "LogPath": record["log_path"], "Mounts": mounts(record, volume_source),
        "RestartCount": record.get("restart_count", 0),
        "NetworkSettings": networking.settings(record, endpoints, network_id),
    }


def mounts(record: dict, volume_source=lambda name: "") -> list[dict]:
    """Docker's ``Mounts``: what Binds and Mounts ask for (HostConfig.Tmpfs is
    not listed, as in docker). Compose reads it to keep a recreated service's
    anonymous volumes; ``volume_source`` gives a volume's host directory."""
    host, found = record["host_config"], []
    for bind in host.get("Binds") or []:
        source, target, *options = bind.split(":")
        mode = options[0] if options else ""
        writable = "ro" not in mode.split(",")
        if source.startswith("/"):
            found.append({"Type": "bind", "Source": source, "Destination": target, "Mode": mode,
                          "RW": writable, "Propagation": "rprivate"})
        else:
            found.append(_volume(source, volume_source(source), target, mode, writable))
    for mount in host.get("Mounts") or []:
        kind, writable = mount.get("Type", "volume"), not mount.get("ReadOnly")
        if kind == "volume":
            name = mount.get("Source") or record["anonymous_volumes"][mount["Target"]]
            found.append(_volume(name, volume_source(name), mount["Target"], "z", writable))
        else:
            propagation = (mount.get("BindOptions") or {}).get("Propagation") or "rprivate"
            found.append({"Type": kind, "Source": mount.get("Source") or "", "Destination": mount["Target"],
                          "Mode": "", "RW": writable, "Propagation": propagation if kind == "bind" else ""})
    return found


def _volume(name: str, source: str, target: str, mode: str, writable: bool) -> dict:
    return {"Type": "volume", "Name": name, "Source": source, "Destination": target, "Driver": "local",
            "Mode": mode, "RW": writable, "Propagation": ""}

"""Docker's JSON shapes of a container: the list entry (``/containers/json``)
and inspect (``/containers/{id}/json``), from its record and derived state."""
from __future__ import annotations

from . import config as merge, lifecycle, logs

ZERO_TIME = "0001-01-01T00:00:00Z"


def summary(record: dict, state: str) -> dict:
    command = merge.command(record["image_config"], record["config"])
    return {"Id": record["id"], "Names": [f"/{record['name']}"], "Image": record["image_ref"],
            "ImageID": record["image"], "Command": " ".join(command),
            "Created": int(record["created"]), "State": state,
            "Labels": (record["config"].get("Labels") or {})}


def inspect(record: dict, state: str, exit_record: dict) -> dict:
    running = state in (lifecycle.RUNNING, lifecycle.PAUSED)
    command = merge.command(record["image_config"], record["config"])
    return {
        "Id": record["id"], "Name": f"/{record['name']}", "Image": record["image"],
        "Created": logs.timestamp(record["created"]), "Path": command[0], "Args": command[1:],
        "State": {"Status": state, "Running": running, "Paused": state == lifecycle.PAUSED,
                  "Restarting": False, "OOMKilled": bool(exit_record.get("oom_killed")),
                  "Dead": state == lifecycle.DEAD, "Pid": record["pid"] if running else 0,
                  "ExitCode": exit_record.get("exit_code", 0), "Error": "",
                  "StartedAt": logs.timestamp(record["started_at"]) if record.get("started_at")
                  else ZERO_TIME,
                  "FinishedAt": logs.timestamp(exit_record["finished_at"]) if exit_record
                  else ZERO_TIME},
        "Config": {**record["config"], "Hostname": record["hostname"]},
        "HostConfig": record["host_config"], "LogPath": record["log_path"],
        "RestartCount": record.get("restart_count", 0),
    }

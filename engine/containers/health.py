"""Health checks, docker's: the settings (a container's ``Healthcheck``
over its image's), the state a probe result leads to, and one probe.

Timing as dockerd's: the first probe ``interval`` after start
(``start_interval`` while in ``start_period``), then one every interval;
a probe that outlives ``timeout`` is killed and counts as a failure;
``retries`` failures in a row make the container unhealthy, but failures
inside the start period do not count (a success there makes it healthy).
The daemon runs the loop (it owns time); this module is the rules.
"""
from __future__ import annotations

import os
import select
import signal
import time
from dataclasses import dataclass

STARTING, HEALTHY, UNHEALTHY = "starting", "healthy", "unhealthy"
SECOND = 1_000_000_000  # docker's durations are nanoseconds
DEFAULTS = {"Interval": 30 * SECOND, "Timeout": 30 * SECOND, "StartPeriod": 0, "StartInterval": 5 * SECOND,
            "Retries": 3}
MAX_LOG, MAX_OUTPUT = 5, 4096  # docker keeps the last 5 results, 4 KiB of each


@dataclass(frozen=True)
class Check:
    command: list[str]  # what to exec
    interval: float
    timeout: float
    start_period: float
    start_interval: float
    retries: int


def settings(image_config: dict, config: dict) -> Check | None:
    """The container's health check, or None (none, or ``NONE``). Fields the
    container leaves zero come from the image's, then docker's defaults."""
    own, image = config.get("Healthcheck") or {}, image_config.get("Healthcheck") or {}
    test = own.get("Test") or image.get("Test") or []
    if not test or test[0] == "NONE":
        return None
    kind, args = test[0], list(test[1:])
    if kind == "CMD":
        command = args
    elif kind == "CMD-SHELL":
        command = ["/bin/sh", "-c", " ".join(args)]
    else:  # docker's old form: the whole list is a shell command
        command = ["/bin/sh", "-c", " ".join(test)]

    def pick(key: str) -> float:
        return own.get(key) or image.get(key) or DEFAULTS[key]
    return Check(command, pick("Interval") / SECOND, pick("Timeout") / SECOND, pick("StartPeriod") / SECOND,
                 pick("StartInterval") / SECOND, int(pick("Retries")))


def initial() -> dict:
    """State.Health of a container that has just started."""
    return {"Status": STARTING, "FailingStreak": 0, "Log": []}


def next_delay(check: Check, started: float, now: float) -> float:
    """Seconds to the next probe."""
    in_start_period = now - started < check.start_period
    return check.start_interval if in_start_period else check.interval


def after(health: dict, check: Check, result: dict, started: float) -> tuple[dict, str | None]:
    """The health after a probe ``result`` ({Start, End, ExitCode, Output}
    with times as epoch seconds), and the status event to publish (or None)."""
    log = (health.get("Log") or []) + [result]
    status, streak = health.get("Status", STARTING), health.get("FailingStreak", 0)
    if result["ExitCode"] == 0:
        status, streak = HEALTHY, 0
    elif status != STARTING or result["End"] - started >= check.start_period:
        streak += 1  # a failure inside the start period does not count
        if streak >= check.retries:
            status = UNHEALTHY
    new = {"Status": status, "FailingStreak": streak, "Log": log[-MAX_LOG:]}
    return new, status if status != health.get("Status") else None


def probe(service, ref: str, check: Check) -> dict:
    """Run the check's command in the container (blocking, at most
    ``timeout``); its result as docker records it."""
    start = time.time()
    try:
        process = service.exec_start(ref, check.command, stdin=False)
    except Exception as error:  # noqa: BLE001 - the container went, or the command cannot start
        return {"Start": start, "End": time.time(), "ExitCode": -1, "Output": str(error)}
    os.close(process.stdin) if process.stdin >= 0 else None
    output, deadline = b"", start + check.timeout
    streams = [process.stdout, process.stderr]
    timed_out = False
    while streams:
        left = deadline - time.time()
        if left <= 0:
            timed_out = True
            break
        readable, _, _ = select.select(streams, [], [], left)
        for fd in readable:
            chunk = os.read(fd, 65536)
            if chunk:
                output = (output + chunk)[:MAX_OUTPUT]
            else:
                streams.remove(fd)
    for fd in (process.stdout, process.stderr):
        os.close(fd)
    if timed_out:
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
        return {"Start": start, "End": time.time(), "ExitCode": -1,
                "Output": f"Health check exceeded timeout ({check.timeout:g}s)"}
    code = process.wait()
    return {"Start": start, "End": time.time(), "ExitCode": code, "Output": output.decode(errors="replace")}


def view(health: dict | None) -> dict | None:
    """State.Health as docker shows it (times as RFC 3339 text)."""
    if health is None:
        return None
    from .logs import timestamp
    return {"Status": health["Status"], "FailingStreak": health["FailingStreak"],
            "Log": [{**entry, "Start": timestamp(entry["Start"]), "End": timestamp(entry["End"])}
                    for entry in health.get("Log") or []]}

"""The containers' output with docker compose's prefixes (``web-1  | ``,
padded, coloured on a terminal): ``logs`` (``-f`` follows each container
across its restarts) and attached ``up`` (which also says when a container
exits, and stops the project on Ctrl-C: a second one kills it)."""
from __future__ import annotations

import signal
import sys
import threading
import time

from . import observe

COLORS = ["36", "33", "32", "35", "34", "96", "93", "92", "95", "94"]
ONEOFF = "com.docker.compose.oneoff"


class Printer:
    def __init__(self, names: list[str], color: bool, prefix: bool, stream=None) -> None:
        self.width = max((len(n) for n in names), default=0)
        self.color, self.prefix = color, prefix
        self.colors = {name: COLORS[i % len(COLORS)] for i, name in enumerate(names)}
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()

    def line(self, name: str, text: str) -> None:
        head = ""
        if self.prefix:
            head = f"{name.ljust(self.width)}  | "
            if self.color:
                head = f"\033[{self.colors.get(name, '0')}m{head}\033[0m"
        with self.lock:
            self.stream.write(head + text + ("" if text.endswith("\n") else "\n"))
            self.stream.flush()


def _targets(client, project: str, services: list[str], index: int | None) -> list[tuple[str, dict]]:
    found = []
    for summary in observe.containers(client, project):
        labels = summary.get("Labels") or {}
        if labels.get(ONEOFF, "False") == "True":
            continue
        service, number = labels.get("com.docker.compose.service", ""), labels.get(
            "com.docker.compose.container-number", "1")
        if services and service not in services or index is not None and int(number) != index:
            continue
        found.append((f"{service}-{number}", summary))
    return sorted(found, key=lambda item: item[0])


def _lines(chunks):
    rest = b""
    for chunk in chunks:
        rest += chunk
        *whole, rest = rest.split(b"\n")
        for line in whole:
            yield line.decode(errors="replace")
    if rest:
        yield rest.decode(errors="replace")


def _follow(client, cid: str, name: str, printer: Printer, stop: threading.Event, *, tail, timestamps,
            since, until, across_restarts: bool, this_run: bool = False) -> None:
    """Stream one container's output; with ``across_restarts``, pick it up
    again when it starts again (a restart policy), until it is gone or stays
    stopped."""
    started_at = None
    first = True
    stopped_since = None
    while not stop.is_set():
        try:
            found = client.api.inspect_container(cid)
        except Exception:  # noqa: BLE001 - removed
            return
        state = found["State"]
        if not first and state["StartedAt"] == started_at:
            if not across_restarts or not _restart_policy(found):
                return
            # A restart policy may start it again: the engine says "restarting"
            # a moment after the exit; stopped for longer than that, it stays.
            if state["Running"] or state["Restarting"]:
                stopped_since = None
            elif stopped_since is None:
                stopped_since = time.monotonic()
            elif time.monotonic() - stopped_since > 0.5:
                return
            time.sleep(0.05)
            continue
        stopped_since = None
        started_at = state["StartedAt"]
        if first and this_run:  # attached up: the output of this run, from its start
            since = _epoch(started_at)
        stream = client.api.logs(cid, stream=True, follow=True, timestamps=timestamps, tail=tail if first else "all",
                                 since=since if first else _epoch(started_at), until=until)
        first = False
        for line in _lines(stream):
            printer.line(name, line)
            if stop.is_set():
                return
        if not across_restarts:
            return


def _epoch(text: str) -> float | None:
    """An engine timestamp (RFC 3339, nanoseconds) as seconds, a little early
    rather than late (what is printed twice beats what is lost)."""
    from datetime import datetime
    if not text or text.startswith("0001-"):
        return None
    whole, _, fraction = text.rstrip("Z").partition(".")
    moment = datetime.fromisoformat(whole + "+00:00").timestamp() + float(f"0.{fraction or 0}")
    return max(moment - 0.001, 0.001)


def _restart_policy(found: dict) -> bool:
    return ((found.get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name") not in (None, "", "no")


def show_logs(client, project: str, services: list[str], *, follow: bool, tail, timestamps: bool, color: bool,
              prefix: bool, since, until, index: int | None) -> None:
    targets = _targets(client, project, services, index)
    printer = Printer([name for name, _ in targets], color, prefix)
    tail = int(tail) if str(tail).isdigit() else "all"
    if not follow:
        for name, summary in targets:
            for line in _lines([client.api.logs(summary["Id"], timestamps=timestamps, tail=tail, since=since,
                                                until=until)]):
                printer.line(name, line)
        return
    stop = threading.Event()
    threads = [threading.Thread(target=_follow, args=(client, s["Id"], name, printer, stop), daemon=True,
                                kwargs={"tail": tail, "timestamps": timestamps, "since": since, "until": until,
                                        "across_restarts": True}) for name, s in targets]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        stop.set()


def follow_project(client, project: str, services: list[str], *, timeout, color: bool = True,
                   prefix: bool = True, timestamps: bool = False, abort_on_exit: bool = False,
                   exit_code_from: str | None = None) -> int:
    """Attached ``up``: the output of the ``services``' containers until all
    have stopped (with ``abort_on_exit``, until the first one does: then all
    stop). The first Ctrl-C stops them gracefully, a second kills them.
    Returns the exit status ``up`` ends with."""
    targets = _targets(client, project, services, None)
    everything = [s["Id"] for _, s in _targets(client, project, [], None)]
    printer = Printer([name for name, _ in targets], color, prefix)
    stop, ended = threading.Event(), []  # (service, exit code) in the order they ended

    def watch(name: str, summary: dict) -> None:
        _follow(client, summary["Id"], name, printer, stop, tail="all", timestamps=timestamps, since=None,
                until=None, across_restarts=True, this_run=True)
        if stop.is_set():
            return
        code = client.api.inspect_container(summary["Id"])["State"]["ExitCode"]
        ended.append((summary["Labels"].get("com.docker.compose.service"), code))
        with printer.lock:  # compose's line, without a prefix, the name without the project's
            printer.stream.write(f"{name} exited with code {code}\n")
            printer.stream.flush()
    threads = [threading.Thread(target=watch, args=(name, s), daemon=True) for name, s in targets]
    for thread in threads:
        thread.start()
    # Ctrl-C is counted, not raised: a KeyboardInterrupt could land anywhere
    # in this loop and end it with the containers' output unread.
    interrupts = [0]
    previous = signal.signal(signal.SIGINT, lambda *_: interrupts.__setitem__(0, interrupts[0] + 1))
    handled, stopping = 0, None
    try:
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(0.05)
            if interrupts[0] > handled:
                handled = interrupts[0]
                if handled == 1:
                    sys.stderr.write("Gracefully stopping... (press Ctrl+C again to force)\n")
                    stopping = _stop_all(client, everything, timeout, kill=False)
                else:
                    _stop_all(client, everything, timeout, kill=True).join()
                    stop.set()
                    return 130
            elif abort_on_exit and ended and stopping is None:
                sys.stderr.write("Aborting on container exit...\n")
                stopping = _stop_all(client, everything, timeout, kill=False)
        if stopping is not None:
            stopping.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    interrupts = interrupts[0]
    if exit_code_from is not None:
        return next((code for service, code in ended if service == exit_code_from), 0)
    if abort_on_exit and ended:
        return ended[0][1]
    return 130 if interrupts else 0


def _stop_all(client, ids: list[str], timeout, kill: bool) -> threading.Thread:
    """Stop (or kill) them all, in the background: the caller keeps
    listening (a second Ctrl-C must still reach it)."""
    def one(cid: str) -> None:
        try:
            client.api.kill(cid) if kill else client.api.stop(cid, timeout=timeout)
        except Exception:  # noqa: BLE001 - stopped already
            pass

    def every() -> None:
        workers = [threading.Thread(target=one, args=(cid,)) for cid in ids]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    runner = threading.Thread(target=every, daemon=True)
    runner.start()
    return runner

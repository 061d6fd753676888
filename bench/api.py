"""Benchmark: the engine daemon's API and the docker CLI through it, next to dockerd and podman.

Starts ``python -m engine.daemon`` on a temporary state root, run dir and
cgroup parent (``dockyard-bench-<hex>``) with the test busybox image
(tests/fixtures/images.py) imported, and prints medians (with p10-p90) of:

- ``GET /_ping``, raw HTTP/1.1 over the UNIX socket, on one keep-alive
  connection and on a new connection per request;
- ``GET /containers/json?all=1`` with 100 containers created (not started),
  and the ``POST /containers/create`` / ``DELETE /containers/ID`` around it;
- ``docker run --rm --pull never busybox true`` through the real docker CLI;
- the daemon's RSS idle (after start and one warm-up run), and the engine's
  memory as PSS (the daemon, the supervisor and its spare: every process of
  the engine that is not a container's own process), idle and with
  ``--containers`` ``sleep 300`` containers running (``docker run -d``), and
  the growth per running container.

References in the same run, interleaved with ours: ``docker run --rm`` of
the same image against Debian's dockerd (docker.io) and ``podman run --rm``
(podman 4), each with its default network and with ``--network none`` (our
engine has no networks yet: its containers get an empty network namespace);
``/_ping`` and the list against dockerd too. Both are installed with apt-get
when missing. dockerd runs on its own data-root, exec-root, socket and
cgroup parent; podman on its own containers.conf (runc, ulimits this machine
allows), storage and network config dirs. Each runs in a network namespace
of its own (``unshare --net=FILE``, entered with ``nsenter``), so their
bridges and iptables rules never touch the host's and no traffic can leave
the machine. The same docker CLI (the first ``docker`` on PATH) talks to
dockerd and to ours.

Goals: ``docker run --rm busybox true`` against us at most a quarter of the
time against dockerd; the daemon idle at most 60 MB RSS; the engine's PSS
growing at most 0.4 MB per running container.

Root only; prints numbers next to the goals and always exits 0. Everything
it makes (daemons, containers, cgroups, mounts, namespaces, the temp dir,
paths dockerd and podman create under /run, /etc and /var/lib) is removed at
the end, also after an error or Ctrl-C.

    .venv/bin/python bench/api.py [--runs 20] [--containers 50]
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

GOAL_RUN_RATIO = 0.25  # of the time of `docker run --rm` against dockerd
GOAL_IDLE_RSS_MB = 60
GOAL_GROWTH_MB = 0.4  # PSS per running container
LISTED = 100
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Shared places dockerd, containerd, podman and netavark write to whatever
# their configuration says; removed at the end when this run made them.
HOST_PATHS = ("/etc/docker/key.json", "/etc/docker", "/run/docker/plugins", "/run/docker",
              "/run/containerd/s", "/run/containerd", "/run/containers/networks/ipam.db",
              "/run/containers/networks", "/run/containers", "/run/netns", "/run/runc",
              "/var/lib/containers/cache/blob-info-cache-v1.boltdb", "/var/lib/containers/cache",
              "/var/lib/containers", "/var/lib/cni", "/etc/containers/networks")


# --- HTTP over a UNIX socket ---------------------------------------------------

class Http:
    """HTTP/1.1 on a UNIX socket, keep-alive; answers with Content-Length or chunked."""

    def __init__(self, path: Path) -> None:
        self.path, self.sock, self.buffer = str(path), None, b""

    def request(self, method: str, target: str, body: dict | None = None) -> tuple[int, bytes]:
        if self.sock is None:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(60)
            self.sock.connect(self.path)
            self.buffer = b""
        data = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {target} HTTP/1.1\r\nHost: docker\r\nContent-Length: {len(data)}\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        self.sock.sendall(head.encode() + b"\r\n" + data)
        lines = self._until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            payload = b""
            while size := int(self._until(b"\r\n").split(b";")[0], 16):
                payload += self._exactly(size + 2)[:-2]
            self._until(b"\r\n")  # no trailers
        else:
            payload = self._exactly(int(headers.get("content-length", 0)))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, payload

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"{self.path} closed the connection")
        self.buffer += chunk

    def _until(self, mark: bytes) -> bytes:
        while mark not in self.buffer:
            self._fill()
        found, _, self.buffer = self.buffer.partition(mark)
        return found

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        found, self.buffer = self.buffer[:size], self.buffer[size:]
        return found

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def timed(client: Http, method: str, target: str, body: dict | None = None,
          expect: tuple[int, ...] = (200,)) -> tuple[float, bytes]:
    """(ms, body) of one request; an unexpected status is an error."""
    t0 = time.perf_counter()
    status, payload = client.request(method, target, body)
    elapsed = (time.perf_counter() - t0) * 1000
    if status not in expect:
        raise RuntimeError(f"{method} {target} answered {status}: {payload[:200]!r}")
    return elapsed, payload


@dataclass
class Api:
    """The API measures of one daemon (ms)."""
    ping: list[float] = field(default_factory=list)
    ping_fresh: list[float] = field(default_factory=list)
    create: list[float] = field(default_factory=list)
    listed: list[float] = field(default_factory=list)
    remove: list[float] = field(default_factory=list)
    note: str = ""


def measure_api(sockets: dict[str, Path], runs: int, while_created=None) -> dict[str, Api]:
    """/_ping, then LISTED containers created, listed and removed in each
    daemon; the daemons take turns, so load on the machine hits all alike."""
    results = {name: Api() for name in sockets}
    clients = {name: Http(path) for name, path in sockets.items()}
    ids: dict[str, list[str]] = {name: [] for name in sockets}
    try:
        for _ in range(runs):
            for name, client in clients.items():
                results[name].ping += [timed(client, "GET", "/_ping")[0] for _ in range(50)]
                for _ in range(10):
                    fresh = Http(sockets[name])
                    results[name].ping_fresh.append(timed(fresh, "GET", "/_ping")[0])
                    fresh.close()
        for _ in range(LISTED):
            for name, client in clients.items():
                ms, body = timed(client, "POST", "/containers/create", {"Image": "busybox", "Cmd": ["true"]},
                                 expect=(201,))
                results[name].create.append(ms)
                ids[name].append(json.loads(body)["Id"])
        if while_created:
            while_created()
        for name, client in clients.items():
            seen = len(json.loads(timed(client, "GET", "/containers/json?all=1")[1]))
            results[name].note = "" if seen == LISTED else f"listed {seen}, expected {LISTED}"
        for _ in range(5 * runs):
            for name, client in clients.items():
                results[name].listed.append(timed(client, "GET", "/containers/json?all=1")[0])
    finally:
        for name, client in clients.items():
            for cid in ids[name]:
                results[name].remove.append(timed(client, "DELETE", f"/containers/{cid}?force=1",
                                                  expect=(200, 204))[0])
            client.close()
    return results


# --- processes, memory, host state ------------------------------------------------

def processes() -> dict[int, int]:
    """pid -> ppid of every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                table[int(entry.name)] = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return table


def descendants(pid: int, table: dict[int, int]) -> set[int]:
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in table.items() if parent in frontier} - found
        found |= frontier
    return found


def naming(text: str) -> list[int]:
    """Processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def memory_kb(pid: int, file: str, key: str) -> int:
    """A ``key: N kB`` line of /proc/PID/FILE (0 if the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def in_cgroup(pid: int, parent: str) -> bool:
    try:
        return f"/{parent}/" in Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclass
class EngineMemory:
    roles: dict[str, list[int]]  # role -> PSS in kB, one per process
    containers: list[int]  # PSS in kB of the processes in the containers' cgroups (not counted)
    uss_kb: int  # the engine's private memory (unlike PSS, not moved by other processes' sharing)

    @property
    def pss_kb(self) -> int:
        return sum(sum(values) for values in self.roles.values())

    def describe(self) -> str:
        parts = [f"{role} {sum(kb) / 1024:.1f}" + (f" ({len(kb)} processes)" if len(kb) > 1 else "")
                 for role, kb in self.roles.items()]
        return (", ".join(parts) + f"; not counted: {len(self.containers)} processes in the containers'"
                f" cgroups, PSS {sum(self.containers) / 1024:.1f}")


def engine_memory(daemon: int, base: Path, parent: str) -> EngineMemory:
    """PSS of the daemon and every process of the engine beside it (its
    descendants and whatever names our temp dir) that is not in a
    container's cgroup: the containers' own processes are not the engine's.
    A child of the supervisor outside them is its spare, or a container's
    PID 1 prepared at create whose cgroups are not made yet."""
    table = processes()
    engine = ({daemon} | descendants(daemon, table) | set(naming(f"{base}/"))) & set(table)
    inside = {pid for pid in engine if in_cgroup(pid, parent)}
    inside |= {child for pid in inside for child in descendants(pid, table)}
    roles: dict[str, list[int]] = {"daemon": [], "supervisor": [], "spare or prepared": []}
    uss = sum(memory_kb(pid, "smaps_rollup", "Private_Clean") + memory_kb(pid, "smaps_rollup", "Private_Dirty")
              for pid in engine - inside)
    for pid in sorted(engine - inside):
        if pid == daemon:
            role = "daemon"
        elif "engine.containers.supervisor" in cmdline(pid):
            parent_is_supervisor = "engine.containers.supervisor" in cmdline(table[pid])
            role = "spare or prepared" if parent_is_supervisor else "supervisor"
        else:
            role = cmdline(pid).split(" ")[0] or str(pid)
        roles.setdefault(role, []).append(memory_kb(pid, "smaps_rollup", "Pss"))
    return EngineMemory({role: kb for role, kb in roles.items() if kb},
                        [memory_kb(pid, "smaps_rollup", "Pss") for pid in inside], uss)


def cgroup_mounts() -> list[Path]:
    mounts = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if fields[2] in ("cgroup", "cgroup2"):
            mounts.append(Path(fields[1]))
    return mounts


def cgroups_named(name: str) -> list[Path]:
    return [mount / name for mount in cgroup_mounts() if (mount / name).is_dir()]


def remove_cgroups(name: str) -> list[str]:
    """rmdir NAME and everything below it in every hierarchy; what is left."""
    for group in cgroups_named(name):
        for below in sorted((p for p in group.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            try:
                below.rmdir()
            except OSError:
                pass
        try:
            group.rmdir()
        except OSError:
            pass
    return [str(group) for group in cgroups_named(name)]


def mounts_under(path: Path) -> list[str]:
    found = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        target = line.split()[1]
        if target == str(path) or target.startswith(f"{path}/"):
            found.append(target)
    return found


def end(pid: int, grace: float) -> bool:
    """SIGTERM, then SIGKILL after ``grace`` s, a process this benchmark started; True if it had to be killed."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
                return False  # our child, the caller reaps it
        except FileNotFoundError:
            return False
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def make_netns(path: Path) -> None:
    """A network namespace held by a bind mount on ``path`` (no /run/netns)."""
    path.touch()
    subprocess.run(["unshare", f"--net={path}", "true"], check=True, capture_output=True)
    subprocess.run(["nsenter", f"--net={path}", "ip", "link", "set", "lo", "up"], check=True,
                   capture_output=True)


def restore_host_paths(before: dict[str, bool]) -> list[str]:
    """Remove the HOST_PATHS this run created (directories only when empty)."""
    removed = []
    for path in HOST_PATHS:  # deepest first
        target = Path(path)
        if before[path] or not os.path.lexists(target):
            continue
        if target.is_dir() and path in mounts_under(target):
            subprocess.run(["umount", path], capture_output=True, check=False)  # /run/netns binds itself
        try:
            target.rmdir() if target.is_dir() and not target.is_symlink() else target.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed


# --- tools ------------------------------------------------------------------------

def _apt_install(*packages: str) -> bool:
    """apt-get install, with services kept from starting (a policy-rc.d of
    our own for the time of the install: docker.io would start dockerd)."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "-q", *packages]
    policy = Path("/usr/sbin/policy-rc.d")
    ours = not policy.exists()
    if ours:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        if subprocess.run(command, check=False, capture_output=True, env=env).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True, env=env)
            return subprocess.run(command, check=False, capture_output=True, env=env).returncode == 0
        return True
    finally:
        if ours:
            policy.unlink(missing_ok=True)


def ensure_tool(binary: str, package: str) -> str | None:
    """The path of ``binary``, installing Debian's ``package`` when it is missing."""
    found = shutil.which(binary, path=SYSTEM_PATH)
    if not found:
        print(f"installing {package} (apt-get install -y {package}) ...", file=sys.stderr)
        _apt_install(package)
        found = shutil.which(binary, path=SYSTEM_PATH)
    return found


def first_line(*command: str) -> str:
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    return (done.stdout.splitlines() or ["?"])[0].strip()


def wait_for_socket(path: Path, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            Http(path).request("GET", "/_ping")
            return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"did not start (exit {process.poll()}): {' | '.join(tail)}")
        time.sleep(0.05)


class Dockyard:
    """Our daemon on BASE/root and BASE/run, containers below cgroup ``parent``."""

    def __init__(self, base: Path, parent: str, docker: str) -> None:
        self.base, self.parent = base, parent
        self.root, self.run, self.socket = base / "root", base / "run", base / "run" / "engine.sock"
        (base / "docker-config").mkdir(parents=True)
        self.env = {"PATH": os.environ["PATH"], "DOCKER_HOST": f"unix://{self.socket}",
                    "DOCKER_CONFIG": str(base / "docker-config"), "HOME": str(base)}
        self.docker, self.process = docker, None

    def start(self, tar: Path) -> None:
        from engine.images.service import ImageService
        ImageService(self.root).import_image(tar, "busybox:latest", changes=['CMD ["sh"]'])
        log = self.base / "daemon.log"
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "engine.daemon", "--root", str(self.root), "--run", str(self.run),
                 "--cgroup-parent", self.parent], cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        wait_for_socket(self.socket, self.process, log)

    def run_argv(self, *args: str) -> list[str]:
        return [self.docker, "run", "--rm", "--pull", "never", *args, "busybox", "true"]

    def stop(self) -> list[str]:
        notes = []
        if self.process is None:
            return notes
        if self.process.poll() is None:
            try:
                client = Http(self.socket)
                for item in json.loads(client.request("GET", "/containers/json?all=1")[1]):
                    client.request("DELETE", f"/containers/{item['Id']}?force=1")
                client.close()
            except (OSError, RuntimeError, ValueError) as exc:
                notes.append(f"removing containers through the API: {exc}")
            if end(self.process.pid, 15):
                notes.append("the daemon needed SIGKILL")
            self.process.wait()
        notes += self._leftovers()
        for log in (self.base / "daemon.log", self.run / "supervisor.log"):
            if log.exists() and "Traceback" in log.read_text(errors="replace"):
                notes.append(f"{log.name} has a traceback: "
                             + log.read_text(errors="replace").strip().splitlines()[-1][:200])
        return notes

    def _leftovers(self) -> list[str]:
        """What the daemon could not remove: in-process, then by pid."""
        notes = []
        try:
            from engine.containers import supervisor
            from engine.containers.service import ContainerService
            from engine.images.service import ImageService
            from engine.runtime import cgroups
            service = ContainerService(self.root, self.run, ImageService(self.root),
                                       cgroups.detect(parent=self.parent))
            for item in service.list(all=True):
                service.remove(item["Id"], force=True)
                notes.append(f"container {item['Id'][:12]} was left; removed in-process")
            if (self.run / supervisor.SOCKET).exists():
                supervisor.request(self.run, {"op": "shutdown"}, timeout=5)
        except Exception as exc:  # noqa: BLE001 - clean up as much as we can
            notes.append(f"in-process cleanup: {type(exc).__name__}: {exc}")
        deadline = time.monotonic() + 5
        while naming(f"{self.base}/") and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in naming(f"{self.base}/"):
            notes.append(f"process {pid} ({cmdline(pid)[:60]}) was left; ended")
            end(pid, 2)
        for procs in (p for group in cgroups_named(self.parent) for p in group.rglob("cgroup.procs")):
            for pid in procs.read_text().split():
                notes.append(f"container process {pid} was left; killed")
                os.kill(int(pid), signal.SIGKILL)
        return notes


class Dockerd:
    """Debian's dockerd on BASE, in a network namespace of its own."""

    label = "dockerd"

    def __init__(self, base: Path, cgroup: str, docker: str) -> None:
        self.base, self.cgroup, self.docker = base, cgroup, docker
        self.socket, self.netns = base / "docker.sock", base / "netns"
        self.env = {"PATH": os.environ["PATH"], "DOCKER_HOST": f"unix://{self.socket}",
                    "DOCKER_CONFIG": str(base / "docker-config"), "HOME": str(base)}
        self.process, self.reason, self.version = None, "", ""

    def start(self, tar: Path) -> None:
        dockerd = ensure_tool("dockerd", "docker.io")
        if not dockerd:
            raise RuntimeError("not installed (apt-get install docker.io failed)")
        self.version = first_line(dockerd, "--version")
        (self.base / "docker-config").mkdir(parents=True)
        (self.base / "daemon.json").write_text("{}\n")  # not /etc/docker/daemon.json
        make_netns(self.netns)
        log = self.base / "dockerd.log"
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                ["nsenter", f"--net={self.netns}", dockerd, "--data-root", str(self.base / "data"),
                 "--exec-root", str(self.base / "exec"), "--pidfile", str(self.base / "dockerd.pid"),
                 "-H", f"unix://{self.socket}", "--config-file", str(self.base / "daemon.json"),
                 "--cgroup-parent", f"/{self.cgroup}", "--log-level", "warn"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_socket(self.socket, self.process, log)
        self.load(tar)

    def load(self, tar: Path) -> None:
        done = subprocess.run([self.docker, "import", "-c", 'CMD ["sh"]', str(tar), "busybox:latest"],
                              env=self.env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"docker import failed: {done.stderr.strip()[-200:]}")

    def run_argv(self, *args: str) -> list[str]:
        return [self.docker, "run", "--rm", "--pull", "never", *args, "busybox", "true"]

    def memory(self) -> tuple[int, int]:
        """(RSS, PSS) in kB of dockerd and containerd."""
        pids = {self.process.pid} | descendants(self.process.pid, processes())
        return (sum(memory_kb(p, "status", "VmRSS") for p in pids),
                sum(memory_kb(p, "smaps_rollup", "Pss") for p in pids))

    def stop(self) -> list[str]:
        notes = []
        if self.process is not None and self.process.poll() is None:
            ids = subprocess.run([self.docker, "ps", "-aq"], env=self.env, capture_output=True,
                                 text=True, check=False).stdout.split()
            if ids:
                subprocess.run([self.docker, "rm", "-f", *ids], env=self.env, capture_output=True, check=False)
            if end(self.process.pid, 30):
                notes.append("dockerd needed SIGKILL")
            self.process.wait()
        for pid in naming(f"{self.base}/"):  # containerd, shims
            notes.append(f"process {pid} ({cmdline(pid)[:60]}) was left; ended")
            end(pid, 5)
        return notes


class Podman:
    """podman with a containers.conf, storage and network config of its own,
    run in a network namespace of its own."""

    label = "podman"

    def __init__(self, base: Path, cgroup: str) -> None:
        self.base, self.cgroup, self.netns = base, cgroup, base / "netns"
        self.env = {"PATH": os.environ["PATH"], "HOME": str(base),
                    "CONTAINERS_CONF": str(base / "containers.conf"),
                    "CONTAINERS_STORAGE_CONF": str(base / "storage.conf"),
                    "CONTAINERS_REGISTRIES_CONF": str(base / "registries.conf")}
        self.podman, self.reason, self.version = "", "", ""

    def start(self, tar: Path) -> None:
        self.podman = ensure_tool("podman", "podman") or ""
        if not self.podman:
            raise RuntimeError("not installed (apt-get install podman failed)")
        if not ensure_tool("runc", "runc"):
            raise RuntimeError("runc is not installed (crun 1.8 refuses hybrid cgroups)")
        self.version = first_line(self.podman, "--version")
        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / "containers.conf").write_text(
            '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
            f'[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
            f'events_logfile_path = "{self.base}/events.log"\ntmp_dir = "{self.base}/tmp"\n'
            f'volume_path = "{self.base}/volumes"\n'
            f'[network]\nnetwork_config_dir = "{self.base}/networks"\n')
        (self.base / "storage.conf").write_text(
            f'[storage]\ndriver = "overlay"\ngraphroot = "{self.base}/storage"\n'
            f'runroot = "{self.base}/runroot"\n')
        (self.base / "registries.conf").write_text("unqualified-search-registries = []\n")
        make_netns(self.netns)
        done = subprocess.run(self.command("import", "-c", 'CMD ["sh"]', str(tar), "busybox:latest"),
                              env=self.env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"podman import failed: {done.stderr.strip()[-200:]}")

    def command(self, *args: str) -> list[str]:
        return ["nsenter", f"--net={self.netns}", self.podman, *args]

    def run_argv(self, *args: str) -> list[str]:
        return self.command("run", "--rm", "--pull", "never", f"--cgroup-parent=/{self.cgroup}",
                            *args, "busybox", "true")

    def stop(self) -> list[str]:
        notes = []
        if self.podman and self.netns.exists():
            done = subprocess.run(self.command("rm", "-fa"), env=self.env, capture_output=True, text=True, check=False)
            if done.stdout.strip():
                notes.append(f"podman containers were left: {done.stdout.split()}")
        for pid in naming(f"{self.base}/"):  # conmon
            notes.append(f"process {pid} ({cmdline(pid)[:60]}) was left; ended")
            end(pid, 5)
        return notes


# --- report --------------------------------------------------------------------------

def summary(values: list[float], digits: int = 1) -> str:
    if len(values) < 5:
        return f"{statistics.median(values):8.{digits}f}"
    deciles = statistics.quantiles(values, n=10)
    return f"{statistics.median(values):8.{digits}f}   ({deciles[0]:.{digits}f}-{deciles[-1]:.{digits}f})"


def row(label: str, values: list[float] | None, note: str = "", digits: int = 1) -> None:
    text = summary(values, digits) if values else f"{'-':>8}"
    print(f"  {label:<52}{text:<26}{note}")


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


@dataclass
class Runner:
    """One way to `run --rm busybox true`, timed as a process."""
    label: str
    argv: list[str]
    env: dict
    times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def once(self) -> None:
        if self.failures and not self.times and len(self.failures) >= 2:
            return  # it never worked: do not keep paying for it
        t0 = time.perf_counter()
        done = subprocess.run(self.argv, env=self.env, stdin=subprocess.DEVNULL, capture_output=True, check=False)
        elapsed = (time.perf_counter() - t0) * 1000
        if done.returncode == 0:
            self.times.append(elapsed)
        else:
            self.failures.append(f"exit {done.returncode}: "
                                 + done.stderr.decode(errors="replace").strip()[-200:])


# --- the benchmark -----------------------------------------------------------------

def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs of each `run --rm` (default 20)")
    parser.add_argument("--containers", type=int, default=50,
                        help="running containers for the memory measure (default 50)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("bench/api.py needs root (the engine daemon, dockerd, podman); nothing measured")
        return 0
    docker = shutil.which("docker")
    if not docker:
        print("bench/api.py needs the docker CLI on PATH; nothing measured")
        return 0
    signal.signal(signal.SIGTERM, _interrupt)
    sys.stdout.reconfigure(line_buffering=True)  # each section as soon as it is measured, also into a pipe
    began = time.monotonic()
    tag = secrets.token_hex(4)
    parent = f"dockyard-bench-{tag}"
    tmp = Path(tempfile.mkdtemp(prefix="dyb-api-"))
    host_before = {path: os.path.lexists(path) for path in HOST_PATHS}
    ours = Dockyard(tmp / "dockyard", parent, docker)
    peers = [Dockerd(tmp / "d", f"{parent}-dockerd", docker), Podman(tmp / "p", f"{parent}-podman")]
    try:
        measure(args, ours, peers, docker)
    except KeyboardInterrupt:
        print("interrupted; cleaning up")
    except Exception:  # noqa: BLE001 - a benchmark reports, it does not fail
        traceback.print_exc()
        print("benchmark aborted (see the traceback above)")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the cleanup finish
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print(f"cleanup: {cleanup(ours, peers, tmp, parent, host_before)}; "
              f"total {time.monotonic() - began:.0f} s; load average {os.getloadavg()[0]:.1f}")
    return 0


def measure(args, ours: Dockyard, peers: list, docker: str) -> None:
    """Each section is printed as soon as it is measured."""
    from tests.fixtures.images import CACHE_DIR, busybox_rootfs_tar
    tar = busybox_rootfs_tar(CACHE_DIR)
    ours.start(tar)
    rss_start = memory_kb(ours.process.pid, "status", "VmRSS")
    for peer in peers:
        try:
            peer.start(tar)
        except Exception as exc:  # noqa: BLE001 - a peer that cannot run gets a reason
            peer.reason = str(exc) or type(exc).__name__
    dockerd = peers[0] if not peers[0].reason else None
    runners = [Runner("dockyard: docker run --rm busybox true", ours.run_argv(), ours.env)]
    for peer in (p for p in peers if not p.reason):
        client = "docker" if peer is dockerd else "podman"
        runners += [Runner(f"{peer.label}: {client} run --rm busybox true", peer.run_argv(), peer.env),
                    Runner(f"{peer.label}: {client} run --rm --network none",
                           peer.run_argv("--network", "none"), peer.env)]
    for runner in runners:  # warm-up (the first run of ours also starts the supervisor)
        runner.once()
        runner.times.clear()
    time.sleep(1)
    print(f"dockyard engine daemon, busybox image; medians in ms (p10-p90 in brackets); "
          f"docker CLI: {first_line(docker, '--version')}; load average {os.getloadavg()[0]:.1f}"
          f" on {os.cpu_count()} CPUs")
    for peer in peers:
        print(f"  {peer.label}: " + (f"not measured: {peer.reason}" if peer.reason else peer.version))
    print("memory (MB = 2^20 bytes; PSS = sum of Pss in /proc/PID/smaps_rollup)")
    report_idle(ours, dockerd, rss_start)
    print(f"API, raw HTTP/1.1 over the UNIX socket{'' if dockerd else ' (no dockerd reference)'}")
    print(f"  {'':<52}{'median':>8}")
    sockets = {"dockyard": ours.socket, **({"dockerd": dockerd.socket} if dockerd else {})}
    created: list[EngineMemory] = []
    results = measure_api(sockets, args.runs,
                          lambda: created.append(engine_memory(ours.process.pid, ours.base, ours.parent)))
    report_api(results, args.runs, created)
    print(f"`run --rm busybox true` as a process, {args.runs} rounds, interleaved")
    for _ in range(args.runs):
        for runner in runners:
            runner.once()
    report_runs(runners)
    for peer in (p for p in peers if p.reason):
        row(f"{peer.label}: run --rm busybox true", None, f"not measured: {peer.reason}")
    for peer in peers:  # the memory measure runs alone
        peer.stop()
    print(f"memory with {args.containers} running containers (`docker run -d busybox sleep 300`)")
    report_running(running_memory(ours, docker, args.containers), args.containers)


def report_idle(ours: Dockyard, dockerd, rss_start: int) -> None:
    rss_idle = memory_kb(ours.process.pid, "status", "VmRSS") / 1024
    idle = engine_memory(ours.process.pid, ours.base, ours.parent)
    print(f"  daemon RSS right after start {rss_start / 1024:.1f} MB; idle after one run {rss_idle:.1f} MB"
          f"   goal <= {GOAL_IDLE_RSS_MB} MB: {verdict(rss_idle <= GOAL_IDLE_RSS_MB)}")
    print(f"  engine PSS idle after one run {idle.pss_kb / 1024:.1f} MB ({idle.describe()})")
    if dockerd:
        rss, pss = dockerd.memory()
        print(f"  reference, dockerd + containerd idle after one run: RSS {rss / 1024:.1f} MB,"
              f" PSS {pss / 1024:.1f} MB")


def report_api(results: dict[str, Api], runs: int, created: list[EngineMemory]) -> None:
    for name, result in results.items():
        row(f"{name}: GET /_ping, keep-alive ({50 * runs})", result.ping, digits=2)
        row(f"{name}: GET /_ping, new connection each ({10 * runs})", result.ping_fresh, digits=2)
        row(f"{name}: POST /containers/create ({LISTED})", result.create)
        row(f"{name}: GET /containers/json?all=1, {LISTED} exist ({5 * runs})", result.listed, result.note)
        row(f"{name}: DELETE /containers/ID?force=1 ({LISTED})", result.remove)
    for memory in created:
        print(f"  dockyard with {LISTED} created containers: engine PSS {memory.pss_kb / 1024:.1f} MB "
              f"({memory.describe()})")


def report_runs(runners: list[Runner]) -> None:
    ours = runners[0]
    reference = next((r for r in runners if r.label.startswith("dockerd:") and "none" not in r.label), None)
    for runner in runners:
        note = ""
        if runner is ours and reference and reference.times and runner.times:
            limit = GOAL_RUN_RATIO * statistics.median(reference.times)
            ratio = statistics.median(runner.times) / statistics.median(reference.times)
            note = (f"goal <= {GOAL_RUN_RATIO:g}x dockerd = {limit:.0f}: "
                    f"{verdict(ratio <= GOAL_RUN_RATIO)} ({ratio:.2f}x)")
        elif runner is ours:
            note = f"goal <= {GOAL_RUN_RATIO:g}x dockerd: no dockerd number"
        if runner.failures:
            note += f"  {len(runner.failures)} failed: {runner.failures[-1]}"
        row(runner.label, runner.times, note)


@dataclass
class Running:
    before: EngineMemory
    after: EngineMemory
    run_d: list[float]
    remove_s: float
    note: str


def running_memory(ours: Dockyard, docker: str, count: int) -> Running:
    """Engine PSS before and with ``count`` running ``sleep 300`` containers."""
    def run_d() -> str:
        done = subprocess.run([docker, "run", "-d", "--pull", "never", "busybox", "sleep", "300"],
                              env=ours.env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"docker run -d failed: {done.stderr.strip()[-200:]}")
        return done.stdout.strip()

    def settled() -> EngineMemory:
        time.sleep(1.5)  # the supervisor forks its next spare when idle
        return engine_memory(ours.process.pid, ours.base, ours.parent)

    subprocess.run([docker, "rm", "-f", run_d()], env=ours.env, capture_output=True, check=False)  # warm-up
    before = settled()
    ids, times = [], []
    try:
        for _ in range(count):
            t0 = time.perf_counter()
            ids.append(run_d())
            times.append((time.perf_counter() - t0) * 1000)
        after = settled()
        running = len(json.loads(Http(ours.socket).request("GET", "/containers/json")[1]))
        note = "" if running == count else f"{running} running, expected {count}"
    finally:
        t0 = time.perf_counter()
        if ids:
            subprocess.run([docker, "rm", "-f", *ids], env=ours.env, capture_output=True, check=False)
        removed = time.perf_counter() - t0
    return Running(before, after, times, removed, note)


def report_running(memory: Running, count: int) -> None:
    growth = (memory.after.pss_kb - memory.before.pss_kb) / 1024 / count
    print(f"  engine PSS before {memory.before.pss_kb / 1024:.1f} MB ({memory.before.describe()})")
    print(f"  engine PSS with {count} running {memory.after.pss_kb / 1024:.1f} MB ({memory.after.describe()})")
    print(f"  growth per running container {growth:.3f} MB   goal <= {GOAL_GROWTH_MB} MB: "
          f"{verdict(growth <= GOAL_GROWTH_MB)}" + (f"  ({memory.note})" if memory.note else ""))
    print(f"  (private memory, USS: {memory.before.uss_kb / 1024:.1f} MB before, {memory.after.uss_kb / 1024:.1f}"
          f" MB with {count}, {(memory.after.uss_kb - memory.before.uss_kb) / 1024 / count:.3f} MB per container;"
          " PSS also moves as other processes map the same libraries)")
    row(f"docker run -d busybox sleep 300 ({count})", memory.run_d)
    print(f"  docker rm -f of the {count} running, one command: {memory.remove_s:.1f} s")


def cleanup(ours: Dockyard, peers: list, tmp: Path, parent: str, host_before: dict[str, bool]) -> str:
    notes = []
    for part in (ours, *peers):
        try:
            notes += part.stop()
        except Exception as exc:  # noqa: BLE001 - clean up as much as we can
            notes.append(f"stopping {type(part).__name__}: {type(exc).__name__}: {exc}")
    for target in sorted(mounts_under(tmp), key=lambda t: -len(t)):  # netns files, overlays
        if subprocess.run(["umount", target], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", target], capture_output=True, check=False)
        if not target.endswith("/netns"):
            notes.append(f"unmounted {target}")
    names = (parent, f"{parent}-dockerd", f"{parent}-podman")
    for name in names:
        notes += [f"cgroup left: {group}" for group in remove_cgroups(name)]
    time.sleep(1)  # seen once after an interrupted run: the engine's parent group came back
    for name in (name for name in names if cgroups_named(name)):
        notes.append(f"cgroup {name} reappeared after its removal; left now: {remove_cgroups(name) or 'none'}")
    removed = restore_host_paths(host_before)
    if mounts_under(tmp):
        notes.append(f"mounts left: {mounts_under(tmp)}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    if tmp.exists():
        notes.append(f"{tmp} left")
    text = "; ".join(notes) or "daemons stopped, containers, cgroups, namespaces and temp dir removed"
    return text + (f"; removed what dockerd/podman made: {', '.join(removed)}" if removed else "")


if __name__ == "__main__":
    sys.exit(main())

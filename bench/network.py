"""Benchmark: container networking (bridges, veths, embedded DNS, published ports).

Everything runs in a network namespace of the benchmark's own
(``dyb-<hex>``, made with ``ip netns add``), which stands for the host: the
machine's own namespace, its netfilter rules and sysctls are never touched.
It prints medians (with p10-p90) of:

1. attach: ``NetworkService.attach`` of one container (veth into a fresh
   network namespace, address, route), timed in-process: this script
   re-executes itself under ``nsenter --net`` with ``--inner-attach``, builds
   a ``NetworkService`` on a root of its own, creates a network and attaches
   ``--containers`` fresh namespaces (each made by a short-lived thread with
   ``unshare(CLONE_NEWNET)``, held by an fd). Reference: ``ip -batch`` doing
   the same (veth, master, up; address, up, default route in the namespace);
2. detach: ``release`` per container, and the network part of a ``down`` of
   ``--containers``: release all, close the namespace fds, until the bridge
   has no veth left; and through the daemon and the docker CLI: ``docker rm
   -f`` of that many running containers on a network, ``docker network rm``;
3. DNS: from a container's network namespace, dnsperf against the embedded
   server (the network's gateway, port 53) and against dnsmasq serving the
   same names from a hosts file on the gateway, port 5353 (rounds
   alternate); queries per second with ``--outstanding`` queries in flight,
   and the median latency of one query at a time (dnsperf ``-v``);
4. TCP throughput, a receiver in one container's network namespace (a
   Python sink counting bytes from the first to EOF) and a sender of
   ``--megabytes`` MB: from another container, from the host to the
   container's address (the direct path), and to the published port
   (``-p 5002:5001``) on 127.0.0.1 and on the gateway address. Plus busybox
   ``dd | nc`` container to container, as the image's own tools see it.

Goals: attach <= 10 ms per container; the network part of a down of 50 well
under a second; our DNS >= half of dnsmasq's rate; published port >= 90 % of
the direct path. dnsmasq and dnsperf are installed with apt-get when missing
(without dnsperf a Python generator is used).

Root only. Everything it made (containers, networks, the daemon and its
supervisor, namespaces, cgroups, mounts, the temp dir) is removed at the end,
also after an error or Ctrl-C; a step that fails ends the run with exit 1.

    .venv/bin/python bench/network.py [--rounds 5] [--containers 50] [--seconds 3] [--megabytes 512]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from api import cgroups_named, ensure_tool, mounts_under, naming, remove_cgroups  # bench/api.py, beside it

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PYTHON = sys.executable
GOAL_ATTACH_MS = 10
GOAL_DOWN_S = 1.0
GOAL_DNS_RATIO = 0.5
GOAL_PUBLISHED_RATIO = 0.9
SINK_PORT, PUBLISHED_PORT, NC_PORT, DNSMASQ_PORT = 5001, 5002, 5003, 5353
NETWORK = "benchnet"
DNS_NAMES = 20  # containers answering in DNS


class Failed(Exception):
    """A step failed: clean up and exit 1."""


def run(*argv: str, env: dict | None = None, timeout: float = 120, check: bool = True,
        input: bytes | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, env=env, capture_output=True, timeout=timeout, input=input)
    if check and done.returncode != 0:
        raise Failed(f"`{' '.join(argv)[:200]}` exited {done.returncode}: "
                     f"{done.stderr.decode(errors='replace').strip()[-400:]}")
    return done


def summary(values: list[float], digits: int = 1) -> str:
    if not values:
        return f"{'-':>8}"
    if len(values) < 5:
        return f"{statistics.median(values):8.{digits}f}"
    deciles = statistics.quantiles(values, n=10)
    return f"{statistics.median(values):8.{digits}f}   ({deciles[0]:.{digits}f}-{deciles[-1]:.{digits}f})"


def row(label: str, values: list[float], goal: str = "", digits: int = 1) -> None:
    print(f"  {label:<58}{summary(values, digits):<26}{goal}")


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


# --- inner modes (run under nsenter) -------------------------------------------------

def netns_fd() -> int:
    """A fresh network namespace, held by the returned fd (made by a thread
    of its own, which ends: the caller's namespace does not change)."""
    from engine.runtime.sys import CLONE_NEWNET, Syscalls
    out: list = []

    def make() -> None:
        try:
            Syscalls().unshare(CLONE_NEWNET)
            out.append(os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC))
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            out.append(exc)

    thread = threading.Thread(target=make)
    thread.start()
    thread.join()
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


def veths_on(bridge: str) -> int:
    done = run("ip", "-j", "link", "show", "master", bridge, check=False)
    return len(json.loads(done.stdout or b"[]")) if done.returncode == 0 else -1


def inner_attach(args) -> int:
    """In the bench namespace: attach/release with NetworkService in-process,
    and the ip -batch reference. Prints one JSON line; removes what it made."""
    from engine.networks.service import NetworkService
    service = NetworkService(Path(args.inner_attach))
    result = {"attach": [], "release": [], "down": [], "gone": [], "ip": [], "ip_down": []}
    fds: list[int] = []
    refs: list[str] = []
    record = None
    try:
        record = service.create(f"attach-{secrets.token_hex(3)}")
        nid, bridge = record["id"], record["bridge"]
        gateway = record["ipam"][0]["Gateway"]
        prefix = record["ipam"][0]["Subnet"].split("/")[1]
        base = gateway.rsplit(".", 1)[0]
        for _ in range(args.rounds):
            fds = [netns_fd() for _ in range(args.containers)]
            cids = [secrets.token_hex(32) for _ in fds]
            for n, (cid, fd) in enumerate(zip(cids, fds)):
                t0 = time.perf_counter()
                service.attach(cid, {"benchnet": {"NetworkID": nid}}, fd, hostname=cid[:12], name=f"c{n}",
                               ports=[], dns=[], pid=0)
                result["attach"].append((time.perf_counter() - t0) * 1000)
            if veths_on(bridge) != args.containers:
                raise Failed(f"{veths_on(bridge)} veths on {bridge} after {args.containers} attaches")
            t0 = time.perf_counter()
            for cid in cids:
                t1 = time.perf_counter()
                service.release(cid)
                result["release"].append((time.perf_counter() - t1) * 1000)
            while fds:
                os.close(fds.pop())
            result["down"].append(time.perf_counter() - t0)
            while veths_on(bridge) > 0:
                if time.perf_counter() - t0 > 30:
                    raise Failed(f"veths still on {bridge} 30 s after their namespaces were closed")
                time.sleep(0.002)
            result["gone"].append(time.perf_counter() - t0)
            # reference: the same with ip (named namespaces, made untimed)
            refs = [f"{args.netns}-r{n}" for n in range(args.containers)]
            for ref in refs:
                run("ip", "netns", "add", ref)
            for n, ref in enumerate(refs):
                veth = f"dyr{secrets.token_hex(6)}"
                address = f"{base}.{n + 100}"  # the service's own start at .2 and are gone by now
                t0 = time.perf_counter()
                run("ip", "-batch", "-", input=(f"link add {veth} type veth peer name eth0 netns {ref}\n"
                                                f"link set {veth} master {bridge} up\n").encode())
                run("ip", "-n", ref, "-batch", "-", input=(f"addr add {address}/{prefix} dev eth0\n"
                                                           "link set eth0 up\n"
                                                           f"route add default via {gateway}\n").encode())
                result["ip"].append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            for ref in refs:
                run("ip", "netns", "del", ref)
            refs = []
            while veths_on(bridge) > 0:
                if time.perf_counter() - t0 > 30:
                    raise Failed(f"reference veths still on {bridge} 30 s after ip netns del")
                time.sleep(0.002)
            result["ip_down"].append(time.perf_counter() - t0)
    finally:
        for fd in fds:
            os.close(fd)
        for ref in refs:
            subprocess.run(["ip", "netns", "del", ref], capture_output=True, check=False)
        for cid in list(service._endpoints):
            service.release(cid)
        if record is not None:
            deadline = time.monotonic() + 10
            while veths_on(record["bridge"]) > 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            service.remove(record["id"])
        service.close()
    print(json.dumps(result))
    return 0


def inner_sink(port: int) -> int:
    """A receiver: per connection, count bytes from the first to EOF and
    answer the rate (bytes/s) as text, then close."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", port))
    server.listen(8)
    print("ready", flush=True)
    buffer = bytearray(1 << 20)
    while True:
        conn, _ = server.accept()
        with conn:
            total = conn.recv_into(buffer)
            t0 = time.perf_counter()
            while n := conn.recv_into(buffer):
                total += n
            elapsed = time.perf_counter() - t0
            conn.sendall(f"{total} {elapsed}\n".encode())


def inner_source(host: str, port: int, megabytes: int) -> int:
    data = bytes(1 << 20)
    with socket.create_connection((host, port), timeout=60) as conn:
        for _ in range(megabytes):
            conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(100):
            answer += chunk
    total, elapsed = answer.split()
    if int(total) != megabytes << 20:
        raise SystemExit(f"the sink got {total} bytes of {megabytes << 20}")
    print(int(total) / float(elapsed) / 1e6)
    return 0


def dns_query(qid: int, name: str) -> bytes:
    labels = b"".join(bytes((len(p),)) + p.encode() for p in name.split("."))
    return struct.pack("!6H", qid, 0x0100, 1, 0, 0, 0) + labels + b"\x00\x00\x01\x00\x01"


def inner_dns_load(server: str, port: int, names: list[str], seconds: float, window: int) -> int:
    """Fallback without dnsperf: ``window`` queries outstanding on one UDP
    socket for ``seconds``, then 200 one at a time; JSON qps, median ms."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((server, port))
    sock.settimeout(0.5)
    packets = [dns_query(0, n)[2:] for n in names]
    sent: dict[int, float] = {}
    n = answered = 0
    clock = time.perf_counter

    def send() -> None:
        nonlocal n
        n += 1
        sent[n & 0xFFFF] = clock()
        sock.send(struct.pack("!H", n & 0xFFFF) + packets[n % len(packets)])

    for _ in range(window):
        send()
    end = clock() + seconds
    while clock() < end:
        try:
            data = sock.recv(2048)
        except TimeoutError:
            sent.clear()
            for _ in range(window):
                send()
            continue
        if sent.pop((data[0] << 8) | data[1], None) is not None and data[3] & 0xF == 0:
            answered += 1
            send()
    sock.settimeout(0.1)
    while True:  # drain
        try:
            sock.recv(2048)
        except TimeoutError:
            break
    latencies = []
    for i in range(200):
        t0 = clock()
        sock.send(struct.pack("!H", i) + packets[i % len(packets)])
        try:
            sock.recv(2048)
            latencies.append((clock() - t0) * 1000)
        except TimeoutError:
            pass
    print(json.dumps({"qps": answered / seconds, "ms": statistics.median(latencies) if latencies else None}))
    return 0


# --- tools ---------------------------------------------------------------------------




# --- the benchmark ---------------------------------------------------------------------

class Bench:
    def __init__(self, args) -> None:
        self.args = args
        self.tag = secrets.token_hex(4)
        self.netns = f"dyb-{self.tag}"
        self.parent = self.netns
        self.tmp = Path(tempfile.mkdtemp(prefix=f"dyb-net-{self.tag}-"))
        self.root, self.rundir = self.tmp / "root", self.tmp / "run"
        self.sock = self.rundir / "engine.sock"
        (self.tmp / "docker-config").mkdir()
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DOCKER_HOST": f"unix://{self.sock}",
                    "DOCKER_CONFIG": str(self.tmp / "docker-config"), "HOME": str(self.tmp)}
        self.daemon: subprocess.Popen | None = None
        self.helpers: list[subprocess.Popen] = []  # sinks, dnsmasq
        self.netns_made = False

    # -- helpers --
    def ns(self, *argv: str) -> list[str]:
        return ["nsenter", f"--net=/run/netns/{self.netns}", *argv]

    def docker(self, *argv: str, timeout: float = 120, check: bool = True) -> str:
        return run("docker", *argv, env=self.env, timeout=timeout, check=check).stdout.decode().strip()

    def pid_of(self, name: str) -> int:
        return int(self.docker("inspect", "-f", "{{.State.Pid}}", name))

    def ip_of(self, name: str) -> str:
        return self.docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name)

    def helper(self, argv: list[str], ready: bool = False) -> subprocess.Popen:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE if ready else subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, text=True)
        self.helpers.append(proc)
        if ready and proc.stdout.readline().strip() != "ready":
            raise Failed(f"`{' '.join(argv)[:120]}` did not start (exit {proc.poll()})")
        return proc

    # -- set-up --
    def setup(self) -> None:
        run("ip", "netns", "add", self.netns)
        self.netns_made = True
        run("ip", "-n", self.netns, "link", "set", "lo", "up")
        from engine.images.service import ImageService
        from tests.fixtures.images import CACHE_DIR, busybox_rootfs_tar
        ImageService(self.root).import_image(busybox_rootfs_tar(CACHE_DIR), "busybox:latest",
                                             changes=['CMD ["sh"]'])

    def start_daemon(self) -> None:
        config = self.tmp / "daemon.json"
        config.write_text('{"dns": ["127.0.0.1:9"]}')  # unknown names are forwarded nowhere
        log = self.tmp / "daemon.log"
        with open(log, "wb") as out:
            self.daemon = subprocess.Popen(
                self.ns(PYTHON, "-m", "engine.daemon", "--root", str(self.root), "--run", str(self.rundir),
                        "--cgroup-parent", self.parent, "--config-file", str(config)),
                cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while not self.sock.exists():
            if self.daemon.poll() is not None or time.monotonic() > deadline:
                raise Failed(f"the daemon did not start: {log.read_text(errors='replace')[-400:]}")
            time.sleep(0.05)
        self.docker("version", "-f", "{{.Server.Version}}")

    # -- 1 and 2a: in-process --
    def attach(self) -> dict:
        done = run(*self.ns(PYTHON, __file__, "--inner-attach", str(self.tmp / "attach-root"),
                            "--netns", self.netns, "--rounds", str(self.args.rounds),
                            "--containers", str(self.args.containers)), timeout=600)
        return json.loads(done.stdout.decode().strip().splitlines()[-1])

    # -- 2b: down through the CLI --
    def down(self) -> dict:
        out = {"rm": [], "netrm": [], "gone": [], "up": []}
        n = self.args.containers
        for r in range(self.args.rounds):
            self.docker("network", "create", f"{NETWORK}-down")
            bridge = "dy-" + self.docker("network", "inspect", "-f", "{{.Id}}", f"{NETWORK}-down")[:12]
            t0 = time.perf_counter()
            ids = [self.docker("run", "-d", "--pull", "never", "--network", f"{NETWORK}-down",
                               "--name", f"down{r}-{i}", "busybox", "sleep", "300") for i in range(n)]
            out["up"].append(time.perf_counter() - t0)
            if self.veths(bridge) != n:
                raise Failed(f"{self.veths(bridge)} veths on {bridge} with {n} containers running")
            t0 = time.perf_counter()
            self.docker("rm", "-f", *ids)
            out["rm"].append(time.perf_counter() - t0)
            t1 = time.perf_counter()
            self.docker("network", "rm", f"{NETWORK}-down")
            out["netrm"].append(time.perf_counter() - t1)
            while self.link_count("dyv") > 0 or self.link_count(bridge) > 0:
                if time.perf_counter() - t0 > 30:
                    raise Failed("veths or the bridge still there 30 s after docker rm -f / network rm")
                time.sleep(0.002)
            out["gone"].append(time.perf_counter() - t0)
        return out

    def links(self) -> list[dict]:
        return json.loads(run("ip", "-n", self.netns, "-j", "link", "show").stdout or b"[]")

    def link_count(self, prefix: str) -> int:
        return sum(1 for link in self.links() if link["ifname"].startswith(prefix))

    def veths(self, bridge: str) -> int:
        return sum(1 for link in self.links() if link.get("master") == bridge)

    # -- 3 and 4: with containers on one network --
    def populate(self) -> dict:
        self.docker("network", "create", NETWORK)
        gateway = self.docker("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}}{{end}}", NETWORK)
        for i in range(DNS_NAMES):
            self.docker("run", "-d", "--pull", "never", "--network", NETWORK, "--name", f"dns{i}",
                        "busybox", "sleep", "3000")
        self.docker("run", "-d", "--pull", "never", "--network", NETWORK, "--name", "client",
                    "busybox", "sleep", "3000")
        self.docker("run", "-d", "--pull", "never", "--network", NETWORK, "--name", "server",
                    "-p", f"{PUBLISHED_PORT}:{SINK_PORT}", "busybox", "sh", "-c",
                    f"mkfifo /tmp/f; exec 3<>/tmp/f; while true; do nc -l -p {NC_PORT} <&3 >/dev/null; done")
        return {"gateway": gateway, "client": self.pid_of("client"), "server": self.pid_of("server"),
                "server_ip": self.ip_of("server"),
                "names": {f"dns{i}": self.ip_of(f"dns{i}") for i in range(DNS_NAMES)}}

    def dns(self, world: dict, dnsperf: str | None, dnsmasq: str | None) -> dict:
        names = world["names"]
        hosts = self.tmp / "hosts"
        hosts.write_text("".join(f"{ip} {name}\n" for name, ip in names.items()))
        queries = self.tmp / "queries"
        queries.write_text("".join(f"{name} A\n" for name in names))
        servers = {"dockyard": (world["gateway"], 53)}
        if dnsmasq:
            self.helper(self.ns(dnsmasq, "--no-daemon", "--no-resolv", "--no-hosts", f"--port={DNSMASQ_PORT}",
                                f"--listen-address={world['gateway']}", "--bind-interfaces",
                                f"--addn-hosts={hosts}", "--cache-size=1000", "--user=root", "--pid-file="))
            servers["dnsmasq"] = (world["gateway"], DNSMASQ_PORT)
        inside = ["nsenter", f"--net=/proc/{world['client']}/ns/net"]
        results = {name: {"qps": [], "ms": []} for name in servers}
        # all names answer, from both, before measuring
        for name, (address, port) in servers.items():
            for attempt in range(50):
                if self.answers(inside, address, port, names, dnsperf):
                    break
                time.sleep(0.1)
            else:
                raise Failed(f"{name} at {address}:{port} does not answer the containers' names")
        for _ in range(self.args.rounds):
            for name, (address, port) in servers.items():
                if dnsperf:
                    text = run(*inside, dnsperf, "-s", address, "-p", str(port), "-d", str(queries),
                               "-l", str(self.args.seconds), "-c", "1", "-q", str(self.args.outstanding),
                               "-t", "1").stdout.decode()
                    stats = {k.strip(): v.split() for k, _, v in (line.partition(":") for line in text.splitlines())
                             if v.split()}
                    if "NOERROR" not in stats.get("Response codes", []):
                        raise Failed(f"{name}: dnsperf got no NOERROR answers: {stats.get('Response codes')}")
                    results[name]["qps"].append(float(stats["Queries per second"][0]))
                    verbose = run(*inside, dnsperf, "-s", address, "-p", str(port), "-d", str(queries),
                                  "-n", "10", "-c", "1", "-q", "1", "-t", "1", "-v").stdout.decode()
                    results[name]["ms"] += [float(line.split()[-1]) * 1000 for line in verbose.splitlines()
                                            if line.startswith("> NOERROR")]
                else:
                    text = run(*inside, PYTHON, __file__, "--inner-dns-load", address, str(port),
                               ",".join(names), str(self.args.seconds), str(self.args.outstanding)).stdout
                    found = json.loads(text.decode().strip().splitlines()[-1])
                    results[name]["qps"].append(found["qps"])
                    if found["ms"] is not None:
                        results[name]["ms"].append(found["ms"])
        return results

    def answers(self, inside: list[str], address: str, port: int, names: dict, dnsperf: str | None) -> bool:
        """Every name gets its container's address."""
        code = ("import socket,sys,struct\n"
                "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(0.5)\n"
                f"names={dict(names)!r}\n"
                "for i,(n,ip) in enumerate(names.items()):\n"
                f"    s.sendto(struct.pack('!6H',i,0x100,1,0,0,0)+bytes([len(n)])+n.encode()+b'\\0\\0\\1\\0\\1',"
                f"({address!r},{port}))\n"
                "    d=s.recv(512)\n"
                "    if socket.inet_aton(ip) not in d: sys.exit(1)\n")
        return run(*inside, PYTHON, "-c", code, check=False, timeout=30).returncode == 0

    def throughput(self, world: dict) -> dict:
        mb = str(self.args.megabytes)
        self.helper(["nsenter", f"--net=/proc/{world['server']}/ns/net", PYTHON, __file__, "--inner-sink",
                     str(SINK_PORT)], ready=True)
        paths = {
            "container -> container": ["nsenter", f"--net=/proc/{world['client']}/ns/net", PYTHON, __file__,
                                       "--inner-source", world["server_ip"], str(SINK_PORT), mb],
            "host -> container address (direct)": self.ns(PYTHON, __file__, "--inner-source",
                                                          world["server_ip"], str(SINK_PORT), mb),
            "host -> published port on 127.0.0.1": self.ns(PYTHON, __file__, "--inner-source", "127.0.0.1",
                                                           str(PUBLISHED_PORT), mb),
            "host -> published port on the gateway": self.ns(PYTHON, __file__, "--inner-source",
                                                             world["gateway"], str(PUBLISHED_PORT), mb),
        }
        results = {label: [] for label in paths}
        results["busybox dd | nc, container -> container"] = []
        nc_mb = max(1, self.args.megabytes // 4)
        for _ in range(self.args.rounds):
            for label, argv in paths.items():
                results[label].append(float(run(*argv, timeout=300).stdout.decode().split()[-1]))
            text = run("docker", "exec", "client", "sh", "-c",
                       f"time sh -c 'dd if=/dev/zero bs=1M count={nc_mb} 2>/dev/null | nc {world['server_ip']} "
                       f"{NC_PORT}'", env=self.env, timeout=300).stderr.decode()
            found = re.search(r"real\s+(\d+)m\s*([\d.]+)s", text)  # busybox time: "real\t0m 3.65s"
            if not found:
                raise Failed(f"busybox dd | nc: no time in {text[-200:]!r}")
            seconds = int(found[1]) * 60 + float(found[2])
            results["busybox dd | nc, container -> container"].append(nc_mb * (1 << 20) / seconds / 1e6)
        return results

    # -- clean-up --
    def cleanup(self) -> list[str]:
        notes = []
        for proc in self.helpers:  # a sink holds a container's namespace
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        if self.daemon is not None and self.daemon.poll() is None:
            try:
                ids = self.docker("ps", "-aq", check=False, timeout=30).split()
                if ids:
                    self.docker("rm", "-f", *ids, check=False, timeout=120)
                nets = self.docker("network", "ls", "-q", "--filter", "type=custom", check=False,
                                   timeout=30).split()
                if nets:
                    self.docker("network", "rm", *nets, check=False, timeout=60)
            except Exception as exc:  # noqa: BLE001 - clean up as much as we can
                notes.append(f"removing containers/networks: {exc}")
        if self.daemon is not None:
            if self.daemon.poll() is None:
                self.daemon.send_signal(signal.SIGTERM)
                try:
                    self.daemon.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    notes.append("the daemon needed SIGKILL")
                    self.daemon.kill()
                    self.daemon.wait()
        try:
            from engine.containers import supervisor
            if (self.rundir / supervisor.SOCKET).exists():
                supervisor.request(self.rundir, {"op": "shutdown"}, timeout=5)
        except Exception as exc:  # noqa: BLE001
            notes.append(f"supervisor shutdown: {type(exc).__name__}: {exc}")
        deadline = time.monotonic() + 5
        while naming(str(self.tmp)) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in naming(str(self.tmp)):
            notes.append(f"process {pid} was left; killed")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for group in cgroups_named(self.parent):
            for procs in group.rglob("cgroup.procs"):
                for pid in procs.read_text().split():
                    notes.append(f"container process {pid} was left; killed")
                    os.kill(int(pid), signal.SIGKILL)
        time.sleep(0.2)
        notes += remove_cgroups(self.parent)
        for ref in [n for n in os.listdir("/run/netns") if n.startswith(f"{self.netns}-r")] \
                if os.path.isdir("/run/netns") else []:
            subprocess.run(["ip", "netns", "del", ref], capture_output=True, check=False)
            notes.append(f"reference namespace {ref} was left; deleted")
        if self.netns_made:
            if subprocess.run(["ip", "netns", "del", self.netns], capture_output=True).returncode != 0:
                notes.append(f"ip netns del {self.netns} failed")
        for target in sorted(mounts_under(self.tmp), key=lambda t: -len(t)):
            if subprocess.run(["umount", target], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", target], capture_output=True)
            notes.append(f"unmounted {target}")
        log = self.tmp / "daemon.log"
        if log.exists() and "Traceback" in log.read_text(errors="replace"):
            notes.append("daemon.log has a traceback: "
                         + log.read_text(errors="replace").strip().splitlines()[-1][:200])
        if mounts_under(self.tmp):
            notes.append(f"mounts left under {self.tmp}; not removed")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return notes


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each measure (default 5)")
    parser.add_argument("--containers", type=int, default=50, help="containers attached / brought down (50)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of DNS load per round (3)")
    parser.add_argument("--outstanding", type=int, default=64, help="DNS queries in flight (64)")
    parser.add_argument("--megabytes", type=int, default=512, help="MB per TCP transfer (512)")
    parser.add_argument("--inner-attach", help=argparse.SUPPRESS)
    parser.add_argument("--netns", help=argparse.SUPPRESS)
    parser.add_argument("--inner-sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--inner-source", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--inner-dns-load", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner_attach:
        return inner_attach(args)
    if args.inner_sink:
        return inner_sink(args.inner_sink)
    if args.inner_source:
        host, port, mb = args.inner_source
        return inner_source(host, int(port), int(mb))
    if args.inner_dns_load:
        server, port, names, seconds, window = args.inner_dns_load
        return inner_dns_load(server, int(port), names.split(","), float(seconds), int(window))

    if os.geteuid() != 0:
        print("bench/network.py needs root (network namespaces, the engine daemon)", file=sys.stderr)
        return 1
    for tool in ("ip", "nsenter", "docker", "iptables"):
        if not shutil.which(tool):
            print(f"bench/network.py needs {tool} on PATH", file=sys.stderr)
            return 1
    sys.stdout.reconfigure(line_buffering=True)
    dnsmasq = ensure_tool("dnsmasq", "dnsmasq-base")
    dnsperf = ensure_tool("dnsperf", "dnsperf")
    signal.signal(signal.SIGTERM, _interrupt)
    bench = Bench(args)
    began, status, step = time.monotonic(), 0, "set-up"
    n = args.containers
    print(f"bench/network.py: namespace {bench.netns}, {args.rounds} rounds, {n} containers, "
          f"load average {os.getloadavg()[0]:.1f}; medians (p10-p90)")
    try:
        bench.setup()
        step = "attach (in-process)"
        a = bench.attach()
        print("1. attach, in-process NetworkService (ms per container)")
        attach_ms = statistics.median(a["attach"])
        row("NetworkService.attach (veth, address, route)", a["attach"],
            f"goal <= {GOAL_ATTACH_MS} ms: {verdict(attach_ms <= GOAL_ATTACH_MS)}", 2)
        row("reference: ip -batch (host side) + ip -n NS -batch", a["ip"], "reference", 2)
        print(f"2. detach, {n} containers")
        row("NetworkService.release, per container (ms)", a["release"], "", 3)
        row(f"release all {n} + close their netns fds (s)", a["down"], "", 3)
        gone = statistics.median(a["gone"])
        row("  ... until no veth is left on the bridge (s)", a["gone"],
            f"goal < {GOAL_DOWN_S:g} s: {verdict(gone < GOAL_DOWN_S)}", 3)
        row(f"reference: ip netns del of {n}, until no veth is left (s)", a["ip_down"], "reference", 3)

        step = "the daemon"
        bench.start_daemon()
        step = "down through the CLI"
        d = bench.down()
        row(f"docker run -d of {n} on a network, one after another (s)", d["up"], "", 2)
        row(f"docker rm -f of {n} running on a network, one command (s)", d["rm"], "", 2)
        row("docker network rm (s)", d["netrm"], "", 3)
        row("rm -f + network rm until no veth and no bridge is left (s)", d["gone"], "", 2)

        step = "containers for DNS and TCP"
        world = bench.populate()
        step = "DNS"
        dns = bench.dns(world, dnsperf, dnsmasq)
        how = (f"dnsperf, {args.outstanding} outstanding, {args.seconds:g} s" if dnsperf else
               f"Python generator (no dnsperf), {args.outstanding} outstanding, {args.seconds:g} s")
        print(f"3. DNS from a container's namespace, {DNS_NAMES} container names ({how})")
        for name, found in dns.items():
            row(f"{name}: queries per second", found["qps"], "", 0)
            row(f"{name}: latency, one query at a time (ms)", found["ms"], "", 3)
        if "dnsmasq" in dns:
            ratio = statistics.median(dns["dockyard"]["qps"]) / statistics.median(dns["dnsmasq"]["qps"])
            print(f"  {'ours / dnsmasq, rate':<58}{ratio:8.2f}{'':18}goal >= {GOAL_DNS_RATIO}: "
                  f"{verdict(ratio >= GOAL_DNS_RATIO)}")
        else:
            print("  dnsmasq: not installed and apt-get failed; no reference")
        step = "TCP"
        tcp = bench.throughput(world)
        print(f"4. TCP throughput, {args.megabytes} MB per transfer, receiver-side (MB/s)")
        for label, values in tcp.items():
            row(label, values, "", 0)
        direct = statistics.median(tcp["host -> container address (direct)"])
        for label in ("host -> published port on 127.0.0.1", "host -> published port on the gateway"):
            paired = [p / d for p, d in zip(tcp[label], tcp["host -> container address (direct)"])]
            ratio = statistics.median(tcp[label]) / direct
            print(f"  {label.replace('host -> ', '') + ' / direct':<58}{ratio:8.2f}{'':18}"
                  f"goal >= {GOAL_PUBLISHED_RATIO}: {verdict(ratio >= GOAL_PUBLISHED_RATIO)}")
            print(f"  {'  ... median of the per-round ratios':<58}{statistics.median(paired):8.2f}")
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        status = 1
    except Failed as exc:
        print(f"FAILED during {step}: {exc}", file=sys.stderr)
        status = 1
    except Exception:  # noqa: BLE001 - report, clean up, exit 1
        traceback.print_exc()
        print("FAILED (see the traceback above)", file=sys.stderr)
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        notes = bench.cleanup()
        print(f"cleanup: {'; '.join(notes) or 'everything removed'}; total {time.monotonic() - began:.0f} s; "
              f"load average {os.getloadavg()[0]:.1f}")
        if any("left" in note for note in notes):
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the embedded DNS server (engine/networks/dns.py) next to dnsmasq.

Both serve the same 50 names (``svc0`` .. ``svc49``, two addresses each) on
127.0.0.1 at a random high port, each in a process of its own; a load
generator of ``--procs`` processes, each keeping ``--window`` UDP queries
outstanding on one socket, asks A queries for those names for ``--seconds``
per round. Rounds alternate ours / dnsmasq; the medians over ``--rounds`` of
queries per second, median latency and the server's CPU use (from
/proc/PID/stat: near 100 % means the server is the bottleneck, well under it
means the generator is) are printed. When ``dnsperf`` (Debian's, in C) is
on PATH, each server is also measured with it, one process holding
``--procs * --window`` queries outstanding (its latency is an average: dnsperf
gives no median), to show the servers' rates without Python's generator in
the way. dnsmasq is installed with
``apt-get install -y dnsmasq-base`` when missing and we run as root.

    .venv/bin/python bench/dns.py [--procs 2] [--window 64] [--seconds 3] [--rounds 5]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAMES = {f"svc{i}": [f"10.77.{i}.2", f"10.77.{i}.3"] for i in range(50)}
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        tcp.bind(("127.0.0.1", port))
        return port


def serve_ours(port: int) -> None:
    """The child process: our server until killed."""
    sys.path.insert(0, str(ROOT))
    from engine.networks.dns import DnsServer

    class Table:
        def addresses(self, client, name):
            return NAMES.get(name)

        def pointer(self, client, address):
            return None

        def upstreams(self, client):
            return []

    server = DnsServer(Table())
    server.listen("127.0.0.1", port)
    server.start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


def start_ours(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def start_dnsmasq(port: int, hosts: Path) -> subprocess.Popen:
    hosts.write_text("".join(f"{a} {n}\n" for n, addrs in NAMES.items() for a in addrs))
    proc = subprocess.Popen(
        ["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", f"--port={port}",
         "--listen-address=127.0.0.1", "--bind-interfaces", f"--addn-hosts={hosts}",
         "--cache-size=1000", "--user=root" if os.geteuid() == 0 else "--user=",
         "--pid-file="], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_answering(port)
    return proc


def query(qid: int, name: str) -> bytes:
    labels = b"".join(bytes((len(p),)) + p.encode() for p in name.split("."))
    return struct.pack("!6H", qid, 0x0100, 1, 0, 0, 0) + labels + b"\x00\x00\x01\x00\x01"


def wait_answering(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        for _ in range(50):
            sock.sendto(query(1, "svc0"), ("127.0.0.1", port))
            try:
                sock.recv(512)
                return
            except TimeoutError:
                pass
    raise RuntimeError(f"nothing answers on 127.0.0.1:{port}")


def generate(port: int, window: int, seconds: float, out) -> None:
    """One load process: `window` queries outstanding, a new one per answer."""
    names = list(NAMES)
    packets = [query(0, n)[2:] for n in names]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(0.5)
    sent: dict[int, float] = {}
    latencies: list[float] = []
    pack, clock, n = struct.Struct("!H").pack, time.perf_counter, 0
    end = clock() + seconds

    def send() -> None:
        nonlocal n
        n += 1
        qid = n & 0xFFFF
        sent[qid] = clock()
        sock.send(pack(qid) + packets[n % len(packets)])

    for _ in range(window):
        send()
    answered = 0
    while clock() < end:
        try:
            data = sock.recv(2048)
        except TimeoutError:  # lost queries: refill the window
            sent.clear()
            for _ in range(window):
                send()
            continue
        started = sent.pop((data[0] << 8) | data[1], None)
        if started is not None:
            answered += 1
            latencies.append(clock() - started)
            send()
    out.send((answered, latencies))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_round(port: int, pid: int, procs: int, window: int, seconds: float) -> tuple[float, float, float]:
    pipes = [mp.Pipe(duplex=False) for _ in range(procs)]
    workers = [mp.Process(target=generate, args=(port, window, seconds, w)) for _, w in pipes]
    cpu0, wall0 = cpu_seconds(pid), time.monotonic()
    for w in workers:
        w.start()
    results = [r.recv() for r, _ in pipes]
    cpu, wall = cpu_seconds(pid) - cpu0, time.monotonic() - wall0
    for w in workers:
        w.join()
    answered = sum(r[0] for r in results)
    latencies = [x for r in results for x in r[1]]
    return answered / seconds, statistics.median(latencies) * 1e3, 100 * cpu / wall


def run_dnsperf(port: int, pid: int, outstanding: int, seconds: float, data: Path) -> tuple[float, float, float]:
    cpu0, wall0 = cpu_seconds(pid), time.monotonic()
    out = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(data),
                          "-l", str(seconds), "-q", str(outstanding), "-c", "1", "-t", "1"],
                         capture_output=True, text=True, check=True).stdout
    cpu, wall = cpu_seconds(pid) - cpu0, time.monotonic() - wall0
    value = {key.strip(): rest.split()[0] for key, _, rest in
             (line.partition(":") for line in out.splitlines()) if rest.split()}
    return (float(value["Queries per second"]), float(value["Average Latency (s)"]) * 1e3,
            100 * cpu / wall)


def report(title: str, rows: dict[str, list[tuple[float, float, float]]], latency: str) -> None:
    print(title)
    for name, results in rows.items():
        qps, ms, cpu = (statistics.median(col) for col in zip(*results))
        print(f"  {name:9} {qps:9.0f} queries/s   {latency} latency {ms:6.2f} ms   "
              f"server CPU {cpu:4.0f} %")
    if len(rows) == 2:
        ours = statistics.median(r[0] for r in rows["dockyard"])
        theirs = statistics.median(r[0] for r in rows["dnsmasq"])
        print(f"  ratio     {ours / theirs:.2f} of dnsmasq's rate (goal >= 0.5)")


def ensure_dnsmasq() -> str | None:
    if shutil.which("dnsmasq"):
        return None
    if os.geteuid() != 0:
        return "dnsmasq is not installed (and we are not root to apt-get it)"
    subprocess.run(["apt-get", "install", "-y", "dnsmasq-base"], check=False, capture_output=True)
    return None if shutil.which("dnsmasq") else "apt-get install dnsmasq-base failed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.serve:
        serve_ours(args.serve)
        return
    missing = ensure_dnsmasq()
    servers = {"dockyard": start_ours(free_port())}
    with tempfile.TemporaryDirectory() as tmp:
        if missing is None:
            servers["dnsmasq"] = start_dnsmasq(free_port(), Path(tmp) / "hosts")
        ports = {name: int(proc.args[-1]) if name == "dockyard" else
                 int(next(a for a in proc.args if a.startswith("--port="))[7:])
                 for name, proc in servers.items()}
        perf = shutil.which("dnsperf")
        data = Path(tmp) / "queries"
        data.write_text("".join(f"{name} A\n" for name in NAMES))
        rows = {name: [] for name in servers}
        perf_rows = {name: [] for name in servers}
        try:
            for _ in range(args.rounds):
                for name, proc in servers.items():
                    rows[name].append(run_round(ports[name], proc.pid, args.procs,
                                                args.window, args.seconds))
                    if perf:
                        perf_rows[name].append(run_dnsperf(ports[name], proc.pid,
                                                           args.procs * args.window,
                                                           args.seconds, data))
        finally:
            for proc in servers.values():
                proc.kill()
                proc.wait()
    report(f"Python generator: {args.procs} processes x {args.window} outstanding UDP queries, "
           f"{args.rounds} rounds of {args.seconds:g} s, medians:", rows, "median")
    if perf:
        report(f"dnsperf: {args.procs * args.window} outstanding, medians of the rounds:",
               perf_rows, "mean  ")
    else:
        print("dnsperf: not installed (apt-get install dnsperf), no numbers")
    if missing:
        print(f"dnsmasq: no numbers: {missing}")

if __name__ == "__main__":
    main()

"""The network leak scenario, run inside a network namespace the test made
(``nsenter --net=... python tests/engine/network_cycles.py ROOT CYCLES``):
CYCLES times, create a network, attach 10 container-like network
namespaces (one publishing a port), check that they resolve each other,
let them go as stopped containers do (release, their namespace closed),
remove the network. Prints what is left as JSON: the networks service's
records and DNS sockets; the test reads the kernel's side itself."""
from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from engine.networks.ports import Request  # noqa: E402
from engine.networks.service import NetworkService, Settings  # noqa: E402
from engine.runtime import sys as syscalls  # noqa: E402


def new_netns() -> int:
    """A fresh network namespace, alive as long as the returned fd."""
    found: dict = {}

    def make() -> None:
        syscalls.Syscalls().unshare(syscalls.CLONE_NEWNET)
        found["fd"] = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    thread = threading.Thread(target=make)
    thread.start()
    thread.join()
    return found["fd"]


def main(root: Path, cycles: int) -> dict:
    service = NetworkService(root, Settings(dns=[("127.0.0.1", 9)]))
    problems = []
    for cycle in range(cycles):
        record = service.create(f"cycle{cycle}")
        members = []
        for n in range(10):
            cid = f"{cycle:05d}{n:02d}".ljust(64, "f")
            fd = new_netns()
            found = service.attach(cid, {record["name"]: {"NetworkID": record["id"], "Aliases": ["svc"]}}, fd,
                                   hostname=f"host{n}", name=f"c{cycle}-{n}", dns=[], pid=0,
                                   ports=[Request("tcp", 80, "", 0, 0)] if n == 0 else [])
            members.append((cid, fd, found["networks"][record["id"]]["ip"]))
        first_ip, last_ip = members[0][2], members[-1][2]
        if service.addresses(first_ip, f"c{cycle}-9") != [last_ip] or len(service.addresses(last_ip, "svc")) != 10:
            problems.append(f"cycle {cycle}: names do not resolve")
        for cid, fd, _ in members:
            service.release(cid)
            os.close(fd)  # the "container" stopped: its namespace goes, its veth with it
        service.remove(record["name"])
    left = {"problems": problems, "dns": service.dns.bound if service._dns is not None else [],
            "networks": [r["name"] for r in service.all()],
            "endpoints": sorted(p.name for p in (root / "endpoints").glob("*.json"))}
    service.close()
    return left


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), int(sys.argv[2]))))

"""User-defined bridge networks with real traffic, through the real docker
CLI against our daemon. The daemon runs in a network namespace the fixture
made (its "host"); every packet stays in it and in the containers'
namespaces. The traffic tests run twice: on a plain host, and on one where
dockerd has run (bridge netfilter hook on, FORWARD policy DROP)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid

import dnslib
import pytest

from engine.networks.netlink import in_netns

pytestmark = pytest.mark.root
BOTH_HOSTS = pytest.mark.parametrize("daemon", ["plain", "forward-drop"], indirect=True)


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done.stdout.decode()


def serve(daemon, name: str, network: str, *extra: str, text: str = "hello", port: int = 80) -> None:
    """A container answering HTTP on ``port`` with ``text``."""
    ok(daemon.docker("run", "-d", "--name", name, "--network", network, *extra, "busybox", "sh", "-c",
                     f"mkdir /www; echo {text} > /www/index.html; exec httpd -f -p {port} -h /www"))


def inside(daemon, network: str, script: str, *extra: str) -> subprocess.CompletedProcess:
    """A throwaway container on ``network`` running ``script``."""
    return daemon.docker("run", "--rm", "--network", network, *extra, "busybox", "sh", "-c", script, timeout=60)


def fetch(url: str, timeout: int = 3) -> str:
    """Shell for a busybox fetch that cannot hang (busybox's wget -T crashes)."""
    return f"timeout {timeout} wget -qO- {url} || exit 1"  # sh stays PID 1: it forks


def pid_of(daemon, container: str) -> int:
    return json.loads(ok(daemon.docker("inspect", container)))[0]["State"]["Pid"]


def query(pid: int, server: str, name: str, qtype: str = "A", tcp: bool = False) -> dnslib.DNSRecord:
    """A DNS query sent from inside the container ``pid`` (from its address)."""
    fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    packet = dnslib.DNSRecord.question(name, qtype).pack()

    def ask() -> bytes:
        if tcp:
            with socket.create_connection((server, 53), timeout=3) as sock:
                sock.sendall(len(packet).to_bytes(2, "big") + packet)
                size = int.from_bytes(sock.recv(2), "big")
                data = b""
                while len(data) < size:
                    data += sock.recv(size - len(data))
                return data
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(3)
            sock.sendto(packet, (server, 53))
            return sock.recv(4096)
    try:
        return dnslib.DNSRecord.parse(in_netns(fd, ask))
    finally:
        os.close(fd)


def addresses(record: dnslib.DNSRecord) -> list[str]:
    return [str(rr.rdata) for rr in record.rr if rr.rtype == dnslib.QTYPE.A]


def network_of(daemon, name: str) -> dict:
    return json.loads(ok(daemon.docker("network", "inspect", name)))[0]


def endpoint(daemon, container: str, network: str) -> dict:
    return json.loads(ok(daemon.docker("inspect", container)))[0]["NetworkSettings"]["Networks"][network]


# -- networks as objects ---------------------------------------------------------------

def test_create_inspect_list_and_remove(daemon):
    nid = ok(daemon.docker("network", "create", "--subnet", "10.91.0.0/24", "--gateway", "10.91.0.254",
                           "--ip-range", "10.91.0.128/25", "--aux-address", "router=10.91.0.128",
                           "--label", "team=a", "-o",
                           "com.docker.network.driver.mtu=1400", "front")).strip()
    found = network_of(daemon, "front")
    assert (found["Id"], found["Driver"], found["Scope"], found["Labels"]) == (nid, "bridge", "local", {"team": "a"})
    assert found["IPAM"]["Config"] == [{"Subnet": "10.91.0.0/24", "Gateway": "10.91.0.254",
                                        "IPRange": "10.91.0.128/25",
                                        "AuxiliaryAddresses": {"router": "10.91.0.128"}}]
    bridge = f"dy-{nid[:12]}"
    link = json.loads(ok(daemon.in_netns("ip", "-4", "-j", "addr", "show", bridge)))[0]
    assert link["mtu"] == 1400 and [a["local"] for a in link["addr_info"]] == ["10.91.0.254"]
    serve(daemon, "web", "front")
    assert endpoint(daemon, "web", "front")["IPAddress"] == "10.91.0.129"  # the range's first but the aux one
    assert next(iter(network_of(daemon, "front")["Containers"].values()))["IPv4Address"] == "10.91.0.129/24"
    assert "mtu 1400" in ok(daemon.docker("exec", "web", "ip", "link", "show", "eth0"))
    assert "10.91.0.254:53" in ok(daemon.in_netns("ss", "-uln"))  # its DNS server
    names = ok(daemon.docker("network", "ls", "--format", "{{.Name}} {{.Driver}}")).split("\n")
    assert sorted(filter(None, names)) == ["bridge bridge", "front bridge", "host host", "none null"]
    assert ok(daemon.docker("network", "ls", "-q", "--filter", "label=team=a")).strip() == nid[:12]
    done = daemon.docker("network", "create", "front")
    assert done.returncode == 1 and b"network with name front already exists" in done.stderr
    done = daemon.docker("network", "rm", "front")
    assert done.returncode == 1 and b"has active endpoints" in done.stderr and b"web" in done.stderr
    ok(daemon.docker("rm", "-f", "web"))
    ok(daemon.docker("network", "rm", "front"))
    assert bridge not in ok(daemon.in_netns("ip", "link"))
    assert "10.91.0.254:53" not in ok(daemon.in_netns("ss", "-uln"))  # gone with its network


def test_clear_errors_for_what_cannot_be(daemon):
    for args, words in [
        (("network", "create", "--ipv6", "x2"), b"IPv6 is not supported yet"),
        (("network", "create", "-d", "overlay", "x3"), b"driver 'overlay' is not supported"),
        (("network", "create", "-o", "com.docker.network.bridge.enable_icc=false", "x4"), b"not supported"),
        (("network", "rm", "host"), b"host is a pre-defined network and cannot be removed"),
        (("network", "create", "bridge"), b"operation is not permitted on predefined bridge network"),
        (("network", "inspect", "nosuch"), b"network nosuch not found"),
    ]:
        done = daemon.docker(*args)
        assert done.returncode == 1 and words in done.stderr, (args, done.stderr)
    from tests.api.test_networks_cli_root import (
        dockyard,  # the docker CLI checks this one itself
    )
    done = dockyard(daemon, "network", "create", "--subnet", "10.92.0.0/24", "--gateway", "10.93.0.1", "x1")
    assert done.returncode == 1 and b"invalid gateway 10.93.0.1: not in subnet 10.92.0.0/24" in done.stderr, \
        done.stderr
    ok(daemon.docker("network", "create", "--subnet", "10.94.0.0/24", "first"))
    done = daemon.docker("network", "create", "--subnet", "10.94.0.0/25", "second")
    assert done.returncode == 1 and b"Pool overlaps" in done.stderr
    done = daemon.docker("run", "--rm", "--network", "nosuch", "busybox", "true")
    assert done.returncode == 125 and b"network nosuch not found" in done.stderr
    done = daemon.docker("run", "--rm", "--network", "first", "--ip", "10.99.0.5", "busybox", "true")
    assert done.returncode == 125 and b"does not belong to any of this network's subnets" in done.stderr
    assert ok(daemon.docker("ps", "-aq")) == ""  # nothing half-made
    assert ok(daemon.docker("network", "ls", "-q", "--filter", "name=x")) == ""


def test_a_subnet_of_the_hosts_routes_is_refused(daemon):
    ok(daemon.in_netns("ip", "link", "add", "uplink", "type", "veth", "peer", "name", "uplink-peer"))
    ok(daemon.in_netns("ip", "addr", "add", "10.95.0.1/16", "dev", "uplink"))
    ok(daemon.in_netns("ip", "link", "set", "uplink", "up"))
    done = daemon.docker("network", "create", "--subnet", "10.95.3.0/24", "clash")
    assert done.returncode == 1 and b"overlaps the host's route 10.95.0.0/16 via uplink" in done.stderr
    ok(daemon.docker("network", "create", "fine"))  # from the pools, around the host's routes
    assert network_of(daemon, "fine")["IPAM"]["Config"][0]["Subnet"] != "10.95.0.0/16"


def test_default_pools_come_from_the_config_file(tmp_path, request):
    (tmp_path / "daemon.json").write_text(json.dumps({"default-address-pools": [{"base": "10.123.0.0/16",
                                                                                 "size": 24}]}))
    daemon = request.getfixturevalue("daemon")
    ok(daemon.docker("network", "create", "one"))
    ok(daemon.docker("network", "create", "two"))
    subnets = [network_of(daemon, n)["IPAM"]["Config"][0]["Subnet"] for n in ("bridge", "one", "two")]
    assert subnets == ["10.123.0.0/24", "10.123.1.0/24", "10.123.2.0/24"]


# -- names -------------------------------------------------------------------------------

@BOTH_HOSTS
def test_containers_find_each_other_by_name_alias_and_hostname(daemon):
    ok(daemon.docker("network", "create", "app"))
    serve(daemon, "api-1", "app", "--network-alias", "api", "--hostname", "apihost")
    serve(daemon, "api-2", "app", "--network-alias", "api", text="second")
    one, two = (endpoint(daemon, c, "app")["IPAddress"] for c in ("api-1", "api-2"))
    out = ok(inside(daemon, "app", "; ".join(fetch(f"http://{n}/") for n in ("api-1", "apihost", "api-2.app"))))
    assert out.split() == ["hello", "hello", "second"]
    probe = pid_of(daemon, "api-1")
    gateway = network_of(daemon, "app")["IPAM"]["Config"][0]["Gateway"]
    orders = [addresses(query(probe, gateway, "api")) for _ in range(4)]
    assert all(sorted(o) == sorted([one, two]) for o in orders)
    assert len({tuple(o) for o in orders}) == 2  # rotated per query
    assert addresses(query(probe, gateway, "API-2", tcp=True)) == [two]  # TCP, any case
    empty = query(probe, gateway, "api-2", "AAAA")
    assert (empty.header.rcode, empty.rr) == (dnslib.RCODE.NOERROR, [])
    pointer = query(probe, gateway, ".".join(reversed(two.split("."))) + ".in-addr.arpa", "PTR")
    assert [str(rr.rdata) for rr in pointer.rr] == ["api-2.app."]
    resolv = ok(daemon.docker("exec", "api-1", "cat", "/etc/resolv.conf"))
    assert f"nameserver {gateway}" in resolv and "ndots:0" in resolv
    assert f"{one}\tapihost" in ok(daemon.docker("exec", "api-1", "cat", "/etc/hosts"))


def test_names_appear_when_a_container_starts_and_go_when_it_stops(daemon):
    ok(daemon.docker("network", "create", "live"))
    serve(daemon, "probe", "live")
    probe, gateway = pid_of(daemon, "probe"), network_of(daemon, "live")["IPAM"]["Config"][0]["Gateway"]
    ok(daemon.docker("create", "--name", "late", "--network", "live", "busybox", "sleep", "600"))
    assert addresses(query(probe, gateway, "late")) == []
    ok(daemon.docker("start", "late"))
    started = time.monotonic()
    answer = addresses(query(probe, gateway, "late"))
    assert answer == [endpoint(daemon, "late", "live")["IPAddress"]] and time.monotonic() - started < 0.1
    ok(daemon.docker("kill", "late"))
    deadline = time.monotonic() + 2  # the daemon sees the exit through a pidfd: at once
    while addresses(query(probe, gateway, "late")) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert addresses(query(probe, gateway, "late")) == []
    ok(daemon.docker("rename", "probe", "watcher"))
    assert addresses(query(probe, gateway, "watcher")) and not addresses(query(probe, gateway, "probe"))


def test_other_names_are_forwarded_to_the_hosts_resolvers(tmp_path, request):
    (tmp_path / "daemon.json").write_text(json.dumps({"dns": ["127.0.0.1:5399"]}))
    daemon = request.getfixturevalue("daemon")
    resolver = subprocess.Popen(["nsenter", f"--net=/run/netns/{daemon.netns}", sys.executable, "-c", UPSTREAM],
                                stdout=subprocess.PIPE)
    try:
        assert resolver.stdout.readline() == b"ready\n"
        ok(daemon.docker("network", "create", "out"))
        serve(daemon, "asker", "out")
        pid, gateway = pid_of(daemon, "asker"), network_of(daemon, "out")["IPAM"]["Config"][0]["Gateway"]
        assert addresses(query(pid, gateway, "db.example.test")) == ["192.0.2.77"]
        assert addresses(query(pid, gateway, "db.example.test", tcp=True)) == ["192.0.2.77"]
        assert query(pid, gateway, "nowhere.example.test").header.rcode == dnslib.RCODE.NXDOMAIN
        out = ok(daemon.docker("exec", "asker", "nslookup", "db.example.test"))
        assert "192.0.2.77" in out
    finally:
        resolver.kill()
        resolver.wait()


UPSTREAM = """
import socket, dnslib
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); sock.bind(("127.0.0.1", 5399))
tcp = socket.socket(); tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind(("127.0.0.1", 5399)); tcp.listen()
print("ready", flush=True)
import threading
def answer(data):
    q = dnslib.DNSRecord.parse(data); r = q.reply()
    if str(q.q.qname) == "db.example.test.":
        r.add_answer(dnslib.RR(q.q.qname, rdata=dnslib.A("192.0.2.77"), ttl=60))
    else:
        r.header.rcode = dnslib.RCODE.NXDOMAIN
    return r.pack()
def tcp_loop():
    while True:
        conn, _ = tcp.accept()
        size = int.from_bytes(conn.recv(2), "big"); data = conn.recv(size)
        reply = answer(data); conn.sendall(len(reply).to_bytes(2, "big") + reply); conn.close()
threading.Thread(target=tcp_loop, daemon=True).start()
while True:
    data, peer = sock.recvfrom(4096); sock.sendto(answer(data), peer)
"""


# -- reach and isolation --------------------------------------------------------------------

def test_names_and_ports_come_back_when_the_daemon_is_killed_and_restarted(daemon):
    ok(daemon.docker("network", "create", "kept"))
    serve(daemon, "keeper", "kept", "-p", "8088:80")
    serve(daemon, "asker", "kept")
    daemon.process.kill()
    daemon.process.wait()
    daemon.relaunch()
    assert ok(daemon.docker("exec", "asker", "sh", "-c", fetch("http://keeper/"))).strip() == "hello"
    assert ok(daemon.in_netns("curl", "-sS", "-m", "5", "http://127.0.0.1:8088/")).strip() == "hello"
    done = daemon.docker("run", "--rm", "-p", "8088:80", "busybox", "true")  # still held for keeper
    assert done.returncode == 125 and b"already allocated (published by container keeper)" in done.stderr


@BOTH_HOSTS
def test_one_network_reaches_any_port_another_network_nothing(daemon):
    ok(daemon.docker("network", "create", "left"))
    ok(daemon.docker("network", "create", "right"))
    serve(daemon, "odd-port", "left", port=8123)
    serve(daemon, "stranger", "right")
    assert ok(inside(daemon, "left", fetch("http://odd-port:8123/"))).strip() == "hello"
    stranger = endpoint(daemon, "stranger", "right")["IPAddress"]
    done = inside(daemon, "left", fetch(f"http://{stranger}/"))
    assert done.returncode != 0  # dropped between bridges
    done = inside(daemon, "left", "nslookup stranger")
    assert done.returncode != 0  # never another network's names


@BOTH_HOSTS
def test_internal_networks_have_no_way_out_and_others_do(daemon, outside):
    ok(daemon.docker("network", "create", "--internal", "closed"))
    ok(daemon.docker("network", "create", "open"))
    serve(daemon, "peer", "closed")
    out = ok(inside(daemon, "closed", f"ip route; {fetch('http://peer/')}"))
    assert "default" not in out and out.strip().endswith("hello")
    assert inside(daemon, "closed", fetch(outside.url)).returncode != 0
    # masqueraded: the outside namespace has no route back to the containers' subnet
    assert ok(inside(daemon, "open", fetch(outside.url))).strip() == "outside"


@BOTH_HOSTS
def test_published_ports_from_the_host_and_from_other_containers(daemon, outside):
    ok(daemon.docker("network", "create", "pub"))
    ok(daemon.docker("network", "create", "elsewhere"))
    serve(daemon, "site", "pub", "-p", "8080:80", "-p", "127.0.0.1:8081:80", "-p", "80")
    ports = ok(daemon.docker("port", "site")).splitlines()
    random_port = next(int(p.rsplit(":", 1)[1]) for p in ports if p.startswith("80/tcp -> 0.0.0.0:")
                       and not p.endswith(":8080"))
    assert sorted(p for p in ports if "8080" in p or "8081" in p) == ["80/tcp -> 0.0.0.0:8080",
                                                                     "80/tcp -> 127.0.0.1:8081"]
    for url in ("http://127.0.0.1:8080/", "http://127.0.0.1:8081/", f"http://127.0.0.1:{random_port}/",
                f"http://{outside.host_address}:8080/"):
        assert ok(daemon.in_netns("curl", "-sS", "-m", "5", url)).strip() == "hello", url
    # from the outside world, through the host's address
    assert ok(outside.run("curl", "-sS", "-m", "5", f"http://{outside.host_address}:8080/")).strip() == "hello"
    # from containers, on the same and on another network, through the host's address
    for network in ("pub", "elsewhere"):
        assert ok(inside(daemon, network, fetch(f"http://{outside.host_address}:8080/"))).strip() == "hello"
    listed = json.loads(ok(daemon.docker("ps", "--format", "{{json .}}")).splitlines()[0])
    assert "0.0.0.0:8080->80/tcp" in listed["Ports"]


UDP_ECHO = """
import socket
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); sock.bind(("0.0.0.0", 53))
while True:
    data, peer = sock.recvfrom(512); sock.sendto(b"echo " + data, peer)
"""


def test_udp_ports_are_published_too(daemon):
    from engine.images.service import (
        ImageService,  # busybox has no UDP server; beside the daemon, as the fixture
    )
    from tests.fixtures.debian_image import debian_python_rootfs_tar
    from tests.fixtures.images import CACHE_DIR
    ImageService(daemon.run.parent / "root").import_image(debian_python_rootfs_tar(CACHE_DIR), "debian-python")
    ok(daemon.docker("network", "create", "udp"))
    ok(daemon.docker("run", "-d", "--name", "echo", "--network", "udp", "-p", "5300:53/udp", "debian-python",
                     "python3", "-c", UDP_ECHO))

    def ask() -> bytes:  # a socket made in the host's namespace
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.5)
            for _ in range(20):  # until the server is up
                sock.sendto(b"ping-udp", ("127.0.0.1", 5300))
                try:
                    return sock.recv(512)
                except TimeoutError:
                    continue
            return b""
    fd = os.open(f"/run/netns/{daemon.netns}", os.O_RDONLY)
    try:
        assert in_netns(fd, ask) == b"echo ping-udp"
    finally:
        os.close(fd)
    assert "53/udp -> 0.0.0.0:5300" in ok(daemon.docker("port", "echo"))


def test_a_port_in_use_is_refused_naming_who_holds_it(daemon):
    holder = subprocess.Popen(["nsenter", f"--net=/run/netns/{daemon.netns}", "python3", "-c",
                               ("import socket,time; s=socket.socket(); s.bind(('0.0.0.0', 8090)); s.listen();"
                               " print('ready', flush=True); time.sleep(600)")], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"ready\n"
        done = daemon.docker("run", "-d", "--name", "late", "-p", "8090:80", "busybox", "sleep", "60")
        assert done.returncode == 125
        assert b"port 8090/tcp is already in use by python3" in done.stderr, done.stderr
        assert f"(pid {holder.pid})".encode() in done.stderr
        assert ok(daemon.docker("ps", "-aq")) == ""  # refused before anything was made
    finally:
        holder.kill()
        holder.wait()
    ok(daemon.docker("run", "-d", "--name", "first", "-p", "8091:80", "busybox", "sleep", "60"))
    ok(daemon.docker("create", "--name", "second", "-p", "8091:80", "busybox", "sleep", "60"))
    done = daemon.docker("start", "second")
    assert done.returncode == 1 and b"already allocated (published by container first)" in done.stderr
    assert json.loads(ok(daemon.docker("inspect", "second")))[0]["State"]["Status"] == "created"
    ok(daemon.docker("stop", "-t", "0", "first"))
    ok(daemon.docker("start", "second"))  # freed at stop


def test_static_addresses_and_their_reuse(daemon):
    ok(daemon.docker("network", "create", "--subnet", "10.96.0.0/24", "fixed"))
    ok(daemon.docker("run", "-d", "--name", "pinned", "--network", "fixed", "--ip", "10.96.0.50", "busybox",
                     "sleep", "600"))
    assert endpoint(daemon, "pinned", "fixed")["IPAddress"] == "10.96.0.50"
    assert "10.96.0.50/24" in ok(daemon.docker("exec", "pinned", "ip", "-4", "addr", "show", "eth0"))
    done = daemon.docker("run", "--rm", "--network", "fixed", "--ip", "10.96.0.50", "busybox", "true")
    assert done.returncode != 0 and b"Address already in use: 10.96.0.50" in done.stderr
    ok(daemon.docker("run", "-d", "--name", "dynamic", "--network", "fixed", "busybox", "sleep", "600"))
    assert endpoint(daemon, "dynamic", "fixed")["IPAddress"] == "10.96.0.2"
    assert endpoint(daemon, "dynamic", "fixed")["MacAddress"] == "02:42:0a:60:00:02"
    ok(daemon.docker("rm", "-f", "dynamic"))
    ok(daemon.docker("run", "-d", "--name", "next", "--network", "fixed", "busybox", "sleep", "600"))
    assert endpoint(daemon, "next", "fixed")["IPAddress"] == "10.96.0.2"  # released and reused


@BOTH_HOSTS
def test_connect_and_disconnect_while_running(daemon):
    ok(daemon.docker("network", "create", "one"))
    ok(daemon.docker("network", "create", "two"))
    serve(daemon, "target", "two")
    ok(daemon.docker("run", "-d", "--name", "roamer", "--network", "one", "busybox", "sleep", "600"))
    assert daemon.docker("exec", "roamer", "sh", "-c", fetch("http://target/")).returncode != 0
    ok(daemon.docker("network", "connect", "--alias", "wanderer", "two", "roamer"))
    assert ok(daemon.docker("exec", "roamer", "sh", "-c", fetch("http://target/"))).strip() == "hello"
    assert "eth1" in ok(daemon.docker("exec", "roamer", "ip", "link"))
    assert ok(daemon.docker("exec", "target", "nslookup", "wanderer")).count("Address") >= 2
    assert set(network_of(daemon, "two")["Containers"]) == {
        json.loads(ok(daemon.docker("inspect", c)))[0]["Id"] for c in ("target", "roamer")}
    ok(daemon.docker("network", "disconnect", "two", "roamer"))
    assert "eth1" not in ok(daemon.docker("exec", "roamer", "ip", "link"))
    assert daemon.docker("exec", "roamer", "sh", "-c", fetch("http://target/")).returncode != 0
    assert daemon.docker("exec", "target", "nslookup", "wanderer").returncode != 0
    done = daemon.docker("network", "disconnect", "two", "roamer")
    assert done.returncode == 1 and b"is not connected to network two" in done.stderr
    ok(daemon.docker("network", "connect", "two", "roamer"))
    ok(daemon.docker("restart", "-t", "0", "roamer"))  # remembered across a restart
    assert ok(daemon.docker("exec", "roamer", "sh", "-c", fetch("http://target/"))).strip() == "hello"


def test_network_modes_container_host_and_none(daemon):
    ok(daemon.docker("network", "create", "shared"))
    serve(daemon, "owner", "shared")
    ok(daemon.docker("run", "-d", "--name", "sidecar", "--network", "container:owner", "busybox", "sleep", "600"))
    assert ok(daemon.docker("exec", "sidecar", "sh", "-c", fetch("http://127.0.0.1/"))).strip() == "hello"
    done = daemon.docker("run", "--rm", "--network", "container:owner", "-p", "81:80", "busybox", "true")
    assert done.returncode == 125 and b"conflicting options" in done.stderr
    host_links = ok(daemon.in_netns("ip", "-o", "link")).count("\n")
    assert ok(inside(daemon, "host", "ip -o link")).count("\n") == host_links
    assert ok(inside(daemon, "none", "ip -o link")).count("\n") == 1  # lo only


def test_the_default_bridge_network(daemon):
    ok(daemon.docker("run", "-d", "--name", "plain", "-p", "8085:80", "busybox", "sh", "-c",
                     "mkdir /www; echo plain > /www/index.html; exec httpd -f -h /www"))
    found = json.loads(ok(daemon.docker("inspect", "plain")))[0]
    assert found["HostConfig"]["NetworkMode"] == "bridge"
    assert found["NetworkSettings"]["IPAddress"] == found["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    assert ok(daemon.in_netns("curl", "-sS", "-m", "5", "http://127.0.0.1:8085/")).strip() == "plain"
    done = daemon.docker("run", "--rm", "busybox", "sh", "-c", "nslookup plain")
    assert done.returncode != 0  # docker's default bridge has no names
    done = daemon.docker("run", "--rm", "--network-alias", "x", "busybox", "true")
    assert done.returncode == 125 and b"network-scoped alias" in done.stderr  # the CLI says it first


def test_the_dockyard_network_commands(daemon):
    from tests.api.test_networks_cli_root import dockyard
    done = dockyard(daemon, "network", "create", "--subnet", "10.97.0.0/24", "--label", "k=v", "mine")
    assert done.returncode == 0 and len(done.stdout.strip()) == 64
    ok(daemon.docker("run", "-d", "--name", "guest", "busybox", "sleep", "600"))
    assert dockyard(daemon, "network", "connect", "--ip", "10.97.0.9", "mine", "guest").returncode == 0
    assert endpoint(daemon, "guest", "mine")["IPAddress"] == "10.97.0.9"
    assert dockyard(daemon, "network", "disconnect", "mine", "guest").returncode == 0
    assert dockyard(daemon, "network", "ls").stdout == daemon.docker("network", "ls").stdout
    assert dockyard(daemon, "network", "rm", "mine").stdout == b"mine\n"


# -- the outside world ---------------------------------------------------------------------------

class Outside:
    """A namespace beyond the daemon's host, over a veth: 203.0.113.2 there,
    203.0.113.1 (the host's address) on the host; no route back to any
    container subnet, so reaching it needs masquerade."""
    host_address, address = "203.0.113.1", "203.0.113.2"
    url = "http://203.0.113.2:8000/"

    def __init__(self, netns: str) -> None:
        self.netns = netns

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["nsenter", f"--net=/run/netns/{self.netns}", *args], capture_output=True, check=False,
                              timeout=30)


@pytest.fixture
def outside(daemon, tmp_path):
    name = f"dyo-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    peer = f"dyx{uuid.uuid4().hex[:8]}"
    server = None
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "-n", daemon.netns, "link", "add", peer, "type", "veth", "peer", "name", "wan",
                        "netns", name], check=True)
        for ns, dev, address in ((daemon.netns, peer, Outside.host_address), (name, "wan", Outside.address)):
            subprocess.run(["ip", "-n", ns, "addr", "add", f"{address}/24", "dev", dev], check=True)
            subprocess.run(["ip", "-n", ns, "link", "set", dev, "up"], check=True)
        www = tmp_path / "outside-www"
        www.mkdir()
        (www / "index.html").write_text("outside\n")
        server = subprocess.Popen(["nsenter", f"--net=/run/netns/{name}", "/bin/busybox", "httpd", "-f", "-p",
                                   f"{Outside.address}:8000", "-h", str(www)])
        yield Outside(name)
    finally:
        if server is not None:
            server.kill()
            server.wait()
        subprocess.run(["ip", "netns", "del", name], check=False)


def test_a_host_port_range_takes_the_first_free_port(daemon):
    for name in ("first", "second"):
        ok(daemon.docker("run", "-d", "--name", name, "-p", "127.0.0.1:9100-9102:80", "busybox", "sleep", "60"))
    assert [ok(daemon.docker("port", name)).strip() for name in ("first", "second")] == [
        "80/tcp -> 127.0.0.1:9100", "80/tcp -> 127.0.0.1:9101"]

"""The netlink module against the kernel, proven with `ip -j`. Every object
lives in network namespaces the test makes (``dynl-<hex>``) and removes; the
test process's own namespace is never entered nor changed."""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import uuid

import pytest

from engine.networks.netlink import (
    Netlink,
    NetlinkError,
    Route,
    read_sysctl,
    write_sysctl,
)

pytestmark = pytest.mark.root

MAC_BRIDGE, MAC_B, MAC_C = "02:42:0a:d5:00:01", "02:42:0a:d5:00:02", "02:42:0a:d5:00:03"


def _ip(*args: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    where = ["-n", netns] if netns else []
    return subprocess.run(["ip", *where, *args], capture_output=True, text=True, check=check)


def _json(*args: str, netns: str) -> list[dict]:
    return json.loads(_ip("-d", "-j", *args, netns=netns).stdout or "[]")


def _link(netns: str, name: str) -> dict:
    (found,) = _json("link", "show", name, netns=netns)
    return found


class Namespace:
    """A named network namespace and an open fd of it."""

    def __init__(self) -> None:
        self.name = f"dynl-{uuid.uuid4().hex[:12]}"
        _ip("netns", "add", self.name)
        self.fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY | os.O_CLOEXEC)

    def remove(self) -> None:
        os.close(self.fd)
        _ip("netns", "del", self.name, check=False)


@pytest.fixture
def netns():
    """Factory of namespaces, all removed at teardown."""
    made: list[Namespace] = []

    def make() -> Namespace:
        made.append(Namespace())
        return made[-1]
    yield make
    for space in made:
        space.remove()
    listed = _ip("netns", "list").stdout
    assert not any(space.name in listed for space in made)


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def test_a_bridge_with_mtu_and_mac_is_up(netns):
    a = netns()
    name = _unique("dy-")
    with Netlink(netns_fd=a.fd) as nl:
        index = nl.add_bridge(name, mtu=1400, mac=MAC_BRIDGE)
        listed = {link.name: link for link in nl.links()}
    shown = _link(a.name, name)
    assert shown["ifindex"] == index
    assert (shown["mtu"], shown["address"], shown["linkinfo"]["info_kind"]) == (1400, MAC_BRIDGE, "bridge")
    assert "UP" in shown["flags"]
    found = listed[name]
    assert (found.index, found.kind, found.mtu, found.mac, found.up) == (index, "bridge", 1400, MAC_BRIDGE, True)


def test_the_bridge_mtu_is_kept_when_a_port_has_a_larger_one(netns):
    a, b = netns(), netns()
    with Netlink(netns_fd=a.fd) as nl:
        bridge = nl.add_bridge("br0", mtu=1400)
        nl.add_veth("v0", "eth0", b.fd, master=bridge, mtu=1500)
    assert _link(a.name, "br0")["mtu"] == 1400


def test_a_duplicate_bridge_is_an_error_naming_it(netns):
    a = netns()
    name = _unique("dy-")
    with Netlink(netns_fd=a.fd) as nl:
        nl.add_bridge(name)
        with pytest.raises(NetlinkError) as caught:
            nl.add_bridge(name)
    assert str(caught.value) == f"creating bridge {name}: File exists (EEXIST)"
    assert caught.value.errno == errno.EEXIST


def test_a_veth_pair_across_namespaces(netns):
    a, b = netns(), netns()
    host = _unique("dv")
    with Netlink(netns_fd=a.fd) as nl:
        bridge = nl.add_bridge("br0", mtu=1400)
        index = nl.add_veth(host, "eth0", b.fd, master=bridge, mtu=1400, peer_mac=MAC_B, group=42)
        assert nl.link_index(host) == index
        assert nl.link_index("eth0") is None                  # the peer is not here
    shown = _link(a.name, host)
    assert shown["ifindex"] == index and shown["linkinfo"]["info_kind"] == "veth"
    assert (shown["master"], shown["group"], shown["mtu"]) == ("br0", "42", 1400)
    assert "UP" in shown["flags"]
    peer = _link(b.name, "eth0")
    assert (peer["address"], peer["mtu"], peer["linkinfo"]["info_kind"]) == (MAC_B, 1400, "veth")
    assert peer["link_index"] == index                        # eth0's other end is the host side


def test_set_link_changes_what_is_given(netns):
    a, b = netns(), netns()
    with Netlink(netns_fd=a.fd) as nl:
        bridge = nl.add_bridge("br0")
        index = nl.add_veth("v0", "eth0", b.fd, master=bridge)
        nl.set_link("v0", master=0, up=False, mtu=1300, mac="02:00:00:00:00:07", rename="v1")
        assert nl.link_index("v0") is None
    shown = _link(a.name, "v1")
    assert shown["ifindex"] == index and "master" not in shown and "UP" not in shown["flags"]
    assert (shown["mtu"], shown["address"]) == (1300, "02:00:00:00:00:07")


def test_addresses_and_default_route_inside_the_container_namespace(netns):
    a, b = netns(), netns()
    with Netlink(netns_fd=a.fd) as host:
        bridge = host.add_bridge("br0")
        host.add_address(bridge, "10.213.0.1/24")
        host.add_veth("v0", "eth0", b.fd, master=bridge, peer_mac=MAC_B)
    with Netlink(netns_fd=b.fd) as inside:
        eth0 = inside.link_index("eth0")
        inside.set_link(eth0, up=True)
        inside.add_address(eth0, "10.213.0.2/24")
        inside.add_route("0.0.0.0/0", gateway="10.213.0.1")
        assert (eth0, "10.213.0.2/24") in inside.addresses()
        assert Route("0.0.0.0/0", "10.213.0.1", eth0) in inside.routes()
        with pytest.raises(NetlinkError, match=r"^adding route 0.0.0.0/0 via 10.213.0.1: .*\(EEXIST\)"):
            inside.add_route("0.0.0.0/0", gateway="10.213.0.1")
        with pytest.raises(NetlinkError, match=rf"^adding address 10.213.0.2/24 to link {eth0}: .*\(EEXIST\)"):
            inside.add_address(eth0, "10.213.0.2/24")
    (shown,) = _json("addr", "show", "eth0", netns=b.name)
    (inet,) = [one for one in shown["addr_info"] if one["family"] == "inet"]
    assert (inet["local"], inet["prefixlen"], inet["broadcast"]) == ("10.213.0.2", 24, "10.213.0.255")
    routes = _json("route", netns=b.name)
    assert {"dst": "default", "gateway": "10.213.0.1", "dev": "eth0"}.items() <= routes[0].items()


def test_delete_link_and_delete_group(netns):
    a, b, c = netns(), netns(), netns()
    with Netlink(netns_fd=a.fd) as nl:
        bridge = nl.add_bridge("br0")
        nl.add_veth("g1", "eth0", b.fd, master=bridge, group=9)
        nl.add_veth("g2", "eth0", c.fd, master=bridge, group=9)
        nl.add_veth("solo", "eth1", b.fd, master=bridge)
        nl.delete_group(9)
        assert sorted(link.name for link in nl.links()) == ["br0", "lo", "solo"]
        with pytest.raises(NetlinkError, match=r"^deleting link group 9: No such device \(ENODEV\)$"):
            nl.delete_group(9)
        nl.delete_group(9, missing_ok=True)
        nl.delete_link("solo")
        with pytest.raises(NetlinkError, match=r"^deleting link solo: No such device \(ENODEV\)$") as caught:
            nl.delete_link("solo")
        assert caught.value.errno == errno.ENODEV
        nl.delete_link("solo", missing_ok=True)
        nl.delete_link(bridge)
    assert [link["ifname"] for link in _json("link", netns=a.name)] == ["lo"]
    for peer_space in (b, c):                                 # the peers went with their pairs
        assert [link["ifname"] for link in _json("link", netns=peer_space.name)] == ["lo"]


def test_the_test_process_namespace_is_never_changed(netns):
    a, b = netns(), netns()
    mine = os.readlink("/proc/thread-self/ns/net")
    process = os.readlink("/proc/self/ns/net")
    name = _unique("dy-")
    with Netlink(netns_fd=a.fd) as nl:
        assert os.readlink("/proc/thread-self/ns/net") == mine
        nl.add_veth(name, "eth0", b.fd, master=nl.add_bridge(_unique("dyb")))
        assert name in {link.name for link in nl.links()}
    assert (os.readlink("/proc/thread-self/ns/net"), os.readlink("/proc/self/ns/net")) == (mine, process)
    assert _ip("-j", "link", "show", name, check=False).returncode != 0     # not in the host's namespace
    assert name in _ip("link", "show", name, netns=a.name).stdout


def test_traffic_crosses_the_bridge_between_two_namespaces(netns):
    a, b, c = netns(), netns(), netns()
    with Netlink(netns_fd=a.fd) as host:
        bridge = host.add_bridge("br0")
        host.add_veth("vb", "eth0", b.fd, master=bridge, peer_mac=MAC_B)
        host.add_veth("vc", "eth0", c.fd, master=bridge, peer_mac=MAC_C)
    for space, address in ((b, "10.213.0.2/24"), (c, "10.213.0.3/24")):
        with Netlink(netns_fd=space.fd) as inside:
            eth0 = inside.link_index("eth0")
            inside.set_link(eth0, up=True)
            inside.add_address(eth0, address)
    ping = ["ping"] if shutil.which("ping") else ["busybox", "ping"]    # busybox-static is in apt-packages
    done = subprocess.run(["ip", "netns", "exec", b.name, *ping, "-c1", "-W2", "10.213.0.3"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _forwarding(space) -> str:
    done = subprocess.run(["ip", "netns", "exec", space.name, "cat", "/proc/sys/net/ipv4/ip_forward"],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_write_sysctl_in_a_test_namespace_only(netns):
    a, b = netns(), netns()
    host = read_sysctl("net.ipv4.ip_forward")
    fresh = _forwarding(b)        # IPv4 namespaces start from the host's value
    for value in ("0", "1"):      # one of them differs from the host's
        write_sysctl("net.ipv4.ip_forward", value, netns_fd=a.fd)
        assert read_sysctl("net.ipv4.ip_forward", netns_fd=a.fd) == value == _forwarding(a)
        assert read_sysctl("net.ipv4.ip_forward", netns_fd=b.fd) == fresh == _forwarding(b)
        assert read_sysctl("net.ipv4.ip_forward") == host
    with Netlink(netns_fd=a.fd) as nl:
        nl.add_bridge("br0")
    write_sysctl("net/ipv4/conf/br0/route_localnet", "1", netns_fd=a.fd)
    assert read_sysctl(["net", "ipv4", "conf", "br0", "route_localnet"], netns_fd=a.fd) == "1"
    with pytest.raises(NetlinkError, match=r"/net/ipv4/conf/br0/route_localnet=1: .*\(ENOENT\)"):
        write_sysctl("net.ipv4.conf.br0.route_localnet", "1")            # no br0 here


def test_a_bad_namespace_fd_is_an_error(tmp_path):
    with open(tmp_path / "file", "w") as handle, pytest.raises(NetlinkError, match=r"\(EINVAL\)"):
        Netlink(netns_fd=handle.fileno())

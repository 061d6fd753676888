"""The netlink module's wire format without root: rtattrs (alignment,
nesting), the request bodies parsed back, NLMSG_ERROR and dumps turned into
results or NetlinkError, over a socketpair standing in for the kernel."""
from __future__ import annotations

import errno
import socket
import struct

import pytest

from engine.networks import netlink as nl
from engine.networks.netlink import Link, Netlink, NetlinkError, Route


def _ifinfo_attrs(body: bytes) -> tuple[tuple, dict[int, bytes]]:
    return struct.unpack_from("=BxHiII", body), nl.parse_attrs(body[16:])


# ------------------------------------------------------------ attributes

@pytest.mark.parametrize("payload", [b"", b"a", b"ab", b"abc", b"abcd", b"abcde"])
def test_attr_is_padded_to_4_bytes_and_its_length_excludes_the_padding(payload):
    data = nl.attr(7, payload)
    length, kind = struct.unpack_from("=HH", data)
    assert (length, kind) == (4 + len(payload), 7)
    assert len(data) % 4 == 0 and data[length:] == b"\0" * (len(data) - length)
    assert nl.parse_attrs(data) == {7: payload}


def test_attrs_round_trip_in_sequence():
    data = nl.attr_str(3, "eth0") + nl.attr_u32(4, 1400) + nl.attr(1, bytes.fromhex("0242ac110002"))
    attrs = nl.parse_attrs(data)
    assert attrs[3] == b"eth0\0" and struct.unpack("=I", attrs[4]) == (1400,)
    assert attrs[1] == bytes.fromhex("0242ac110002")


def test_nested_attrs_carry_the_nested_flag_and_parse_back():
    data = nl.nested(18, nl.attr_str(1, "veth"), nl.nested(2, nl.attr_u32(9, 42)))
    assert struct.unpack_from("=HH", data)[1] == 18 | nl.NLA_F_NESTED
    info = nl.parse_attrs(data)[18]                       # the flag is masked off
    inner = nl.parse_attrs(info)
    assert inner[1] == b"veth\0"
    assert nl.parse_attrs(inner[2]) == {9: struct.pack("=I", 42)}


def test_a_malformed_tail_is_ignored():
    good = nl.attr_u32(4, 1)
    assert nl.parse_attrs(good + struct.pack("=HH", 200, 5) + b"xx") == {4: struct.pack("=I", 1)}
    assert nl.parse_attrs(good + struct.pack("=HH", 2, 5)) == {4: struct.pack("=I", 1)}


def test_messages_round_trip_with_alignment():
    data = nl.message(16, 5, 1, b"abcdefgh") + nl.message(2, 0, 2, b"xyz") + b"\0" + nl.message(3, 2, 3, b"")
    assert list(nl.parse_messages(data)) == [(16, 5, 1, b"abcdefgh"), (2, 0, 2, b"xyz"), (3, 2, 3, b"")]


# ------------------------------------------------------------ request bodies

def test_veth_body_is_one_request_with_the_peer_nested_inside():
    body = nl.veth_body("dy-h1", "eth0", 9, master=4, mtu=1400, peer_mac="02:42:ac:11:00:02", group=7)
    (_family, _type, index, flags, change), attrs = _ifinfo_attrs(body)
    assert (index, flags & nl.IFF_UP, change) == (0, nl.IFF_UP, nl.IFF_UP)
    assert attrs[nl.IFLA_IFNAME] == b"dy-h1\0"
    assert [struct.unpack("=I", attrs[k])[0] for k in (nl.IFLA_MTU, nl.IFLA_MASTER, nl.IFLA_GROUP)] == [1400, 4, 7]
    info = nl.parse_attrs(attrs[nl.IFLA_LINKINFO])
    assert info[nl.IFLA_INFO_KIND] == b"veth\0"
    peer = nl.parse_attrs(info[nl.IFLA_INFO_DATA])[nl.VETH_INFO_PEER]
    (_f, _t, peer_index, peer_flags, _c), peer_attrs = _ifinfo_attrs(peer)
    assert (peer_index, peer_flags) == (0, 0)
    assert peer_attrs[nl.IFLA_IFNAME] == b"eth0\0"
    assert struct.unpack("=I", peer_attrs[nl.IFLA_NET_NS_FD]) == (9,)
    assert peer_attrs[nl.IFLA_ADDRESS] == bytes.fromhex("0242ac110002")
    assert struct.unpack("=I", peer_attrs[nl.IFLA_MTU]) == (1400,)


def test_veth_body_leaves_out_what_is_not_given():
    _header, attrs = _ifinfo_attrs(nl.veth_body("a", "b", 3))
    assert nl.IFLA_MTU not in attrs and nl.IFLA_MASTER not in attrs and nl.IFLA_GROUP not in attrs


def test_parse_link_reads_a_link_back():
    link = nl.parse_link(nl.veth_body("dy-h1", "eth0", 9, master=4, mtu=1400, group=7))
    assert link == Link(index=0, name="dy-h1", kind="veth", master=4, mac="", mtu=1400, up=True, group=7)


def test_address_body_has_local_address_and_broadcast():
    body = nl.address_body(5, "10.1.0.2/24")
    assert struct.unpack_from("=BBBBI", body) == (socket.AF_INET, 24, 0, 0, 5)
    attrs = nl.parse_attrs(body[8:])
    assert attrs[nl.IFA_LOCAL] == attrs[nl.IFA_ADDRESS] == socket.inet_aton("10.1.0.2")
    assert attrs[nl.IFA_BROADCAST] == socket.inet_aton("10.1.0.255")
    assert nl.parse_address(body) == (5, "10.1.0.2/24")
    assert nl.IFA_BROADCAST not in nl.parse_attrs(nl.address_body(5, "10.1.0.2/32")[8:])


@pytest.mark.parametrize("destination, gateway, index, scope", [
    ("0.0.0.0/0", "10.1.0.1", None, nl.RT_SCOPE_UNIVERSE),
    ("10.2.0.0/16", "10.1.0.1", 3, nl.RT_SCOPE_UNIVERSE),
    ("10.3.0.0/24", None, 3, nl.RT_SCOPE_LINK),
])
def test_route_body_round_trips(destination, gateway, index, scope):
    body = nl.route_body(destination, gateway, index)
    fields = struct.unpack_from("=BBBBBBBBI", body)
    assert (fields[4], fields[6], fields[7]) == (nl.RT_TABLE_MAIN, scope, nl.RTN_UNICAST)
    assert (nl.RTA_DST in nl.parse_attrs(body[12:])) == (destination != "0.0.0.0/0")
    assert nl.parse_route(body) == Route(destination, gateway, index or 0)


def test_routes_of_other_tables_are_not_ours():
    body = bytearray(nl.route_body("0.0.0.0/0", "10.1.0.1"))
    body[4] = 255                                              # RT_TABLE_LOCAL
    assert nl.parse_route(bytes(body)) is None


# ------------------------------------------------------------ errors

def _error(code: int, request: bytes, tlvs: bytes = b"") -> bytes:
    """An NLMSG_ERROR payload: -errno, the echoed request, extended-ack TLVs."""
    return struct.pack("=i", -code) + request + tlvs


def test_parse_error_plain_ack_and_errno():
    request = nl.message(16, 5, 1, b"x" * 20)
    assert nl.parse_error(0, _error(0, request[:16])) == (0, "")
    assert nl.parse_error(0, _error(errno.EEXIST, request)) == (errno.EEXIST, "")


@pytest.mark.parametrize("capped", [True, False])
def test_parse_error_reads_the_extended_ack_text(capped):
    request = nl.message(16, 5, 1, b"y" * 22 + b"\0\0")
    echoed = request[:16] if capped else request
    flags = nl.NLM_F_ACK_TLVS | (nl.NLM_F_CAPPED if capped else 0)
    payload = _error(errno.EINVAL, echoed, tlvs=nl.attr_str(nl.NLMSGERR_ATTR_MSG, "Invalid MTU"))
    assert nl.parse_error(flags, payload) == (errno.EINVAL, "Invalid MTU")


def test_netlink_error_names_operation_object_and_errno():
    error = nl.netlink_error("creating bridge dy-0123456789ab", errno.EEXIST)
    assert str(error) == "creating bridge dy-0123456789ab: File exists (EEXIST)"
    assert error.errno == errno.EEXIST and isinstance(error, nl.RuntimeFailure)
    assert str(nl.netlink_error("x", errno.EINVAL, "Invalid MTU")).endswith("(EINVAL): Invalid MTU")


# ------------------------------------------------------------ exchanges, over a socketpair

@pytest.fixture
def kernel():
    """(Netlink on one end of a socketpair, the other end), the test answering as the kernel."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with Netlink(sock=ours) as link:
        yield link, theirs
    theirs.close()


def _ack(seq: int, code: int = 0) -> bytes:
    return nl.message(nl.NLMSG_ERROR, 0, seq, struct.pack("=i", -code) + bytes(16))


def _link_reply(seq: int, index: int, name: str, flags: int = 0) -> bytes:
    body = struct.pack("=BxHiII", 0, 1, index, nl.IFF_UP, 0) + nl.attr_str(nl.IFLA_IFNAME, name)
    return nl.message(nl.RTM_NEWLINK, flags, seq, body)


NLM_F_MULTI = 2     # a part of a dump


def _done(seq: int) -> bytes:
    return nl.message(nl.NLMSG_DONE, NLM_F_MULTI, seq, bytes(4))


def test_a_failed_creation_raises_naming_the_bridge_after_reading_every_ack(kernel):
    link, theirs = kernel
    theirs.send(_ack(1, errno.EEXIST) + _link_reply(2, 4, "dy-0123456789ab") + _ack(2))
    with pytest.raises(NetlinkError) as caught:
        link.add_bridge("dy-0123456789ab")
    assert str(caught.value) == "creating bridge dy-0123456789ab: File exists (EEXIST)"
    assert caught.value.errno == errno.EEXIST
    sent = list(nl.parse_messages(theirs.recv(65536)))        # both requests, one datagram
    assert [(kind, seq) for kind, _flags, seq, _body in sent] == [(nl.RTM_NEWLINK, 1), (nl.RTM_GETLINK, 2)]
    assert sent[0][1] == nl.NLM_F_REQUEST | nl.NLM_F_ACK | nl.NLM_F_CREATE | nl.NLM_F_EXCL


def test_a_creation_returns_the_index_of_the_lookup(kernel):
    link, theirs = kernel
    theirs.send(_ack(1) + _link_reply(2, 7, "dy-h1") + _ack(2))
    assert link.add_veth("dy-h1", "eth0", 5, master=4) == 7


def test_missing_links_are_none_or_ignored_when_asked(kernel):
    link, theirs = kernel
    theirs.send(_ack(1, errno.ENODEV))
    assert link.link_index("nope") is None
    theirs.send(_ack(2, errno.ENODEV))
    link.delete_link("nope", missing_ok=True)
    theirs.send(_ack(3, errno.ENODEV))
    with pytest.raises(NetlinkError, match=r"^deleting link group 9: No such device \(ENODEV\)$"):
        link.delete_group(9)


def test_a_dump_skips_stale_answers_and_restarts_when_interrupted(kernel):
    link, theirs = kernel
    theirs.send(_link_reply(99, 1, "stale", NLM_F_MULTI)
                + _link_reply(1, 1, "lo", NLM_F_MULTI | nl.NLM_F_DUMP_INTR))
    theirs.send(_done(1))
    theirs.send(_link_reply(2, 1, "lo", NLM_F_MULTI) + _link_reply(2, 2, "dy-br", NLM_F_MULTI))
    theirs.send(_done(2))
    assert [(one.index, one.name) for one in link.links()] == [(1, "lo"), (2, "dy-br")]


def test_a_failed_dump_reports_the_errno_of_done(kernel):
    link, theirs = kernel
    theirs.send(nl.message(nl.NLMSG_DONE, NLM_F_MULTI, 1, struct.pack("=i", -errno.EPERM)))
    with pytest.raises(NetlinkError, match=r"^listing routes: .*\(EPERM\)$"):
        link.routes()


def test_a_socket_failure_names_the_operation(kernel):
    link, theirs = kernel
    theirs.close()                                    # the "kernel" went away
    with pytest.raises(NetlinkError, match=r"^adding address 10.1.0.2/24 to link 3: .*\(EPIPE\)$"):
        link.add_address(3, "10.1.0.2/24")


# ------------------------------------------------------------ sysctl names

@pytest.mark.parametrize("name, path", [
    ("net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward"),
    ("net.ipv4.conf.dy-0123.route_localnet", "/proc/sys/net/ipv4/conf/dy-0123/route_localnet"),
    ("net/ipv4/conf/eth0.100/forwarding", "/proc/sys/net/ipv4/conf/eth0.100/forwarding"),
    (["net", "ipv4", "conf", "eth0.100", "forwarding"], "/proc/sys/net/ipv4/conf/eth0.100/forwarding"),
])
def test_sysctl_names_become_paths(name, path):
    assert str(nl.sysctl_path(name)) == path


@pytest.mark.parametrize("name", ["", "net..x", "net/../../etc", ["net", "a/b"]])
def test_bad_sysctl_names_are_refused(name):
    with pytest.raises(ValueError):
        nl.sysctl_path(name)


def test_sysctl_under_a_proc_root(tmp_path):
    (tmp_path / "sys/net/ipv4").mkdir(parents=True)
    nl.write_sysctl("net.ipv4.ip_forward", "1", proc=str(tmp_path))
    assert nl.read_sysctl("net.ipv4.ip_forward", proc=str(tmp_path)) == "1"
    with pytest.raises(NetlinkError, match=r"^reading sysctl .*/sys/net/nope: .*\(ENOENT\)$"):
        nl.read_sysctl("net.nope", proc=str(tmp_path))

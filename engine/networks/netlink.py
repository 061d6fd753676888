"""rtnetlink in pure Python: links (bridges, veth pairs), IPv4 addresses and
routes of one network namespace, and /proc/sys reads and writes.

Owns the wire format (nlmsghdr, ifinfomsg, ifaddrmsg, rtmsg and nested
rtattrs, all 4-byte aligned), the request/ack exchange and the translation
of kernel errors into ``NetlinkError``, once. Another namespace is reached
without any thread of the caller changing namespace: a short-lived thread
setns()es, opens the socket (or the /proc/sys file) and ends; a netlink
socket stays bound to the namespace it was created in. With engine/runtime,
this is the only module allowed to touch /proc and /sys.
"""
from __future__ import annotations

import errno as errnos
import ipaddress
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self, TypeVar

from engine.runtime.errors import RuntimeFailure
from engine.runtime.sys import CLONE_NEWNET, Syscalls

# linux/netlink.h
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP_INTR = 0x1, 0x4, 0x10
NLM_F_DUMP, NLM_F_EXCL, NLM_F_CREATE = 0x300, 0x200, 0x400
NLM_F_CAPPED, NLM_F_ACK_TLVS = 0x100, 0x200      # in the flags of an NLMSG_ERROR
SOL_NETLINK, NETLINK_CAP_ACK, NETLINK_EXT_ACK, NLMSGERR_ATTR_MSG = 270, 10, 11, 1
NLA_F_NESTED, NLA_TYPE_MASK = 0x8000, 0x3FFF
# linux/rtnetlink.h, if_link.h, if_addr.h, veth.h
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK, RTM_SETLINK = 16, 17, 18, 19
RTM_NEWADDR, RTM_GETADDR, RTM_NEWROUTE, RTM_GETROUTE = 20, 22, 24, 26
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER = 1, 3, 4, 10
IFLA_LINKINFO, IFLA_GROUP, IFLA_NET_NS_FD = 18, 27, 28
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST = 1, 2, 4
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_TABLE = 1, 4, 5, 15
RT_TABLE_MAIN, RTPROT_BOOT, RTN_UNICAST, RT_SCOPE_UNIVERSE, RT_SCOPE_LINK = 254, 3, 1, 0, 253
IFF_UP = 0x1

_HEADER = struct.Struct("=IHHII")        # nlmsghdr: len, type, flags, seq, pid
_ATTR = struct.Struct("=HH")             # rtattr: len, type
_IFINFO = struct.Struct("=BxHiII")       # family, type, index, flags, change
_IFADDR = struct.Struct("=BBBBI")        # family, prefixlen, flags, scope, index
_RTMSG = struct.Struct("=BBBBBBBBI")     # family, dst_len, src_len, tos, table, protocol, scope, type, flags
_RECV_SIZE = 65536                       # a dump's datagrams stay under 32 KiB
_DUMP_ATTEMPTS = 5

T = TypeVar("T")
Request = tuple[int, int, bytes, str]    # type, flags, body, what (named by its error)


class NetlinkError(RuntimeFailure):
    """A netlink request failed; the message names the operation and the object."""


def netlink_error(what: str, code: int, detail: str = "") -> NetlinkError:
    """``what: File exists (EEXIST)``, plus the kernel's extended-ack text if any."""
    name = errnos.errorcode.get(code, str(code))
    return NetlinkError(f"{what}: {os.strerror(code)} ({name})" + (f": {detail}" if detail else ""), code)


# ------------------------------------------------------------ the wire format

def _align(length: int) -> int: return (length + 3) & ~3


def attr(kind: int, payload: bytes) -> bytes:
    """One rtattr, zero-padded to 4 bytes (its length field excludes the padding)."""
    pad = b"\0" * (_align(len(payload)) - len(payload))
    return _ATTR.pack(_ATTR.size + len(payload), kind) + payload + pad


def attr_u32(kind: int, value: int) -> bytes: return attr(kind, struct.pack("=I", value))
def attr_str(kind: int, value: str) -> bytes: return attr(kind, value.encode() + b"\0")
def nested(kind: int, *attrs: bytes) -> bytes: return attr(kind | NLA_F_NESTED, b"".join(attrs))
def mac_bytes(mac: str) -> bytes: return bytes.fromhex(mac.replace(":", ""))


def _records(data: bytes, header: struct.Struct) -> Iterator[tuple[tuple, bytes]]:
    """(header fields, payload) of each length-first, 4-byte aligned record;
    a malformed tail is ignored."""
    offset = 0
    while offset + header.size <= len(data):
        fields = header.unpack_from(data, offset)
        if fields[0] < header.size or offset + fields[0] > len(data):
            break
        yield fields, data[offset + header.size:offset + fields[0]]
        offset += _align(fields[0])


def parse_attrs(data: bytes) -> dict[int, bytes]:
    """Type (flag bits masked off) → payload."""
    return {fields[1] & NLA_TYPE_MASK: payload for fields, payload in _records(data, _ATTR)}


def parse_messages(data: bytes) -> Iterator[tuple[int, int, int, bytes]]:
    """(type, flags, seq, payload) of each message of one datagram."""
    return ((kind, flags, seq, payload) for (_len, kind, flags, seq, _pid), payload in _records(data, _HEADER))


def message(kind: int, flags: int, seq: int, body: bytes) -> bytes:
    return _HEADER.pack(_HEADER.size + len(body), kind, flags, seq, 0) + body


def parse_error(flags: int, payload: bytes) -> tuple[int, str]:
    """(errno, extended-ack text) of an NLMSG_ERROR; errno 0 is a plain ack."""
    code, detail = -struct.unpack_from("=i", payload)[0], ""
    if flags & NLM_F_ACK_TLVS:
        # then: the request's header, its body unless capped, then the TLVs
        request_length = _HEADER.unpack_from(payload, 4)[0]
        skip = 4 + (_HEADER.size if flags & NLM_F_CAPPED else _align(request_length))
        detail = _text(parse_attrs(payload[skip:]).get(NLMSGERR_ATTR_MSG))
    return code, detail


def _u32(data: bytes | None, default: int = 0) -> int: return struct.unpack("=I", data)[0] if data else default
def _text(data: bytes | None) -> str: return (data or b"").split(b"\0", 1)[0].decode(errors="replace")


def ifinfo(index: int = 0, *, up: bool | None = None) -> bytes:
    """An ifinfomsg; ``up`` None leaves IFF_UP alone (ifi_change 0)."""
    return _IFINFO.pack(socket.AF_UNSPEC, 0, index, IFF_UP if up else 0, 0 if up is None else IFF_UP)


def veth_body(name: str, peer: str, peer_netns_fd: int, *, master: int | None = None,
              mtu: int | None = None, peer_mac: str | None = None, group: int | None = None) -> bytes:
    """The RTM_NEWLINK body of a veth pair, ``name`` up here, ``peer`` (down)
    in another namespace with the same MTU (unequal MTUs drop large frames)."""
    peer_attrs = attr_str(IFLA_IFNAME, peer) + attr_u32(IFLA_NET_NS_FD, peer_netns_fd)
    peer_attrs += attr(IFLA_ADDRESS, mac_bytes(peer_mac)) if peer_mac else b""
    peer_attrs += attr_u32(IFLA_MTU, mtu) if mtu is not None else b""
    info = nested(IFLA_LINKINFO, attr_str(IFLA_INFO_KIND, "veth"),
                  nested(IFLA_INFO_DATA, attr(VETH_INFO_PEER, ifinfo() + peer_attrs)))
    host = b"".join(attr_u32(kind, value) for kind, value in
                    ((IFLA_MTU, mtu), (IFLA_MASTER, master), (IFLA_GROUP, group)) if value is not None)
    return ifinfo(up=True) + attr_str(IFLA_IFNAME, name) + host + info


def address_body(index: int, cidr: str) -> bytes:
    """The RTM_NEWADDR body of an IPv4 ``a.b.c.d/len`` (no broadcast on /31, /32)."""
    interface = ipaddress.IPv4Interface(cidr)
    network = interface.network
    body = _IFADDR.pack(socket.AF_INET, network.prefixlen, 0, RT_SCOPE_UNIVERSE, index)
    body += attr(IFA_LOCAL, interface.ip.packed) + attr(IFA_ADDRESS, interface.ip.packed)
    if network.prefixlen < 31:
        body += attr(IFA_BROADCAST, network.broadcast_address.packed)
    return body


def route_body(destination: str, gateway: str | None = None, index: int | None = None) -> bytes:
    """The RTM_NEWROUTE body of a main-table route; one without gateway is on-link."""
    network = ipaddress.IPv4Network(destination)
    scope = RT_SCOPE_UNIVERSE if gateway else RT_SCOPE_LINK
    body = _RTMSG.pack(socket.AF_INET, network.prefixlen, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT,
                       scope, RTN_UNICAST, 0)
    body += attr(RTA_DST, network.network_address.packed) if network.prefixlen else b""
    body += attr(RTA_GATEWAY, ipaddress.IPv4Address(gateway).packed) if gateway else b""
    return body + (attr_u32(RTA_OIF, index) if index is not None else b"")


@dataclass(frozen=True)
class Link:
    index: int
    name: str
    kind: str          # 'bridge', 'veth', ... or '' (lo, physical devices)
    master: int        # index of the bridge it is a port of, or 0
    mac: str
    mtu: int
    up: bool
    group: int


@dataclass(frozen=True)
class Route:
    destination: str   # "a.b.c.d/len"
    gateway: str | None
    index: int


def parse_link(payload: bytes) -> Link:
    _family, _type, index, flags, _change = _IFINFO.unpack_from(payload)
    attrs = parse_attrs(payload[_IFINFO.size:])
    kind = _text(parse_attrs(attrs.get(IFLA_LINKINFO, b"")).get(IFLA_INFO_KIND))
    mac = ":".join(f"{byte:02x}" for byte in attrs.get(IFLA_ADDRESS, b""))
    return Link(index, _text(attrs.get(IFLA_IFNAME)), kind, _u32(attrs.get(IFLA_MASTER)), mac,
                _u32(attrs.get(IFLA_MTU)), bool(flags & IFF_UP), _u32(attrs.get(IFLA_GROUP)))


def parse_address(payload: bytes) -> tuple[int, str] | None:
    """(index, "a.b.c.d/len") of an IPv4 RTM_NEWADDR, None for other families."""
    family, prefixlen, _flags, _scope, index = _IFADDR.unpack_from(payload)
    attrs = parse_attrs(payload[_IFADDR.size:])
    local = attrs.get(IFA_LOCAL) or attrs.get(IFA_ADDRESS)
    if family != socket.AF_INET or not local:
        return None
    return index, f"{ipaddress.IPv4Address(local)}/{prefixlen}"


def parse_route(payload: bytes) -> Route | None:
    """The Route of an IPv4 main-table RTM_NEWROUTE, None for any other."""
    family, dst_len, _src, _tos, table, *_rest = _RTMSG.unpack_from(payload)
    attrs = parse_attrs(payload[_RTMSG.size:])
    if family != socket.AF_INET or _u32(attrs.get(RTA_TABLE), table) != RT_TABLE_MAIN:
        return None
    gateway = attrs.get(RTA_GATEWAY)
    return Route(f"{ipaddress.IPv4Address(attrs.get(RTA_DST, bytes(4)))}/{dst_len}",
                 str(ipaddress.IPv4Address(gateway)) if gateway else None, _u32(attrs.get(RTA_OIF)))


# ------------------------------------------------------------ namespaces, /proc/sys

def in_netns(netns_fd: int, work: Callable[[], T]) -> T:
    """Run ``work`` in a fresh thread that first joins ``netns_fd``'s network
    namespace; the thread ends with it, no thread of the caller ever moves."""
    outcome: dict = {}

    def joined() -> None:
        try:
            Syscalls().setns(netns_fd, CLONE_NEWNET)
            outcome["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            outcome["error"] = exc
    # a bare Thread: a ThreadPoolExecutor costs 0.1 ms more per namespace
    thread = threading.Thread(target=joined, name=f"netns-{netns_fd}")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def sysctl_path(name: str | Sequence[str], proc: str = "/proc") -> Path:
    """``net.ipv4.ip_forward`` → ``{proc}/sys/net/ipv4/ip_forward``. As with
    sysctl(8), a name holding ``/`` is already a path whose dots are literal
    (``net/ipv4/conf/eth0.100/forwarding``); a list gives the segments."""
    segments = list(name) if not isinstance(name, str) else name.split("/" if "/" in name else ".")
    if not segments or any(s in ("", ".", "..") or "/" in s for s in segments):
        raise ValueError(f"bad sysctl name {name!r}")
    return Path(proc, "sys", *segments)


def read_sysctl(name: str | Sequence[str], proc: str = "/proc", netns_fd: int | None = None) -> str:
    """The value, stripped; with ``netns_fd``, of that namespace (see write_sysctl)."""
    path = sysctl_path(name, proc)
    return _sysctl_io(f"reading sysctl {path}", lambda: path.read_text().strip(), netns_fd)


def write_sysctl(name: str | Sequence[str], value: str, proc: str = "/proc",
                 netns_fd: int | None = None) -> None:
    """/proc/sys/net shows the network namespace of the thread that opens the
    file, so with ``netns_fd`` a thread that joined it opens and writes it."""
    path = sysctl_path(name, proc)
    _sysctl_io(f"writing sysctl {path}={value}", lambda: path.write_text(value), netns_fd)


def _sysctl_io(what: str, work: Callable[[], T], netns_fd: int | None) -> T:
    try:
        return work() if netns_fd is None else in_netns(netns_fd, work)
    except (OSError, RuntimeFailure) as exc:
        raise netlink_error(what, exc.errno or errnos.EIO) from None


# ------------------------------------------------------------ the socket

class Netlink:
    """One rtnetlink socket, in the caller's network namespace or in the one of `netns_fd`."""

    def __init__(self, netns_fd: int | None = None, *, sock: socket.socket | None = None) -> None:
        """``sock``: an open socket to use instead (tests pass a socketpair's end)."""
        self._seq = 0
        where = "this network namespace" if netns_fd is None else f"netns fd {netns_fd}"
        try:
            if sock is None:
                sock = _open() if netns_fd is None else in_netns(netns_fd, _open)
        except (OSError, RuntimeFailure) as exc:   # RuntimeFailure: setns refused
            raise netlink_error(f"opening rtnetlink in {where}", exc.errno or errnos.EIO) from None
        self._sock = sock

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def exchange(self, requests: Sequence[Request]) -> list[list[bytes]]:
        """Send the requests in one datagram (the kernel runs them in order),
        read until each is acked or its dump is done, return each one's reply
        payloads; the first failure is raised once every answer is read, so
        the socket stays in step. Python retries EINTR itself (PEP 475)."""
        order = list(range(self._seq + 1, self._seq + 1 + len(requests)))
        self._seq += len(requests)
        batch = b"".join(message(kind, flags | NLM_F_REQUEST, seq, body)
                         for seq, (kind, flags, body, _what) in zip(order, requests))
        replies: dict[int, list[bytes]] = {seq: [] for seq in order}
        failures: dict[int, tuple[int, str]] = {}
        pending = set(order)
        try:
            self._sock.send(batch)
            while pending:
                data, _ancillary, msg_flags, _address = self._sock.recvmsg(_RECV_SIZE)
                if msg_flags & socket.MSG_TRUNC:
                    raise OSError(errnos.EMSGSIZE, "netlink reply truncated")
                for kind, flags, seq, payload in parse_messages(data):
                    if seq not in pending:
                        continue  # the tail of an abandoned dump
                    if kind in (NLMSG_ERROR, NLMSG_DONE):
                        pending.discard(seq)
                        # DONE holds the dump's errno, its extended-ack TLVs (if any) right after
                        code, detail = (parse_error(flags, payload) if kind == NLMSG_ERROR
                                        else (-struct.unpack_from("=i", payload.ljust(4, b"\0"))[0], ""))
                        if code:
                            failures[seq] = (code, detail)
                    elif flags & NLM_F_DUMP_INTR:
                        failures.setdefault(seq, (errnos.EINTR, "dump interrupted"))
                    else:
                        replies[seq].append(payload)
        except OSError as exc:
            raise netlink_error(requests[0][3], exc.errno or errnos.EIO) from None
        for seq, (_kind, _flags, _body, what) in zip(order, requests):
            if seq in failures:
                raise netlink_error(what, *failures[seq])
        return [replies[seq] for seq in order]

    def _call(self, kind: int, flags: int, body: bytes, what: str) -> list[bytes]:
        return self.exchange([(kind, flags | NLM_F_ACK, body, what)])[0]

    def _dump(self, kind: int, body: bytes, what: str) -> list[bytes]:
        """A whole table, asked again when it changed midway (NLM_F_DUMP_INTR)
        or the socket's buffer overflowed (ENOBUFS)."""
        attempts = _DUMP_ATTEMPTS
        while True:
            try:
                return self.exchange([(kind, NLM_F_DUMP, body, what)])[0]
            except NetlinkError as exc:
                attempts -= 1
                if exc.errno not in (errnos.EINTR, errnos.ENOBUFS) or not attempts:
                    raise

    # -------------------------------------------------------- links

    def links(self) -> list[Link]:
        return [parse_link(payload) for payload in self._dump(RTM_GETLINK, ifinfo(), "listing links")]

    def link_index(self, name: str) -> int | None:
        try:
            found = self._call(RTM_GETLINK, 0, ifinfo() + attr_str(IFLA_IFNAME, name),
                               f"looking up link {name}")
        except NetlinkError as exc:
            if exc.errno == errnos.ENODEV:
                return None
            raise
        return parse_link(found[0]).index

    def _create(self, body: bytes, name: str, what: str) -> int:
        """Create a link and learn its index in one round trip: the lookup in
        the same datagram is read-only, so harmless when the creation fails."""
        _created, found = self.exchange([
            (RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, body, what),
            (RTM_GETLINK, NLM_F_ACK, ifinfo() + attr_str(IFLA_IFNAME, name), f"looking up link {name}"),
        ])
        return parse_link(found[0]).index

    def add_bridge(self, name: str, *, mtu: int | None = None, mac: str | None = None) -> int:
        """Create a bridge, up; returns its index."""
        body = ifinfo(up=True) + attr_str(IFLA_IFNAME, name)
        body += attr(IFLA_ADDRESS, mac_bytes(mac)) if mac else b""
        body += nested(IFLA_LINKINFO, attr_str(IFLA_INFO_KIND, "bridge"))
        index = self._create(body, name, f"creating bridge {name}")
        if mtu is not None:
            # a changed MTU, not one given at creation, marks it as the user's:
            # otherwise the bridge follows its ports' smallest MTU
            self.set_link(index, mtu=mtu)
        return index

    def add_veth(self, name: str, peer: str, peer_netns_fd: int, *, master: int | None = None,
                 mtu: int | None = None, peer_mac: str | None = None, group: int | None = None) -> int:
        """Create a veth pair in one request: ``name`` here, up (as in
        `ip link add ... up`), on ``master``, in ``group``; ``peer`` (down) in
        ``peer_netns_fd``'s namespace. Returns the host side's index."""
        body = veth_body(name, peer, peer_netns_fd, master=master, mtu=mtu, peer_mac=peer_mac, group=group)
        return self._create(body, name, f"creating veth {name} (peer {peer})")

    def set_link(self, name_or_index: int | str, *, up: bool | None = None, mtu: int | None = None,
                 master: int | None = None, mac: str | None = None, rename: str | None = None) -> None:
        """Change what is given; ``master=0`` takes the link off its bridge."""
        what = f"changing link {name_or_index}"
        if rename is not None and isinstance(name_or_index, str):
            index = self.link_index(name_or_index)    # IFLA_IFNAME will carry the new name
            if index is None:
                raise netlink_error(what, errnos.ENODEV)
            name_or_index = index
        body = _addressing(name_or_index, up)
        body += attr_str(IFLA_IFNAME, rename) if rename is not None else b""
        body += attr(IFLA_ADDRESS, mac_bytes(mac)) if mac else b""
        body += b"".join(attr_u32(kind, value) for kind, value in
                         ((IFLA_MTU, mtu), (IFLA_MASTER, master)) if value is not None)
        self._call(RTM_SETLINK, 0, body, what)

    def delete_link(self, name_or_index: int | str, *, missing_ok: bool = False) -> None:
        self._delete(_addressing(name_or_index), f"deleting link {name_or_index}", missing_ok)

    def delete_group(self, group: int, *, missing_ok: bool = False) -> None:
        """Delete every link of ``group`` in one batch, one RCU grace period
        (as `ip link del group N`); ENODEV when the group is empty."""
        self._delete(ifinfo() + attr_u32(IFLA_GROUP, group), f"deleting link group {group}", missing_ok)

    def _delete(self, body: bytes, what: str, missing_ok: bool) -> None:
        try:
            self._call(RTM_DELLINK, 0, body, what)
        except NetlinkError as exc:
            if not (missing_ok and exc.errno == errnos.ENODEV):
                raise

    # -------------------------------------------------------- addresses, routes

    def add_address(self, index: int, cidr: str) -> None:
        self._call(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, address_body(index, cidr),
                   f"adding address {cidr} to link {index}")

    def addresses(self) -> list[tuple[int, str]]:
        """(link index, "a.b.c.d/len") of every IPv4 address."""
        dump = self._dump(RTM_GETADDR, _IFADDR.pack(socket.AF_INET, 0, 0, 0, 0), "listing addresses")
        return [found for found in map(parse_address, dump) if found]

    def add_route(self, destination: str, *, gateway: str | None = None, index: int | None = None) -> None:
        """A main-table IPv4 route; "0.0.0.0/0" is the default route."""
        what = f"adding route {destination}" + (f" via {gateway}" if gateway else "") + (
            f" dev {index}" if index is not None else "")
        self._call(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, route_body(destination, gateway, index), what)

    def routes(self) -> list[Route]:
        """The IPv4 routes of the main table."""
        dump = self._dump(RTM_GETROUTE, _RTMSG.pack(socket.AF_INET, *[0] * 8), "listing routes")
        return [found for found in map(parse_route, dump) if found]


def _open() -> socket.socket:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE)
    try:
        sock.bind((0, 0))
        # acks without the echoed request, with the kernel's reason text
        sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    except OSError:
        sock.close()
        raise
    return sock


def _addressing(name_or_index: int | str, up: bool | None = None) -> bytes:
    """ifinfomsg (+ IFLA_IFNAME) addressing a link by index or by name."""
    if isinstance(name_or_index, int):
        return ifinfo(name_or_index, up=up)
    return ifinfo(up=up) + attr_str(IFLA_IFNAME, name_or_index)

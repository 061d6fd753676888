"""Published ports: what a container asks for (docker's ``PortBindings``,
``ExposedPorts``, ``PublishAllPorts``), and the host ports it gets.

The traffic itself goes through kernel NAT (firewall.py); here a host port
is *reserved* by a socket bound to it (not listening: DNAT comes before any
socket sees a packet), so no other program can take a published port and a
port already in use is refused before anything is made, naming who holds
it. A random host port is the kernel's choice (bind to port 0).
"""
from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from engine.runtime import process

from .errors import Conflict, InvalidRequest

PROTOCOLS = ("tcp", "udp")


@dataclass(frozen=True)
class Request:
    protocol: str
    port: int  # the container's
    host_ip: str  # "" for every address
    first: int  # host port range; 0, 0 for a random one
    last: int


@dataclass(frozen=True)
class Published:
    protocol: str
    port: int
    host_ip: str
    host_port: int

    @property
    def key(self) -> str:
        return f"{self.port}/{self.protocol}"


def _port(text: str, what: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= 65535:
        raise InvalidRequest(f"invalid {what} {text!r}: a port is a number from 1 to 65535")
    return int(text)


def split_key(key: str) -> tuple[int, str]:
    """``"80/tcp"`` -> (80, "tcp"); the protocol defaults to tcp."""
    port, _, protocol = key.partition("/")
    protocol = protocol or "tcp"
    if protocol not in PROTOCOLS:
        raise InvalidRequest(f"invalid port {key!r}: protocol {protocol!r} is not supported (tcp or udp)")
    return _port(port, f"container port in {key!r}"), protocol


def requests(bindings: dict | None, exposed: dict | None = None, publish_all: bool = False) -> list[Request]:
    """What to publish, in a stable order; raises InvalidRequest naming the value."""
    found: list[Request] = []
    for key, entries in sorted((bindings or {}).items()):
        port, protocol = split_key(key)
        for entry in entries or [{}]:
            host_ip = (entry or {}).get("HostIp") or ""
            if host_ip:
                try:
                    socket.inet_pton(socket.AF_INET, host_ip)
                except OSError:
                    raise InvalidRequest(f"invalid host address {host_ip!r} for port {key}: IPv4 "
                                         "addresses only (IPv6 is not supported yet)") from None
            text = str((entry or {}).get("HostPort") or "")
            if not text:
                first = last = 0
            else:
                low, _, high = text.partition("-")
                first = _port(low, f"host port in {key!r}")
                last = _port(high, f"host port in {key!r}") if high else first
                if last < first:
                    raise InvalidRequest(f"invalid host port range {text!r} for port {key}")
            found.append(Request(protocol, port, host_ip, first, last))
    if publish_all:
        bound = {(r.port, r.protocol) for r in found}
        for key in sorted(exposed or {}):
            port, protocol = split_key(key)
            if (port, protocol) not in bound:
                found.append(Request(protocol, port, "", 0, 0))
    return found


class Reservations:
    """Host ports held for running containers: container id -> sockets."""

    def __init__(self) -> None:
        self._held: dict[str, list[tuple[Published, socket.socket]]] = {}

    def owner(self, protocol: str, host_ip: str, host_port: int) -> str | None:
        for container, held in self._held.items():
            for published, _ in held:
                same_address = not published.host_ip or not host_ip or published.host_ip == host_ip
                if published.protocol == protocol and published.host_port == host_port and same_address:
                    return container
        return None

    def reserve(self, container: str, wanted: list[Request], name_of=lambda cid: cid) -> list[Published]:
        """Bind every wanted port for ``container`` (all or none)."""
        self.release(container)
        held: list[tuple[Published, socket.socket]] = []
        try:
            for request in wanted:
                held.append(self._bind(request, name_of))
        except BaseException:
            for _, sock in held:
                sock.close()
            raise
        self._held[container] = held
        return [published for published, _ in held]

    def _bind(self, request: Request, name_of) -> tuple[Published, socket.socket]:
        candidates = range(request.first, request.last + 1) if request.first else [0]
        problem: Exception | None = None
        for host_port in candidates:
            if host_port and (holder := self.owner(request.protocol, request.host_ip, host_port)):
                problem = Conflict(f"Bind for {request.host_ip or '0.0.0.0'}:{host_port} failed: port is "
                                   f"already allocated (published by container {name_of(holder)})")
                continue
            kind = socket.SOCK_STREAM if request.protocol == "tcp" else socket.SOCK_DGRAM
            sock = socket.socket(socket.AF_INET, kind)
            try:
                sock.bind((request.host_ip or "0.0.0.0", host_port))
            except OSError as error:
                sock.close()
                problem = self._refusal(request, host_port, error)
                if error.errno != errno.EADDRINUSE:
                    break
                continue
            published = Published(request.protocol, request.port, request.host_ip, sock.getsockname()[1])
            return published, sock
        assert problem is not None
        raise problem

    @staticmethod
    def _refusal(request: Request, host_port: int, error: OSError) -> Exception:
        where = f"{request.host_ip or '0.0.0.0'}:{host_port}"
        if error.errno == errno.EADDRINUSE:
            holders = process.socket_holders(host_port, request.protocol)
            by = f" by {', '.join(holders)}" if holders else ""
            return Conflict(f"Bind for {where} failed: port {host_port}/{request.protocol} is already in "
                            f"use{by}: choose another host port, or stop what holds it")
        if error.errno == errno.EADDRNOTAVAIL:
            return InvalidRequest(f"cannot publish port {request.port}/{request.protocol} on {where}: "
                                  f"{request.host_ip} is not an address of this host")
        return Conflict(f"Bind for {where} failed: {error.strerror}")

    def release(self, container: str) -> None:
        for _, sock in self._held.pop(container, []):
            sock.close()

    def published(self, container: str) -> list[Published]:
        return [published for published, _ in self._held.get(container, [])]

    def close(self) -> None:
        for container in list(self._held):
            self.release(container)

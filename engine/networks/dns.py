"""The engine's embedded DNS server (docker's 127.0.0.11, podman's aardvark-dns).

The daemon runs one ``DnsServer``; ``listen`` once per bridge network on its
gateway, port 53, UDP and TCP. Who asks decides what exists: every query asks
the ``Records`` object (the networks service's) with the client's source
address, so a container starting or stopping changes the answers at once.
Nothing is cached here.

Answers (docker's choice wherever docker made one):

- A/ANY for a name ``Records.addresses`` knows: every address, the order
  rotated by one per query for that name (round robin). AAAA (no IPv6 yet) and
  other types for a known name: NOERROR with no answers.
- PTR for ``d.c.b.a.in-addr.arpa``: ``Records.pointer(client, "a.b.c.d")``.
- Flags: QR, opcode and RD copied, RA=1, AA=0: like docker we also speak for
  the upstreams, so we do not claim authority. TTL is the constructor's.
- Anything else is forwarded as it came (a fresh random id, a fresh socket so a
  fresh source port) to the client's upstreams in order, ``timeout`` each; an
  upstream's SERVFAIL or REFUSED moves on to the next one. No upstream, or all
  failed: SERVFAIL (docker's answer). The reply is relayed with the client's id.
- EDNS: an OPT record in the query lifts the UDP size limit to its payload
  size, and our own answers then carry a minimal OPT (payload 1232, no
  options); relayed answers are the upstream's bytes. A UDP answer over the
  limit (512 without EDNS) leaves as header + question with TC set, so the
  client retries over TCP (RFC 7766: length-prefixed, several per connection,
  closed after ``tcp_idle`` seconds of silence).
- A malformed query gets FORMERR (or nothing, without a whole header); a packet
  with QR set is never answered; nothing a client sends stops the loop.

Threads: one loop thread (selectors, non-blocking sockets, a pending table
with deadlines) serves UDP, accepts TCP and runs forwarded UDP queries; each
TCP connection gets a small thread of its own. ``Records`` is therefore called
from several threads and must be thread-safe.

Imports the standard library only: no dnslib (slow to import and per packet,
and this is the hot path), nothing else from the engine.
"""
from __future__ import annotations

import collections
import errno
import logging
import secrets
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

QR, OPCODE, TC, RD, RA = 0x8000, 0x7800, 0x0200, 0x0100, 0x0080
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
T_A, T_PTR, T_AAAA, T_OPT, T_ANY = 1, 12, 28, 41, 255
C_IN, C_ANY = 1, 255

_HEADER = struct.Struct("!6H")
_U16 = struct.Struct("!H")
_U16X2 = struct.Struct("!HH")
_U16X4 = struct.Struct("!4H")
_RR_TAIL = struct.Struct("!HHIH")  # type, class, ttl, rdlength: after an owner name
_A_RR = struct.Struct("!HHHIH4s")  # pointer to the question's name, ..., address
_PTR_RR = struct.Struct("!HHHIH")
_OPT_RR = b"\x00" + _RR_TAIL.pack(T_OPT, 1232, 0, 0)
_MAX_PENDING = 512  # forwarded UDP queries in flight (each holds a socket)
_MAX_TCP = 128  # TCP connections (each holds a thread)
_RETRY_RCODES = (SERVFAIL, REFUSED)
_CACHE_SIZE = 4096  # parsed questions, round-robin turns, packed records


class Records(Protocol):
    def addresses(self, client: str, name: str) -> list[str] | None:
        """IPv4 addresses `name` (lower-case, no trailing dot) has for the container
        at `client`; None: not a name of ours for this client (forward it)."""

    def pointer(self, client: str, address: str) -> str | None:
        """The name for a reverse lookup of `address` as this client sees it, or None."""

    def upstreams(self, client: str) -> list[tuple[str, int]]:
        """Where to forward this client's other queries, in order."""


class _Malformed(Exception):
    pass


@dataclass(slots=True)
class _Query:
    id: int
    flags: int
    name: str | None  # lower-case, no trailing dot; None: not plain ASCII labels
    qtype: int
    qclass: int
    question: bytes  # as asked: echoed in the answer
    payload: int  # the largest UDP answer the client takes
    edns: bool


@dataclass(slots=True)
class _Pending:
    """A forwarded UDP query: whom to answer and which upstream is being asked."""

    listener: socket.socket
    client: tuple
    query: _Query
    data: bytes
    upstreams: list[tuple[str, int]]
    index: int = 0
    sock: socket.socket | None = None
    qid: int = 0
    deadline: float = 0.0


@dataclass(slots=True)
class _Listener:
    address: str
    port: int
    udp: socket.socket
    tcp: socket.socket


# -- wire format --------------------------------------------------------------


def _read_name(data: bytes, pos: int) -> tuple[list[bytes], int]:
    """The labels of the name at `pos` and the offset after it. Pointers must
    go strictly backwards (and past the header), so no loop can be built."""
    labels: list[bytes] = []
    after, size, limit, end = -1, 0, pos, len(data)
    while True:
        if pos >= end:
            raise _Malformed
        length = data[pos]
        if length == 0:
            return labels, (after if after >= 0 else pos + 1)
        if length >= 0xC0:
            if pos + 1 >= end:
                raise _Malformed
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if target >= limit or target < 12:
                raise _Malformed
            if after < 0:
                after = pos + 2
            pos = limit = target
            continue
        size += length + 1
        if length > 63 or size > 255 or pos + 1 + length > end:
            raise _Malformed
        labels.append(data[pos + 1:pos + 1 + length])
        pos += 1 + length


def _text(labels: list[bytes]) -> str | None:
    try:
        name = b".".join(labels).decode("ascii").lower()
    except UnicodeDecodeError:
        return None
    # A dot inside a label would make a different name of ours: never ours.
    return name if name.count(".") == max(len(labels) - 1, 0) else None


def _edns(data: bytes, pos: int, count: int) -> tuple[int, bool]:
    """The client's UDP payload size from an OPT among the records after the question."""
    for _ in range(count):
        _, pos = _read_name(data, pos)
        if pos + 10 > len(data):
            raise _Malformed
        rtype, rclass, _, rdlength = _RR_TAIL.unpack_from(data, pos)
        pos += 10 + rdlength
        if rtype == T_OPT:
            return max(512, rclass), True
    return 512, False


def _parse_rest(data: bytes) -> tuple:
    """What follows the id and flags, as the fields of a `_Query` after them."""
    qdcount, ancount, nscount, arcount = _U16X4.unpack_from(data, 4)
    if qdcount != 1:
        raise _Malformed
    labels, pos = _read_name(data, 12)
    if pos + 4 > len(data):
        raise _Malformed
    qtype, qclass = _U16X2.unpack_from(data, pos)
    payload, edns = 512, False
    if ancount or nscount or arcount:
        payload, edns = _edns(data, pos + 4, ancount + nscount + arcount)
    return _text(labels), qtype, qclass, data[12:pos + 4], payload, edns


def _reply(q: _Query, rcode: int, answers: bytes = b"", count: int = 0) -> bytes:
    flags = QR | RA | (q.flags & (OPCODE | RD)) | rcode
    header = _HEADER.pack(q.id, flags, 1, count, 0, 1 if q.edns else 0)
    return header + q.question + answers + (_OPT_RR if q.edns else b"")


def _error(data: bytes, rcode: int) -> bytes:
    """Header only: for a query whose question could not be read."""
    qid, flags = _U16X2.unpack_from(data)
    return _HEADER.pack(qid, QR | RA | (flags & (OPCODE | RD)) | rcode, 0, 0, 0, 0)


def _fit(answer: bytes, q: _Query) -> bytes:
    if len(answer) <= q.payload:
        return answer
    qid, flags = _U16X2.unpack_from(answer)
    return _HEADER.pack(qid, flags | TC, 1, 0, 0, 0) + q.question


def _encode(name: str) -> bytes:
    labels = [label.encode("ascii") for label in name.rstrip(".").split(".") if label]
    if any(len(label) > 63 for label in labels):
        raise ValueError(f"label too long in {name!r}")
    return b"".join(bytes((len(label),)) + label for label in labels) + b"\x00"


def _reverse(name: str) -> str | None:
    """``d.c.b.a.in-addr.arpa`` → ``a.b.c.d``; None for any other name."""
    parts = name.split(".")
    if len(parts) != 6 or parts[4:] != ["in-addr", "arpa"]:
        return None
    octets = parts[3::-1]
    if not all(o.isdigit() and int(o) < 256 for o in octets):
        return None
    return ".".join(octets)


def _check(answer: bytes, qid: int, question: bytes) -> int | None:
    """The rcode of an upstream's answer to our query; None: not that answer."""
    if len(answer) < 12 or _U16.unpack_from(answer)[0] != qid or not answer[2] & 0x80:
        return None
    # An upstream's FORMERR may carry no question; any other answer must echo ours.
    qdcount = _U16.unpack_from(answer, 4)[0]
    if qdcount and answer[12:12 + len(question)].lower() != question.lower():
        return None
    return answer[3] & 0x0F


def _read_message(sock: socket.socket) -> bytes | None:
    """One length-prefixed TCP message; None at end of stream."""
    prefix = _recv_exact(sock, 2)
    return None if prefix is None else _recv_exact(sock, _U16.unpack(prefix)[0])


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = sock.recv(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _send(sock: socket.socket, data: bytes, address: tuple) -> None:
    try:
        sock.sendto(data, address)
    except OSError:  # a full buffer or a closed listener: UDP may drop
        pass


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _bind(address: str, port: int) -> tuple[socket.socket, socket.socket]:
    """UDP and TCP sockets on the same address:port (port 0: one free for both)."""
    for _ in range(16 if port == 0 else 1):
        udp = socket.socket(_family(address), socket.SOCK_DGRAM)
        tcp = socket.socket(_family(address), socket.SOCK_STREAM)
        try:
            udp.bind((address, port))
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((address, udp.getsockname()[1]))
            tcp.listen(128)
        except OSError as e:
            udp.close()
            tcp.close()
            if port == 0 and e.errno == errno.EADDRINUSE:
                continue
            raise OSError(e.errno, f"cannot listen on {address}:{port}: {e.strerror}") from None
        try:  # room for a burst of queries while the loop is busy
            udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        except OSError:
            pass
        udp.setblocking(False)
        tcp.setblocking(False)
        return udp, tcp
    raise OSError(errno.EADDRINUSE, f"cannot listen on {address}:{port}: no port free for UDP and TCP")


# -- the server ---------------------------------------------------------------


class DnsServer:
    def __init__(self, records: Records, *, timeout: float = 2.0, ttl: int = 600,
                 tcp_idle: float = 10.0) -> None:
        self._records = records
        self._timeout = timeout
        self._ttl = ttl
        self._tcp_idle = tcp_idle
        self._lock = threading.Lock()  # listeners and connections
        self._listeners: dict[str, _Listener] = {}
        self._conns: dict[socket.socket, str] = {}
        self._turns: dict[str, int] = {}  # name -> queries answered: the rotation
        self._parsed: dict[bytes, tuple] = {}
        self._records_a: dict[str, bytes] = {}
        # Loop-thread only: insertion order is deadline order (one timeout for all).
        self._pending: collections.OrderedDict[int, _Pending] = collections.OrderedDict()
        self._calls: collections.deque[Callable[[], None]] = collections.deque()
        self._selector: selectors.BaseSelector | None = None
        self._wakeup: tuple[socket.socket, socket.socket] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

    @property
    def bound(self) -> list[tuple[str, int]]:
        with self._lock:
            return [(l.address, l.port) for l in self._listeners.values()]

    def listen(self, address: str, port: int = 53) -> None:
        with self._lock:
            current = self._listeners.get(address)
        if current is not None and port in (0, current.port):
            return
        if current is not None:
            self.unlisten(address)
        udp, tcp = _bind(address, port)
        listener = _Listener(address, udp.getsockname()[1], udp, tcp)
        with self._lock:
            self._listeners[address] = listener
        self._in_loop(lambda: self._register(listener))

    def unlisten(self, address: str) -> None:
        with self._lock:
            listener = self._listeners.pop(address, None)
            conns = [c for c, local in self._conns.items() if local == address]
        if listener is not None:
            self._in_loop(lambda: self._close_listener(listener))
        for conn in conns:
            _shutdown(conn)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._selector = selectors.DefaultSelector()
        self._wakeup = socket.socketpair()
        for end in self._wakeup:
            end.setblocking(False)
        self._selector.register(self._wakeup[0], selectors.EVENT_READ, self._on_wakeup)
        with self._lock:
            listeners = list(self._listeners.values())
        for listener in listeners:
            self._register(listener)
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="dns", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping = True
            self._wake()
            self._thread.join()
            self._thread = None
        with self._lock:
            listeners, self._listeners = list(self._listeners.values()), {}
            conns = list(self._conns)
        for listener in listeners:
            self._close_listener(listener)
        for conn in conns:
            _shutdown(conn)
        for pending in list(self._pending.values()):
            self._drop(pending)
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        for end in self._wakeup or ():
            end.close()
        self._wakeup = None

    # -- the loop thread --

    def _loop(self) -> None:
        assert self._selector is not None
        while not self._stopping:
            for key, _ in self._selector.select(self._wait()):
                try:
                    key.data(key.fileobj)
                except Exception:  # one bad packet or socket must not end the server
                    log.exception("dns: handling %r", key.fileobj)
            if self._pending:
                self._expire(time.monotonic())
            while self._calls:
                self._calls.popleft()()

    def _wait(self) -> float | None:
        if not self._pending:
            return None
        first = next(iter(self._pending.values()))
        return max(0.0, first.deadline - time.monotonic())

    def _in_loop(self, call: Callable[[], None]) -> None:
        """Run `call` in the loop thread (it owns the selector) and wait for it."""
        thread = self._thread
        if thread is None or thread is threading.current_thread() or not thread.is_alive():
            call()
            return
        done = threading.Event()

        def wrapped() -> None:
            try:
                call()
            finally:
                done.set()

        self._calls.append(wrapped)
        self._wake()
        done.wait(5.0)

    def _wake(self) -> None:
        try:
            if self._wakeup is not None:
                self._wakeup[1].send(b"\0")
        except OSError:  # full: the loop is awake anyway
            pass

    def _on_wakeup(self, sock: socket.socket) -> None:
        try:
            sock.recv(4096)
        except OSError:
            pass

    def _register(self, listener: _Listener) -> None:
        if self._selector is not None:
            self._selector.register(listener.udp, selectors.EVENT_READ, self._on_udp)
            self._selector.register(listener.tcp, selectors.EVENT_READ, self._on_accept)

    def _close_listener(self, listener: _Listener) -> None:
        for sock in (listener.udp, listener.tcp):
            if self._selector is not None:
                try:
                    self._selector.unregister(sock)
                except (KeyError, ValueError):
                    pass
            sock.close()

    def _on_udp(self, sock: socket.socket) -> None:
        recvfrom, sendto, respond = sock.recvfrom, sock.sendto, self._respond
        for _ in range(64):  # drain a burst per wake-up: fewer select calls under load
            try:
                data, client = recvfrom(4096)
            except OSError:
                return
            try:
                q, answer = respond(data, client[0])
                if answer is not None:
                    sendto(answer if q is None else _fit(answer, q), client)
                elif q is not None:
                    upstreams = list(self._records.upstreams(client[0]))
                    self._forward(_Pending(sock, client, q, data, upstreams))
            except OSError:  # a full send buffer: UDP may drop
                pass
            except Exception:
                log.exception("dns: query from %s", client)

    def _forward(self, p: _Pending) -> None:
        if len(self._pending) >= _MAX_PENDING:
            _send(p.listener, _fit(_reply(p.query, SERVFAIL), p.query), p.client)
            return
        self._next_upstream(p)

    def _next_upstream(self, p: _Pending) -> None:
        while p.index < len(p.upstreams):
            host, port = p.upstreams[p.index]
            p.index += 1
            sock = socket.socket(_family(host), socket.SOCK_DGRAM)
            try:
                sock.setblocking(False)
                sock.connect((host, port))  # connected: only that upstream's datagrams
                p.qid = secrets.randbits(16)
                sock.send(_U16.pack(p.qid) + p.data[2:])
            except OSError:
                sock.close()
                continue
            p.sock, p.deadline = sock, time.monotonic() + self._timeout
            self._pending[sock.fileno()] = p
            assert self._selector is not None
            self._selector.register(sock, selectors.EVENT_READ, self._on_upstream)
            return
        _send(p.listener, _fit(_reply(p.query, SERVFAIL), p.query), p.client)

    def _on_upstream(self, sock: socket.socket) -> None:
        p = self._pending.get(sock.fileno())
        if p is None:
            return
        try:
            answer = sock.recv(65535)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # ICMP unreachable and the like: next upstream
            self._drop(p)
            self._next_upstream(p)
            return
        rcode = _check(answer, p.qid, p.query.question)
        if rcode is None:
            return  # not our answer: keep waiting for it
        self._drop(p)
        if rcode in _RETRY_RCODES:
            self._next_upstream(p)
        else:
            _send(p.listener, _fit(_U16.pack(p.query.id) + answer[2:], p.query), p.client)

    def _drop(self, p: _Pending) -> None:
        if p.sock is None:
            return
        self._pending.pop(p.sock.fileno(), None)
        if self._selector is not None:
            self._selector.unregister(p.sock)
        p.sock.close()
        p.sock = None

    def _expire(self, now: float) -> None:
        while self._pending:
            p = next(iter(self._pending.values()))
            if p.deadline > now:
                return
            self._drop(p)
            self._next_upstream(p)

    def _on_accept(self, sock: socket.socket) -> None:
        try:
            conn, client = sock.accept()
        except OSError:
            return
        with self._lock:
            if len(self._conns) >= _MAX_TCP:
                conn.close()
                return
            self._conns[conn] = conn.getsockname()[0]
        threading.Thread(target=self._serve_tcp, args=(conn, client[0]),
                         name="dns-tcp", daemon=True).start()

    # -- any thread --

    def _respond(self, data: bytes, client: str) -> tuple[_Query | None, bytes | None]:
        """(query, answer): answer None with a query means forward it; both None: drop."""
        if len(data) < 12 or data[2] & 0x80:
            return None, None
        # A client asks the same few questions with new ids: everything after
        # the id and flags is parsed once (parsing only; the answer is not cached).
        key = data[4:]
        rest = self._parsed.get(key)
        if rest is None:
            try:
                rest = _parse_rest(data)
            except _Malformed:
                return None, _error(data, FORMERR)
            if len(self._parsed) >= _CACHE_SIZE:
                self._parsed.clear()
            if len(key) <= 300:  # bounds the cache's memory
                self._parsed[key] = rest
        qid, flags = _U16X2.unpack_from(data)
        q = _Query(qid, flags, *rest)
        if q.flags & OPCODE:
            return q, _reply(q, NOTIMP)
        if q.name is None or q.qclass not in (C_IN, C_ANY):
            return q, None
        if q.qtype in (T_PTR, T_ANY):
            address = _reverse(q.name)
            target = None if address is None else self._records.pointer(client, address)
            if target is not None:
                return q, self._pointer(q, target)
        addresses = self._records.addresses(client, q.name)
        if addresses is None:
            return q, None
        if q.qtype in (T_A, T_ANY) and addresses:
            return q, self._addresses(q, addresses)
        return q, _reply(q, NOERROR)

    def _addresses(self, q: _Query, addresses: list[str]) -> bytes:
        turns, name = self._turns, q.name
        # No lock: TCP threads racing the loop could at worst repeat an order.
        if len(turns) >= _CACHE_SIZE:
            turns.clear()
        turn = turns.get(name, 0)
        turns[name] = turn + 1
        k = turn % len(addresses)
        rrs = [self._records_a.get(a) or self._record_a(a) for a in addresses]
        return _reply(q, NOERROR, b"".join(rrs[k:] + rrs[:k]), len(rrs))

    def _record_a(self, address: str) -> bytes:
        if len(self._records_a) >= _CACHE_SIZE:
            self._records_a.clear()
        rr = _A_RR.pack(0xC00C, T_A, C_IN, self._ttl, 4, socket.inet_aton(address))
        self._records_a[address] = rr
        return rr

    def _pointer(self, q: _Query, target: str) -> bytes:
        try:
            rdata = _encode(target)
        except (ValueError, UnicodeEncodeError):
            return _reply(q, SERVFAIL)
        rr = _PTR_RR.pack(0xC00C, T_PTR, C_IN, self._ttl, len(rdata)) + rdata
        return _reply(q, NOERROR, rr, 1)

    def _serve_tcp(self, conn: socket.socket, client: str) -> None:
        try:
            conn.settimeout(self._tcp_idle)
            while (data := _read_message(conn)) is not None:
                q, answer = self._respond(data, client)
                if q is not None and answer is None:
                    answer = self._forward_tcp(q, data, list(self._records.upstreams(client)))
                if answer is not None:
                    conn.sendall(_U16.pack(len(answer)) + answer)
        except OSError:  # idle timeout, reset, or unlisten's shutdown
            pass
        except Exception:
            log.exception("dns: TCP connection from %s", client)
        finally:
            with self._lock:
                self._conns.pop(conn, None)
            conn.close()

    def _forward_tcp(self, q: _Query, data: bytes, upstreams: list[tuple[str, int]]) -> bytes:
        for host, port in upstreams:
            qid = secrets.randbits(16)
            try:
                with socket.create_connection((host, port), timeout=self._timeout) as up:
                    up.sendall(_U16.pack(len(data)) + _U16.pack(qid) + data[2:])
                    answer = _read_message(up)
            except OSError:
                continue
            rcode = None if answer is None else _check(answer, qid, q.question)
            if answer is not None and rcode is not None and rcode not in _RETRY_RCODES:
                return _U16.pack(q.id) + answer[2:]
        return _reply(q, SERVFAIL)


def _shutdown(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass

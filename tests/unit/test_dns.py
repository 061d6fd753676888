"""The embedded DNS server over loopback: local answers, forwarding, TCP, bad packets.

dnslib builds the queries and decodes the answers (an independent decoder),
and plays the upstream resolvers.
"""
from __future__ import annotations

import socket
import struct
import threading
import time

import pytest
from dnslib import EDNS0, QTYPE, RCODE, RR, A, DNSRecord

from engine.networks.dns import DnsServer

WEB = ["10.0.0.2", "10.0.0.3", "10.0.0.4"]


class FakeRecords:
    """Per-client views: {client: {name: [addresses]}}; pointers likewise."""

    def __init__(self, views=None, pointers=None, upstreams=()):
        self.views = views or {}
        self.pointers = pointers or {}
        self.ups = list(upstreams)

    def addresses(self, client, name):
        return self.views.get(client, {}).get(name)

    def pointer(self, client, address):
        return self.pointers.get(client, {}).get(address)

    def upstreams(self, client):
        return self.ups


class Upstream:
    """A resolver on 127.0.0.1 (UDP and TCP, one port) answering with dnslib.

    `hold`: keep UDP queries until that many arrived, then answer them all, to
    prove they were in flight together. `silent`: never answer."""

    def __init__(self, rcode=RCODE.NOERROR, hold=0, silent=False):
        self.rcode, self.hold, self.silent = rcode, hold, silent
        self.ids: list[int] = []
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(16)
        self.address = ("127.0.0.1", self.port)
        if not silent:
            threading.Thread(target=self._udp, daemon=True).start()
            threading.Thread(target=self._tcp, daemon=True).start()

    def answer(self, data: bytes) -> bytes:
        request = DNSRecord.parse(data)
        self.ids.append(request.header.id)
        reply = request.reply()
        reply.header.rcode = self.rcode
        if self.rcode == RCODE.NOERROR:
            reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A("93.184.216.34"), ttl=60))
        return reply.pack()

    def _udp(self):
        held = []
        while True:
            try:
                data, client = self.udp.recvfrom(4096)
            except OSError:
                return
            held.append((data, client))
            if len(held) >= self.hold:
                for data, client in held:
                    self.udp.sendto(self.answer(data), client)
                held = []

    def _tcp(self):
        while True:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            with conn:
                size = struct.unpack("!H", _exact(conn, 2))[0]
                out = self.answer(_exact(conn, size))
                conn.sendall(struct.pack("!H", len(out)) + out)

    def close(self):
        self.udp.close()
        self.tcp.close()


def _exact(conn, size):
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


@pytest.fixture
def records():
    return FakeRecords({"127.0.0.1": {"web": list(WEB), "db": ["10.0.0.9"]}})


@pytest.fixture
def server(records):
    dns = DnsServer(records, timeout=0.3, ttl=600, tcp_idle=2.0)
    dns.listen("127.0.0.1", 0)
    dns.start()
    yield dns
    dns.stop()


def port_of(dns):
    return dict(dns.bound)["127.0.0.1"]


def ask(port, name, qtype="A", *, source="127.0.0.1", server="127.0.0.1", edns=None,
        timeout=3.0) -> DNSRecord:
    query = DNSRecord.question(name, qtype)
    if edns:
        query.add_ar(EDNS0(udp_len=edns))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.settimeout(timeout)
        sock.sendto(query.pack(), (server, port))
        answer = DNSRecord.parse(sock.recv(65535))
    assert answer.header.id == query.header.id
    return answer


def ask_tcp(conn, name, qtype="A") -> DNSRecord:
    query = DNSRecord.question(name, qtype)
    data = query.pack()
    conn.sendall(struct.pack("!H", len(data)) + data)
    answer = DNSRecord.parse(_exact(conn, struct.unpack("!H", _exact(conn, 2))[0]))
    assert answer.header.id == query.header.id
    return answer


def addresses(answer):
    return [str(rr.rdata) for rr in answer.rr if rr.rtype == QTYPE.A]


def test_a_answers_every_address_rotated_per_query(server):
    port = port_of(server)
    orders = [addresses(ask(port, "web")) for _ in range(4)]
    assert all(sorted(order) == sorted(WEB) for order in orders)
    assert orders[0] == WEB and orders[1] == WEB[1:] + WEB[:1] and orders[3] == orders[0]
    answer = ask(port, "WeB.")  # case-insensitive, the question echoed as asked
    assert str(answer.q.qname) == "WeB." and len(answer.rr) == 3
    header = answer.header
    assert (header.qr, header.rd, header.ra, header.aa, header.rcode) == (1, 1, 1, 0, 0)
    assert {rr.ttl for rr in answer.rr} == {600}


def test_aaaa_and_other_types_of_a_known_name_are_empty_noerror(server):
    for qtype in ("AAAA", "MX", "TXT"):
        answer = ask(port_of(server), "db", qtype)
        assert answer.header.rcode == RCODE.NOERROR and answer.rr == []
    assert addresses(ask(port_of(server), "db", "ANY")) == ["10.0.0.9"]


def test_ptr_answers_from_records_and_forwards_the_rest(records, server):
    upstream = Upstream()
    records.pointers = {"127.0.0.1": {"10.0.0.9": "db.net1"}}
    records.ups = [upstream.address]
    answer = ask(port_of(server), "9.0.0.10.in-addr.arpa", "PTR")
    assert answer.header.rcode == 0 and str(answer.rr[0].rdata) == "db.net1."
    ask(port_of(server), "8.0.0.10.in-addr.arpa", "PTR")
    assert len(upstream.ids) == 1  # unknown address: forwarded
    upstream.close()


def test_unknown_names_are_forwarded_with_a_fresh_id_and_relayed(records, server):
    upstream = Upstream()
    records.ups = [upstream.address]
    sent = []
    for _ in range(3):
        answer = ask(port_of(server), "example.com")  # ask() checks the client's id came back
        sent.append(answer.header.id)
        assert addresses(answer) == ["93.184.216.34"]
    assert len(upstream.ids) == 3 and upstream.ids != sent  # fresh random ids upstream
    upstream.close()


def test_nxdomain_is_relayed(records, server):
    upstream = Upstream(rcode=RCODE.NXDOMAIN)
    records.ups = [upstream.address]
    assert ask(port_of(server), "missing.example").header.rcode == RCODE.NXDOMAIN
    upstream.close()


def test_a_silent_upstream_moves_on_to_the_next_then_servfail(records, server):
    silent, good = Upstream(silent=True), Upstream()
    records.ups = [silent.address, good.address]
    start = time.monotonic()
    assert addresses(ask(port_of(server), "example.com")) == ["93.184.216.34"]
    assert 0.25 < time.monotonic() - start < 2.0  # one timeout (0.3 s), then the next
    records.ups = [silent.address, silent.address]
    assert ask(port_of(server), "example.com").header.rcode == RCODE.SERVFAIL
    records.ups = []  # no upstream at all: SERVFAIL, as docker answers
    assert ask(port_of(server), "example.com").header.rcode == RCODE.SERVFAIL
    failing = Upstream(rcode=RCODE.SERVFAIL)
    records.ups = [failing.address, good.address]  # an upstream's SERVFAIL: the next one
    assert addresses(ask(port_of(server), "example.com")) == ["93.184.216.34"]
    failing.close()
    silent.close()
    good.close()


def test_tcp_serves_several_queries_per_connection(records, server):
    upstream = Upstream()
    records.ups = [upstream.address]
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=3) as conn:
        assert sorted(addresses(ask_tcp(conn, "web"))) == sorted(WEB)
        assert addresses(ask_tcp(conn, "example.com")) == ["93.184.216.34"]  # forwarded on TCP
        assert ask_tcp(conn, "db", "AAAA").rr == []
    upstream.close()


def test_tcp_connection_closes_when_idle(records):
    dns = DnsServer(records, tcp_idle=0.2)
    dns.listen("127.0.0.1", 0)
    dns.start()
    try:
        with socket.create_connection(("127.0.0.1", port_of(dns)), timeout=3) as conn:
            assert conn.recv(10) == b""  # closed by the server after 0.2 s
    finally:
        dns.stop()


def test_records_changing_take_effect_at_once(records, server):
    assert addresses(ask(port_of(server), "db")) == ["10.0.0.9"]
    records.views["127.0.0.1"]["db"] = ["10.0.0.10"]
    assert addresses(ask(port_of(server), "db")) == ["10.0.0.10"]
    del records.views["127.0.0.1"]["db"]
    records.ups = []
    assert ask(port_of(server), "db").header.rcode == RCODE.SERVFAIL  # not ours any more


def test_each_client_sees_its_own_view(records, server):
    records.views["127.0.0.2"] = {"web": ["172.20.0.5"]}
    assert sorted(addresses(ask(port_of(server), "web", source="127.0.0.1"))) == sorted(WEB)
    assert addresses(ask(port_of(server), "web", source="127.0.0.2")) == ["172.20.0.5"]
    assert ask(port_of(server), "db", source="127.0.0.2").header.rcode == RCODE.SERVFAIL


def test_udp_answers_over_512_bytes_are_truncated_unless_edns(records, server):
    many = [f"10.1.{i // 250}.{i % 250 + 1}" for i in range(40)]
    records.views["127.0.0.1"]["big"] = many
    small = ask(port_of(server), "big")
    assert small.header.tc == 1 and small.rr == []
    large = ask(port_of(server), "big", edns=4096)
    assert large.header.tc == 0 and len(addresses(large)) == 40
    assert [rr.rtype for rr in large.ar] == [QTYPE.OPT]  # a minimal OPT back
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=3) as conn:
        assert len(addresses(ask_tcp(conn, "big"))) == 40


def test_malformed_packets_do_not_stop_the_server(server):
    port = port_of(server)
    header = struct.pack("!6H", 0x1234, 0x0100, 1, 0, 0, 0)
    loop = header + b"\x03web\xc0\x0c" + b"\x00\x01\x00\x01"  # a pointer back to itself
    bad = [b"", b"\x00" * 5, header, header + b"\x03we", loop, header + b"\x40abc\x00\x00\x01\x00\x01",
           struct.pack("!6H", 1, 0x0100, 2, 0, 0, 0) + b"\x00\x00\x01\x00\x01"]
    answers = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3)
        for packet in bad:
            sock.sendto(packet, ("127.0.0.1", port))
            try:
                answers.append(DNSRecord.parse(sock.recv(4096)).header.rcode)
            except TimeoutError:
                answers.append(None)
        # A response (QR set) is never answered.
        sock.sendto(DNSRecord.question("web").reply().pack(), ("127.0.0.1", port))
        with pytest.raises(TimeoutError):
            sock.recv(4096)
    assert answers[:2] == [None, None] and set(answers[2:]) == {RCODE.FORMERR}
    assert sorted(addresses(ask(port, "web"))) == sorted(WEB)


def test_200_forwarded_queries_in_flight_are_all_answered(records, server):
    upstream = Upstream(hold=200)  # answers only once all 200 have arrived
    records.ups = [upstream.address]
    server._timeout = 5.0
    queries = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.settimeout(5)
        for i in range(200):
            query = DNSRecord.question(f"host{i}.example.com")
            queries[query.header.id] = f"host{i}.example.com."
            sock.sendto(query.pack(), ("127.0.0.1", port_of(server)))
        answered = {}
        while len(answered) < len(queries):
            answer = DNSRecord.parse(sock.recv(4096))
            answered[answer.header.id] = str(answer.q.qname)
    assert answered == queries
    upstream.close()


def test_listen_and_unlisten_while_serving(server):
    server.listen("127.0.0.3", 0)
    port = dict(server.bound)["127.0.0.3"]
    ask(port, "web", server="127.0.0.3")  # served at once
    with pytest.raises(OSError, match=f"127.0.0.3:{port}"):
        DnsServer(FakeRecords()).listen("127.0.0.3", port)
    server.unlisten("127.0.0.3")
    server.unlisten("127.0.0.3")  # idempotent
    assert [a for a, _ in server.bound] == ["127.0.0.1"]
    with pytest.raises((TimeoutError, ConnectionRefusedError)):
        ask(port, "web", server="127.0.0.3", timeout=0.3)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as free:
        free.bind(("127.0.0.3", port))  # the port is free again
    assert sorted(addresses(ask(port_of(server), "web"))) == sorted(WEB)

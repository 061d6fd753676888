"""The networks service: bridge networks and the endpoints of running
containers on them, docker's user-defined bridge networks in behaviour.

Owns network records (``networks/<id>``, with their subnets), the runtime
endpoints of running containers (``endpoints/<container id>``, volatile:
addresses, MACs, veth names, published ports), the kernel objects made for
them (a bridge ``dy-<id12>`` per network, a veth pair per endpoint, through
netlink.py; netfilter chains through firewall.py), the host ports held for
published ports (ports.py) and the embedded DNS server (dns.py), to which
it answers who may see which name.

A container's *wish* (which networks, aliases, static addresses) is the
container service's, in its record; this service makes it real at start
(``attach``, into the network namespace of the prepared PID 1, before it
runs) and forgets it at exit (``release``). The kernel removes a stopped
container's veth with its namespace. Predefined networks: ``bridge`` (a
network like the others, made on first use, without names in DNS, as
docker's default bridge), ``host`` and ``none`` (no endpoints).
"""
from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from engine.state.store import StateStore

from . import ipam
from . import ports as portmap
from .errors import Conflict, Forbidden, InvalidRequest, NetworkError, NetworkNotFound
from .firewall import Iptables, PortRule

BRIDGE, HOST, NONE = "bridge", "host", "none"
PREDEFINED = {BRIDGE: "bridge", HOST: "host", NONE: "null"}  # name -> driver
MTU_OPTION = "com.docker.network.driver.mtu"
_KNOWN_OPTIONS = {MTU_OPTION}
DNS_PORT = 53
RESOLV_CONF = "/etc/resolv.conf"


@dataclass
class Settings:
    """What the daemon's config file says about networks."""
    pools: list[ipam.Pool] = field(default_factory=lambda: list(ipam.DEFAULT_POOLS))
    dns: list[tuple[str, int]] = field(default_factory=list)  # upstreams; empty: the host's


def host_resolvers(path: str = RESOLV_CONF) -> tuple[list[tuple[str, int]], list[str], list[str]]:
    """(nameservers, search domains, options) of a resolv.conf. The
    forwarder runs in the host's network namespace, so a 127.0.0.x stub
    resolver there is reachable as it is."""
    servers, search, options = [], [], []
    try:
        text = Path(path).read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] == "nameserver" and ":" not in words[1]:
            servers.append((words[1], DNS_PORT))
        elif words and words[0] in ("search", "domain"):
            search = words[1:]
        elif words and words[0] == "options":
            options += words[1:]
    return servers, search, options


class _Index:
    """Who answers to which name, as the DNS server reads it (rebuilt on
    every change, replaced whole: the server thread never sees it half-made)."""

    def __init__(self, endpoints: dict[str, dict], networks: dict[str, dict]) -> None:
        self.by_ip: dict[str, tuple[str, str]] = {}  # address -> (container, network id)
        self.names: dict[str, dict[str, list[str]]] = {}  # network id -> name -> addresses
        self.nets_of: dict[str, list[str]] = {}  # container -> network ids
        self.pointers: dict[str, str] = {}
        self.upstreams: dict[str, list[tuple[str, int]]] = {}
        self.net_names = {nid: record["name"] for nid, record in networks.items()}
        for cid, found in endpoints.items():
            self.upstreams[cid] = [(server, DNS_PORT) for server in found.get("dns") or []]
            for nid, endpoint in found["networks"].items():
                self.by_ip[endpoint["ip"]] = (cid, nid)
                self.nets_of.setdefault(cid, []).append(nid)
                name = self.net_names.get(nid, "")
                self.pointers[endpoint["ip"]] = f"{endpoint['dns_names'][0]}.{name}" if endpoint["dns_names"] \
                    else ""
                table = self.names.setdefault(nid, {})
                for dns_name in endpoint["dns_names"]:
                    table.setdefault(dns_name.lower(), []).append(endpoint["ip"])


class NetworkService:
    def __init__(self, root: Path, settings: Settings | None = None, *, firewall=None,
                 container_name=lambda cid: cid[:12]) -> None:
        self.store = StateStore(root)
        self.settings = settings or Settings()
        self.firewall = firewall or Iptables()
        self.container_name = container_name
        self.reservations = portmap.Reservations()
        self.lock = threading.RLock()
        self._host = None  # rtnetlink in the daemon's namespace, opened on first use
        self._dns = None
        self._up: set[str] = set()  # networks whose kernel objects this process has checked
        self._based = False
        self._resolvers: tuple[int | None, list[tuple[str, int]]] | None = None  # (mtime, servers)
        self._endpoints: dict[str, dict] = dict(self.store.records("endpoints"))
        self._index = _Index({}, {})
        self._refresh()

    # -- kernel handles --------------------------------------------------------------
    @property
    def host(self):
        if self._host is None:
            from .netlink import Netlink
            self._host = Netlink()
        return self._host

    @property
    def dns(self):
        if self._dns is None:
            from .dns import DnsServer
            self._dns = DnsServer(self)
            self._dns.start()
        return self._dns

    def close(self) -> None:
        """Stop serving (the daemon stops): DNS and held ports go; kernel objects stay."""
        if self._dns is not None:
            self._dns.stop()
            self._dns = None
        self.reservations.close()
        if self._host is not None:
            self._host.close()
            self._host = None

    # -- records -----------------------------------------------------------------------
    def _records(self) -> dict[str, dict]:
        return dict(self.store.records("networks"))

    def find(self, ref: str) -> dict:
        """As docker looks a network up: full id, name, then unique id prefix;
        host and none are pseudo-records."""
        if ref in (HOST, NONE):
            return self._pseudo(ref)
        records = self._records()
        records.update({r["id"]: r for r in (self._pseudo(HOST), self._pseudo(NONE))})
        if ref in records:
            return records[ref]
        named = [r for r in records.values() if r["name"] == ref]
        if named:
            return named[0]
        prefixed = [r for nid, r in records.items() if ref and nid.startswith(ref)]
        if len(prefixed) == 1:
            return prefixed[0]
        if len(prefixed) > 1:
            raise Conflict(f"network {ref} is ambiguous ({len(prefixed)} matches found on this prefix)")
        raise NetworkNotFound(ref)

    def _pseudo(self, name: str) -> dict:
        return {"id": self._pseudo_id(name), "name": name, "driver": PREDEFINED[name], "created": 0,
                "internal": False, "attachable": False, "labels": {}, "options": {}, "ipam": [],
                "predefined": True}

    def _pseudo_id(self, name: str) -> str:
        entry = self.store.read("network-ids", name)
        if entry is None:
            entry = {"id": secrets.token_hex(32)}
            self.store.write("network-ids", name, entry)
        return entry["id"]

    def all(self) -> list[dict]:
        self.ensure_default()
        return [*self._records().values(), self._pseudo(HOST), self._pseudo(NONE)]

    def ensure_default(self) -> None:
        """The predefined ``bridge`` network's record (its kernel objects come on first use)."""
        with self.lock:
            if not any(r["name"] == BRIDGE for r in self._records().values()):
                self._create(BRIDGE, predefined=True)

    # -- create, remove -----------------------------------------------------------------
    def create(self, name: str, *, driver: str = "bridge", internal: bool = False, attachable: bool = False,
               labels: dict | None = None, options: dict | None = None, ipam_config: list | None = None,
               ipam_driver: str = "default", enable_ipv6: bool = False) -> dict:
        if not name:
            raise InvalidRequest("network name must not be empty")
        if name in PREDEFINED:
            raise Forbidden(f"operation is not permitted on predefined {name} network ")
        if driver not in ("bridge", ""):
            raise InvalidRequest(f"network {name}: driver {driver!r} is not supported (bridge only)")
        if ipam_driver not in ("default", ""):
            raise InvalidRequest(f"network {name}: IPAM driver {ipam_driver!r} is not supported (default only)")
        if enable_ipv6:
            raise InvalidRequest(f"network {name}: IPv6 is not supported yet: remove enable_ipv6 "
                                 "(and any IPv6 subnet)")
        unknown = sorted(set(options or {}) - _KNOWN_OPTIONS)
        if unknown:
            raise InvalidRequest(f"network {name}: driver option(s) {', '.join(unknown)} are not supported "
                                 f"(supported: {MTU_OPTION})")
        with self.lock:
            if any(r["name"] == name for r in self._records().values()):
                raise Conflict(f"network with name {name} already exists")
            record = self._create(name, internal=internal, attachable=attachable, labels=labels,
                                  options=options, ipam_config=ipam_config)
            try:
                self._materialize(record)
            except BaseException:
                self._teardown(record)
                raise
            return record

    def _create(self, name: str, *, internal: bool = False, attachable: bool = False, labels=None,
                options=None, ipam_config=None, predefined: bool = False) -> dict:
        mtu = (options or {}).get(MTU_OPTION)
        if mtu not in (None, "") and (not str(mtu).isdigit() or not 68 <= int(mtu) <= 65535):
            raise InvalidRequest(f"network {name}: invalid {MTU_OPTION} {mtu!r}: a number from 68 to 65535")
        taken = [IPv4Network(entry["Subnet"]) for r in self._records().values() for entry in r["ipam"]]
        try:
            configs = ipam.subnet_configs(name, [_ipam_entry(e) for e in ipam_config or []], taken,
                                          self.settings.pools, self._host_routes())
        except ipam.IpamError as error:
            raise InvalidRequest(str(error)) from None
        nid = secrets.token_hex(32)
        record = {"id": nid, "name": name, "driver": "bridge", "created": time.time(), "internal": internal,
                  "attachable": attachable, "labels": dict(labels or {}), "options": dict(options or {}),
                  "ipam": [ipam.to_api(c) for c in configs], "bridge": f"dy-{nid[:12]}",
                  "mtu": int(mtu) if mtu not in (None, "") else None, "predefined": predefined}
        self.store.write("networks", nid, record)
        return record

    def _host_routes(self) -> list[tuple[IPv4Network, str]]:
        names = {link.index: link.name for link in self.host.links()}
        ours = {f"dy-{nid[:12]}" for nid in self._records()}
        return [(IPv4Network(route.destination), names.get(route.index, "?")) for route in self.host.routes()
                if names.get(route.index) not in ours]

    def remove(self, ref: str) -> None:
        record = self.find(ref)
        if record.get("predefined"):
            raise Forbidden(f"{record['name']} is a pre-defined network and cannot be removed")
        with self.lock:
            users = self._users(record["id"])
            if users:
                raise Forbidden(f"error while removing network: network {record['name']} id {record['id']} "
                                f"has active endpoints ({', '.join(self.container_name(c) for c in users)}): "
                                "stop or disconnect them first")
            self._teardown(record)

    def _users(self, nid: str) -> list[str]:
        return [cid for cid, found in self._endpoints.items() if nid in found["networks"]]

    def prune(self, keep=lambda record: False) -> list[str]:
        """Remove every user-defined network without endpoints (``keep``: filters say no)."""
        removed = []
        with self.lock:
            for record in self._records().values():
                if record.get("predefined") or self._users(record["id"]) or keep(record):
                    continue
                self._teardown(record)
                removed.append(record["name"])
        return removed

    def _teardown(self, record: dict) -> None:
        for entry in record["ipam"]:
            if self._dns is not None:
                self._dns.unlisten(entry["Gateway"])
        self.firewall.remove_network(record["id"])
        self.host.delete_link(record["bridge"], missing_ok=True)
        self._up.discard(record["id"])
        self.store.delete("networks", record["id"])
        self._refresh()

    # -- kernel objects of a network ---------------------------------------------------
    def _materialize(self, record: dict) -> None:
        """Its bridge with the gateway address, its chains, its DNS sockets
        (once per process; again after a reboot or a crash took them)."""
        if record["id"] in self._up:
            return
        from . import netlink
        bridge = record["bridge"]
        if not self._based:
            self.firewall.ensure_base()
            self._based = True
        index = self.host.link_index(bridge)
        if index is None:
            # A MAC of its own: else a bridge takes its lowest port's, and
            # changes it when that container leaves, and the others' ARP
            # entries for the gateway point nowhere.
            mac = "02:42:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(4))
            index = self.host.add_bridge(bridge, mtu=record.get("mtu"), mac=mac)
        present = {cidr for i, cidr in self.host.addresses() if i == index}
        for entry in record["ipam"]:
            cidr = f"{entry['Gateway']}/{IPv4Network(entry['Subnet']).prefixlen}"
            if cidr not in present:
                self.host.add_address(index, cidr)
        if not record["internal"]:
            netlink.write_sysctl("net.ipv4.ip_forward", "1")
        # a published port reached on 127.0.0.1 leaves through the bridge with that source
        netlink.write_sysctl(f"net/ipv4/conf/{bridge}/route_localnet", "1")
        self.firewall.add_network(record["id"], bridge, record["ipam"][0]["Subnet"], record["internal"])
        for entry in record["ipam"]:
            try:
                self.dns.listen(entry["Gateway"], DNS_PORT)
            except OSError as error:
                raise NetworkError(f"network {record['name']}: cannot serve DNS on {entry['Gateway']}:53: "
                                   f"{error.strerror}") from None
        self._up.add(record["id"])

    # -- endpoints -------------------------------------------------------------------
    def endpoint_config(self, mode: str, endpoints: dict | None) -> dict:
        """A container's networks (name -> endpoint settings) from its
        NetworkMode and NetworkingConfig.EndpointsConfig, checked: each
        network exists, static addresses lie in its subnets."""
        if mode in (HOST, NONE) or mode.startswith("container:"):
            if endpoints and set(endpoints) - {mode}:
                raise InvalidRequest(f"container sharing a network namespace ({mode}) cannot be connected to "
                                     f"networks: {', '.join(sorted(set(endpoints) - {mode}))}")
            return {}
        wanted = {mode: (endpoints or {}).get(mode) or {}}
        for name, settings in (endpoints or {}).items():
            wanted.setdefault(name, settings or {})
        out = {}
        for name, settings in wanted.items():
            try:
                record = self.find(name)
            except NetworkNotFound:
                raise InvalidRequest(f"network {name} not found") from None
            if record.get("predefined") and record["name"] in (HOST, NONE):
                raise InvalidRequest(f"container cannot be connected to network {record['name']} and others")
            out[record["name"]] = self._checked(record, settings)
        return out

    def _checked(self, record: dict, settings: dict) -> dict:
        address = ((settings.get("IPAMConfig") or {}).get("IPv4Address") or "").strip()
        if address:
            if record["name"] == BRIDGE:
                raise InvalidRequest("user specified IP address is supported on user defined networks only")
            try:
                IPv4Address(address)
            except ValueError:
                raise InvalidRequest(f"invalid IPv4 address {address!r} for network {record['name']}") from None
            if not any(IPv4Address(address) in IPv4Network(e["Subnet"]) for e in record["ipam"]):
                raise InvalidRequest(f"Invalid address {address}: It does not belong to any of this network's "
                                     f"subnets (network {record['name']})")
        aliases = [a for a in settings.get("Aliases") or [] if a]
        if aliases and record["name"] == BRIDGE:
            raise InvalidRequest("network-scoped alias is supported only for containers in user defined networks")
        return {"NetworkID": record["id"], "Aliases": aliases,
                "IPAMConfig": {"IPv4Address": address} if address else None,
                "MacAddress": settings.get("MacAddress") or "", "DriverOpts": settings.get("DriverOpts")}

    def check_ports(self, wanted: list[portmap.Request]) -> None:
        """Refuse at create a host port that something else holds now
        (ours are checked at start: a stopped container may share one)."""
        probe = portmap.Reservations()
        for request in wanted:
            if request.first and request.first == request.last and not self.reservations.owner(
                    request.protocol, request.host_ip, request.first):
                probe.reserve("probe", [request])
                probe.release("probe")

    def attach(self, cid: str, networks: dict, netns_fd: int, *, hostname: str, name: str,
               ports: list[portmap.Request], dns: list[str], pid: int) -> dict:
        """Connect the container to ``networks`` (name -> endpoint settings,
        in order: the first non-internal one gives the default route and its
        address the published ports) inside ``netns_fd``; publish ``ports``.
        All or nothing. Returns its endpoint record."""
        with self.lock:
            found = {"pid": pid, "networks": {}, "ports": [], "dns": list(dns)}
            self._endpoints[cid] = found
            try:
                self._connect(cid, found, networks, netns_fd, hostname=hostname, name=name)
                if ports:
                    self._publish(cid, found, ports)
            except BaseException:
                self._undo(cid, found)
                raise
            self.store.write("endpoints", cid, found)
            self._refresh()
            return found

    def connect(self, cid: str, network: str, settings: dict, netns_fd: int, *, hostname: str,
                name: str) -> dict:
        """One more network for a running container."""
        with self.lock:
            found = self._endpoints.get(cid)
            if found is None:
                raise Conflict(f"container {name} is not running")
            before = set(found["networks"])
            try:
                self._connect(cid, found, {network: settings}, netns_fd, hostname=hostname, name=name)
            except BaseException:
                for nid in set(found["networks"]) - before:
                    self._drop(found["networks"].pop(nid))
                raise
            self.store.write("endpoints", cid, found)
            self._refresh()
            return found

    def disconnect(self, cid: str, nid: str) -> None:
        """Take a running container off one network (its veth goes now)."""
        with self.lock:
            found = self._endpoints.get(cid)
            if found is None or nid not in found["networks"]:
                return
            self._drop(found["networks"].pop(nid))
            self.store.write("endpoints", cid, found)
            self._refresh()

    def _drop(self, endpoint: dict) -> None:
        self.host.delete_link(endpoint["veth"], missing_ok=True)

    def _connect(self, cid: str, found: dict, networks: dict, netns_fd: int, *, hostname: str,
                 name: str) -> None:
        from .netlink import Netlink
        inside = None
        try:
            for net_name, settings in networks.items():
                record = self.find(settings.get("NetworkID") or net_name)
                if record["id"] in found["networks"]:
                    raise Forbidden(f"endpoint with name {name} already exists in network {record['name']}")
                self._materialize(record)
                config = ipam.from_api(record["name"], record["ipam"][0])
                used = {IPv4Address(e["networks"][record["id"]]["ip"]) for e in self._endpoints.values()
                        if record["id"] in e["networks"]}
                requested = (settings.get("IPAMConfig") or {}).get("IPv4Address") or None
                try:
                    address = ipam.allocate(record["name"], config, used, requested)
                except ipam.IpamError as error:
                    raise InvalidRequest(str(error)) from None
                mac = settings.get("MacAddress") or ipam.mac_for(address)
                taken = {e["ifname"] for e in found["networks"].values()}
                ifname = next(f"eth{n}" for n in range(len(taken) + 1) if f"eth{n}" not in taken)
                veth = f"dyv{secrets.token_hex(6)}"
                bridge = self.host.link_index(record["bridge"])
                self.host.add_veth(veth, ifname, netns_fd, master=bridge, mtu=record.get("mtu"), peer_mac=mac)
                endpoint = {"network": record["id"], "ip": str(address), "prefix": config.subnet.prefixlen,
                            "gateway": str(config.gateway), "mac": mac, "veth": veth, "ifname": ifname,
                            "endpoint_id": secrets.token_hex(32), "internal": record["internal"],
                            "aliases": list(settings.get("Aliases") or []),
                            "dns_names": [] if record["name"] == BRIDGE else
                            _unique([name, *(settings.get("Aliases") or []), hostname, cid[:12]])}
                found["networks"][record["id"]] = endpoint
                if inside is None:
                    inside = Netlink(netns_fd)
                index = inside.link_index(ifname)
                inside.set_link(index, up=True)
                inside.add_address(index, f"{address}/{config.subnet.prefixlen}")
                if not record["internal"] and not found.get("gateway"):
                    inside.add_route("0.0.0.0/0", gateway=str(config.gateway))
                    found["gateway"] = record["id"]
        finally:
            if inside is not None:
                inside.close()

    def _publish(self, cid: str, found: dict, wanted: list[portmap.Request]) -> None:
        via = found["networks"].get(found.get("gateway") or "")
        if via is None:
            raise InvalidRequest(f"container {self.container_name(cid)} publishes ports but is on no network "
                                 "with a way out (internal networks only): publish from a non-internal network")
        published = self.reservations.reserve(cid, wanted, name_of=self.container_name)
        found["ports"] = [vars(p) for p in published]
        self.firewall.add_ports(cid, [PortRule(p.protocol, p.host_ip, p.host_port, via["ip"], p.port)
                                      for p in published])

    def _undo(self, cid: str, found: dict) -> None:
        for endpoint in found["networks"].values():
            self._drop(endpoint)
        self._forget(cid, found)

    def _forget(self, cid: str, found: dict) -> None:
        self.reservations.release(cid)
        if found.get("ports"):
            self.firewall.remove_ports(cid)
        self._endpoints.pop(cid, None)
        self.store.delete("endpoints", cid)
        self._refresh()

    def release(self, cid: str, pid: int | None = None) -> None:
        """The container stopped: its addresses, names and ports go (its
        veths went with its network namespace). Idempotent; with ``pid``,
        only the endpoints of that run (not of a newer one)."""
        with self.lock:
            found = self._endpoints.get(cid)
            if found is not None and pid in (None, found.get("pid")):
                self._forget(cid, found)

    def endpoints(self, cid: str) -> dict | None:
        return self._endpoints.get(cid)

    def reconcile(self, running: dict[str, int]) -> list[str]:
        """At daemon start (``running``: container id -> pid of those that
        run): endpoints of stopped containers go, running ones get their
        ports and DNS back, user networks their bridges, and chains or
        bridges of no network of ours are removed."""
        removed = []
        with self.lock:
            for cid, found in list(self._endpoints.items()):
                if running.get(cid) != found.get("pid"):
                    self._forget(cid, found)
                    removed.append(f"endpoints of container {cid}")
            records = self._records()
            for record in records.values():
                if not record.get("predefined") or self._users(record["id"]):
                    self._materialize(record)
            for cid, found in self._endpoints.items():
                if found.get("ports"):
                    wanted = [portmap.Request(p["protocol"], p["port"], p["host_ip"], p["host_port"],
                                              p["host_port"]) for p in found["ports"]]
                    self.reservations.reserve(cid, wanted, name_of=self.container_name)
            networks = {nid[:12] for nid in records}
            publishing = {cid[:12] for cid, found in self._endpoints.items() if found.get("ports")}
            for chain in self.firewall.chains():
                kind, key = chain[:4], chain[4:]
                if kind == "DYP-" and key not in publishing:
                    self.firewall.remove_ports(key)
                elif kind != "DYP-" and key not in networks:
                    self.firewall.remove_network(key)
                else:
                    continue
                removed.append(f"netfilter chain {chain}")
            bridges = {record["bridge"] for record in records.values()}
            for link in self.host.links() if records else ():
                if link.kind == "bridge" and link.name.startswith("dy-") and link.name not in bridges:
                    self.host.delete_link(link.name, missing_ok=True)
                    removed.append(f"bridge {link.name}")
        return removed

    # -- views ----------------------------------------------------------------------------
    def users(self, nid: str) -> dict[str, dict]:
        """Container id -> its endpoint on network ``nid``."""
        return {cid: found["networks"][nid] for cid, found in self._endpoints.items() if nid in found["networks"]}

    def renamed(self, cid: str, old: str, new: str) -> None:
        """The container's new name answers in DNS, its old one no more."""
        with self.lock:
            found = self._endpoints.get(cid)
            if found is None:
                return
            for endpoint in found["networks"].values():
                endpoint["dns_names"] = _unique([new if n == old else n for n in endpoint["dns_names"]])
            self.store.write("endpoints", cid, found)
            self._refresh()

    def _refresh(self) -> None:
        self._index = _Index(self._endpoints, self._records())

    # -- what the DNS server asks -----------------------------------------------------------
    def addresses(self, client: str, name: str) -> list[str] | None:
        index = self._index
        asker = index.by_ip.get(client)
        if asker is None:
            return None
        found: list[str] = []
        for nid in index.nets_of.get(asker[0], []):
            table = index.names.get(nid, {})
            short = name
            suffix = "." + index.net_names.get(nid, "").lower()
            if name.endswith(suffix):
                short = name[: -len(suffix)]
            for address in table.get(short, []):
                if address not in found:
                    found.append(address)
        return found or None

    def pointer(self, client: str, address: str) -> str | None:
        index = self._index
        asker, target = index.by_ip.get(client), index.by_ip.get(address)
        if asker is None or target is None or target[1] not in index.nets_of.get(asker[0], []):
            return None
        return index.pointers.get(address) or None

    def upstreams(self, client: str) -> list[tuple[str, int]]:
        index = self._index
        asker = index.by_ip.get(client)
        own = index.upstreams.get(asker[0]) if asker else None
        return own or self.settings.dns or self._host_resolvers()

    def _host_resolvers(self) -> list[tuple[str, int]]:
        """The host's nameservers, read again only when its resolv.conf changes
        (this runs for every forwarded query)."""
        try:
            stamp = os.stat(RESOLV_CONF).st_mtime_ns
        except OSError:
            stamp = None
        if self._resolvers is None or self._resolvers[0] != stamp:
            self._resolvers = (stamp, host_resolvers(RESOLV_CONF)[0])
        return self._resolvers[1]


def _unique(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        if name and name not in out:
            out.append(name)
    return out


def _ipam_entry(entry: dict) -> dict:
    if not isinstance(entry, dict):
        raise InvalidRequest(f"invalid IPAM config entry {entry!r}: an object with Subnet, IPRange, Gateway "
                             "and AuxiliaryAddresses")
    return entry

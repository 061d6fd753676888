"""A container's networking, as the container service sees it: its network
mode, the networks it wants (record ``networks``: name -> endpoint
settings, the first being its NetworkMode) and ports it publishes, checked
at create; attached at start through the networks service (which owns
everything of the kernel); its /etc/hosts and resolv.conf; and docker's
``NetworkSettings`` and ``Ports`` shapes.

Modes: ``none`` (an empty namespace of its own, the engine's default when
no networks service is given), ``host``, ``container:<ref>`` (another
running container's namespace), or a bridge network's name.
"""
from __future__ import annotations

from pathlib import Path

from engine.networks import ports as portmap

from .errors import InvalidRequest

NONE, HOST = "none", "host"
_BASE_HOSTS = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
               "fe00::0\tip6-localnet", "ff00::0\tip6-mcastprefix", "ff02::1\tip6-allnodes",
               "ff02::2\tip6-allrouters"]


def mode(host: dict) -> str:
    return host.get("NetworkMode") or NONE


def joined(host: dict) -> str | None:
    """The container whose network namespace this one shares (container:<ref>)."""
    value = mode(host)
    return value.split(":", 1)[1] if value.startswith("container:") else None


def bridged(record: dict) -> bool:
    return bool(record.get("networks"))


def may_join(host: dict) -> bool:
    """Whether networks can be connected: not with a namespace shared with
    the host or another container, nor with none; a container disconnected
    from all its networks still may (compose v1 reconnects that way)."""
    value = mode(host)
    return value not in (NONE, HOST) and not value.startswith("container:")


def check_create(networks, config: dict, host: dict, networking: dict | None) -> dict:
    """The record's networking fields (``networks``, ``ports``) for a create, checked."""
    value = mode(host)
    endpoints = (networking or {}).get("EndpointsConfig") or {}
    wanted = portmap.requests(host.get("PortBindings"), config.get("ExposedPorts"),
                              bool(host.get("PublishAllPorts")))
    if value in (NONE, HOST) or value.startswith("container:"):
        if wanted:
            raise InvalidRequest(f"conflicting options: port publishing and the container type network mode "
                                 f"({value}): publish ports from a bridge network")
        if value.startswith("container:") and (host.get("Dns") or host.get("DnsSearch")
                                                 or host.get("DnsOptions")):
            raise InvalidRequest("conflicting options: dns and the network mode")
        if endpoints and set(endpoints) - {value}:
            raise InvalidRequest(f"container sharing a network namespace ({value}) cannot be connected to "
                                 f"networks: {', '.join(sorted(set(endpoints) - {value}))}")
        return {"networks": {}, "ports": []}
    if networks is None:
        raise InvalidRequest(f"network {value} not found (this engine has no networks service)")
    found = networks.endpoint_config(value, endpoints)
    networks.check_ports(wanted)
    return {"networks": found, "ports": [vars(r) for r in wanted]}


def requests(record: dict) -> list[portmap.Request]:
    return [portmap.Request(**r) for r in record.get("ports") or []]


def write_hosts(directory: Path, host: dict, hostname: str, domainname: str,
                addresses: list[str] = ()) -> None:
    """/etc/hosts: docker's lines, ``--add-host`` entries, then the container's own addresses."""
    lines = list(_BASE_HOSTS)
    for entry in host.get("ExtraHosts") or []:
        name, _, address = entry.partition(":") if "=" not in entry else entry.partition("=")
        lines.append(f"{address}\t{name}")
    names = f"{hostname}.{domainname} {hostname}" if domainname else hostname
    lines += [f"{address}\t{names}" for address in addresses]
    _rewrite(directory / "hosts", "\n".join(lines) + "\n")


def write_resolv(directory: Path, host: dict, nameserver: str | None, resolv: str = "/etc/resolv.conf") -> None:
    """resolv.conf: on a bridge network the engine's DNS server (which
    forwards to ``Dns`` or the host's resolvers), docker's ``ndots:0``; else
    the host's file, or ``Dns``. ``DnsSearch``/``DnsOptions`` on top."""
    try:
        text = Path(resolv).read_text()
    except OSError:
        text = ""
    search = host.get("DnsSearch") or next((line.split()[1:] for line in text.splitlines()
                                              if line.startswith("search ")), [])
    if nameserver:
        out = f"nameserver {nameserver}\n"
        out += f"search {' '.join(search)}\n" if search else ""
        out += f"options {' '.join(['ndots:0', *(host.get('DnsOptions') or [])])}\n"
    else:
        out = "".join(f"nameserver {s}\n" for s in host["Dns"]) if host.get("Dns") else text
        if host.get("DnsSearch"):
            out += f"search {' '.join(host['DnsSearch'])}\n"
        if host.get("DnsOptions"):
            out += f"options {' '.join(host['DnsOptions'])}\n"
    _rewrite(directory / "resolv.conf", out)


def _rewrite(path: Path, text: str) -> None:
    """In place: a running container has the file bound (a rename would not reach it)."""
    with open(path, "w") as handle:
        handle.write(text)


def settings(record: dict, found: dict | None, network_ids=lambda name: "") -> dict:
    """docker's ``NetworkSettings`` (inspect) from the wish and, while it runs, its endpoints."""
    by_network = {e["network"]: e for e in (found or {}).get("networks", {}).values()}
    networks = {}
    for name, wish in (record.get("networks") or {}).items():
        endpoint = by_network.get(wish.get("NetworkID")) or {}
        networks[name] = {
            "IPAMConfig": wish.get("IPAMConfig"), "Links": None, "Aliases": wish.get("Aliases") or None,
            "MacAddress": endpoint.get("mac", ""), "DriverOpts": wish.get("DriverOpts"),
            "NetworkID": wish.get("NetworkID", ""), "EndpointID": endpoint.get("endpoint_id", ""),
            "Gateway": endpoint.get("gateway", ""), "IPAddress": endpoint.get("ip", ""),
            "IPPrefixLen": endpoint.get("prefix", 0), "IPv6Gateway": "", "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0, "DNSNames": endpoint.get("dns_names") or None}
    value = mode(record["host_config"])
    if not networks and value in (NONE, HOST):
        networks[value] = {"IPAMConfig": None, "Links": None, "Aliases": None, "MacAddress": "",
                           "DriverOpts": None, "NetworkID": network_ids(value), "EndpointID": "",
                           "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
                           "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": None}
    default = networks.get("bridge") or {}
    return {"Bridge": "", "SandboxID": "", "SandboxKey": "", "HairpinMode": False,
            "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "Ports": port_map(record, found), "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None,
            "EndpointID": default.get("EndpointID", ""), "Gateway": default.get("Gateway", ""),
            "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "IPAddress": default.get("IPAddress", ""),
            "IPPrefixLen": default.get("IPPrefixLen", 0), "IPv6Gateway": "",
            "MacAddress": default.get("MacAddress", ""), "Networks": networks}


def port_map(record: dict, found: dict | None) -> dict:
    """``NetworkSettings.Ports``: every exposed or published port; its host
    bindings while it runs (null otherwise), as ``docker port`` reads them."""
    out: dict[str, list | None] = {}
    for key in (record["config"].get("ExposedPorts") or {}):
        port, protocol = portmap.split_key(key)
        out[f"{port}/{protocol}"] = None
    for wanted in requests(record):
        out.setdefault(f"{wanted.port}/{wanted.protocol}", None)
    for published in (found or {}).get("ports") or []:
        key = f"{published['port']}/{published['protocol']}"
        out[key] = (out.get(key) or []) + [{"HostIp": published["host_ip"] or "0.0.0.0",
                                            "HostPort": str(published["host_port"])}]
    return out


def summary_ports(record: dict, found: dict | None) -> list[dict]:
    """``Ports`` of docker ps's list entries."""
    out = []
    for key, bindings in port_map(record, found).items():
        port, protocol = portmap.split_key(key)
        if not bindings:
            out.append({"PrivatePort": port, "Type": protocol})
        for binding in bindings or []:
            out.append({"IP": binding["HostIp"], "PrivatePort": port, "PublicPort": int(binding["HostPort"]),
                        "Type": protocol})
    return out

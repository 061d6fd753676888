"""Docker's default IPAM for IPv4, as pure functions over ``ipaddress``.

Owns: the default address pools and their parsing (``default-address-pools``),
choosing and validating a network's subnets from the API's ``IPAM.Config``
(against other networks' subnets and the host's routes), picking a
container's address, the reserved addresses of a subnet, and docker's MAC
for an address. Errors are :class:`IpamError`, in docker's wording plus the
network and the value at fault.

Everything arrives as arguments -- other networks' subnets, the addresses in
use, the host's routes as ``(destination, device)`` -- so this module does no
I/O and must not import netlink, the state store or anything under
``engine/runtime``. IPv6 is refused with a clear error until it is supported.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network

_SMALLEST_PREFIX = 30  # a /30 holds a gateway and one container; /31 and /32 hold none
_DEFAULT_ROUTE = IPv4Network("0.0.0.0/0")
_POOL_OVERLAP = "invalid pool request: Pool overlaps with other one on this address space"
_NO_NETWORK = (
    "no available network: all address pools are in use (add a pool to "
    "default-address-pools in the daemon's config file, or remove unused networks)"
)


class IpamError(ValueError):
    """An address or subnet request that cannot be met; the message is final."""


@dataclass(frozen=True)
class Pool:
    """A ``default-address-pools`` entry: ``base`` is cut into ``/size`` subnets."""

    base: IPv4Network
    size: int

    def subnets(self) -> Iterator[IPv4Network]:
        return self.base.subnets(new_prefix=self.size)


@dataclass(frozen=True)
class SubnetConfig:
    """One IPv4 subnet of a network, fully resolved (the gateway is always set)."""

    subnet: IPv4Network
    gateway: IPv4Address
    ip_range: IPv4Network | None = None
    aux: dict[str, IPv4Address] = field(default_factory=dict)


# moby's libnetwork/ipamutils local-scope defaults: 172.17-31 as one /16 each,
# then 192.168.0.0/16 cut into /20s.
DEFAULT_POOLS: list[Pool] = [
    *(Pool(IPv4Network(f"172.{n}.0.0/16"), 16) for n in range(17, 32)),
    Pool(IPv4Network("192.168.0.0/16"), 20),
]


def overlaps(a: IPv4Network, b: IPv4Network) -> bool:
    """True when the two networks share at least one address."""
    return a.overlaps(b)


def parse_pools(entries: Iterable[Mapping[str, object]]) -> list[Pool]:
    """Parse daemon-config ``default-address-pools``: ``[{"base", "size"}]``."""
    pools = []
    for index, entry in enumerate(entries):
        where = f"default-address-pools entry {index} ({dict(entry)!r})"
        base, size = entry.get("base"), entry.get("size")
        if not isinstance(base, str) or isinstance(size, bool) or not isinstance(size, int):
            raise IpamError(f"invalid {where}: needs a string 'base' and an integer 'size'")
        network = _parse_subnet(base, "base", f"of {where}")
        if not network.prefixlen <= size <= _SMALLEST_PREFIX:
            raise IpamError(
                f"invalid {where}: size {size} must be between the base's prefix "
                f"/{network.prefixlen} and /{_SMALLEST_PREFIX}"
            )
        pools.append(Pool(network, size))
    return pools


def subnet_configs(
    network: str,
    ipam_config: list[dict],
    taken: list[IPv4Network],
    pools: list[Pool],
    host_routes: list[tuple[IPv4Network, str]],
) -> list[SubnetConfig]:
    """Resolve a network's ``IPAM.Config`` into subnets, one per entry.

    An empty list means one subnet from ``pools``. ``taken`` holds the other
    networks' subnets; ``host_routes`` the host's main-table routes (connected
    routes of its own addresses included), of which only the default route
    is ignored. Subnets chosen earlier in the list count as taken for later
    entries, so a network's subnets never overlap each other.
    """
    blocked = list(taken)
    routes = [(dest, dev) for dest, dev in host_routes if dest != _DEFAULT_ROUTE]
    configs = []
    for entry in ipam_config or [{}]:
        config = _resolve_entry(network, entry, blocked, pools, routes)
        blocked.append(config.subnet)
        configs.append(config)
    return configs


def reserved(config: SubnetConfig) -> set[IPv4Address]:
    """Addresses no container may hold: network, broadcast, gateway and aux."""
    subnet = config.subnet
    return {subnet.network_address, subnet.broadcast_address, config.gateway, *config.aux.values()}


def allocate(
    network: str,
    config: SubnetConfig,
    used: set[IPv4Address],
    requested: IPv4Address | str | None = None,
) -> IPv4Address:
    """An address for a container: ``requested`` if it is free, else the lowest free.

    A requested address may lie anywhere in the subnet, outside ``ip_range``
    too, as docker allows for static addresses. Docker hands out addresses
    sequentially after the last one given and wraps; we take the lowest free
    address of ``ip_range`` (or the subnet) instead: it needs no cursor in
    the state, is deterministic, and a released address is reused at once.
    """
    if requested not in (None, ""):
        return _check_requested(network, config, used, requested)
    scope = config.ip_range or config.subnet
    skip = reserved(config) | used
    first, last = int(scope.network_address), int(scope.broadcast_address)
    # The answer is at most len(skip) steps from the start, so this stays
    # short even for a /8.
    for value in range(first, last + 1):
        candidate = IPv4Address(value)
        if candidate not in skip:
            return candidate
    where = f"{scope}" if config.ip_range is None else f"ip-range {scope} of {config.subnet}"
    raise IpamError(f"no available addresses on network {network} ({where})")


def mac_for(address: IPv4Address) -> str:
    """Docker's MAC for a container address: ``02:42`` then the four bytes."""
    return ":".join(f"{byte:02x}" for byte in b"\x02\x42" + address.packed)


def to_api(config: SubnetConfig) -> dict[str, object]:
    """The ``IPAM.Config`` entry ``docker network inspect`` shows for a subnet."""
    entry: dict[str, object] = {"Subnet": str(config.subnet), "Gateway": str(config.gateway)}
    if config.ip_range is not None:
        entry["IPRange"] = str(config.ip_range)
    if config.aux:
        entry["AuxiliaryAddresses"] = {name: str(a) for name, a in config.aux.items()}
    return entry


def from_api(network: str, entry: Mapping[str, object]) -> SubnetConfig:
    """Read back an entry written by :func:`to_api` (a stored network's record).

    Only the entry's own consistency is checked: a stored network already
    passed the overlap checks when it was created.
    """
    if not entry.get("Subnet"):
        raise IpamError(f"stored IPAM config of network {network} has no Subnet: {dict(entry)!r}")
    return _resolve_entry(network, entry, [], [], [])


def _resolve_entry(
    network: str,
    entry: Mapping[str, object],
    blocked: list[IPv4Network],
    pools: list[Pool],
    routes: list[tuple[IPv4Network, str]],
) -> SubnetConfig:
    subnet_text, range_text = entry.get("Subnet"), entry.get("IPRange")
    if subnet_text:
        subnet = _parse_subnet(str(subnet_text), "subnet", f"of network {network}")
        _check_size(network, subnet)
        _check_free(network, subnet, blocked, routes)
    elif range_text:
        raise IpamError(
            f"invalid pool request: Invalid Address SubPool: ip-range {range_text} of "
            f"network {network} needs a Subnet that contains it"
        )
    else:
        subnet = _from_pools(network, blocked, pools, routes)
    ip_range = None
    if range_text:
        ip_range = _parse_subnet(str(range_text), "ip-range", f"of network {network}")
        if not ip_range.subnet_of(subnet):
            raise IpamError(
                f"invalid ip-range {ip_range}: not in subnet {subnet} of network {network}"
            )
    gateway_text = entry.get("Gateway")
    gateway = _inside(network, subnet, "gateway", gateway_text) if gateway_text else None
    aux_map = entry.get("AuxiliaryAddresses") or {}
    if not isinstance(aux_map, Mapping):
        raise IpamError(
            f"invalid AuxiliaryAddresses of network {network}: {aux_map!r} is not a map"
        )
    aux = {
        str(name): _inside(network, subnet, f"auxiliary address {name}", text)
        for name, text in aux_map.items()
    }
    return SubnetConfig(subnet, gateway or subnet.network_address + 1, ip_range, aux)


def _from_pools(
    network: str,
    blocked: list[IPv4Network],
    pools: list[Pool],
    routes: list[tuple[IPv4Network, str]],
) -> IPv4Network:
    avoid = blocked + [dest for dest, _ in routes]
    for pool in pools:
        for candidate in pool.subnets():
            if not any(candidate.overlaps(other) for other in avoid):
                return candidate
    raise IpamError(f"{_NO_NETWORK}; needed for network {network}")


def _check_size(network: str, subnet: IPv4Network) -> None:
    if subnet.prefixlen > _SMALLEST_PREFIX:
        raise IpamError(
            f"invalid subnet {subnet} of network {network}: a /{subnet.prefixlen} leaves no "
            f"address for a container besides the gateway; use /{_SMALLEST_PREFIX} or larger"
        )


def _check_free(
    network: str,
    subnet: IPv4Network,
    blocked: list[IPv4Network],
    routes: list[tuple[IPv4Network, str]],
) -> None:
    for other in blocked:
        if subnet.overlaps(other):
            raise IpamError(
                f"{_POOL_OVERLAP}: subnet {subnet} of network {network} overlaps {other}"
            )
    for dest, device in routes:
        if subnet.overlaps(dest):
            raise IpamError(
                f"subnet {subnet} of network {network} overlaps the host's route "
                f"{dest} via {device}: choose another subnet"
            )


def _inside(network: str, subnet: IPv4Network, what: str, text: object) -> IPv4Address:
    address = _parse_address(str(text), what, f"of network {network}")
    if address not in subnet:
        raise IpamError(f"invalid {what} {address}: not in subnet {subnet} of network {network}")
    if address in (subnet.network_address, subnet.broadcast_address):
        raise IpamError(
            f"invalid {what} {address}: it is the network or broadcast address of "
            f"subnet {subnet} of network {network}"
        )
    return address


def _check_requested(
    network: str, config: SubnetConfig, used: set[IPv4Address], requested: IPv4Address | str
) -> IPv4Address:
    address = _parse_address(str(requested), "address", f"requested on network {network}")
    subnet = config.subnet
    if address not in subnet:
        raise IpamError(
            f"Invalid address {address}: It does not belong to any of this network's "
            f"subnets (network {network}, subnet {subnet})"
        )
    why = {
        subnet.network_address: f" (the network address of {subnet})",
        subnet.broadcast_address: f" (the broadcast address of {subnet})",
        **{aux: f" (auxiliary address {name})" for name, aux in config.aux.items()},
        config.gateway: " (the network's gateway)",
    }
    if address in why or address in used:
        reason = why.get(address, "")
        raise IpamError(f"Address already in use: {address} on network {network}{reason}")
    return address


def _parse_subnet(text: str, kind: str, owner: str) -> IPv4Network:
    text = text.strip()
    try:
        # Without a "/", ipaddress would read a bare address as a /32.
        loose = ip_network(text, strict=False) if "/" in text else None
    except ValueError:
        loose = None
    if loose is None:
        raise IpamError(f"invalid {kind} {text!r} {owner}: invalid CIDR block notation")
    if loose.version != 4:
        raise IpamError(
            f"IPv6 is not supported yet: {kind} {loose} {owner}; "
            "remove enable_ipv6/the IPv6 subnet"
        )
    if ip_address(text.split("/")[0]) != loose.network_address:
        raise IpamError(f"invalid {kind} {text} {owner}: it should be {loose}")
    return loose


def _parse_address(text: str, kind: str, owner: str) -> IPv4Address:
    try:
        address = ip_address(text.strip())
    except ValueError:
        raise IpamError(f"invalid {kind} {text!r} {owner}: not an IP address") from None
    if address.version != 4:
        raise IpamError(
            f"IPv6 is not supported yet: {kind} {address} {owner}; "
            "remove enable_ipv6/the IPv6 subnet"
        )
    return address

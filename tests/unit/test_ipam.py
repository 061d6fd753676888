"""Docker's default IPAM: pools, subnet resolution, address allocation, MACs."""
from __future__ import annotations

from ipaddress import IPv4Address as A
from ipaddress import IPv4Network as N

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.networks.ipam import (
    DEFAULT_POOLS,
    IpamError,
    Pool,
    SubnetConfig,
    allocate,
    from_api,
    mac_for,
    overlaps,
    parse_pools,
    reserved,
    subnet_configs,
    to_api,
)


def resolve(config=(), taken=(), pools=DEFAULT_POOLS, routes=()):
    return subnet_configs("net1", list(config), list(taken), list(pools), list(routes))


# --- pools ------------------------------------------------------------------


def test_default_pools_are_dockers():
    assert DEFAULT_POOLS[0] == Pool(N("172.17.0.0/16"), 16)
    assert DEFAULT_POOLS[-2] == Pool(N("172.31.0.0/16"), 16)
    assert DEFAULT_POOLS[-1] == Pool(N("192.168.0.0/16"), 20)
    assert len(DEFAULT_POOLS) == 16


def test_parse_pools():
    pools = parse_pools([{"base": "10.10.0.0/16", "size": 24}, {"base": "10.20.0.0/16", "size": 16}])
    assert pools == [Pool(N("10.10.0.0/16"), 24), Pool(N("10.20.0.0/16"), 16)]


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"base": "10.10.0.0/16", "size": 8}, r"entry 0 .*size 8 must be between the base's prefix /16 and /30"),
        ({"base": "10.10.0.0/16", "size": 31}, r"entry 0 .*size 31 must be between"),
        ({"base": "10.10.0.0/16"}, r"entry 0 .*needs a string 'base' and an integer 'size'"),
        ({"base": "10.10.0.0/16", "size": "24"}, r"needs a string 'base' and an integer 'size'"),
        ({"base": "10.10.0.0/16", "size": True}, r"needs a string 'base' and an integer 'size'"),
        ({"base": "nope", "size": 24}, r"invalid base 'nope' of default-address-pools entry 0 .*CIDR"),
        ({"base": "10.10.1.0/16", "size": 24}, r"invalid base 10.10.1.0/16 .*it should be 10.10.0.0/16"),
        ({"base": "fd00::/48", "size": 64}, r"IPv6 is not supported yet: base fd00::/48"),
    ],
)
def test_parse_pools_errors_name_the_entry(entry, message):
    with pytest.raises(IpamError, match=message):
        parse_pools([entry])


# --- subnets from the pools ---------------------------------------------------


@pytest.mark.parametrize(
    "taken, routes, expected",
    [
        ([], [], "172.17.0.0/16"),
        (["172.17.0.0/16"], [], "172.18.0.0/16"),
        (["172.17.0.0/16", "172.18.0.0/16"], [], "172.19.0.0/16"),
        ([], [("172.17.0.0/16", "docker0")], "172.18.0.0/16"),
        # a connected route for one of the host's own addresses blocks the /16
        (["172.17.0.0/16"], [("172.18.5.7/32", "eth0")], "172.19.0.0/16"),
        # the default route overlaps everything and is ignored
        ([], [("0.0.0.0/0", "eth0")], "172.17.0.0/16"),
        # a smaller taken subnet blocks its whole candidate
        (["172.17.3.0/24"], [], "172.18.0.0/16"),
        # all of 172.17-31 taken: 192.168.0.0/20, then /20 steps
        ([f"172.{n}.0.0/16" for n in range(17, 32)], [], "192.168.0.0/20"),
        ([f"172.{n}.0.0/16" for n in range(17, 32)], [("192.168.0.0/24", "wlan0")], "192.168.16.0/20"),
        (["172.16.0.0/12"], [], "192.168.0.0/20"),
    ],
)
def test_pool_iteration_skips_taken_and_host_routes(taken, routes, expected):
    (config,) = resolve(taken=[N(t) for t in taken], routes=[(N(d), dev) for d, dev in routes])
    assert config.subnet == N(expected)
    assert config.gateway == N(expected).network_address + 1
    assert config.ip_range is None and config.aux == {}


def test_empty_entry_is_like_an_empty_list():
    assert resolve([{}]) == resolve([])


def test_pool_exhaustion():
    with pytest.raises(IpamError) as err:
        resolve(taken=[N("172.16.0.0/12"), N("192.168.0.0/16")])
    assert str(err.value).startswith(
        "no available network: all address pools are in use (add a pool to "
        "default-address-pools in the daemon's config file, or remove unused networks)"
    )
    assert "net1" in str(err.value)


def test_custom_pools():
    pools = parse_pools([{"base": "10.10.0.0/16", "size": 24}])
    assert resolve(pools=pools)[0].subnet == N("10.10.0.0/24")
    taken = [N("10.10.0.0/24"), N("10.10.1.0/24")]
    assert resolve(taken=taken, pools=pools)[0].subnet == N("10.10.2.0/24")
    tiny = [Pool(N("10.9.0.0/29"), 30)]
    assert resolve(taken=[N("10.9.0.0/30")], pools=tiny)[0].subnet == N("10.9.0.4/30")
    with pytest.raises(IpamError, match="no available network"):
        resolve(taken=[N("10.9.0.0/29")], pools=tiny)


def test_entries_do_not_overlap_each_other():
    configs = resolve([{}, {}])
    assert [c.subnet for c in configs] == [N("172.17.0.0/16"), N("172.18.0.0/16")]
    with pytest.raises(IpamError, match="Pool overlaps"):
        resolve([{"Subnet": "10.1.0.0/24"}, {"Subnet": "10.1.0.0/16"}])


# --- given subnets -------------------------------------------------------------


def test_given_subnet_gateway_range_and_aux():
    (config,) = resolve([{
        "Subnet": "10.1.0.0/24",
        "IPRange": "10.1.0.128/25",
        "Gateway": "10.1.0.254",
        "AuxiliaryAddresses": {"router": "10.1.0.2"},
    }])
    assert config == SubnetConfig(N("10.1.0.0/24"), A("10.1.0.254"), N("10.1.0.128/25"), {"router": A("10.1.0.2")})


def test_given_subnet_defaults():
    (config,) = resolve([{"Subnet": "10.1.0.0/24", "IPRange": "", "Gateway": None}])
    assert config == SubnetConfig(N("10.1.0.0/24"), A("10.1.0.1"))


def test_given_subnet_next_to_taken_and_routes_is_fine():
    (config,) = resolve([{"Subnet": "10.1.1.0/24"}], taken=[N("10.1.0.0/24")], routes=[(N("10.1.2.0/24"), "eth0"), (N("0.0.0.0/0"), "eth0")])
    assert config.subnet == N("10.1.1.0/24")


@pytest.mark.parametrize(
    "entry, taken, routes, message",
    [
        ({"Subnet": "10.1.0.0/24"}, ["10.1.0.0/16"], [],
         "invalid pool request: Pool overlaps with other one on this address space: subnet 10.1.0.0/24 of network net1 overlaps 10.1.0.0/16"),
        ({"Subnet": "10.1.0.0/16"}, ["10.1.5.0/24"], [], "invalid pool request: Pool overlaps with other one on this address space"),
        ({"Subnet": "10.1.0.0/24"}, [], [("10.1.0.0/16", "eth0")],
         "subnet 10.1.0.0/24 of network net1 overlaps the host's route 10.1.0.0/16 via eth0: choose another subnet"),
        ({"Subnet": "10.1.0.0/24"}, [], [("10.1.0.7/32", "tun0")], "overlaps the host's route 10.1.0.7/32 via tun0"),
        ({"Subnet": "10.1.0.5/24"}, [], [], "invalid subnet 10.1.0.5/24 of network net1: it should be 10.1.0.0/24"),
        ({"Subnet": "10.1.0.0"}, [], [], "invalid subnet '10.1.0.0' of network net1: invalid CIDR block notation"),
        ({"Subnet": "banana"}, [], [], "invalid subnet 'banana' of network net1: invalid CIDR block notation"),
        ({"Subnet": "10.1.0.0/31"}, [], [], "invalid subnet 10.1.0.0/31 of network net1: a /31 leaves no address"),
        ({"Subnet": "10.1.0.1/32"}, [], [], "invalid subnet 10.1.0.1/32 of network net1: a /32 leaves no address"),
        ({"Subnet": "10.1.0.0/24", "Gateway": "10.2.0.1"}, [], [],
         "invalid gateway 10.2.0.1: not in subnet 10.1.0.0/24 of network net1"),
        ({"Subnet": "10.1.0.0/24", "Gateway": "10.1.0.255"}, [], [], "invalid gateway 10.1.0.255: it is the network or broadcast address"),
        ({"Subnet": "10.1.0.0/24", "Gateway": "10.1.0.0"}, [], [], "invalid gateway 10.1.0.0: it is the network or broadcast address"),
        ({"Subnet": "10.1.0.0/24", "Gateway": "x"}, [], [], "invalid gateway 'x' of network net1: not an IP address"),
        ({"Subnet": "10.1.0.0/24", "IPRange": "10.2.0.0/25"}, [], [], "invalid ip-range 10.2.0.0/25: not in subnet 10.1.0.0/24 of network net1"),
        ({"Subnet": "10.1.0.0/24", "IPRange": "10.1.0.0/23"}, [], [], "invalid ip-range 10.1.0.0/23: not in subnet"),
        ({"Subnet": "10.1.0.0/24", "IPRange": "10.1.0.1/25"}, [], [], "invalid ip-range 10.1.0.1/25 of network net1: it should be 10.1.0.0/25"),
        ({"IPRange": "10.1.0.0/25"}, [], [], "invalid pool request: Invalid Address SubPool: ip-range 10.1.0.0/25 of network net1 needs a Subnet"),
        ({"Subnet": "10.1.0.0/24", "AuxiliaryAddresses": {"host1": "10.2.0.5"}}, [], [],
         "invalid auxiliary address host1 10.2.0.5: not in subnet 10.1.0.0/24 of network net1"),
        ({"Subnet": "10.1.0.0/24", "AuxiliaryAddresses": ["10.1.0.5"]}, [], [], "invalid AuxiliaryAddresses of network net1"),
        ({"Subnet": "fd00::/64"}, [], [], "IPv6 is not supported yet: subnet fd00::/64 of network net1; remove enable_ipv6/the IPv6 subnet"),
        ({"Subnet": "10.1.0.0/24", "Gateway": "fd00::1"}, [], [], "IPv6 is not supported yet: gateway fd00::1 of network net1"),
        ({"Subnet": "10.1.0.0/24", "IPRange": "fd00::/64"}, [], [], "IPv6 is not supported yet: ip-range fd00::/64"),
        # a gateway without a subnet is checked against the subnet the pools give
        ({"Gateway": "10.1.0.1"}, [], [], "invalid gateway 10.1.0.1: not in subnet 172.17.0.0/16 of network net1"),
    ],
)
def test_given_subnet_errors(entry, taken, routes, message):
    with pytest.raises(IpamError) as err:
        resolve([entry], taken=[N(t) for t in taken], routes=[(N(d), dev) for d, dev in routes])
    assert message in str(err.value)


def test_slash_30_is_the_smallest_subnet():
    (config,) = resolve([{"Subnet": "10.1.0.0/30"}])
    assert config.gateway == A("10.1.0.1")
    assert allocate("net1", config, set()) == A("10.1.0.2")
    with pytest.raises(IpamError, match=r"no available addresses on network net1 \(10.1.0.0/30\)"):
        allocate("net1", config, {A("10.1.0.2")})


def test_api_round_trip():
    (config,) = resolve([{"Subnet": "10.1.0.0/24", "IPRange": "10.1.0.0/25", "AuxiliaryAddresses": {"a": "10.1.0.200"}}])
    assert to_api(config) == {
        "Subnet": "10.1.0.0/24", "Gateway": "10.1.0.1", "IPRange": "10.1.0.0/25",
        "AuxiliaryAddresses": {"a": "10.1.0.200"},
    }
    assert from_api("net1", to_api(config)) == config
    assert to_api(SubnetConfig(N("10.1.0.0/24"), A("10.1.0.1"))) == {"Subnet": "10.1.0.0/24", "Gateway": "10.1.0.1"}
    with pytest.raises(IpamError, match="stored IPAM config of network net1 has no Subnet"):
        from_api("net1", {"Gateway": "10.1.0.1"})


# --- addresses -----------------------------------------------------------------

CONFIG = SubnetConfig(N("10.1.0.0/24"), A("10.1.0.1"), None, {"router": A("10.1.0.3")})


def test_reserved():
    assert reserved(CONFIG) == {A("10.1.0.0"), A("10.1.0.255"), A("10.1.0.1"), A("10.1.0.3")}


@pytest.mark.parametrize(
    "config, used, expected",
    [
        (CONFIG, set(), "10.1.0.2"),
        (CONFIG, {A("10.1.0.2")}, "10.1.0.4"),  # skips the aux address
        (CONFIG, {A("10.1.0.2"), A("10.1.0.4")}, "10.1.0.5"),
        (CONFIG, {A("10.1.0.4")}, "10.1.0.2"),  # a released address is reused first
        (SubnetConfig(N("10.1.0.0/24"), A("10.1.0.254")), set(), "10.1.0.1"),
        (SubnetConfig(N("10.1.0.0/24"), A("10.1.0.1"), N("10.1.0.128/25")), set(), "10.1.0.128"),
        (SubnetConfig(N("10.1.0.0/24"), A("10.1.0.1"), N("10.1.0.0/25")), set(), "10.1.0.2"),
        (SubnetConfig(N("10.1.0.0/24"), A("10.1.0.1"), N("10.1.0.252/30")), {A("10.1.0.252")}, "10.1.0.253"),
        (SubnetConfig(N("10.0.0.0/8"), A("10.0.0.1")), {A(f"10.0.0.{i}") for i in range(2, 200)}, "10.0.0.200"),
    ],
)
def test_allocate_lowest_free(config, used, expected):
    assert allocate("net1", config, used) == A(expected)


def test_release_and_reuse():
    used: set = set()
    first = allocate("net1", CONFIG, used)
    used.add(first)
    second = allocate("net1", CONFIG, used)
    used.add(second)
    assert (first, second) == (A("10.1.0.2"), A("10.1.0.4"))
    used.discard(first)
    assert allocate("net1", CONFIG, used) == first


def test_exhaustion():
    small = SubnetConfig(N("10.1.0.0/29"), A("10.1.0.1"))
    used = {A(f"10.1.0.{i}") for i in range(2, 7)}
    with pytest.raises(IpamError) as err:
        allocate("net1", small, used)
    assert str(err.value) == "no available addresses on network net1 (10.1.0.0/29)"
    ranged = SubnetConfig(N("10.1.0.0/24"), A("10.1.0.1"), N("10.1.0.4/30"))
    with pytest.raises(IpamError, match=r"\(ip-range 10.1.0.4/30 of 10.1.0.0/24\)"):
        allocate("net1", ranged, {A("10.1.0.4"), A("10.1.0.5"), A("10.1.0.6"), A("10.1.0.7")})


@pytest.mark.parametrize(
    "requested, used, message",
    [
        ("10.1.0.5", {A("10.1.0.5")}, "Address already in use: 10.1.0.5 on network net1"),
        ("10.1.0.1", set(), "Address already in use: 10.1.0.1 on network net1 (the network's gateway)"),
        ("10.1.0.3", set(), "Address already in use: 10.1.0.3 on network net1 (auxiliary address router)"),
        ("10.1.0.0", set(), "Address already in use: 10.1.0.0 on network net1 (the network address of 10.1.0.0/24)"),
        ("10.1.0.255", set(), "Address already in use: 10.1.0.255 on network net1 (the broadcast address of 10.1.0.0/24)"),
        ("10.2.0.5", set(), "Invalid address 10.2.0.5: It does not belong to any of this network's subnets (network net1, subnet 10.1.0.0/24)"),
        ("nope", set(), "invalid address 'nope' requested on network net1: not an IP address"),
        ("fd00::5", set(), "IPv6 is not supported yet: address fd00::5 requested on network net1"),
    ],
)
def test_requested_address_errors(requested, used, message):
    with pytest.raises(IpamError) as err:
        allocate("net1", CONFIG, used, requested)
    assert message in str(err.value)


@pytest.mark.parametrize("requested", ["10.1.0.9", A("10.1.0.9"), " 10.1.0.9"])
def test_requested_address(requested):
    assert allocate("net1", CONFIG, {A("10.1.0.2")}, requested) == A("10.1.0.9")


def test_requested_address_may_lie_outside_the_ip_range():
    config = SubnetConfig(N("10.1.0.0/24"), A("10.1.0.1"), N("10.1.0.128/25"))
    assert allocate("net1", config, set(), "10.1.0.20") == A("10.1.0.20")
    assert allocate("net1", config, set(), "") == A("10.1.0.128")


def test_overlaps():
    assert overlaps(N("10.0.0.0/8"), N("10.1.0.0/24"))
    assert overlaps(N("10.1.0.0/24"), N("10.0.0.0/8"))
    assert not overlaps(N("10.1.0.0/24"), N("10.1.1.0/24"))


@pytest.mark.parametrize(
    "address, mac",
    [("10.1.0.2", "02:42:0a:01:00:02"), ("172.17.0.2", "02:42:ac:11:00:02"), ("192.168.255.254", "02:42:c0:a8:ff:fe")],
)
def test_mac_for(address, mac):
    assert mac_for(A(address)) == mac


# --- property ------------------------------------------------------------------


@st.composite
def configs_and_used(draw):
    prefix = draw(st.integers(min_value=24, max_value=30))
    base = draw(st.integers(min_value=0, max_value=2**32 - 1))
    subnet = N((base >> (32 - prefix) << (32 - prefix), prefix))
    hosts = list(subnet.hosts())
    ip_range = None
    if draw(st.booleans()):
        range_prefix = draw(st.integers(min_value=prefix, max_value=32))
        ip_range = draw(st.sampled_from(list(subnet.subnets(new_prefix=range_prefix))))
    gateway = draw(st.sampled_from(hosts))
    aux_list = draw(st.lists(st.sampled_from(hosts), max_size=3))
    used = draw(st.sets(st.sampled_from(list(subnet)), max_size=len(hosts)))
    config = SubnetConfig(subnet, gateway, ip_range, {f"a{i}": a for i, a in enumerate(aux_list)})
    return config, used


@settings(max_examples=300, deadline=None)
@given(configs_and_used())
def test_allocate_never_returns_reserved_or_used(case):
    config, used = case
    scope = config.ip_range or config.subnet
    free = set(scope) - reserved(config) - used
    try:
        address = allocate("net1", config, used)
    except IpamError as err:
        assert not free and "no available addresses on network net1" in str(err)
        return
    assert address in scope and address in config.subnet
    assert address not in reserved(config) and address not in used
    assert address == min(free)


@settings(max_examples=200, deadline=None)
@given(configs_and_used(), st.integers(min_value=0, max_value=2**32 - 1))
def test_requested_is_granted_exactly_when_free(case, value):
    config, used = case
    requested = A(value) if value % 2 else config.subnet.network_address + value % config.subnet.num_addresses
    ok = requested in config.subnet and requested not in reserved(config) and requested not in used
    if ok:
        assert allocate("net1", config, used, requested) == requested
    else:
        with pytest.raises(IpamError):
            allocate("net1", config, used, requested)

"""docker-py's network types: ``EndpointConfig`` (a container's settings on
one network), ``NetworkingConfig`` (the create request's ``NetworkingConfig``),
``IPAMConfig`` and ``IPAMPool`` (``networks.create(ipam=...)``). Pure."""
from __future__ import annotations

from ..errors import InvalidVersion
from ..utils import normalize_links, version_lt


class EndpointConfig(dict):
    def __init__(self, version: str, aliases=None, links=None, ipv4_address=None, ipv6_address=None,
                 link_local_ips=None, driver_opt=None, mac_address=None) -> None:
        super().__init__()
        if aliases:
            self["Aliases"] = aliases
        if links:
            self["Links"] = normalize_links(links)
        ipam = {}
        if ipv4_address:
            ipam["IPv4Address"] = ipv4_address
        if ipv6_address:
            ipam["IPv6Address"] = ipv6_address
        if mac_address:
            self["MacAddress"] = mac_address
        if link_local_ips is not None:
            ipam["LinkLocalIPs"] = link_local_ips
        if ipam:
            self["IPAMConfig"] = ipam
        if driver_opt:
            if version_lt(version, "1.32"):
                raise InvalidVersion("DriverOpts is not supported for API version < 1.32")
            if not isinstance(driver_opt, dict):
                raise TypeError("driver_opt must be a dictionary")
            self["DriverOpts"] = driver_opt


class NetworkingConfig(dict):
    def __init__(self, endpoints_config=None) -> None:
        super().__init__()
        if endpoints_config:
            self["EndpointsConfig"] = endpoints_config


class IPAMConfig(dict):
    def __init__(self, driver="default", pool_configs=None, options=None) -> None:
        super().__init__({"Driver": driver, "Config": pool_configs or []})
        if options:
            if not isinstance(options, dict):
                raise TypeError("IPAMConfig options must be a dictionary")
            self["Options"] = options


class IPAMPool(dict):
    def __init__(self, subnet=None, iprange=None, gateway=None, aux_addresses=None) -> None:
        super().__init__({"Subnet": subnet, "IPRange": iprange, "Gateway": gateway,
                          "AuxiliaryAddresses": aux_addresses})

"""``/networks/...``: docker-py's ``docker/api/network.py``."""
from __future__ import annotations

from ..utils import convert_filters
from .base import resource_id


class NetworkAPI:
    def networks(self, names=None, ids=None, filters=None) -> list:
        filters = dict(filters or {})
        if names:
            filters["name"] = names
        if ids:
            filters["id"] = ids
        return self._result(self._get(self._url("/networks"), params={"filters": convert_filters(filters)}),
                            json=True)

    def create_network(self, name, driver=None, options=None, ipam=None, check_duplicate=None, internal=False,
                       labels=None, enable_ipv6=False, attachable=None, scope=None, ingress=None) -> dict:
        if options is not None and not isinstance(options, dict):
            raise TypeError("options must be a dictionary")
        data = {"Name": name, "Driver": driver, "Options": options, "IPAM": ipam,
                "CheckDuplicate": check_duplicate}
        if labels is not None:
            if not isinstance(labels, dict):
                raise TypeError("labels must be a dictionary")
            data["Labels"] = labels
        if enable_ipv6:
            data["EnableIPv6"] = True
        if internal:
            data["Internal"] = True
        optional = {"Attachable": attachable, "Ingress": ingress, "Scope": scope}
        data.update({key: value for key, value in optional.items() if value is not None})
        return self._result(self._post(self._url("/networks/create"), json_body=data), json=True)

    def inspect_network(self, net_id, verbose=None, scope=None) -> dict:
        return self._result(self._get(self._url("/networks/{0}", resource_id(net_id, "network")),
                                      params={"verbose": verbose, "scope": scope}), json=True)

    def remove_network(self, net_id) -> None:
        self._raise_for_status(self._delete(self._url("/networks/{0}", resource_id(net_id, "network"))))

    def prune_networks(self, filters=None) -> dict:
        params = {"filters": convert_filters(filters)} if filters else {}
        return self._result(self._post(self._url("/networks/prune"), params=params), json=True)

    def connect_container_to_network(self, container, net_id, ipv4_address=None, ipv6_address=None,
                                     aliases=None, links=None, link_local_ips=None, driver_opt=None,
                                     mac_address=None) -> None:
        data = {"Container": resource_id(container, "container"),
                "EndpointConfig": self.create_endpoint_config(
                    aliases=aliases, links=links, ipv4_address=ipv4_address, ipv6_address=ipv6_address,
                    link_local_ips=link_local_ips, driver_opt=driver_opt, mac_address=mac_address)}
        self._raise_for_status(self._post(self._url("/networks/{0}/connect", net_id), json_body=data))

    def disconnect_container_from_network(self, container, net_id, force=False) -> None:
        data = {"Container": resource_id(container, "container")}
        if force:
            data["Force"] = force
        self._raise_for_status(self._post(self._url("/networks/{0}/disconnect", net_id), json_body=data))

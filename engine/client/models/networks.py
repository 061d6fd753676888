"""``client.networks``: docker-py's ``Network`` and ``NetworkCollection``."""
from __future__ import annotations

from .resource import Collection, Model


class Network(Model):
    @property
    def name(self):
        return self.attrs.get("Name")

    @property
    def containers(self) -> list:
        return [self.client.containers.get(cid) for cid in (self.attrs.get("Containers") or {})]

    def connect(self, container, *args, **kwargs) -> None:
        container = getattr(container, "id", container)
        self.client.api.connect_container_to_network(container, self.id, *args, **kwargs)

    def disconnect(self, container, *args, **kwargs) -> None:
        container = getattr(container, "id", container)
        self.client.api.disconnect_container_from_network(container, self.id, *args, **kwargs)

    def remove(self) -> None:
        self.client.api.remove_network(self.id)


class NetworkCollection(Collection):
    model = Network

    def create(self, name, *args, **kwargs) -> Network:
        return self.get(self.client.api.create_network(name, *args, **kwargs)["Id"])

    def get(self, network_id, *args, **kwargs) -> Network:
        return self.prepare_model(self.client.api.inspect_network(network_id, *args, **kwargs))

    def list(self, *args, greedy: bool = False, **kwargs) -> list[Network]:
        networks = [self.prepare_model(entry) for entry in self.client.api.networks(*args, **kwargs)]
        if greedy:
            for network in networks:
                network.reload()
        return networks

    def prune(self, filters=None) -> dict:
        return self.client.api.prune_networks(filters=filters)

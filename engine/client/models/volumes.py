"""``client.volumes``: docker-py's ``Volume`` and ``VolumeCollection``."""
from __future__ import annotations

from .resource import Collection, Model


class Volume(Model):
    id_attribute = "Name"

    @property
    def name(self) -> str:
        return self.attrs["Name"]

    def remove(self, force: bool = False) -> None:
        self.client.api.remove_volume(self.id, force=force)


class VolumeCollection(Collection):
    model = Volume

    def create(self, name=None, **kwargs) -> Volume:
        """``driver``, ``driver_opts``, ``labels``."""
        return self.prepare_model(self.client.api.create_volume(name, **kwargs))

    def get(self, volume_id) -> Volume:
        return self.prepare_model(self.client.api.inspect_volume(volume_id))

    def list(self, **kwargs) -> list[Volume]:
        """``filters``."""
        found = self.client.api.volumes(**kwargs)
        return [self.prepare_model(entry) for entry in found.get("Volumes") or []]

    def remove(self, volume_id, force: bool = False) -> None:
        """Not in docker-py (which has ``Volume.remove``): the same, by name."""
        self.client.api.remove_volume(volume_id, force=force)

    def prune(self, filters=None) -> dict:
        return self.client.api.prune_volumes(filters=filters)

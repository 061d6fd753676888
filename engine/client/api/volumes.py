"""``/volumes/...``: docker-py's ``docker/api/volume.py``."""
from __future__ import annotations

from ..utils import convert_filters


class VolumeAPI:
    def volumes(self, filters=None) -> dict:
        params = {"filters": convert_filters(filters) if filters else None}
        return self._result(self._get(self._url("/volumes"), params=params), json=True)

    def create_volume(self, name=None, driver=None, driver_opts=None, labels=None) -> dict:
        if driver_opts is not None and not isinstance(driver_opts, dict):
            raise TypeError("driver_opts must be a dictionary")
        data = {"Name": name, "Driver": driver, "DriverOpts": driver_opts}
        if labels is not None:
            if not isinstance(labels, dict):
                raise TypeError("labels must be a dictionary")
            data["Labels"] = labels
        return self._result(self._post(self._url("/volumes/create"), json_body=data), json=True)

    def inspect_volume(self, name) -> dict:
        return self._result(self._get(self._url("/volumes/{0}", name)), json=True)

    def remove_volume(self, name, force=False) -> None:
        params = {"force": True} if force else {}
        self._raise_for_status(self._delete(self._url("/volumes/{0}", name), params=params))

    def prune_volumes(self, filters=None) -> dict:
        params = {"filters": convert_filters(filters)} if filters else {}
        return self._result(self._post(self._url("/volumes/prune"), params=params), json=True)

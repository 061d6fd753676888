"""``/_ping``, ``/version``, ``/info``, ``/system/df``, ``/events``:
docker-py's ``docker/api/daemon.py`` (without login)."""
from __future__ import annotations

from datetime import datetime

from ..utils import convert_filters, datetime_to_timestamp


class SystemAPI:
    def ping(self) -> bool:
        return self._result(self._get(self._url("/_ping"))) == "OK"

    def version(self, api_version: bool = True) -> dict:
        return self._result(self._get(self._url("/version", versioned_api=api_version)), json=True)

    def info(self) -> dict:
        return self._result(self._get(self._url("/info")), json=True)

    def df(self) -> dict:
        return self._result(self._get(self._url("/system/df")), json=True)

    def events(self, since=None, until=None, filters=None, decode=None):
        """The daemon's events as they happen (JSON documents with ``decode``)."""
        params = {"since": datetime_to_timestamp(since) if isinstance(since, datetime) else since,
                  "until": datetime_to_timestamp(until) if isinstance(until, datetime) else until,
                  "filters": convert_filters(filters) if filters else None}
        return self._stream(self._get(self._url("/events"), params=params, stream=True, timeout=None),
                            decode=bool(decode))

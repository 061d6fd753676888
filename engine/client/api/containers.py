"""``/containers/...``: one method per endpoint, docker-py's names and
arguments (``docker/api/container.py``)."""
from __future__ import annotations

import base64
import json
from datetime import datetime

from ..errors import DeprecatedMethod, InvalidArgument, InvalidVersion
from ..transport import HijackedSocket
from ..types import EndpointConfig, HostConfig, NetworkingConfig, container_config
from ..utils import (
    convert_filters,
    datetime_to_timestamp,
    format_environment,
    parse_bytes,
)
from .base import resource_id

UPGRADE = {"Connection": "Upgrade", "Upgrade": "tcp"}


def _timestamp(name: str, value) -> int | float:
    if isinstance(value, datetime):
        return datetime_to_timestamp(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return value
    raise InvalidArgument(f"{name} value should be datetime or positive int/float, not {type(value)}")


class ContainerAPI:
    # -- create, list, inspect ---------------------------------------------------------
    def create_container(self, image, command=None, hostname=None, user=None, detach=False,
                         stdin_open=False, tty=False, ports=None, environment=None, volumes=None,
                         network_disabled=False, name=None, entrypoint=None, working_dir=None,
                         domainname=None, host_config=None, mac_address=None, labels=None,
                         stop_signal=None, networking_config=None, healthcheck=None, stop_timeout=None,
                         runtime=None, use_config_proxy=True, platform=None) -> dict:
        """``use_config_proxy``: accepted; the docker CLI's proxy settings are not read."""
        if isinstance(volumes, str):
            volumes = [volumes]
        if isinstance(environment, dict):
            environment = format_environment(environment)
        if use_config_proxy:  # docker-py: (environment + the proxy variables) or None
            environment = environment or None
        config = self.create_container_config(
            image, command, hostname, user, detach, stdin_open, tty, ports, environment, volumes,
            network_disabled, entrypoint, working_dir, domainname, host_config, mac_address, labels,
            stop_signal, networking_config, healthcheck, stop_timeout, runtime)
        return self.create_container_from_config(config, name, platform)

    def create_container_config(self, *args, **kwargs) -> dict:
        return container_config(self.api_version, *args, **kwargs)

    def create_container_from_config(self, config: dict, name=None, platform=None) -> dict:
        params = {"name": name}
        if platform:
            if not self.version_at_least("1.41"):
                raise InvalidVersion("platform is not supported for API version < 1.41")
            params["platform"] = platform
        return self._result(self._post(self._url("/containers/create"), params=params, json_body=config),
                            json=True)

    def create_host_config(self, *args, **kwargs) -> HostConfig:
        if "version" in kwargs:
            raise TypeError("create_host_config() got an unexpected keyword argument 'version'")
        return HostConfig(self.api_version, *args, **kwargs)

    def create_networking_config(self, *args, **kwargs) -> NetworkingConfig:
        return NetworkingConfig(*args, **kwargs)

    def create_endpoint_config(self, *args, **kwargs) -> EndpointConfig:
        return EndpointConfig(self.api_version, *args, **kwargs)

    def containers(self, quiet=False, all=False, trunc=False, latest=False, since=None, before=None,
                   limit=-1, size=False, filters=None) -> list:
        params = {"limit": 1 if latest else limit, "all": bool(all), "size": bool(size),
                  "trunc_cmd": bool(trunc), "since": since, "before": before}
        if filters:
            params["filters"] = convert_filters(filters)
        found = self._result(self._get(self._url("/containers/json"), params=params), json=True)
        if quiet:
            return [{"Id": entry["Id"]} for entry in found]
        if trunc:
            for entry in found:
                entry["Id"] = entry["Id"][:12]
        return found

    def inspect_container(self, container) -> dict:
        return self._result(self._get(self._url("/containers/{0}/json", resource_id(container, "container"))),
                            json=True)

    def get_archive(self, container, path, chunk_size=None, encode_stream=False):
        """(a tar stream of ``path`` in the container, in chunks; its stat
        from the ``X-Docker-Container-Path-Stat`` header), as docker-py."""
        response = self._get(self._url("/containers/{0}/archive", resource_id(container, "container")),
                             params={"path": path}, stream=True, timeout=None)
        self._raise_for_status(response)
        encoded = response.headers.get("x-docker-container-path-stat")
        stat = json.loads(base64.b64decode(encoded)) if encoded else None
        return self._stream(response), stat

    def put_archive(self, container, path, data) -> bool:
        """Extract the tar ``data`` (bytes or a file) into ``path`` in the container."""
        if hasattr(data, "read"):
            data = data.read()
        response = self._put(self._url("/containers/{0}/archive", resource_id(container, "container")),
                             params={"path": path}, data=data, headers={"Content-Type": "application/x-tar"})
        self._raise_for_status(response)
        return response.status_code == 200

    def top(self, container, ps_args=None) -> dict:
        return self._result(self._get(self._url("/containers/{0}/top", resource_id(container, "container")),
                                      params={"ps_args": ps_args}), json=True)

    def diff(self, container) -> list:
        return self._result(self._get(self._url("/containers/{0}/changes", resource_id(container, "container"))),
                            json=True)

    def stats(self, container, decode=None, stream=True, one_shot=None):
        url = self._url("/containers/{0}/stats", resource_id(container, "container"))
        params = {"stream": bool(stream)}
        if one_shot is not None:
            if not self.version_at_least("1.41"):
                raise InvalidVersion("one_shot is not supported for API version < 1.41")
            params["one-shot"] = bool(one_shot)
        if stream:
            if one_shot:
                raise InvalidArgument("one_shot is only available in conjunction with stream=False")
            return self._stream(self._get(url, params=params, stream=True, timeout=None), decode=bool(decode))
        if decode:
            raise InvalidArgument("decode is only available in conjunction with stream=True")
        return self._result(self._get(url, params=params), json=True)

    # -- life cycle --------------------------------------------------------------------
    def start(self, container, *args, **kwargs) -> None:
        if args or kwargs:
            raise DeprecatedMethod("Providing configuration in the start() method is no longer supported. "
                                   "Use the host_config param in create_container instead.")
        self._raise_for_status(self._post(self._url("/containers/{0}/start", resource_id(container, "container"))))

    def stop(self, container, timeout=None) -> None:
        params = {} if timeout is None else {"t": timeout}
        self._raise_for_status(self._post(
            self._url("/containers/{0}/stop", resource_id(container, "container")), params=params,
            timeout=self._plus(10 if timeout is None else timeout)))

    def restart(self, container, timeout=10) -> None:
        self._raise_for_status(self._post(
            self._url("/containers/{0}/restart", resource_id(container, "container")), params={"t": timeout},
            timeout=self._plus(timeout)))

    def _plus(self, seconds):
        """The client's timeout stretched by a wait the daemon makes on purpose."""
        return None if self.timeout is None else self.timeout + seconds

    def kill(self, container, signal=None) -> None:
        params = {}
        if signal is not None:
            params["signal"] = signal if isinstance(signal, str) else int(signal)
        self._raise_for_status(self._post(self._url("/containers/{0}/kill", resource_id(container, "container")),
                                          params=params))

    def pause(self, container) -> None:
        self._raise_for_status(self._post(self._url("/containers/{0}/pause", resource_id(container, "container"))))

    def unpause(self, container) -> None:
        self._raise_for_status(self._post(self._url("/containers/{0}/unpause", resource_id(container, "container"))))

    def rename(self, container, name) -> None:
        self._raise_for_status(self._post(self._url("/containers/{0}/rename", resource_id(container, "container")),
                                          params={"name": name}))

    def resize(self, container, height, width) -> None:
        self._raise_for_status(self._post(self._url("/containers/{0}/resize", resource_id(container, "container")),
                                          params={"h": height, "w": width}))

    def wait(self, container, timeout=None, condition=None) -> dict:
        """``{"StatusCode": n, ...}`` once the container meets ``condition``
        (``not-running``, ``next-exit``, ``removed``); ``timeout`` in seconds,
        else no limit."""
        params = {}
        if condition is not None:
            if not self.version_at_least("1.30"):
                raise InvalidVersion("wait condition is not supported for API version < 1.30")
            params["condition"] = condition
        return self._result(self._post(self._url("/containers/{0}/wait", resource_id(container, "container")),
                                       params=params, timeout=timeout), json=True)

    def remove_container(self, container, v=False, link=False, force=False) -> None:
        self._raise_for_status(self._delete(self._url("/containers/{0}", resource_id(container, "container")),
                                            params={"v": v, "link": link, "force": force}))

    def prune_containers(self, filters=None) -> dict:
        params = {"filters": convert_filters(filters)} if filters else {}
        return self._result(self._post(self._url("/containers/prune"), params=params), json=True)

    def update_container(self, container, blkio_weight=None, cpu_period=None, cpu_quota=None, cpu_shares=None,
                         cpuset_cpus=None, cpuset_mems=None, mem_limit=None, mem_reservation=None,
                         memswap_limit=None, kernel_memory=None, restart_policy=None) -> dict:
        fields = {"BlkioWeight": blkio_weight, "CpuPeriod": cpu_period, "CpuShares": cpu_shares,
                  "CpuQuota": cpu_quota, "CpusetCpus": cpuset_cpus, "CpusetMems": cpuset_mems,
                  "Memory": mem_limit, "MemoryReservation": mem_reservation, "MemorySwap": memswap_limit,
                  "KernelMemory": kernel_memory, "RestartPolicy": restart_policy}
        sizes = {"Memory", "MemoryReservation", "MemorySwap", "KernelMemory"}
        data = {key: parse_bytes(value) if key in sizes else value for key, value in fields.items() if value}
        return self._result(self._post(self._url("/containers/{0}/update", resource_id(container, "container")),
                                       json_body=data), json=True)

    # -- output ------------------------------------------------------------------------
    def logs(self, container, stdout=True, stderr=True, stream=False, timestamps=False, tail="all",
             since=None, follow=None, until=None):
        """Bytes (frames decoded, stdout and stderr in order), or an iterator
        of them with ``stream``; ``follow`` defaults to ``stream``."""
        container = resource_id(container, "container")
        if follow is None:
            follow = stream
        if tail != "all" and (not isinstance(tail, int) or isinstance(tail, bool) or tail < 0):
            tail = "all"
        params = {"stderr": bool(stderr), "stdout": bool(stdout), "timestamps": bool(timestamps),
                  "follow": bool(follow), "tail": tail}
        if since is not None:
            params["since"] = _timestamp("since", since)
        if until is not None:
            if not self.version_at_least("1.35"):
                raise InvalidVersion("until is not supported for API version < 1.35")
            params["until"] = _timestamp("until", until)
        response = self._get(self._url("/containers/{0}/logs", container), params=params, stream=True,
                             timeout=None if stream else self.timeout)
        return self._output(response, container, stream)

    def attach(self, container, stdout=True, stderr=True, stream=False, logs=False, demux=False):
        """The container's output from now on (and its past with ``logs``):
        bytes once it ends, or an iterator with ``stream``."""
        container = resource_id(container, "container")
        params = {"logs": bool(logs), "stdout": bool(stdout), "stderr": bool(stderr), "stream": bool(stream)}
        response = self._post(self._url("/containers/{0}/attach", container), params=params, headers=UPGRADE,
                              stream=True, timeout=None)
        return self._output(response, container, stream, demux=demux, hijacked=True)

    def attach_socket(self, container, params=None, ws=False) -> HijackedSocket:
        """The attached connection both ways (stdin with ``{"stdin": 1, ...}``)."""
        if ws:
            raise InvalidArgument("websocket attach is not supported")
        params = params or {"stdout": 1, "stderr": 1, "stream": 1}
        response = self._post(self._url("/containers/{0}/attach", resource_id(container, "container")),
                              params=params, headers=UPGRADE, stream=True, timeout=None)
        self._raise_for_status(response)
        return HijackedSocket(response, self.base_url)

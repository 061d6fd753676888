"""docker-py's ``docker.types``: the dicts callers may build themselves."""
from .containers import (
           DeviceRequest,
           Healthcheck,
           HostConfig,
           LogConfig,
           Mount,
           Ulimit,
           container_config,
)
from .networks import EndpointConfig, IPAMConfig, IPAMPool, NetworkingConfig

__all__ = ["DeviceRequest", "EndpointConfig", "Healthcheck", "HostConfig", "IPAMConfig", "IPAMPool",
           "LogConfig", "Mount", "NetworkingConfig", "Ulimit", "container_config"]

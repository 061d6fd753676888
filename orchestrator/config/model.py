"""The compose file as the user writes it, as pydantic models: the whole
compose specification, short and long syntaxes as unions, ``x-*`` extension
keys wherever the official schema allows them (kept in ``model_extra``).

These models are the source of ``schemas/compose.schema.json`` (schema.py)
and the typed view for commands that need one. Defining them costs a few
hundred milliseconds, so the runtime validator (validate.py) reads the
generated JSON instead and never imports this module.

The top level and the resources it declares live here; services are in
model_service.py, their deploy/develop/healthcheck in model_deploy.py and the
shared definitions in model_common.py.

Must not import other loader stages; only the model modules.
"""
from __future__ import annotations

from typing import Annotated

from .model_common import (DriverOpts, ExternalName, ListOrDict, OpenExternalName,
                           StringOrList)
from .model_service import Service
from .model_types import (BoolOrStr, Closed, ClosedOptionMap, Extensible, Integer, NameMap,
                          Nullable, OpenNameMap)


class Include(Closed):
    """A compose application included in the long syntax."""

    path: StringOrList | None = None
    env_file: StringOrList | None = None
    project_directory: str | None = None


class Model(Extensible):
    """A language model the application uses."""

    name: str | None = None
    model: str
    context_size: Integer | None = None
    runtime_flags: list[str] | None = None


class IpamConfig(Extensible):
    """One subnet block of a network's IPAM configuration."""

    subnet: str | None = None
    ip_range: str | None = None
    gateway: str | None = None
    aux_addresses: ClosedOptionMap[str] | None = None


class Ipam(Extensible):
    """A network's IP address management."""

    driver: str | None = None
    config: list[IpamConfig] | None = None
    options: ClosedOptionMap[str] | None = None


class Network(Extensible):
    """A network shared among services."""

    name: str | None = None
    driver: str | None = None
    driver_opts: DriverOpts | None = None
    ipam: Ipam | None = None
    external: BoolOrStr | ExternalName | None = None
    internal: BoolOrStr | None = None
    enable_ipv4: BoolOrStr | None = None
    enable_ipv6: BoolOrStr | None = None
    attachable: BoolOrStr | None = None
    labels: ListOrDict | None = None


class Volume(Extensible):
    """A named volume shared among services."""

    name: str | None = None
    driver: str | None = None
    driver_opts: DriverOpts | None = None
    external: BoolOrStr | ExternalName | None = None
    labels: ListOrDict | None = None


class Secret(Extensible):
    """A secret services can be granted."""

    name: str | None = None
    environment: str | None = None
    file: str | None = None
    external: BoolOrStr | OpenExternalName | None = None
    labels: ListOrDict | None = None
    driver: str | None = None
    driver_opts: DriverOpts | None = None
    template_driver: str | None = None


class Config(Extensible):
    """A config services can be granted."""

    name: str | None = None
    content: str | None = None
    environment: str | None = None
    file: str | None = None
    external: BoolOrStr | OpenExternalName | None = None
    labels: ListOrDict | None = None
    template_driver: str | None = None


class ComposeFile(Extensible):
    """A compose file: services and the resources they share."""

    version: str | None = None
    name: str | None = None
    include: list[str | Include] | None = None
    services: NameMap[Service] | None = None
    models: OpenNameMap[Model] | None = None
    networks: OpenNameMap[Annotated[Network | None, Nullable()]] | None = None
    volumes: NameMap[Annotated[Volume | None, Nullable()]] | None = None
    secrets: NameMap[Secret] | None = None
    configs: NameMap[Config] | None = None


__all__ = ["ComposeFile", "Config", "Include", "Model", "Network", "Secret", "Service",
           "Volume"]

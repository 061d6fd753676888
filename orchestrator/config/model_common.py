"""Compose definitions shared by several keys, named as the official schema
names them (``list_or_dict``, ``command``, ``ulimits``, ...), so the generated
schema carries them once under ``$defs``.

Must not import other loader stages; only model_types.
"""
from __future__ import annotations

from typing import Annotated, Literal

from typing_extensions import TypeAliasType

from .model_types import (UNIQUE, BoolOrStr, Closed, Extensible, IntOrStr, Nullable,
                          NumOrStr, Open, OptionMap, PatternMap, Scalar)

ListOfStrings = TypeAliasType("list_of_strings", Annotated[list[str], UNIQUE])

StringOrList = TypeAliasType("string_or_list", str | ListOfStrings)

ListOrDict = TypeAliasType("list_or_dict", Annotated[
    dict[str, Annotated[Scalar | None, Nullable()]], PatternMap(".+", closed=True)]
    | Annotated[list[str], UNIQUE])

Command = TypeAliasType("command", Annotated[str | list[str] | None, Nullable()])

LabelFile = TypeAliasType("label_file", str | list[str])

ExtraHosts = TypeAliasType("extra_hosts", Annotated[
    dict[str, str | list[str]], PatternMap(".+", closed=True)]
    | Annotated[list[str], UNIQUE])


class EnvFileEntry(Closed):
    """One env_file in the long syntax."""

    path: str
    format: str | None = None
    required: BoolOrStr = True


EnvFile = TypeAliasType("env_file", str | list[str | EnvFileEntry])


class ServiceHook(Extensible):
    """A command run at a point of a container's life (post_start, pre_stop)."""

    command: Command
    user: str | None = None
    privileged: BoolOrStr | None = None
    working_dir: str | None = None
    environment: ListOrDict | None = None


class FileReference(Extensible):
    """A config or secret granted to a service, in the long syntax."""

    source: str | None = None
    target: str | None = None
    uid: str | None = None
    gid: str | None = None
    mode: NumOrStr | None = None


ServiceConfigOrSecret = TypeAliasType("service_config_or_secret", list[str | FileReference])


class Ulimit(Extensible):
    """Separate soft and hard limits."""

    hard: IntOrStr
    soft: IntOrStr


Ulimits = TypeAliasType("ulimits", Annotated[
    dict[str, IntOrStr | Ulimit], PatternMap("^[a-z]+$", closed=False)])


class BlkioLimit(Closed):
    """A block IO rate limit for one device."""

    path: str | None = None
    rate: IntOrStr | None = None


class BlkioWeight(Closed):
    """A block IO weight for one device."""

    path: str | None = None
    weight: IntOrStr | None = None


class DeviceRequest(Extensible):
    """A device reservation (deploy.resources.reservations.devices)."""

    capabilities: ListOfStrings
    count: IntOrStr | None = None
    device_ids: ListOfStrings | None = None
    driver: str | None = None
    options: ListOrDict | None = None


class GpuRequest(Open):
    """A GPU request; the specification does not close this object."""

    capabilities: ListOfStrings | None = None
    count: IntOrStr | None = None
    device_ids: ListOfStrings | None = None
    driver: str | None = None
    options: ListOrDict | None = None


Gpus = TypeAliasType("gpus", Literal["all"] | list[GpuRequest])


class DiscreteResourceSpec(Extensible):
    """A countable resource (GPU, FPGA, ...)."""

    kind: str | None = None
    value: NumOrStr | None = None


class GenericResource(Extensible):
    """A user-defined resource to reserve."""

    discrete_resource_spec: DiscreteResourceSpec | None = None


class ExternalName(Extensible):
    """"external: {name: ...}" (deprecated form) of networks and volumes."""

    name: str | None = None


class OpenExternalName(Open):
    """"external: {name: ...}" of secrets and configs (left open)."""

    name: str | None = None


DriverOpts = OptionMap[NumOrStr]

Devices = TypeAliasType("devices", list[DeviceRequest])

GenericResources = TypeAliasType("generic_resources", list[GenericResource])

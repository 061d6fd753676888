"""A service as the user writes it: every key of the compose specification,
short and long syntaxes as unions, fields in the official schema's order.

Must not import other loader stages; only the model modules.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .model_common import (BlkioLimit, BlkioWeight, Command, DriverOpts, EnvFile,
                           ExtraHosts, Gpus, LabelFile, ListOfStrings, ListOrDict,
                           ServiceConfigOrSecret, ServiceHook, StringOrList, Ulimits)
from .model_deploy import Deployment, Development, Healthcheck
from .model_types import (UNIQUE, AnyMap, BoolOrStr, Closed, Extensible, IntOrStr, NameMap,
                          Nullable, Number, NumOrStr, OomScore, OpenNameMap, OptionMap,
                          Percent, PositiveInt, Scalar)


class Build(Extensible):
    """How to build the service's image (long syntax of "build")."""

    context: str | None = None
    dockerfile: str | None = None
    dockerfile_inline: str | None = None
    entitlements: list[str] | None = None
    args: ListOrDict | None = None
    ssh: ListOrDict | None = None
    labels: ListOrDict | None = None
    cache_from: list[str] | None = None
    cache_to: list[str] | None = None
    no_cache: BoolOrStr | None = None
    additional_contexts: ListOrDict | None = None
    network: str | None = None
    provenance: BoolOrStr | None = None
    sbom: BoolOrStr | None = None
    pull: BoolOrStr | None = None
    target: str | None = None
    shm_size: IntOrStr | None = None
    extra_hosts: ExtraHosts | None = None
    isolation: str | None = None
    privileged: BoolOrStr | None = None
    secrets: ServiceConfigOrSecret | None = None
    tags: list[str] | None = None
    ulimits: Ulimits | None = None
    platforms: list[str] | None = None


class BlkioConfig(Closed):
    """Block IO limits and weights."""

    device_read_bps: list[BlkioLimit] | None = None
    device_read_iops: list[BlkioLimit] | None = None
    device_write_bps: list[BlkioLimit] | None = None
    device_write_iops: list[BlkioLimit] | None = None
    weight: IntOrStr | None = None
    weight_device: list[BlkioWeight] | None = None


class CredentialSpec(Extensible):
    """Credential spec for a managed service account (Windows)."""

    config: str | None = None
    file: str | None = None
    registry: str | None = None


class DependsOn(Extensible):
    """A dependency in the long syntax of "depends_on"."""

    restart: BoolOrStr | None = None
    required: bool = True
    condition: Literal["service_started", "service_healthy", "service_completed_successfully"]


class DeviceMapping(Extensible):
    """A host device in the long syntax of "devices"."""

    source: str
    target: str | None = None
    permissions: str | None = None


class Extends(Closed):
    """The service (and file) this service extends."""

    service: str
    file: str | None = None


class Provider(Extensible):
    """A service managed by an external provider instead of Compose."""

    type: str
    options: OptionMap[Scalar | list[Scalar]] | None = None


class Logging(Extensible):
    """The container's logging driver and its options."""

    driver: str | None = None
    options: OptionMap[Annotated[str | Number | None, Nullable()]] | None = None


class ServiceModel(Extensible):
    """How a service sees a model (the environment variables it gets)."""

    endpoint_var: str | None = None
    model_var: str | None = None


class ServiceNetwork(Extensible):
    """The service's settings on one network."""

    aliases: ListOfStrings | None = None
    interface_name: str | None = None
    ipv4_address: str | None = None
    ipv6_address: str | None = None
    link_local_ips: ListOfStrings | None = None
    mac_address: str | None = None
    driver_opts: DriverOpts | None = None
    priority: Number | None = None
    gw_priority: Number | None = None


class Port(Extensible):
    """A port in the long syntax of "ports"."""

    name: str | None = None
    mode: str | None = None
    host_ip: str | None = None
    target: IntOrStr | None = None
    published: IntOrStr | None = None
    protocol: str | None = None
    app_protocol: str | None = None


class BindOptions(Extensible):
    """Options of a bind mount."""

    propagation: str | None = None
    create_host_path: BoolOrStr | None = None
    recursive: Literal["enabled", "disabled", "writable", "readonly"] | None = None
    selinux: Literal["z", "Z"] | None = None


class VolumeOptions(Extensible):
    """Options of a volume mount."""

    labels: ListOrDict | None = None
    nocopy: BoolOrStr | None = None
    subpath: str | None = None


class TmpfsOptions(Extensible):
    """Options of a tmpfs mount."""

    size: PositiveInt | str | None = None
    mode: NumOrStr | None = None


class ImageOptions(Extensible):
    """Options of an image mount."""

    subpath: str | None = None


class ServiceVolume(Extensible):
    """A mount in the long syntax of "volumes"."""

    type: Literal["bind", "volume", "tmpfs", "cluster", "npipe", "image"]
    source: str | None = None
    target: str | None = None
    read_only: BoolOrStr | None = None
    consistency: str | None = None
    bind: BindOptions | None = None
    volume: VolumeOptions | None = None
    tmpfs: TmpfsOptions | None = None
    image: ImageOptions | None = None


UniqueStrings = Annotated[list[str], UNIQUE]
UniqueStrOrNum = Annotated[list[str | Number], UNIQUE]
PULL_POLICY = "always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+"


class Service(Extensible):
    """A service: the containers Compose runs from one configuration."""

    develop: Annotated[Development | None, Nullable()] = None
    deploy: Annotated[Deployment | None, Nullable()] = None
    annotations: ListOrDict | None = None
    attach: BoolOrStr | None = None
    build: str | Build | None = None
    blkio_config: BlkioConfig | None = None
    cap_add: UniqueStrings | None = None
    cap_drop: UniqueStrings | None = None
    cgroup: Literal["host", "private"] | None = None
    cgroup_parent: str | None = None
    command: Command = None
    configs: ServiceConfigOrSecret | None = None
    container_name: Annotated[str, Field(pattern="[a-zA-Z0-9][a-zA-Z0-9_.-]+")] | None = None
    cpu_count: str | PositiveInt | None = None
    cpu_percent: str | Percent | None = None
    cpu_shares: NumOrStr | None = None
    cpu_quota: NumOrStr | None = None
    cpu_period: NumOrStr | None = None
    cpu_rt_period: NumOrStr | None = None
    cpu_rt_runtime: NumOrStr | None = None
    cpus: NumOrStr | None = None
    cpuset: str | None = None
    credential_spec: CredentialSpec | None = None
    depends_on: ListOfStrings | NameMap[DependsOn] | None = None
    device_cgroup_rules: ListOfStrings | None = None
    devices: list[str | DeviceMapping] | None = None
    dns: StringOrList | None = None
    dns_opt: UniqueStrings | None = None
    dns_search: StringOrList | None = None
    domainname: str | None = None
    entrypoint: Command = None
    env_file: EnvFile | None = None
    label_file: LabelFile | None = None
    environment: ListOrDict | None = None
    expose: UniqueStrOrNum | None = None
    extends: str | Extends | None = None
    provider: Provider | None = None
    external_links: UniqueStrings | None = None
    extra_hosts: ExtraHosts | None = None
    gpus: Gpus | None = None
    group_add: UniqueStrOrNum | None = None
    healthcheck: Healthcheck | None = None
    hostname: str | None = None
    image: str | None = None
    init: BoolOrStr | None = None
    ipc: str | None = None
    isolation: str | None = None
    labels: ListOrDict | None = None
    links: UniqueStrings | None = None
    logging: Logging | None = None
    mac_address: str | None = None
    mem_limit: NumOrStr | None = None
    mem_reservation: IntOrStr | None = None
    mem_swappiness: IntOrStr | None = None
    memswap_limit: NumOrStr | None = None
    network_mode: str | None = None
    models: ListOfStrings | OpenNameMap[ServiceModel] | None = None
    networks: ListOfStrings | NameMap[Annotated[ServiceNetwork | None, Nullable()]] | None = None
    oom_kill_disable: BoolOrStr | None = None
    oom_score_adj: str | OomScore | None = None
    pid: Annotated[str | None, Nullable()] = None
    pids_limit: NumOrStr | None = None
    platform: str | None = None
    ports: Annotated[list[Number | str | Port], UNIQUE] | None = None
    post_start: list[ServiceHook] | None = None
    pre_stop: list[ServiceHook] | None = None
    privileged: BoolOrStr | None = None
    profiles: ListOfStrings | None = None
    pull_policy: Annotated[str, Field(pattern=PULL_POLICY)] | None = None
    pull_refresh_after: str | None = None
    read_only: BoolOrStr | None = None
    restart: str | None = None
    runtime: str | None = None
    scale: IntOrStr | None = None
    security_opt: UniqueStrings | None = None
    shm_size: NumOrStr | None = None
    secrets: ServiceConfigOrSecret | None = None
    sysctls: ListOrDict | None = None
    stdin_open: BoolOrStr | None = None
    stop_grace_period: str | None = None
    stop_signal: str | None = None
    storage_opt: AnyMap | None = None
    tmpfs: StringOrList | None = None
    tty: BoolOrStr | None = None
    ulimits: Ulimits | None = None
    use_api_socket: bool | None = None
    user: str | None = None
    uts: str | None = None
    userns_mode: str | None = None
    volumes: Annotated[list[str | ServiceVolume], UNIQUE] | None = None
    volumes_from: UniqueStrings | None = None
    working_dir: str | None = None

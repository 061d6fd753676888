"""The service sub-objects that describe running and developing it:
``deploy``, ``develop`` and ``healthcheck``.

Must not import other loader stages; only the model modules.
"""
from __future__ import annotations

from typing import Literal

from .model_common import Devices, GenericResources, ListOrDict, ServiceHook, StringOrList
from .model_types import BoolOrStr, Extensible, IntOrStr, NumOrStr


class Healthcheck(Extensible):
    """How to tell whether the container is healthy."""

    disable: BoolOrStr | None = None
    interval: str | None = None
    retries: NumOrStr | None = None
    test: str | list[str] | None = None
    timeout: str | None = None
    start_period: str | None = None
    start_interval: str | None = None


class Watch(Extensible):
    """One "develop.watch" rule: a path and what to do when it changes."""

    ignore: StringOrList | None = None
    include: StringOrList | None = None
    path: str
    action: Literal["rebuild", "sync", "restart", "sync+restart", "sync+exec"]
    target: str | None = None
    exec: ServiceHook | None = None
    initial_sync: bool | None = None


class Development(Extensible):
    """Development workflow settings ("develop")."""

    watch: list[Watch] | None = None


class UpdateConfig(Extensible):
    """How a service is updated, or rolled back ("rollback_config")."""

    parallelism: IntOrStr | None = None
    delay: str | None = None
    failure_action: str | None = None
    monitor: str | None = None
    max_failure_ratio: NumOrStr | None = None
    order: Literal["start-first", "stop-first"] | None = None


class ResourceLimits(Extensible):
    """Upper bounds on what a container may use."""

    cpus: NumOrStr | None = None
    memory: str | None = None
    pids: IntOrStr | None = None


class ResourceReservations(Extensible):
    """What a container is guaranteed."""

    cpus: NumOrStr | None = None
    memory: str | None = None
    generic_resources: GenericResources | None = None
    devices: Devices | None = None


class Resources(Extensible):
    """Resource limits and reservations."""

    limits: ResourceLimits | None = None
    reservations: ResourceReservations | None = None


class RestartPolicy(Extensible):
    """When the platform restarts the service's containers."""

    condition: str | None = None
    delay: str | None = None
    max_attempts: IntOrStr | None = None
    window: str | None = None


class PlacementPreference(Extensible):
    """Spread tasks over the values of a node label."""

    spread: str | None = None


class Placement(Extensible):
    """Where the platform may run the service's containers."""

    constraints: list[str] | None = None
    preferences: list[PlacementPreference] | None = None
    max_replicas_per_node: IntOrStr | None = None


class Deployment(Extensible):
    """Deployment settings ("deploy")."""

    mode: str | None = None
    endpoint_mode: str | None = None
    replicas: IntOrStr | None = None
    labels: ListOrDict | None = None
    rollback_config: UpdateConfig | None = None
    update_config: UpdateConfig | None = None
    resources: Resources | None = None
    restart_policy: RestartPolicy | None = None
    placement: Placement | None = None


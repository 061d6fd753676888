"""The planner of ``up`` and ``down``: a pure function of the project (its
canonical JSON shape), a snapshot of what the engine has (observe.py) and
the options, to the actions that make the engine match the project.

``up``, per service: the containers it should have (``scale``,
``deploy.replicas``, ``--scale``), those it has (by compose's labels), and
for each one whether it is kept (same config hash), started (same hash,
stopped — but a one-shot that others wait for with
``service_completed_successfully`` stays done once it succeeded), recreated
(another hash, or ``--force-recreate``), created (missing) or removed
(scaled down); dependents with ``restart: true`` of a recreated service are
restarted. Containers of services no longer in the project are orphans.
``down``: every container of the project in reverse dependency order, its
networks, and with ``-v`` its volumes.

Must not import: the engine or its client (the executor calls it), anything
that does I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import naming

PROJECT, SERVICE, NUMBER, ONEOFF, HASH = (
    "com.docker.compose.project", "com.docker.compose.service", "com.docker.compose.container-number",
    "com.docker.compose.oneoff", "com.docker.compose.config-hash")


@dataclass(frozen=True)
class Existing:
    """A container of the project, as observed."""
    id: str
    name: str
    service: str
    number: int
    config_hash: str
    state: str  # created, running, paused, restarting, exited, dead
    exit_code: int = 0
    oneoff: bool = False


@dataclass(frozen=True)
class Snapshot:
    containers: tuple[Existing, ...] = ()
    networks: frozenset[str] = frozenset()  # engine names that exist
    volumes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class UpOptions:
    services: tuple[str, ...] = ()  # empty: all
    one_shots: frozenset[str] = frozenset()  # services others wait for with service_completed_successfully
    force_recreate: bool = False
    no_recreate: bool = False
    always_recreate_deps: bool = False
    no_deps: bool = False
    remove_orphans: bool = False
    no_start: bool = False
    scale: tuple[tuple[str, int], ...] = ()


@dataclass
class ServicePlan:
    name: str
    keep: list[Existing] = field(default_factory=list)  # unchanged and running (or done)
    start: list[Existing] = field(default_factory=list)  # unchanged, stopped
    recreate: list[Existing] = field(default_factory=list)  # replaced by a new one of the same number
    create: list[int] = field(default_factory=list)  # numbers of new containers
    remove: list[Existing] = field(default_factory=list)  # scaled down
    restart: list[Existing] = field(default_factory=list)  # a restart: true dependency was recreated
    config_hash: str = ""

    @property
    def changes(self) -> bool:
        return bool(self.start or self.recreate or self.create or self.remove or self.restart)


@dataclass
class Plan:
    networks: list[tuple[str, str]] = field(default_factory=list)  # (key, engine name) to create
    volumes: list[tuple[str, str]] = field(default_factory=list)
    services: dict[str, ServicePlan] = field(default_factory=dict)  # in start order
    orphans: list[Existing] = field(default_factory=list)
    remove_orphans: bool = False

    @property
    def empty(self) -> bool:
        return not (self.networks or self.volumes or self.orphans and self.remove_orphans
                    or any(s.changes for s in self.services.values()))


def replicas(service: dict, scale: dict[str, int], name: str) -> int:
    if name in scale:
        return scale[name]
    deploy = service.get("deploy") or {}
    if deploy.get("replicas") is not None:
        return int(deploy["replicas"])
    return int(service.get("scale", 1) if service.get("scale") is not None else 1)


def container_name(project: str, name: str, service: dict, number: int) -> str:
    return service.get("container_name") or f"{project}-{name}-{number}"


def _completed(found: Existing) -> bool:
    """A one-shot that ran to a successful end: ``up`` does not run it again."""
    return found.state == "exited" and found.exit_code == 0


def up(project: str, services: dict[str, dict], order: list[str], dependents_on_restart: dict[str, set[str]],
       networks: dict[str, dict], volumes: dict[str, dict], snapshot: Snapshot, options: UpOptions) -> Plan:
    """``services``: canonical JSON of the services to bring up (the
    selection and, unless ``no_deps``, its dependencies), ``order``: their
    start order; ``dependents_on_restart``: service -> services to restart
    when it is recreated (``restart: true``)."""
    plan = Plan(remove_orphans=options.remove_orphans)
    plan.networks = [(key, spec["name"]) for key, spec in sorted(networks.items())
                     if not spec.get("external") and spec["name"] not in snapshot.networks]
    plan.volumes = [(key, spec["name"]) for key, spec in sorted(volumes.items())
                    if not spec.get("external") and spec["name"] not in snapshot.volumes]
    scale = dict(options.scale)
    mine = [c for c in snapshot.containers if not c.oneoff]
    recreated: set[str] = set()
    for name in order:
        service = services[name]
        wanted = replicas(service, scale, name)
        config_hash = naming.config_hash(service)
        found = sorted((c for c in mine if c.service == name), key=lambda c: c.number)
        step = ServicePlan(name, config_hash=config_hash)
        kept = found[:wanted]
        step.remove = found[wanted:][::-1]
        forced = options.force_recreate or (options.always_recreate_deps and name not in options.services
                                            and bool(options.services))
        for container in kept:
            changed = container.config_hash != config_hash
            if not options.no_recreate and (forced or changed):
                step.recreate.append(container)
            elif container.state in ("running", "paused", "restarting") or (
                    name in options.one_shots and _completed(container)):
                step.keep.append(container)
            else:
                step.start.append(container)
        used = {c.number for c in found}
        number = 1
        while len(kept) + len(step.create) < wanted:
            if number not in used:
                step.create.append(number)
            number += 1
        if step.recreate:
            recreated.add(name)
        plan.services[name] = step
    for name in order:  # restart: true dependents of what is recreated
        step = plan.services[name]
        if any(name in dependents_on_restart.get(dep, ()) for dep in recreated) and name not in recreated:
            step.restart = [c for c in step.keep if c.state == "running"]
            step.keep = [c for c in step.keep if c not in step.restart]
    known = set(services) | set(order)
    plan.orphans = [c for c in snapshot.containers if c.service not in known]
    return plan


@dataclass
class DownPlan:
    stop_levels: list[list[Existing]]  # dependents first
    networks: list[str]
    volumes: list[str]

    @property
    def empty(self) -> bool:
        return not (any(self.stop_levels) or self.networks or self.volumes)


def down(levels: list[list[str]], snapshot: Snapshot, networks: list[str], volumes: list[str],
         remove_orphans: bool) -> DownPlan:
    """``levels``: the project's start levels (dependencies first);
    ``networks``/``volumes``: the engine names of the project's own ones
    that exist (external ones never). Orphans (and one-off ``run``
    containers) go first with ``remove_orphans``."""
    by_service: dict[str, list[Existing]] = {}
    for container in snapshot.containers:
        by_service.setdefault(container.service, []).append(container)
    known = {name for level in levels for name in level}
    stop_levels = []
    if remove_orphans:
        stop_levels.append([c for c in snapshot.containers if c.oneoff or c.service not in known])
    for level in reversed(levels):
        stop_levels.append([c for name in level for c in by_service.get(name, []) if not c.oneoff])
    return DownPlan([level for level in stop_levels if level], networks, volumes)


def up_steps(made: Plan, name_of, start: bool = True) -> list[tuple[str, str, str]]:
    """What carrying out ``made`` would show, step by step (a dry run):
    (kind, name, status); ``name_of(service, number)`` names new containers."""
    steps: list[tuple[str, str, str]] = []
    for kind, items in (("Network", made.networks), ("Volume", made.volumes)):
        for _, name in items:
            steps += [(kind, name, "Creating"), (kind, name, "Created")]
    removed = (made.orphans if made.remove_orphans else []) + [
        c for step in made.services.values() for c in step.remove]
    for container in removed:
        steps += [("Container", container.name, status) for status in ("Stopping", "Stopped", "Removing", "Removed")]
    for name, step in made.services.items():
        for container in step.recreate:
            steps += [("Container", container.name, "Recreate"), ("Container", container.name, "Recreated")]
        for number in step.create:
            steps += [("Container", name_of(name, number), "Creating"), ("Container", name_of(name, number), "Created")]
        if not start:
            continue
        started = [c.name for c in step.start + step.recreate] + [name_of(name, n) for n in step.create]
        steps += [("Container", c, status) for c in started for status in ("Starting", "Started")]
        steps += [("Container", c.name, status) for c in step.restart for status in ("Restarting", "Started")]
    return steps


def down_steps(made: DownPlan) -> list[tuple[str, str, str]]:
    steps: list[tuple[str, str, str]] = []
    for level in made.stop_levels:
        for container in level:
            if container.state in ("running", "paused", "restarting"):
                steps += [("Container", container.name, "Stopping"), ("Container", container.name, "Stopped")]
            steps += [("Container", container.name, "Removing"), ("Container", container.name, "Removed")]
    for kind, names in (("Network", made.networks), ("Volume", made.volumes)):
        steps += [(kind, name, status) for name in names for status in ("Removing", "Removed")]
    return steps

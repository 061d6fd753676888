"""The executor: carries out a plan (plan.py) through engine.client, with
anyio. Networks and volumes first; then one task per service, all at once:
each makes its containers, waits until its dependencies meet their
conditions (``service_started``, ``service_healthy``,
``service_completed_successfully``; ``required: false`` ones may fail),
starts them, and tells its dependents. A failure stops the dependents with
the reason. Every step is an ``Event`` given to ``emit`` (progress.py draws
them); nothing here prints.

The client is blocking (httpx); its calls run in worker threads.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import anyio.to_thread

from .plan import DownPlan, Existing, Plan

POLL = 0.05  # a dependent starts within this much of its dependency turning healthy


@dataclass(frozen=True)
class Event:
    kind: str  # Network, Volume, Container
    name: str
    status: str  # Creating, Created, Starting, Started, Waiting, Healthy, Exited, Stopping, ...
    error: str = ""


class Failed(Exception):
    """A service could not be brought up; the message says why."""


_LIMIT: list = []  # the --parallel limiter of the running command, if any


def _call(function, *args, **kwargs):
    return anyio.to_thread.run_sync(lambda: function(*args, **kwargs), limiter=_LIMIT[0] if _LIMIT else None)


async def limited(parallel: int, work, *args):
    """``work(*args)`` with at most ``parallel`` engine calls at once (-1: no limit)."""
    _LIMIT[:] = [anyio.CapacityLimiter(parallel)] if parallel > 0 else []
    try:
        return await work(*args)
    finally:
        _LIMIT.clear()


@dataclass
class Up:
    client: object
    plan: Plan
    bodies: Callable[[str, int], tuple[str, dict]]  # (service, number) -> (container name, create body)
    dependencies: dict[str, dict[str, dict]]  # service -> {dependency: {condition, required}}
    network_specs: dict[str, dict]  # engine name -> create kwargs
    volume_specs: dict[str, dict]
    emit: Callable[[Event], None]
    timeout: int | None = None
    start: bool = True

    async def run(self) -> dict[str, str]:
        """Carry out the plan; returns service -> error for those that failed."""
        async with anyio.create_task_group() as group:
            for _, name in self.plan.networks:
                group.start_soon(self._network, name)
            for _, name in self.plan.volumes:
                group.start_soon(self._volume, name)
        for orphan in self.plan.orphans if self.plan.remove_orphans else ():
            await self._remove(orphan)
        self.done = {name: anyio.Event() for name in self.plan.services}
        self.names: dict[str, str] = {}  # container id -> name, of those made here
        self.errors: dict[str, str] = {}
        self.containers: dict[str, list[str]] = {name: [] for name in self.plan.services}
        async with anyio.create_task_group() as group:
            for name in self.plan.services:
                group.start_soon(self._service, name)
        return self.errors

    async def _network(self, name: str) -> None:
        self.emit(Event("Network", name, "Creating"))
        await _call(self.client.api.create_network, name, **self.network_specs[name])
        self.emit(Event("Network", name, "Created"))

    async def _volume(self, name: str) -> None:
        self.emit(Event("Volume", name, "Creating"))
        await _call(self.client.api.create_volume, name, **self.volume_specs[name])
        self.emit(Event("Volume", name, "Created"))

    async def _remove(self, container: Existing) -> None:
        self.emit(Event("Container", container.name, "Stopping"))
        await _call(self.client.api.stop, container.id, timeout=self.timeout)
        self.emit(Event("Container", container.name, "Stopped"))
        self.emit(Event("Container", container.name, "Removing"))
        await _call(self.client.api.remove_container, container.id, force=True)
        self.emit(Event("Container", container.name, "Removed"))

    async def _service(self, name: str) -> None:
        step = self.plan.services[name]
        try:
            async with anyio.create_task_group() as group:
                for container in step.remove + step.recreate:
                    group.start_soon(self._remove, container)
            numbers = sorted([c.number for c in step.recreate] + step.create)
            made = []
            for number in numbers:  # in order: numbers name them
                made.append(await self._create(name, number))
            await self._await_dependencies(name)
            self.containers[name] = [c.id for c in step.keep] + made
            if self.start:
                async with anyio.create_task_group() as group:
                    for container in step.start:
                        group.start_soon(self._start, container.id, container.name)
                    for cid in made:
                        group.start_soon(self._start, cid, self.names[cid])
                    for container in step.restart:
                        group.start_soon(self._restart, container)
            self.containers[name] += [c.id for c in step.start + step.restart]
        except Failed as failure:
            self.errors[name] = str(failure)
        except Exception as error:  # noqa: BLE001 - the engine's refusal, said for this service
            self.errors[name] = getattr(error, "explanation", None) or str(error)
        finally:
            self.done[name].set()

    async def _create(self, service: str, number: int) -> str:
        name, body = self.bodies(service, number)
        self.emit(Event("Container", name, "Creating"))
        created = await _call(self.client.api.create_container_from_config, body, name)
        self.emit(Event("Container", name, "Created"))
        self.names[created["Id"]] = name
        return created["Id"]

    async def _start(self, cid: str, name: str) -> None:
        self.emit(Event("Container", name, "Starting"))
        await _call(self.client.api.start, cid)
        self.emit(Event("Container", name, "Started"))

    async def _restart(self, container: Existing) -> None:
        self.emit(Event("Container", container.name, "Restarting"))
        timeout = self.timeout
        if timeout is None:  # the container's own (stop_grace_period), else docker's 10; -t 0 stays 0
            found = await _call(self.client.api.inspect_container, container.id)
            timeout = (found.get("Config") or {}).get("StopTimeout")
        await _call(self.client.api.restart, container.id, timeout=10 if timeout is None else timeout)
        self.emit(Event("Container", container.name, "Started"))

    async def _last_lines(self, cid: str) -> str:
        return await _tail(self.client, cid)

    async def _await_dependencies(self, name: str) -> None:
        for dependency, entry in self.dependencies.get(name, {}).items():
            if dependency not in self.done:
                continue  # not part of this up (--no-deps): as it is
            await self.done[dependency].wait()
            try:
                if dependency in self.errors:
                    raise Failed(f"dependency {dependency} failed to start: {self.errors[dependency]}")
                await self._condition(dependency, entry.get("condition") or "service_started")
            except Failed:
                if entry.get("required", True):
                    raise
                continue  # an optional dependency: go on without it

    async def _condition(self, service: str, condition: str) -> None:
        if condition == "service_started":
            return
        for cid in self.containers.get(service, []):
            found = await _call(self.client.api.inspect_container, cid)
            name = found["Name"].lstrip("/")
            self.emit(Event("Container", name, "Waiting"))
            while True:
                state = found["State"]
                if condition == "service_healthy":
                    health = (state.get("Health") or {}).get("Status")
                    if health is None:
                        raise Failed(f"container {name} has no healthcheck configured")
                    if health == "healthy":
                        self.emit(Event("Container", name, "Healthy"))
                        break
                    if health == "unhealthy" or not state["Running"]:
                        log = ((state.get("Health") or {}).get("Log") or [{}])[-1].get("Output", "").strip()
                        why = f"exited ({state['ExitCode']})" if not state["Running"] else "is unhealthy"
                        raise Failed(f"dependency failed to start: container {name} {why}"
                                     + (f" (last check: {log})" if log else "") + await self._last_lines(cid))
                elif condition == "service_completed_successfully":
                    if state["Status"] == "exited":
                        if state["ExitCode"] != 0:
                            raise Failed(f"service {service} didn't complete successfully: exit {state['ExitCode']}"
                                         + await self._last_lines(cid))
                        self.emit(Event("Container", name, "Exited"))
                        break
                await anyio.sleep(POLL)
                found = await _call(self.client.api.inspect_container, cid)


async def _tail(client, cid: str, lines: int = 5) -> str:
    try:
        output = await _call(client.api.logs, cid, tail=lines)
    except Exception:  # noqa: BLE001 - removed meanwhile: no lines to show
        return ""
    text = output.decode(errors="replace").rstrip()
    return "\n  last output:\n" + "\n".join(f"    {line}" for line in text.splitlines()) if text else ""


async def wait_ready(client, containers: list[str], emit: Callable[[Event], None],
                     timeout: float | None) -> dict[str, str]:
    """``up --wait``: every container running (and healthy, when it has a
    check), or a one-shot that exited 0; name -> problem for the others."""
    deadline = None if timeout is None else time.monotonic() + timeout
    problems: dict[str, str] = {}

    async def one(cid: str) -> None:
        while True:
            found = await _call(client.api.inspect_container, cid)
            state, name = found["State"], found["Name"].lstrip("/")
            health = (state.get("Health") or {}).get("Status")
            if state["Status"] == "exited":
                if state["ExitCode"] == 0:
                    emit(Event("Container", name, "Exited"))
                else:
                    problems[name] = f"container {name} exited ({state['ExitCode']})" + await _tail(client, cid)
                return
            if state["Running"] and health in (None, "healthy"):
                emit(Event("Container", name, "Healthy" if health else "Running"))
                return
            if health == "unhealthy":
                log = ((state.get("Health") or {}).get("Log") or [{}])[-1].get("Output", "").strip()
                problems[name] = (f"container {name} is unhealthy" + (f" (last check: {log})" if log else "")
                                  + await _tail(client, cid))
                return
            if deadline is not None and time.monotonic() > deadline:
                problems[name] = f"container {name} is not ready after {timeout:g}s"
                return
            await anyio.sleep(POLL)
    async with anyio.create_task_group() as group:
        for cid in containers:
            group.start_soon(one, cid)
    return problems


async def down(client, plan: DownPlan, emit: Callable[[Event], None], timeout: int | None) -> None:
    """Stop the containers level by level (dependents first, each level at
    once); removal is off that path: each container goes as soon as it has
    stopped. Then the networks and volumes."""
    async def stop(container: Existing) -> None:
        if container.state in ("running", "paused", "restarting"):
            emit(Event("Container", container.name, "Stopping"))
            await _call(client.api.stop, container.id, timeout=timeout)
            emit(Event("Container", container.name, "Stopped"))

    async def remove(container: Existing) -> None:
        emit(Event("Container", container.name, "Removing"))
        await _call(client.api.remove_container, container.id, force=True)
        emit(Event("Container", container.name, "Removed"))
    async def stop_then_remove(container: Existing, removals) -> None:
        if timeout == 0 and container.state in ("running", "paused", "restarting"):
            # no grace to give: one call kills and removes (its level still waits for it)
            for status in ("Stopping", "Stopped", "Removing"):
                emit(Event("Container", container.name, status))
            await _call(client.api.remove_container, container.id, force=True)
            emit(Event("Container", container.name, "Removed"))
            return
        await stop(container)
        removals.start_soon(remove, container)
    async with anyio.create_task_group() as removals:
        for level in plan.stop_levels:
            async with anyio.create_task_group() as group:  # the next level waits for these stops only
                for container in level:
                    group.start_soon(stop_then_remove, container, removals)

    async def network(name: str) -> None:
        emit(Event("Network", name, "Removing"))
        await _call(client.api.remove_network, name)
        emit(Event("Network", name, "Removed"))

    async def volume(name: str) -> None:
        emit(Event("Volume", name, "Removing"))
        await _call(client.api.remove_volume, name)
        emit(Event("Volume", name, "Removed"))
    async with anyio.create_task_group() as group:
        for name in plan.networks:
            group.start_soon(network, name)
        for name in plan.volumes:
            group.start_soon(volume, name)

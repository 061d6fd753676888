"""docker compose's commands on a project's existing containers: ``start``,
``stop``, ``restart``, ``kill``, ``pause``, ``unpause``, ``rm``
and ``wait``, with compose v2's (2.40.3) flags, wording and exit statuses
(``top``, ``port``, ``images``, ``ls``, ``version`` and ``events`` are in
listing.py, on the helpers here).

Containers are found by compose's labels (observe.containers); the engine is
reached through engine.client only; progress is printed as ``up``/``down``
print it (progress.py); tables and event lines come from stackview.py.
Those that need only the project's name (top, port, images, wait, events)
do not read the compose file when ``-p`` or COMPOSE_PROJECT_NAME gives it,
as compose; ``ls`` and ``version`` need no project at all.
"""
from __future__ import annotations

import os
import sys
import threading

import click

from .calls import DaemonError, connect, message_of
from .compose import Stack, _fail, _load, _progress

ONEOFF = "com.docker.compose.oneoff"
SERVICE = "com.docker.compose.service"
NUMBER = "com.docker.compose.container-number"
POLL = 0.1


# -- finding things ---------------------------------------------------------------
def _stack(obj: dict, services=()) -> Stack:
    """The project; a named service that profiles disabled is enabled (as
    compose does), one that does not exist is an error."""
    project = _load(obj)
    named = [s for s in services if s not in project.services]
    if named:
        unknown = [s for s in named if s not in project.disabled]
        if unknown:
            _fail(f"no such service: {unknown[0]}")
        profiles = tuple(p for s in named for p in project.disabled[s].get("profiles") or ())
        project = _load({**obj, "profiles": tuple(obj.get("profiles") or ()) + profiles})
    return Stack(project)


def _project_name(obj: dict) -> str:
    """compose's ``toProjectName``: -p, COMPOSE_PROJECT_NAME, else the loaded project's."""
    name = obj.get("project_name") or os.environ.get("COMPOSE_PROJECT_NAME")
    return name.lower() if name else _load(obj).name


def _containers(client, project: str, *, oneoff: bool | None = False, running: bool = False,
                services=()) -> list[dict]:
    """The project's containers: ``oneoff`` False excludes ``run``'s, True
    keeps only them, None keeps both; ``running`` as the engine's list
    without ``all`` (running and paused)."""
    from orchestrator import observe
    try:
        found = observe.containers(client, project)
    except Exception as error:  # noqa: BLE001 - the engine's refusal
        raise DaemonError(message_of(error)) from None
    if running:
        found = [c for c in found if c.get("State") in ("running", "paused", "restarting")]
    if oneoff is not None:
        found = [c for c in found if ((c.get("Labels") or {}).get(ONEOFF, "False") == "True") == oneoff]
    if services:
        found = [c for c in found if (c.get("Labels") or {}).get(SERVICE) in services]
    return found


def _service(summary: dict) -> str:
    return (summary.get("Labels") or {}).get(SERVICE, "")


def _name(summary: dict) -> str:
    return min(summary.get("Names") or ["/"], key=lambda n: n.count("/")).lstrip("/")


def _each(items, action) -> None:
    """``action(item)`` for every item at once (compose's errgroup); after all
    ended, the first failure, an engine error worded as docker's."""
    from concurrent.futures import ThreadPoolExecutor

    from engine.client.errors import DockerException
    items = list(items)
    if not items:
        return
    with ThreadPoolExecutor(max_workers=min(8, len(items))) as pool:
        futures = [pool.submit(action, item) for item in items]
    for future in futures:
        error = future.exception()
        if isinstance(error, DockerException):
            raise DaemonError(message_of(error))
        if error is not None:
            raise error


class _DryRun:
    """What a dry run does to the engine: nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _changing(obj: dict, client):
    """The engine's calls that change things, or none in a dry run (``--dry-run``)."""
    return _DryRun() if obj.get("dry_run") else client.api


def _event(emit, summary: dict, status: str) -> None:
    from orchestrator.execute import Event
    emit(Event("Container", _name(summary), status))


def _stop_timeout(client, summary: dict, timeout: int | None) -> int:
    """``-t``, else the container's own (stop_grace_period), else docker's 10."""
    if timeout is not None:
        return timeout
    found = client.api.inspect_container(summary["Id"])
    value = (found.get("Config") or {}).get("StopTimeout")
    return 10 if value is None else int(value)


def _await_dependencies(client, stack: Stack, service: str, found: list[dict], emit, restart_only=False) -> None:
    """compose's ``waitDependencies``: each dependency's containers meet its
    condition (healthy, completed successfully); a ``required: false`` one
    that fails is passed over."""
    import time
    for name, dependency in stack.graph.dependencies(service).items():
        if restart_only and not dependency.restart or dependency.condition == "service_started":
            continue
        for summary in (c for c in found if _service(c) == name):
            while True:
                state = client.api.inspect_container(summary["Id"])["State"]
                health = (state.get("Health") or {}).get("Status")
                problem = None
                if dependency.condition == "service_healthy":
                    if health == "healthy":
                        _event(emit, summary, "Healthy")
                        break
                    if health is None:
                        problem = f"container {_name(summary)} has no healthcheck configured"
                    elif health == "unhealthy" or not state.get("Running"):
                        problem = f"dependency failed to start: container {_name(summary)} is unhealthy"
                elif state.get("Status") == "exited":
                    if state.get("ExitCode") == 0:
                        _event(emit, summary, "Exited")
                        break
                    problem = f"service \"{name}\" didn't complete successfully: exit {state.get('ExitCode')}"
                if problem:
                    if dependency.required:
                        _fail(problem)
                    break
                time.sleep(POLL)


def _in_order(levels: list[list[str]], chosen, action) -> None:
    """``action(service)`` level by level, the services of a level at once."""
    for level in levels:
        _each([name for name in level if name in chosen], action)


# -- start, stop, restart ------------------------------------------------------------
@click.command()
@click.argument("services", nargs=-1)
@click.pass_obj
def start(obj, services):
    """Start services."""
    from orchestrator.plan import replicas
    stack = _stack(obj, services)
    chosen = stack.graph.closure(services) if services else set(stack.services)
    client = connect()
    found = _containers(client, stack.name)
    api, progress = _changing(obj, client), _progress(obj, "Starting")

    def one(service: str) -> None:
        if replicas(stack.services[service], {}, service) == 0:
            return
        if not obj.get("dry_run"):
            _await_dependencies(client, stack, service, found, progress.emit)
        if not found:
            _fail(f'service "{service}" has no container to start')
        for summary in (c for c in found if _service(c) == service and c["State"] != "running"):
            _event(progress.emit, summary, "Starting")
            api.start(summary["Id"])
            _event(progress.emit, summary, "Started")
    try:
        _in_order(stack.graph.levels(), chosen, one)
    finally:
        progress.close()


def _stop(client, api, stack: Stack, services, timeout: int | None, emit) -> None:
    """compose's stop: the services' containers (stopped ones too), dependents first."""
    selected = set(services or stack.services)
    found = _containers(client, stack.name)

    def one(summary: dict) -> None:
        _event(emit, summary, "Stopping")
        try:
            api.stop(summary["Id"], timeout=_stop_timeout(client, summary, timeout))
        except Exception:
            _event(emit, summary, "Error while Stopping")
            raise
        _event(emit, summary, "Stopped")
    for level in reversed(stack.graph.levels()):
        _each([c for c in found if _service(c) in level and _service(c) in selected], one)


@click.command()
@click.option("-t", "--timeout", type=int, metavar="SECONDS", help="Specify a shutdown timeout in seconds")
@click.argument("services", nargs=-1)
@click.pass_obj
def stop(obj, timeout, services):
    """Stop services."""
    stack = _stack(obj, services)
    client = connect()
    progress = _progress(obj, "Stopping")
    try:
        _stop(client, _changing(obj, client), stack, services, timeout, progress.emit)
    finally:
        progress.close()


def _restart_selection(stack: Stack, services, no_deps: bool) -> set[str]:
    """The named services and, unless ``no_deps``, what is tied to them by
    ``restart: true`` dependencies, both ways (compose's IncludeDependents)."""
    if not services:
        return set(stack.services)
    if no_deps:
        return set(services)
    chosen, todo = set(), list(services)
    while todo:
        name = todo.pop()
        if name in chosen:
            continue
        chosen.add(name)
        todo += [d for d, dep in stack.graph.dependencies(name).items() if dep.restart]
        todo += stack.graph.dependents(name, restart_only=True)
    return chosen


@click.command()
@click.option("-t", "--timeout", type=int, metavar="SECONDS", help="Specify a shutdown timeout in seconds")
@click.option("--no-deps", is_flag=True, help="Don't restart dependent services")
@click.argument("services", nargs=-1)
@click.pass_obj
def restart(obj, timeout, no_deps, services):
    """Restart service containers."""
    stack = _stack(obj, services)
    chosen = _restart_selection(stack, services, no_deps)
    client = connect()
    found = _containers(client, stack.name)
    api, progress = _changing(obj, client), _progress(obj, "Restarting")

    def container(summary: dict) -> None:
        _event(progress.emit, summary, "Restarting")
        api.restart(summary["Id"], timeout=_stop_timeout(client, summary, timeout))
        _event(progress.emit, summary, "Started")

    def one(service: str) -> None:
        if not obj.get("dry_run"):
            _await_dependencies(client, stack, service, found, progress.emit, restart_only=True)
        _each([c for c in found if _service(c) == service], container)
    try:
        _in_order(stack.graph.levels(), chosen, one)
    finally:
        progress.close()


# -- kill, pause, unpause, rm --------------------------------------------------------
@click.command()
@click.option("--remove-orphans", is_flag=True, default=os.environ.get("COMPOSE_REMOVE_ORPHANS", "").lower()
              in ("1", "t", "true", "y"), help="Remove containers for services not defined in the Compose file")
@click.option("-s", "--signal", "signal_", default="SIGKILL", show_default=True,
              help="SIGNAL to send to the container")
@click.argument("services", nargs=-1)
@click.pass_obj
def kill(obj, remove_orphans, signal_, services):
    """Force stop service containers."""
    stack = _stack(obj, services)
    client = connect()
    found = _containers(client, stack.name, oneoff=None, running=True, services=services)
    if not remove_orphans:
        found = [c for c in found if _service(c) in stack.services]
    if not found:
        click.echo("no container to kill", err=True)
        return
    api, progress = _changing(obj, client), _progress(obj, "Killing")

    def one(summary: dict) -> None:
        _event(progress.emit, summary, "Killing")
        try:
            api.kill(summary["Id"], signal=signal_)
        except Exception:
            _event(progress.emit, summary, "Error while Killing")
            raise
        _event(progress.emit, summary, "Killed")
    try:
        _each(found, one)
    finally:
        progress.close()


def _pausing(obj, services, call: str, done: str, title: str) -> None:
    stack = _stack(obj, services)
    client = connect()
    found = [c for c in _containers(client, stack.name, running=True, services=services)
             if _service(c) in stack.services]
    api, progress = _changing(obj, client), _progress(obj, title)

    def one(summary: dict) -> None:
        getattr(api, call)(summary["Id"])
        _event(progress.emit, summary, done)
    try:
        _each(found, one)
    finally:
        progress.close()


@click.command()
@click.argument("services", nargs=-1)
@click.pass_obj
def pause(obj, services):
    """Pause services."""
    _pausing(obj, services, "pause", "Paused", "Pausing")


@click.command()
@click.argument("services", nargs=-1)
@click.pass_obj
def unpause(obj, services):
    """Unpause services."""
    _pausing(obj, services, "unpause", "Unpaused", "Running")


def _confirmed(message: str) -> bool:
    click.echo(f"{message}\nAre you sure? [yN] ", nl=False)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes", "1", "t", "true")


@click.command(name="rm")
@click.option("-f", "--force", is_flag=True, help="Don't ask to confirm removal")
@click.option("-s", "--stop", "stop_first", is_flag=True, help="Stop the containers, if required, before removing")
@click.option("-v", "--volumes", is_flag=True, help="Remove any anonymous volumes attached to containers")
@click.option("-a", "--all", "all_", is_flag=True, hidden=True, help="Deprecated - no effect")
@click.argument("services", nargs=-1)
@click.pass_obj
def rm(obj, force, stop_first, volumes, all_, services):
    """Removes stopped service containers.

    By default, anonymous volumes attached to containers will not be removed. You
    can override this with -v. To list all volumes, use "docker volume ls".

    Any data which is not in a volume will be lost."""
    from engine.client.errors import NotFound
    stack = _stack(obj, services)
    client = connect()
    api = _changing(obj, client)
    if stop_first:
        progress = _progress(obj, "Stopping")
        try:
            _stop(client, api, stack, services, None, progress.emit)
        finally:
            progress.close()
    stopped = []
    for summary in _containers(client, stack.name, services=services):
        if _service(summary) not in stack.services:
            continue
        try:
            running = client.api.inspect_container(summary["Id"])["State"]["Running"]
            if not running or stop_first and obj.get("dry_run"):
                stopped.append(summary)
        except NotFound:
            continue  # removed meanwhile (auto-remove)
        except Exception as error:  # noqa: BLE001 - the engine's refusal
            _fail(message_of(error))
    if not stopped:
        click.echo("No stopped containers", err=True)
        return
    message = f"Going to remove {', '.join(_name(c) for c in stopped)}"
    if force:
        click.echo(message)
    elif not _confirmed(message):
        return
    progress = _progress(obj, "Removing")

    def one(summary: dict) -> None:
        _event(progress.emit, summary, "Removing")
        api.remove_container(summary["Id"], v=volumes, force=force)
        _event(progress.emit, summary, "Removed")
    try:
        _each(stopped, one)
    finally:
        progress.close()


# -- wait ---------------------------------------------------------------------------------
@click.command()
@click.option("--down-project", is_flag=True, help="Drops project when the first container stops")
@click.argument("services", nargs=-1, required=True)
@click.pass_context
def wait(ctx, down_project, services):
    """Block until containers of all (or specified) services stop."""
    name = _project_name(ctx.obj)
    client = connect()
    found = _containers(client, name, oneoff=None, running=True, services=services)
    if not found:
        _fail(f'no containers for project "{name}"')
    codes: list[int] = []
    lock = threading.Lock()

    def one(summary: dict) -> None:
        result = client.api.wait(summary["Id"])
        with lock:
            click.echo(f'container "{summary["Id"]}" exited with status code {result["StatusCode"]}')
            codes.append(int(result["StatusCode"]))
    _each(found, one)
    if down_project:
        from .compose import down
        ctx.invoke(down, volumes=False, remove_orphans=True, timeout=None, rmi=None, services=())
    ctx.exit(codes[-1])


COMMANDS = {name: (f"orchestrator.cli.{module}", name) for module, names in (
    ("lifecycle", ("start", "stop", "restart", "kill", "pause", "unpause", "rm", "wait")),
    ("listing", ("top", "port", "images", "ls", "version", "events"))) for name in names}

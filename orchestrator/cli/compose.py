"""``dockyard up``, ``down``, ``ps`` and ``logs``: docker compose's commands
over the engine, through engine.client only. Each loads the project
(the loader), observes the engine (observe.py), plans (plan.py, pure),
executes (execute.py) and renders (progress.py)."""
from __future__ import annotations

import sys

import click

from .calls import DaemonError, connect, message_of
from .config import project_options

VERSION = "2.40.3"  # the compose version whose labels we write


def _load(obj: dict, services=()):
    from orchestrator.config.load import load_project
    project = load_project(project_options(obj), services=tuple(services))
    for warning in project.warnings:
        click.echo(f"WARN: {warning}", err=True)
    return project


class Stack:
    """A loaded project as the commands use it: canonical JSON, the graph,
    engine names of its networks and volumes."""

    def __init__(self, project) -> None:
        from orchestrator import graph
        self.project = project
        self.name = project.name
        rendered = project.render("json", escape=False)
        self.services: dict = rendered.get("services") or {}
        self.networks: dict = rendered.get("networks") or {}
        self.volumes: dict = rendered.get("volumes") or {}
        self.secrets: dict = rendered.get("secrets") or {}
        self.configs: dict = rendered.get("configs") or {}
        self.graph = graph.build(self.services, project.disabled)

    def dependencies(self) -> dict[str, dict[str, dict]]:
        return {name: {dep: {"condition": d.condition, "required": d.required, "restart": d.restart}
                       for dep, d in self.graph.dependencies(name).items()} for name in self.services}

    def network_specs(self) -> dict[str, dict]:
        out = {}
        for key, spec in self.networks.items():
            ipam = spec.get("ipam") or {}
            config = [{"Subnet": c.get("subnet"), "IPRange": c.get("ip_range"), "Gateway": c.get("gateway"),
                       "AuxiliaryAddresses": c.get("aux_addresses")} for c in ipam.get("config") or []]
            out[spec["name"]] = {
                "driver": spec.get("driver") or "bridge", "options": spec.get("driver_opts") or None,
                "ipam": {"Driver": ipam.get("driver") or "default",
                         "Config": [{k: v for k, v in c.items() if v} for c in config]},
                "internal": bool(spec.get("internal")), "attachable": bool(spec.get("attachable")) or None,
                "enable_ipv6": bool(spec.get("enable_ipv6")),
                "labels": {**(spec.get("labels") or {}), "com.docker.compose.network": key,
                           "com.docker.compose.project": self.name, "com.docker.compose.version": VERSION}}
        return out

    def context(self):
        """What translate.py needs beside a service."""
        from orchestrator import plan, translate
        names = {n: plan.container_name(self.name, n, self.services[n], 1) for n in self.services}
        return translate.Context(self.name, self.project.working_dir, self.project.config_files,
                                 {k: s["name"] for k, s in self.networks.items()},
                                 {k: s["name"] for k, s in self.volumes.items()}, names, self.secrets,
                                 self.configs, self.project.environment)

    def volume_specs(self) -> dict[str, dict]:
        return {spec["name"]: {"driver": spec.get("driver") or "local", "driver_opts": spec.get("driver_opts"),
                               "labels": {**(spec.get("labels") or {}), "com.docker.compose.volume": key,
                                          "com.docker.compose.project": self.name,
                                          "com.docker.compose.version": VERSION}}
                for key, spec in self.volumes.items()}


def _progress(obj: dict, title: str = "Running"):
    from orchestrator.progress import make
    mode = obj.get("progress", "auto")
    if mode == "auto" and obj.get("ansi") == "never":
        mode = "plain"  # the live view is made of control characters
    return make(mode, sys.stderr, obj.get("dry_run", False), title)


def _dry_run(obj: dict, steps) -> None:
    """Show what would be done, do nothing (``--dry-run``)."""
    from orchestrator.execute import Event
    progress = _progress(obj)
    for kind, name, status in steps:
        progress.emit(Event(kind, name, status))
    progress.close()


def _fail(message: str) -> None:
    raise DaemonError(message)


def _built_images(client, stack: Stack, services) -> None:
    """A service with ``build:`` and no ``image:`` runs compose's name for
    its image (``<project>-<service>``) when that image is there; building
    it is not supported yet."""
    from engine.client.errors import NotFound

    from orchestrator import naming
    for name in services:
        service = stack.services[name]
        if service.get("image") or not service.get("build"):
            continue
        image = naming.image_name(stack.name, name, service)
        try:
            client.api.inspect_image(image)
        except NotFound:
            _fail(f"service {name}: its image {image} must be built, and building images is not supported yet: "
                  f"build it with docker build -t {image} (against this engine), or give the service an image")
        service["image"] = image


def _check_images(client, stack: Stack, services) -> None:
    from engine.client.errors import NotFound
    missing, present = [], set()
    for name in services:
        image = stack.services[name].get("image")
        if image in present:
            continue
        try:
            client.api.inspect_image(image)
            present.add(image)
        except NotFound:
            missing.append(f"service {name}: image {image} is not available locally, and registry pulls are not "
                           "supported yet: load it first (dockyard image load -i FILE, or docker load)")
    if missing:
        _fail("\n".join(missing))


@click.command()
@click.option("-d", "--detach", is_flag=True, help="Detached mode: run containers in the background.")
@click.option("--wait", is_flag=True, help="Wait for services to be running|healthy. Implies detached mode.")
@click.option("--wait-timeout", type=int, metavar="SECONDS", help="Maximum duration in seconds to wait.")
@click.option("--force-recreate", is_flag=True, help="Recreate containers even if nothing changed.")
@click.option("--no-recreate", is_flag=True, help="If containers already exist, don't recreate them.")
@click.option("--always-recreate-deps", is_flag=True, help="Recreate dependent containers.")
@click.option("--no-deps", is_flag=True, help="Don't start linked services.")
@click.option("--remove-orphans", is_flag=True, help="Remove containers for services not in the compose file.")
@click.option("--no-start", is_flag=True, help="Don't start the services after creating them.")
@click.option("--scale", "scales", multiple=True, metavar="SERVICE=NUM", help="Scale SERVICE to NUM instances.")
@click.option("-t", "--timeout", type=int, metavar="SECONDS", help="Shutdown timeout in seconds.")
@click.option("--pull", type=click.Choice(["always", "missing", "never"]), default="missing", show_default=True,
              help="Pull image before running.")
@click.option("--build", is_flag=True, help="Build images before starting containers.")
@click.option("--no-build", is_flag=True, help="Don't build an image, even if it's policy.")
@click.option("--abort-on-container-exit", is_flag=True, help="Stops all containers if any container was "
              "stopped. Incompatible with -d.")
@click.option("--exit-code-from", metavar="SERVICE", help="Return the exit code of the selected service "
              "container. Implies --abort-on-container-exit.")
@click.option("--attach", "attach", multiple=True, metavar="SERVICE", help="Restrict attaching to the "
              "specified services.")
@click.option("--no-attach", "no_attach", multiple=True, metavar="SERVICE", help="Do not attach (stream logs) "
              "to the specified services.")
@click.option("--no-log-prefix", is_flag=True, help="Don't print prefix in logs.")
@click.option("--no-color", is_flag=True, help="Produce monochrome output.")
@click.option("--timestamps", is_flag=True, help="Show timestamps.")
@click.argument("services", nargs=-1)
@click.pass_obj
def up(obj, detach, wait, wait_timeout, force_recreate, no_recreate, always_recreate_deps, no_deps,
       remove_orphans, no_start, scales, timeout, pull, build, no_build, abort_on_container_exit,
       exit_code_from, attach, no_attach, no_log_prefix, no_color, timestamps, services):
    """Create and start containers."""
    import anyio

    from orchestrator import execute, observe, plan, translate
    if force_recreate and no_recreate:
        raise click.UsageError("--force-recreate and --no-recreate are incompatible")
    abort_on_container_exit = abort_on_container_exit or exit_code_from is not None
    if detach and abort_on_container_exit:
        raise click.UsageError("--abort-on-container-exit and -d cannot be combined")
    if build:
        _fail("--build: building images is not supported yet; give each service an image")
    if pull == "always":
        _fail("--pull always: registry pulls are not supported yet; load images first (dockyard image load)")
    scale = []
    for entry in scales:
        service, eq, number = entry.partition("=")
        if not eq or not number.isdigit():
            raise click.BadParameter(f"{entry!r} is not SERVICE=NUM", param_hint="--scale")
        scale.append((service, int(number)))
    stack = Stack(_load(obj, () if no_deps else services))
    selected = list(services) or list(stack.services)
    chosen = set(selected) if no_deps else stack.graph.closure(selected)
    order = [name for name in stack.graph.start_order() if name in chosen]
    problems = [m for name in order for m in translate.unsupported(name, stack.services[name])]
    if problems:
        _fail("\n".join(problems))
    client = connect()
    _built_images(client, stack, order)
    _check_images(client, stack, order)
    snapshot = observe.snapshot(client, stack.name, [s["name"] for s in stack.networks.values()],
                                [s["name"] for s in stack.volumes.values()])
    for kind, specs, existing in (("network", stack.networks, snapshot.networks),
                                  ("volume", stack.volumes, snapshot.volumes)):
        for key, spec in specs.items():
            if spec.get("external") and spec["name"] not in existing:
                _fail(f"{kind} {spec['name']} declared as external, but could not be found")
    restarts = {name: stack.graph.dependents(name, restart_only=True) for name in order}
    one_shots = frozenset(dep for name in order for dep, d in stack.graph.dependencies(name).items()
                          if d.condition == "service_completed_successfully")
    options = plan.UpOptions(tuple(services), one_shots, force_recreate, no_recreate, always_recreate_deps,
                             no_deps, remove_orphans, no_start, tuple(scale))
    the_plan = plan.up(stack.name, {n: stack.services[n] for n in order}, order, restarts, stack.networks,
                       stack.volumes, snapshot, options)
    orphans = [c.name for c in the_plan.orphans]
    if orphans and not remove_orphans:
        click.echo(f"WARN: Found orphan containers ({', '.join(orphans)}) for this project. If you removed or "
                   "renamed this service in your compose file, you can run this command with the "
                   "--remove-orphans flag to clean it up.", err=True)
    if obj.get("dry_run"):
        _dry_run(obj, plan.up_steps(the_plan, lambda service, number: plan.container_name(
            stack.name, service, stack.services[service], number), start=not no_start))
        return
    deps = stack.dependencies()
    context = stack.context()

    def body(service: str, number: int) -> tuple[str, dict]:
        spec = stack.services[service]
        name = plan.container_name(stack.name, service, spec, number)
        return name, translate.create_body(context, service, spec, number=number, name=name,
                                           config_hash=the_plan.services[service].config_hash)
    progress = _progress(obj)
    runner = execute.Up(client, the_plan, body, deps, stack.network_specs(), stack.volume_specs(), progress.emit,
                        timeout=timeout, start=not no_start)
    try:
        errors = anyio.run(execute.limited, obj.get("parallel", -1), runner.run)
        if errors:
            _fail("\n".join(f"service {name}: {why}" for name, why in errors.items()))
        if wait and not no_start:
            ids = [cid for name in order for cid in runner.containers.get(name, [])]
            problems = anyio.run(execute.wait_ready, client, ids, progress.emit, wait_timeout)
            if problems:
                _fail("\n".join(problems.values()))
    except DaemonError:
        raise
    except Exception as error:  # noqa: BLE001 - the engine's refusal
        _fail(message_of(error))
    finally:
        progress.close()
    if not detach and not wait and not no_start:
        from orchestrator.logs import follow_project
        shown = [n for n in (attach or order) if n not in no_attach]
        code = follow_project(client, stack.name, shown, timeout=timeout, prefix=not no_log_prefix,
                              color=not no_color and obj.get("ansi") != "never"
                              and (obj.get("ansi") == "always" or sys.stdout.isatty()),
                              timestamps=timestamps, abort_on_exit=abort_on_container_exit,
                              exit_code_from=exit_code_from)
        raise SystemExit(code)


@click.command()
@click.option("-v", "--volumes", is_flag=True, help="Remove named volumes declared in the volumes section.")
@click.option("--remove-orphans", is_flag=True, help="Remove containers for services not in the compose file.")
@click.option("-t", "--timeout", type=int, metavar="SECONDS", help="Shutdown timeout in seconds.")
@click.option("--rmi", type=click.Choice(["local", "all"]), help="Remove images used by services.")
@click.argument("services", nargs=-1)
@click.pass_obj
def down(obj, volumes, remove_orphans, timeout, rmi, services):
    """Stop and remove containers, networks."""
    import anyio

    from orchestrator import execute, observe, plan
    stack = Stack(_load(obj))
    client = connect()
    snapshot = observe.snapshot(client, stack.name)
    if services:
        snapshot = plan.Snapshot(tuple(c for c in snapshot.containers if c.service in services))
    own_networks = {s["name"] for s in stack.networks.values() if not s.get("external")}
    networks = [] if services else [n for n in observe.project_networks(client, stack.name) if n in own_networks
                                    or n not in {s["name"] for s in stack.networks.values()}]
    own_volumes = {s["name"] for s in stack.volumes.values() if not s.get("external")}
    removable = [] if services or not volumes else [
        v for v in observe.project_volumes(client, stack.name) if v in own_volumes]
    the_plan = plan.down(stack.graph.levels(), snapshot, networks, removable, remove_orphans)
    leftover = [c.name for c in snapshot.containers if not any(c in level for level in the_plan.stop_levels)]
    images = _images_to_remove(client, stack, rmi) if rmi and not services else []
    if the_plan.empty and not images:
        click.echo(f'Warning: No resource found to remove for project "{stack.name}".', err=True)
        return
    if obj.get("dry_run"):
        _dry_run(obj, plan.down_steps(the_plan) + [("Image", i, s) for i in images for s in ("Removing", "Removed")])
        return
    progress = _progress(obj)
    try:
        anyio.run(execute.limited, obj.get("parallel", -1), execute.down, client, the_plan, progress.emit, timeout)
        for image in images:
            progress.emit(execute.Event("Image", image, "Removing"))
            client.api.remove_image(image)
            progress.emit(execute.Event("Image", image, "Removed"))
    except Exception as error:  # noqa: BLE001 - the engine's refusal
        _fail(message_of(error))
    finally:
        progress.close()
    if leftover:
        click.echo(f"WARN: Found orphan containers ({', '.join(leftover)}) for this project. If you removed or "
                   "renamed this service in your compose file, you can run this command with the "
                   "--remove-orphans flag to clean it up.", err=True)


def _images_to_remove(client, stack: Stack, rmi: str) -> list[str]:
    """``down --rmi``: ``all`` the services' images, ``local`` only those
    without an ``image:`` of their own (compose's name for what it builds)."""
    from engine.client.errors import NotFound

    from orchestrator import naming
    wanted = []
    for name, service in stack.services.items():
        if rmi == "local" and service.get("image"):
            continue
        image = naming.image_name(stack.name, name, service)
        try:
            client.api.inspect_image(image)
        except NotFound:
            continue
        if image not in wanted:
            wanted.append(image)
    return wanted


@click.command()
@click.option("-a", "--all", "show_all", is_flag=True, help="Show all stopped containers.")
@click.option("-q", "--quiet", is_flag=True, help="Only display IDs.")
@click.option("--services", "list_services", is_flag=True, help="Display services.")
@click.option("--status", "statuses", multiple=True, help="Filter services by status. Values: [paused | "
              "restarting | removing | running | dead | created | exited]")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE",
              help="Filter services by a property (supported filters: status).")
@click.option("--format", "template", default="table", help="Format output using a custom template: "
              "'table', 'json' or a Go template.")
@click.argument("services", nargs=-1)
@click.pass_obj
def ps(obj, show_all, quiet, list_services, statuses, filters, template, services):
    """List containers."""
    for entry in filters:
        key, eq, value = entry.partition("=")
        if not eq or key != "status":
            _fail(f"invalid filter {entry!r}: the supported filter is status=STATUS")
        statuses += (value,)
    from orchestrator import observe
    from orchestrator.psview import render_ps
    stack = Stack(_load(obj))
    client = connect()
    found = [c for c in observe.containers(client, stack.name)
             if (c.get("Labels") or {}).get("com.docker.compose.oneoff", "False") == "False"]
    if services:
        found = [c for c in found if c["Labels"].get("com.docker.compose.service") in services]
    if statuses:
        found = [c for c in found if c["State"] in statuses]
    elif not show_all:
        found = [c for c in found if c["State"] in ("running", "paused", "restarting")]
    for line in render_ps(found, quiet=quiet, services=list_services, template=template):
        click.echo(line)


@click.command()
@click.option("-f", "--follow", is_flag=True, help="Follow log output.")
@click.option("--tail", default="all", help="Number of lines to show from the end of the logs.")
@click.option("-t", "--timestamps", is_flag=True, help="Show timestamps.")
@click.option("--no-color", is_flag=True, help="Produce monochrome output.")
@click.option("--no-log-prefix", is_flag=True, help="Don't print prefix in logs.")
@click.option("--since", help="Show logs since timestamp or relative.")
@click.option("--until", help="Show logs before a timestamp or relative.")
@click.option("--index", type=int, help="index of the container if service has multiple replicas.")
@click.argument("services", nargs=-1)
@click.pass_obj
def logs(obj, follow, tail, timestamps, no_color, no_log_prefix, since, until, index, services):
    """View output from containers."""
    from orchestrator.logs import show_logs

    from .listing import timestamp_arg
    since, until = (float(t) if t else None for t in (timestamp_arg(since), timestamp_arg(until)))
    stack = Stack(_load(obj))
    client = connect()
    show_logs(client, stack.name, list(services), follow=follow, tail=tail, timestamps=timestamps,
              color=not no_color and obj.get("ansi") != "never" and (obj.get("ansi") == "always"
                                                                       or sys.stdout.isatty()),
              prefix=not no_log_prefix, since=since, until=until,
              index=index)


@click.command()
@click.option("--build", is_flag=True, help="Build images before starting containers.")
@click.option("--force-recreate", is_flag=True, help="Recreate containers even if nothing changed.")
@click.option("--no-recreate", is_flag=True, help="If containers already exist, don't recreate them.")
@click.option("--pull", type=click.Choice(["always", "missing", "never"]), default="missing", show_default=True,
              help="Pull image before running.")
@click.option("--remove-orphans", is_flag=True, help="Remove containers for services not in the compose file.")
@click.option("--scale", "scales", multiple=True, metavar="SERVICE=NUM", help="Scale SERVICE to NUM instances.")
@click.argument("services", nargs=-1)
@click.pass_context
def create(ctx, build, force_recreate, no_recreate, pull, remove_orphans, scales, services):
    """Creates containers for a service."""
    ctx.invoke(up, detach=True, no_start=True, build=build, force_recreate=force_recreate, no_recreate=no_recreate,
               pull=pull, remove_orphans=remove_orphans, scales=scales, services=services)


@click.command()
@click.option("--no-deps", is_flag=True, help="Don't start linked services.")
@click.argument("scales", nargs=-1, required=True, metavar="SERVICE=REPLICAS...")
@click.pass_context
def scale(ctx, no_deps, scales):
    """Scale services."""
    services = tuple(entry.partition("=")[0] for entry in scales)
    ctx.invoke(up, detach=True, no_recreate=True, no_deps=no_deps, scales=scales, services=services)

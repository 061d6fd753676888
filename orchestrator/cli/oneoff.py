"""``dockyard exec``, ``run`` and ``cp``: one process or one file in or out
of a service's container, with docker compose's flags and exit codes
(the process's own). Projects load and the engine is reached as in
compose.py."""
from __future__ import annotations

import sys

import click

from .calls import DaemonError, connect, message_of
from .compose import Stack, _built_images, _check_images, _fail, _load, _progress, up


def _no_dry_run(obj: dict, command: str) -> None:
    if obj.get("dry_run"):  # it would run for real: say so instead
        _fail(f"--dry-run is not supported by {command} yet")


def _container_of(client, stack: Stack, service: str, index: int | None) -> dict:
    """The running container ``index`` (default 1) of ``service``."""
    from orchestrator import observe
    if service not in stack.services:
        _fail(f"no such service: {service}")
    running = sorted((c for c in observe.containers(client, stack.name)
                      if c["Labels"].get("com.docker.compose.service") == service and c["State"] == "running"
                      and c["Labels"].get("com.docker.compose.oneoff", "False") == "False"),
                     key=lambda c: int(c["Labels"].get("com.docker.compose.container-number") or 0))
    number = index or 1
    chosen = [c for c in running if int(c["Labels"].get("com.docker.compose.container-number") or 0) == number]
    if not chosen:
        _fail(f"service \"{service}\" is not running" if not running
              else f"service \"{service}\" has no container number {number}")
    return chosen[0]


def _env_list(values) -> list[str]:
    import os
    out = []
    for value in values:
        if "=" not in value and value in os.environ:  # -e NAME takes it from our environment
            value = f"{value}={os.environ[value]}"
        out.append(value)
    return out


@click.command(name="exec", context_settings={"ignore_unknown_options": True})
@click.option("-d", "--detach", is_flag=True, help="Detached mode: Run command in the background.")
@click.option("-T", "--no-TTY", "no_tty", is_flag=True,
              help="Disable pseudo-TTY allocation. By default `exec` allocates a TTY.")
@click.option("-e", "--env", "env", multiple=True, metavar="KEY=VAL", help="Set environment variables.")
@click.option("-u", "--user", help="Run the command as this user.")
@click.option("-w", "--workdir", help="Path to workdir directory for this command.")
@click.option("--index", type=int, help="Index of the container if service has multiple replicas.")
@click.option("--privileged", is_flag=True, help="Give extended privileges to the process.")
@click.argument("service")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_obj
def exec_(obj, detach, no_tty, env, user, workdir, index, privileged, service, command):
    """Execute a command in a running container."""
    _no_dry_run(obj, "exec")
    from orchestrator.interactive import pump
    stack = Stack(_load(obj))
    client = connect()
    container = _container_of(client, stack, service, index)
    tty = not no_tty and sys.stdin.isatty() and sys.stdout.isatty()
    try:
        created = client.api.exec_create(container["Id"], list(command), stdin=not detach, tty=tty,
                                         environment=_env_list(env) or None, user=user or "", workdir=workdir,
                                         privileged=privileged)
        if detach:
            client.api.exec_start(created["Id"], detach=True)
            return
        sock = client.api.exec_start(created["Id"], tty=tty, socket=True)
        with sock:
            pump(sock, tty=tty, stdin=not sys.stdin.closed,
                 resize=lambda h, w: client.api.exec_resize(created["Id"], height=h, width=w))
        code = client.api.exec_inspect(created["Id"])["ExitCode"]
    except DaemonError:
        raise
    except Exception as error:  # noqa: BLE001 - the engine's refusal
        _fail(message_of(error))
    raise SystemExit(code or 0)


def _networks_and_volumes(obj: dict, client, stack: Stack) -> None:
    """The project's networks and volumes, made if missing: a one-off needs
    them also when no ``up`` ran for it (``--no-deps``, no dependencies)."""
    import anyio

    from orchestrator import execute, observe, plan
    snapshot = observe.snapshot(client, stack.name, [s["name"] for s in stack.networks.values()],
                                [s["name"] for s in stack.volumes.values()])
    the_plan = plan.up(stack.name, {}, [], {}, stack.networks, stack.volumes, snapshot, plan.UpOptions())
    if not the_plan.networks and not the_plan.volumes:
        return
    progress = _progress(obj)
    try:
        anyio.run(execute.Up(client, the_plan, None, {}, stack.network_specs(), stack.volume_specs(),
                             progress.emit).run)
    finally:
        progress.close()


def _short_volume(text: str) -> dict:
    source, _, rest = text.partition(":")
    target, _, mode = rest.partition(":")
    if not target:
        _fail(f"invalid volume {text!r}: SOURCE:TARGET[:ro]")
    kind = "bind" if source.startswith(("/", ".", "~")) else "volume"
    return {"type": kind, "source": source, "target": target, "read_only": mode == "ro"}


def _short_port(text: str) -> dict:
    published, _, target = text.rpartition(":")
    target, _, protocol = target.partition("/")
    host_ip, _, published = published.rpartition(":")
    return {"target": int(target), "published": published, "host_ip": host_ip or None,
            "protocol": protocol or "tcp", "mode": "ingress"}


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("-d", "--detach", is_flag=True, help="Run container in background and print container ID.")
@click.option("--rm", "remove", is_flag=True, help="Automatically remove the container when it exits.")
@click.option("--name", help="Assign a name to the container.")
@click.option("--entrypoint", help="Override the entrypoint of the image.")
@click.option("-e", "--env", "env", multiple=True, metavar="KEY=VAL", help="Set environment variables.")
@click.option("-l", "--label", "labels", multiple=True, metavar="KEY=VAL", help="Add or override a label.")
@click.option("-u", "--user", help="Run as specified username or uid.")
@click.option("-w", "--workdir", help="Working directory inside the container.")
@click.option("-v", "--volume", "volumes", multiple=True, help="Bind mount a volume.")
@click.option("-p", "--publish", "publish", multiple=True, help="Publish a container's port(s) to the host.")
@click.option("--service-ports", is_flag=True, help="Run command with all service's ports enabled and mapped "
              "to the host.")
@click.option("--use-aliases", is_flag=True, help="Use the service's network aliases in the network(s) the "
              "container connects to.")
@click.option("--no-deps", is_flag=True, help="Don't start linked services.")
@click.option("-T", "--no-TTY", "no_tty", is_flag=True, help="Disable pseudo-TTY allocation (default: auto-detected).")
@click.argument("service")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run(ctx, detach, remove, name, entrypoint, env, labels, user, workdir, volumes, publish, service_ports,
        use_aliases, no_deps, no_tty, service, command):
    """Run a one-off command on a service."""
    import secrets
    import shlex

    from orchestrator import naming, translate
    from orchestrator.interactive import pump
    obj = ctx.obj
    _no_dry_run(obj, "run")
    stack = Stack(_load(obj, (service,)))
    if service not in stack.services:
        _fail(f"no such service: {service}")
    dependencies = sorted(stack.graph.closure([service]) - {service})
    if dependencies and not no_deps:
        ctx.invoke(up, detach=True, services=tuple(dependencies))
    spec = dict(stack.services[service])
    if command:
        spec["command"] = list(command)
    if entrypoint is not None:
        spec["entrypoint"] = shlex.split(entrypoint)
    spec["environment"] = {**(spec.get("environment") or {}),
                           **dict(e.split("=", 1) for e in _env_list(env) if "=" in e)}
    spec["labels"] = {**(spec.get("labels") or {}), **dict(label.partition("=")[::2] for label in labels)}
    spec.pop("restart", None)
    spec.pop("container_name", None)
    if user:
        spec["user"] = user
    if workdir:
        spec["working_dir"] = workdir
    spec["volumes"] = list(spec.get("volumes") or []) + [_short_volume(v) for v in volumes]
    spec["ports"] = (list(spec.get("ports") or []) if service_ports else []) + [_short_port(p) for p in publish]
    tty = not no_tty and not detach and sys.stdin.isatty() and sys.stdout.isatty()
    spec["tty"], spec["stdin_open"] = tty, not detach
    problems = translate.unsupported(service, spec)
    if problems:
        _fail("\n".join(problems))
    client = connect()
    _built_images(client, stack, [service])
    spec["image"] = stack.services[service]["image"]
    _check_images(client, stack, [service])
    slug = secrets.token_hex(32)
    cname = name or f"{stack.name}-{service}-run-{slug[:12]}"
    body = translate.create_body(stack.context(), service, spec, number=1, name=cname,
                                 config_hash=naming.config_hash(spec), oneoff=True, slug=slug)
    if use_aliases:  # a one-off answers to its own name only, unless asked
        for key, endpoint in (body.get("NetworkingConfig") or {}).get("EndpointsConfig", {}).items():
            wanted = next(((n or {}).get("aliases") or [] for k, n in (spec.get("networks") or {}).items()
                           if stack.networks.get(k, {}).get("name") == key), [])
            endpoint["Aliases"] = [cname, service, *wanted]
    try:
        _networks_and_volumes(obj, client, stack)
        created = client.api.create_container_from_config(body, cname)
        cid = created["Id"]
        if detach:
            client.api.start(cid)
            click.echo(cname)
            return
        sock = client.api.attach_socket(cid, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        with sock:
            client.api.start(cid)
            pump(sock, tty=tty, stdin=True, resize=lambda h, w: client.api.resize(cid, height=h, width=w))
        code = client.api.wait(cid)["StatusCode"]
        if remove:
            client.api.remove_container(cid, force=True)
    except DaemonError:
        raise
    except Exception as error:  # noqa: BLE001 - the engine's refusal
        _fail(message_of(error))
    raise SystemExit(code)


def _split_cp(argument: str) -> tuple[str | None, str]:
    service, colon, path = argument.partition(":")
    if colon and not service.startswith(("/", ".")) and "/" not in service:
        return service, path
    return None, argument


@click.command()
@click.option("-a", "--archive", is_flag=True, help="Archive mode (copy all uid/gid information).")
@click.option("--index", type=int, help="Index of the container if service has multiple replicas.")
@click.argument("source")
@click.argument("destination")
@click.pass_obj
def cp(obj, archive, index, source, destination):
    """Copy files/folders between a service container and the local filesystem."""
    _no_dry_run(obj, "cp")
    import io
    import os
    import shutil
    import tarfile
    import tempfile
    stack = Stack(_load(obj))
    client = connect()
    (from_service, from_path), (to_service, to_path) = _split_cp(source), _split_cp(destination)
    if (from_service is None) == (to_service is None):
        _fail("copying between services is not supported; one of SRC and DEST must be SERVICE:PATH")
    try:
        if from_service is not None:
            container = _container_of(client, stack, from_service, index)
            chunks, _ = client.api.get_archive(container["Id"], from_path)
            data = b"".join(chunks)
            with tarfile.open(fileobj=io.BytesIO(data)) as tar, tempfile.TemporaryDirectory() as scratch:
                tar.extractall(scratch, filter="tar" if archive else "data")
                entry = os.path.join(scratch, os.listdir(scratch)[0])
                target = os.path.join(to_path, os.path.basename(entry)) if os.path.isdir(to_path) else to_path
                shutil.move(entry, target)
            return
        for container in [_container_of(client, stack, to_service, index)]:
            into, name = to_path, os.path.basename(source.rstrip("/"))
            try:
                _, stat = client.api.get_archive(container["Id"], to_path)
                is_dir = bool(stat and stat.get("mode", 0) & (1 << 31))
            except Exception:  # noqa: BLE001 - it does not exist: source becomes that name
                is_dir = False
            if not is_dir:
                into, name = os.path.dirname(to_path.rstrip("/")) or "/", os.path.basename(to_path.rstrip("/"))
            buffer = io.BytesIO()

            def owned_by_root(info):
                if not archive:
                    info.uid = info.gid = 0
                    info.uname = info.gname = "root"
                return info
            with tarfile.open(fileobj=buffer, mode="w") as tar:
                tar.add(source, arcname=name, filter=owned_by_root)
            client.api.put_archive(container["Id"], into, buffer.getvalue())
    except DaemonError:
        raise
    except Exception as error:  # noqa: BLE001 - the engine's refusal
        _fail(message_of(error))

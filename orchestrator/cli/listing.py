"""docker compose's commands that look at a project or the engine without
changing them: ``top``, ``port``, ``images``, ``ls``, ``version`` and
``events``, with compose v2's (2.40.3) flags, wording and exit statuses.
They need only the project's name (``-p``, COMPOSE_PROJECT_NAME, else the
compose file's); ``ls`` and ``version`` no project at all. The tables and
event lines come from stackview.py; containers are found with lifecycle.py's
helpers.
"""
from __future__ import annotations

import re
import threading

import click

from .calls import DaemonError, connect, message_of
from .compose import _fail
from .lifecycle import (
    NUMBER,
    ONEOFF,
    _containers,
    _each,
    _name,
    _project_name,
    _service,
)


# -- top, port, images, ls -------------------------------------------------------------
@click.command()
@click.argument("services", nargs=-1)
@click.pass_obj
def top(obj, services):
    """Display the running processes."""
    from orchestrator.stackview import replica, top_lines
    name = _project_name(obj)
    client = connect()
    found = _containers(client, name, oneoff=None, running=True, services=services)
    processes = []
    lock = threading.Lock()

    def one(summary: dict) -> None:
        answer = client.api.top(summary["Id"])
        with lock:
            processes.append((_name(summary), _service(summary) or _name(summary), replica(summary), answer))
    _each(found, one)
    for line in top_lines(processes):
        click.echo(line)


def _port_number(text: str) -> int:
    """Go's ``strconv.ParseUint(text, 10, 16)``, its errors as compose shows them."""
    if not text.isdigit():
        _fail(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    if int(text) > 65535:
        _fail(f'strconv.ParseUint: parsing "{text}": value out of range')
    return int(text)


@click.command()
@click.option("--protocol", default="tcp", show_default=True, help="tcp or udp")
@click.option("--index", type=int, default=0, help="Index of the container if service has multiple replicas")
@click.argument("service")
@click.argument("private_port")
@click.pass_obj
def port(obj, protocol, index, service, private_port):
    """Print the public port for a port binding."""
    number, protocol = _port_number(private_port), protocol.lower()
    name = _project_name(obj)
    client = connect()
    found = _containers(client, name, oneoff=None, running=True, services=(service,))
    if index > 0:
        found = [c for c in found if (c.get("Labels") or {}).get(NUMBER) == str(index)]
    if not found:
        _fail(f'service "{service}" is not running container #{index}' if index > 0
              else f'service "{service}" is not running')
    chosen = min(found, key=lambda c: ((c["Labels"].get(ONEOFF) == "True"), int(c["Labels"].get(NUMBER) or 0)))
    for entry in chosen.get("Ports") or []:
        if entry.get("PrivatePort") == number and entry.get("Type") == protocol:
            click.echo(f"{entry.get('IP', '')}:{entry.get('PublicPort') or 0}")
            return
    known = ", ".join(f"{p['PrivatePort']}/{p['Type']}" for p in chosen.get("Ports") or [])
    _fail(f"no port {number}/{protocol} for container {_name(chosen)}: {known}")


def _bad_format(value: str) -> None:
    _fail(f'format value "{value}" could not be parsed: parsing failed')


@click.command()
@click.option("--format", "fmt", default="table", show_default=True, help="Format the output. Values: [table | json]")
@click.option("-q", "--quiet", is_flag=True, help="Only display IDs")
@click.argument("services", nargs=-1)
@click.pass_obj
def images(obj, fmt, quiet, services):
    """List images used by the created containers."""
    from orchestrator.stackview import compose_json, image_row, images_lines, short_id
    name = _project_name(obj)
    client = connect()
    found = _containers(client, name, oneoff=None, services=services)
    rows = []
    lock = threading.Lock()

    def one(summary: dict) -> None:
        image = client.api.inspect_image(summary["Image"])
        with lock:
            rows.append(image_row(_name(summary), summary["Image"], image))
    _each(found, one)
    rows.sort(key=lambda r: r["ContainerName"])
    if quiet:
        for image_id in dict.fromkeys(short_id(r["ID"]) for r in rows):
            click.echo(image_id)
    elif fmt == "json":
        click.echo(compose_json(rows or None) + "\n")  # an Encoder's newline, then Println's
    elif fmt.lower() in ("table", "pretty", ""):
        for line in images_lines(rows):
            click.echo(line)
    else:
        _bad_format(fmt)


def _filters(values) -> dict[str, list[str]]:
    """docker's ``--filter`` values, only ``name`` accepted (as compose ls)."""
    out: dict[str, list[str]] = {}
    for value in values:
        if "=" not in value:
            _fail(f'invalid argument "{value}" for "--filter" flag: bad format of filter (expected name=value)')
        key, _, rest = value.partition("=")
        out.setdefault(key.strip().lower(), []).append(rest.strip())
    for key in out:
        if key != "name":
            _fail(f"invalid filter '{key}'")
    return out


@click.command(name="ls")
@click.option("-a", "--all", "show_all", is_flag=True, help="Show all stopped Compose projects")
@click.option("--filter", "filters", multiple=True, help="Filter output based on conditions provided")
@click.option("--format", "fmt", default="table", show_default=True, help="Format the output. Values: [table | json]")
@click.option("-q", "--quiet", is_flag=True, help="Only display project names")
def ls(show_all, filters, fmt, quiet):
    """List running compose projects."""
    from orchestrator.plan import HASH, PROJECT
    from orchestrator.stackview import compose_json, ls_lines, stacks
    wanted = _filters(filters)
    client = connect()
    try:
        found = client.api.containers(all=show_all, filters={"label": [PROJECT, HASH]})
    except Exception as error:  # noqa: BLE001 - the engine's refusal
        raise DaemonError(message_of(error)) from None
    projects, warnings = stacks(found)
    for warning in warnings:
        click.echo(f"WARN[0000] {warning}", err=True)

    def matches(name: str) -> bool:  # docker's Args.Match: exact, or a regular expression found in it
        return any(pattern == name or _search(pattern, name) for pattern in wanted["name"])
    if "name" in wanted:
        projects = [p for p in projects if matches(p["Name"])]
    if quiet:
        for project in projects:
            click.echo(project["Name"])
    elif fmt.lower() == "json":
        click.echo(compose_json(projects))
    elif fmt.lower() in ("table", "pretty", ""):
        for line in ls_lines(projects):
            click.echo(line)
    else:
        _bad_format(fmt)


def _search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


# -- version, events -------------------------------------------------------------
@click.command()
@click.option("-f", "--format", "fmt", help="Format the output. Values: [pretty | json]. (Default: pretty)")
@click.option("--short", is_flag=True, help="Shows only Compose's version number")
def version(fmt, short):
    """Show the Dockyard Compose version information."""
    import json
    from importlib.metadata import version as package_version
    number = package_version("dockyard")
    if short:
        click.echo(number)
    elif fmt == "json":
        click.echo(f'{{"version":{json.dumps("v" + number)}}}')
    else:
        click.echo(f"Dockyard Compose version v{number}")


def timestamp_arg(value: str | None) -> str | None:
    """docker's ``--since``/``--until``: Unix seconds, a duration before now
    (``10m``, ``1h30m``) or an RFC 3339 date; as Unix seconds for the engine."""
    import time
    from datetime import datetime
    if not value:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return value
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", value)
    if parts and "".join(n + u for n, u in parts) == value:
        return f"{time.time() - sum(float(n) * units[u] for n, u in parts):.9f}"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        _fail(f'failed to parse value as time or duration: "{value}"')
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return f"{moment.timestamp():.9f}"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Output events as a stream of json objects")
@click.option("--since", help="Show all events created since timestamp")
@click.option("--until", help="Stream events until this timestamp")
@click.argument("services", nargs=-1)
@click.pass_obj
def events(obj, as_json, since, until, services):
    """Receive real time events from containers."""
    from orchestrator.plan import PROJECT
    from orchestrator.stackview import event_json, event_line, event_of
    name = _project_name(obj)
    client = connect()
    try:
        stream = client.api.events(since=timestamp_arg(since), until=timestamp_arg(until),
                                   filters={"label": [f"{PROJECT}={name}"]}, decode=True)
        for document in stream:
            event = event_of(document, tuple(services))
            if event is not None:
                click.echo(event_json(event) if as_json else event_line(event))
    except DaemonError:
        raise
    except Exception as error:
        from engine.client.errors import DockerException
        if not isinstance(error, DockerException):
            raise
        raise DaemonError(message_of(error)) from None

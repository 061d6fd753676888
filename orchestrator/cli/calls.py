"""The engine-level commands' way to the engine (``engine.client.from_env``,
imported on use so that ``dockyard --help`` stays fast) and their docker-CLI
habits: the daemon's errors worded as the docker CLI words them (exit status
1), several names handled one by one with the failures at the end,
``inspect`` output, prune confirmations, ``--filter`` values."""
from __future__ import annotations

import sys

import click

from .formats import DaemonError, go_json, render


def message_of(error) -> str:
    from engine.client.errors import APIError, ConnectionFailed
    if isinstance(error, APIError):
        return f"Error response from daemon: {error.explanation or error}"
    if isinstance(error, ConnectionFailed):
        return f"Cannot connect to the Docker daemon at {error.base_url}. Is the docker daemon running?"
    return str(error)


def connect():
    from engine.client import from_env
    try:
        return from_env()
    except Exception as error:  # noqa: BLE001 - the engine could not be reached or started
        raise DaemonError(message_of(error)) from None


def calling(function, *args, **kwargs):
    """``function(*args, **kwargs)``; a client error becomes docker's message."""
    from engine.client.errors import DockerException
    try:
        return function(*args, **kwargs)
    except DockerException as error:
        raise DaemonError(message_of(error)) from None


def for_each(names, action, missing_ok: bool = False) -> None:
    """``action(name)`` for every name; the failures reported together at the end
    (docker's habit for several names), exit status 1 if any failed (with
    ``missing_ok``, as ``rm -f``: a missing one is reported but no failure)."""
    from engine.client.errors import DockerException, NotFound
    failures, missing = [], []
    for name in names:
        try:
            action(name)
        except NotFound as error:
            (missing if missing_ok else failures).append(message_of(error))
        except DockerException as error:
            failures.append(message_of(error))
    if failures:
        raise DaemonError("\n".join(missing + failures))
    if missing:
        sys.stderr.write("\n".join(missing) + "\n")


def inspect_all(names, fetch, template: str | None, sort_keys: bool = False) -> None:
    """docker's ``inspect``: a JSON array (indented 4) of what was found, or
    the template per object; errors after."""
    found = []
    try:
        for_each(names, lambda name: found.append(fetch(name)))
    finally:
        if template is None:
            click.echo(go_json(found, indent=4, sort_keys=sort_keys))
        else:
            for item in found:
                click.echo(render(template.replace("\\n", "\n").replace("\\t", "\t"), item, strict=True))


def confirm(warning: str) -> bool:
    click.echo(f"WARNING! {warning}\nAre you sure you want to continue? [y/N] ", nl=False)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def filters_of(values) -> dict:
    filters: dict[str, list[str]] = {}
    for value in values:
        key, _, rest = value.partition("=")
        filters.setdefault(key.strip(), []).append(rest)
    return filters

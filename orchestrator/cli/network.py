"""``dockyard network``: docker's ``network ls|inspect|rm|prune`` against the
engine, with docker's output, flags and exit codes (formats.py, calls.py)."""
from __future__ import annotations

import click

from .calls import calling, confirm, connect, filters_of, for_each, inspect_all
from .formats import format_rows, labels_text, with_label_method

NETWORK_HEADERS = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
                   "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT"}
NETWORK_TABLE = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"


def network_row(network: dict, no_trunc: bool = False) -> dict:
    """A network as docker's ``network ls`` formats it."""
    ident = network.get("Id") or ""
    row = {"ID": ident if no_trunc else ident[:12], "Name": network.get("Name") or "",
           "Driver": network.get("Driver") or "", "Scope": network.get("Scope") or "",
           "IPv6": str(bool(network.get("EnableIPv6"))).lower(),
           "Internal": str(bool(network.get("Internal"))).lower(),
           "Labels": labels_text(network.get("Labels")), "CreatedAt": network.get("Created") or ""}
    return with_label_method(row, network.get("Labels"))


@click.group(name="network")
def network() -> None:
    """Manage networks, as docker network does."""


@network.command(name="ls")
@click.option("-f", "--filter", "filters", multiple=True, metavar="FILTER", help="Provide filter values (e.g. driver=host).")
@click.option("--format", "template", metavar="FORMAT", help="'table', 'json' or a Go template.")
@click.option("--no-trunc", is_flag=True, help="Do not truncate the output.")
@click.option("-q", "--quiet", is_flag=True, help="Only display network IDs.")
def ls(filters, template, no_trunc, quiet) -> None:
    """List networks."""
    found = calling(connect().api.networks, filters=filters_of(filters) or None)
    rows = [network_row(n, no_trunc) for n in sorted(found, key=lambda n: n.get("Name", ""))]
    if quiet and not template:
        template = "{{.ID}}"
    for line in format_rows(template or NETWORK_TABLE, rows, NETWORK_HEADERS):
        click.echo(line)


@network.command()
@click.option("-f", "--format", "template", metavar="FORMAT", help="Format the output with a Go template.")
@click.argument("names", nargs=-1, required=True)
def inspect(template, names) -> None:
    """Display detailed information on one or more networks."""
    api = connect().api
    inspect_all(names, api.inspect_network, None if template in (None, "json") else template, sort_keys=True)


@network.command(name="rm")
@click.option("-f", "--force", is_flag=True, help="Do not error if the network does not exist.")
@click.argument("names", nargs=-1, required=True)
def rm(force, names) -> None:
    """Remove one or more networks."""
    api = connect().api

    def remove(name):
        api.remove_network(name)
        click.echo(name)
    for_each(names, remove, missing_ok=force)


@network.command()
@click.option("--filter", "filters", multiple=True, metavar="FILTER", help="Provide filter values (e.g. until=24h).")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation.")
def prune(filters, force) -> None:
    """Remove all unused networks."""
    if not force and not confirm("This will remove all custom networks not used by at least one container."):
        return
    report = calling(connect().api.prune_networks, filters=filters_of(filters) or None)
    deleted = report.get("NetworksDeleted") or []
    if deleted:
        click.echo("Deleted Networks:")
        for name in deleted:
            click.echo(name)

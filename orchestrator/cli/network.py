"""``dockyard network``: docker's ``network create|connect|disconnect|ls|
inspect|rm|prune`` against the engine, with docker's output, flags and exit
codes (formats.py, calls.py)."""
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


def _pairs(values, what: str) -> dict:
    out = {}
    for value in values:
        key, eq, rest = value.partition("=")
        if not eq and what != "label":
            raise click.BadParameter(f"{value!r} is not of the form KEY=VALUE", param_hint=f"--{what}")
        out[key] = rest
    return out


@network.command()
@click.option("-d", "--driver", default="bridge", show_default=True, help="Driver to manage the Network.")
@click.option("--internal", is_flag=True, help="Restrict external access to the network.")
@click.option("--attachable", is_flag=True, help="Enable manual container attachment.")
@click.option("--label", "labels", multiple=True, metavar="LABEL", help="Set metadata on a network.")
@click.option("-o", "--opt", "options", multiple=True, metavar="KEY=VALUE", help="Set driver specific options.")
@click.option("--subnet", "subnets", multiple=True, metavar="CIDR", help="Subnet in CIDR format.")
@click.option("--gateway", "gateways", multiple=True, metavar="IP", help="IPv4 Gateway for the master subnet.")
@click.option("--ip-range", "ranges", multiple=True, metavar="CIDR", help="Allocate container ip from a sub-range.")
@click.option("--aux-address", "aux", multiple=True, metavar="NAME=IP",
              help="Auxiliary IPv4 addresses used by Network driver.")
@click.option("--ipv6", is_flag=True, help="Enable IPv6 networking.")
@click.argument("name")
def create(driver, internal, attachable, labels, options, subnets, gateways, ranges, aux, ipv6, name) -> None:
    """Create a network."""
    if len(gateways) > len(subnets) or len(ranges) > len(subnets):
        raise click.UsageError("every --gateway and --ip-range needs a --subnet before it")
    config = [{"Subnet": subnet, **({"Gateway": gateways[i]} if i < len(gateways) else {}),
               **({"IPRange": ranges[i]} if i < len(ranges) else {})} for i, subnet in enumerate(subnets)]
    if aux:
        if not config:
            raise click.UsageError("--aux-address needs a --subnet")
        config[0]["AuxiliaryAddresses"] = _pairs(aux, "aux-address")
    created = calling(connect().api.create_network, name, driver=driver, options=_pairs(options, "opt") or None,
                      ipam={"Driver": "default", "Config": config}, internal=internal,
                      labels=_pairs(labels, "label") or None, enable_ipv6=ipv6, attachable=attachable or None)
    click.echo(created["Id"])


@network.command(name="connect")
@click.option("--alias", "aliases", multiple=True, metavar="ALIAS", help="Add network-scoped alias for the container.")
@click.option("--ip", metavar="IP", help="IPv4 address (e.g., \"172.30.100.104\").")
@click.argument("name")
@click.argument("container")
def connect_(aliases, ip, name, container) -> None:
    """Connect a container to a network."""
    calling(connect().api.connect_container_to_network, container, name, ipv4_address=ip,
            aliases=list(aliases) or None)


@network.command()
@click.option("-f", "--force", is_flag=True, help="Force the container to disconnect from a network.")
@click.argument("name")
@click.argument("container")
def disconnect(force, name, container) -> None:
    """Disconnect a container from a network."""
    calling(connect().api.disconnect_container_from_network, container, name, force=force)


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

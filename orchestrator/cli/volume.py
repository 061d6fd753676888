"""``dockyard volume``: docker's ``volume create|ls|inspect|rm|prune`` against
the engine, with docker's output, flags and exit codes (the formatting is
``image.py``'s)."""
from __future__ import annotations

import click

from .calls import (
    DaemonError,
    calling,
    confirm,
    connect,
    filters_of,
    for_each,
    inspect_all,
)
from .formats import format_rows, human_size, labels_text, with_label_method

VOLUME_HEADERS = {"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT",
                  "Labels": "LABELS", "Links": "LINKS", "Size": "SIZE", "Availability": "AVAILABILITY",
                  "Group": "GROUP", "Status": "STATUS"}
VOLUME_TABLE = "table {{.Driver}}\t{{.Name}}"


def volume_row(volume: dict) -> dict:
    """A volume as docker's ``volume ls`` formats it."""
    row = {"Availability": "N/A", "Driver": volume.get("Driver") or "", "Group": "N/A",
           "Labels": labels_text(volume.get("Labels")), "Links": "N/A", "Mountpoint": volume.get("Mountpoint") or "",
           "Name": volume.get("Name") or "", "Scope": volume.get("Scope") or "", "Size": "N/A", "Status": "N/A"}
    return with_label_method(row, volume.get("Labels"))


def pairs(values, what: str) -> dict:
    found = {}
    for value in values:
        key, equals, rest = value.partition("=")
        if what == "opt" and not equals:
            raise click.BadParameter(f"invalid key/value pair format in driver options: {value}")
        found[key] = rest
    return found


@click.group(name="volume")
def volume() -> None:
    """Manage volumes, as docker volume does."""


@volume.command()
@click.option("-d", "--driver", default="local", show_default=True, metavar="DRIVER", help="Volume driver name.")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE", help="Set metadata for a volume (repeatable).")
@click.option("-o", "--opt", "options", multiple=True, metavar="KEY=VALUE",
              help="Set driver specific options (repeatable).")
@click.argument("name", required=False)
def create(driver, labels, options, name) -> None:
    """Create a volume."""
    created = calling(connect().api.create_volume, name, driver=driver, driver_opts=pairs(options, "opt"),
                      labels=pairs(labels, "label"))
    click.echo(created["Name"])


@volume.command(name="ls")
@click.option("-f", "--filter", "filters", multiple=True, metavar="FILTER", help="Provide filter values (e.g. dangling=true).")
@click.option("--format", "template", metavar="FORMAT", help="'table', 'json' or a Go template.")
@click.option("-q", "--quiet", is_flag=True, help="Only display volume names.")
def ls(filters, template, quiet) -> None:
    """List volumes."""
    answer = calling(connect().api.volumes, filters=filters_of(filters) or None)
    rows = [volume_row(found) for found in sorted(answer.get("Volumes") or [], key=lambda v: v.get("Name", ""))]
    if quiet and not template:
        template = "{{.Name}}"
    for line in format_rows(template or VOLUME_TABLE, rows, VOLUME_HEADERS):
        click.echo(line)


@volume.command()
@click.option("-f", "--format", "template", metavar="FORMAT", help="Format the output with a Go template.")
@click.argument("names", nargs=-1, required=True)
def inspect(template, names) -> None:
    """Display detailed information on one or more volumes."""
    api = connect().api
    inspect_all(names, api.inspect_volume, None if template in (None, "json") else template, sort_keys=True)


@volume.command(name="rm")
@click.option("-f", "--force", is_flag=True, help="Force the removal of one or more volumes.")
@click.argument("names", nargs=-1, required=True)
def rm(force, names) -> None:
    """Remove one or more volumes."""
    api = connect().api

    def remove(name):
        api.remove_volume(name, force=force)
        click.echo(name)
    for_each(names, remove)


@volume.command()
@click.option("-a", "--all", "all_", is_flag=True, help="Remove all unused volumes, not just anonymous ones.")
@click.option("--filter", "filters", multiple=True, metavar="FILTER", help="Provide filter values (e.g. label=k=v).")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation.")
def prune(all_, filters, force) -> None:
    """Remove unused local volumes."""
    warning = ("This will remove all local volumes not used by at least one container." if all_
               else "This will remove anonymous local volumes not used by at least one container.")
    if not force and not confirm(warning):
        return
    selected = filters_of(filters)
    if all_:
        selected["all"] = ["true"]
    report = calling(connect().api.prune_volumes, filters=selected or None)
    deleted = report.get("VolumesDeleted") or []
    if deleted:
        click.echo("Deleted Volumes:")
        for name in deleted:
            click.echo(name)
        click.echo()
    click.echo(f"Total reclaimed space: {human_size(report.get('SpaceReclaimed') or 0)}")


__all__ = ["DaemonError", "volume"]

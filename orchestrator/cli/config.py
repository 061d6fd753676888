"""``dockyard config``: parse, resolve and render the project in canonical form.

Same flags and output as ``docker compose config``. Imports the loader when
it runs.
"""
from __future__ import annotations

import os
import sys

import click


def project_options(obj: dict):
    from orchestrator.config.sources import Options
    return Options(files=obj["files"], project_name=obj["project_name"],
                   project_directory=obj["project_directory"], env_files=obj["env_files"],
                   profiles=obj["profiles"], cwd=os.getcwd(), environ=dict(os.environ),
                   read_stdin=sys.stdin.read)


def _lines(items) -> str:
    return "".join(f"{item}\n" for item in items)


@click.command("config")
@click.argument("services", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True,
              help="Format the output.")
@click.option("-q", "--quiet", is_flag=True, help="Only validate the configuration, don't print anything.")
@click.option("--services", "list_services", is_flag=True, help="Print the service names, one per line.")
@click.option("--volumes", "list_volumes", is_flag=True, help="Print the volume names, one per line.")
@click.option("--networks", "list_networks", is_flag=True, help="Print the network names, one per line.")
@click.option("--profiles", "list_profiles", is_flag=True, help="Print the profile names, one per line.")
@click.option("--images", "list_images", is_flag=True, help="Print the image names, one per line.")
@click.option("--hash", "hash_of", metavar="SERVICES",
              help="Print the service config hash, one per line ('*' for all, or a comma-separated list).")
@click.option("--no-interpolate", is_flag=True, help="Don't interpolate environment variables.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Save to file (default: stdout).")
@click.pass_obj
def config(obj, services, fmt, quiet, list_services, list_volumes, list_networks, list_profiles,
           list_images, hash_of, no_interpolate, output):
    """Parse, resolve and render the compose file in canonical format."""
    from orchestrator.config.load import load_project
    options = project_options(obj)
    listing = list_services or list_volumes or list_networks or list_profiles or list_images or hash_of
    project = load_project(options, services=() if list_profiles else services,
                           interpolate=not no_interpolate, resolve_env_files=not listing)
    for warning in project.warnings:
        click.echo(f"WARN: {warning}", err=True)
    if quiet:  # loading validated everything; nothing to print
        return
    text = _render(project, fmt, no_interpolate, services, list_services=list_services,
                   list_volumes=list_volumes, list_networks=list_networks,
                   list_profiles=list_profiles, list_images=list_images, hash_of=hash_of)
    if output and text:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        click.echo(text, nl=False)


def _render(project, fmt, no_interpolate, services, *, list_services, list_volumes, list_networks,
            list_profiles, list_images, hash_of) -> str:
    from orchestrator import naming
    from orchestrator.config import emit
    if list_services:
        return _lines(project.services)
    if list_volumes:
        return _lines(project.model.get("volumes") or {})
    if list_networks:
        return _lines(project.model.get("networks") or {})
    if list_profiles:
        every = list(project.services.values()) + list(project.disabled.values())
        return _lines(sorted({p for s in every for p in s.get("profiles") or []}))
    if list_images:
        return _lines(naming.image_name(project.name, n, s) for n, s in project.services.items())
    if hash_of:
        names = sorted(project.services) if hash_of == "*" else sorted(hash_of.split(","))
        rendered = project.render("json", escape=False)["services"]
        missing = [n for n in names if n not in rendered]
        if missing:
            raise click.ClickException(f"no such service: {missing[0]}")
        return "".join(f"{n} {naming.config_hash(rendered[n])}\n" for n in names)
    if no_interpolate:  # compose prints its partly resolved model, keys sorted
        document = _sorted(project.model)
        return emit.to_json(document) if fmt == "json" else emit.to_yaml(document)
    document = project.render(fmt)
    return emit.to_json(document) if fmt == "json" else emit.to_yaml(document)


def _sorted(value):
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value

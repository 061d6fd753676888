"""``dockyard image``: docker's ``image ls|inspect|rm|tag|import|load|save|prune``
against the engine (``engine.client.from_env``), with docker's output, flags
and exit codes (formats.py, calls.py).
"""
from __future__ import annotations

import json
import sys

import click

from .calls import (
    DaemonError,
    calling,
    confirm,
    connect,
    filters_of,
    for_each,
    inspect_all,
    message_of,
)
from .formats import format_rows, go_time, human_size, since, with_label_method

# -- image ls -----------------------------------------------------------------------------

IMAGE_HEADERS = {"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
                 "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE", "VirtualSize": "SIZE",
                 "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE", "Containers": "CONTAINERS"}
IMAGE_TABLE = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"


def split_reference(reference: str) -> tuple[str, str]:
    repository, _, tag = reference.rpartition(":")
    if not repository or "/" in tag:
        return reference, "<none>"
    return repository, tag


def image_rows(summary: dict, no_trunc: bool = False, now: float | None = None) -> list[dict]:
    """The rows docker's ``image ls`` shows for one image summary: one per tag."""
    image_id = summary["Id"] if no_trunc else summary["Id"].removeprefix("sha256:")[:12]
    tags = [tag for tag in summary.get("RepoTags") or [] if tag != "<none>:<none>"] or ["<none>:<none>"]
    created = summary.get("Created") or 0
    rows = []
    for reference in tags:
        repository, tag = split_reference(reference)
        row = {"Containers": "N/A", "CreatedAt": go_time(created), "CreatedSince": since(created, now),
               "Digest": "<none>", "ID": image_id, "Repository": repository, "SharedSize": "N/A",
               "Size": human_size(summary.get("Size") or 0, 3), "Tag": tag, "UniqueSize": "N/A",
               "VirtualSize": human_size(summary.get("Size") or 0)}
        rows.append(with_label_method(row, summary.get("Labels")))
    return rows


@click.group(name="image")
def image() -> None:
    """Manage images, as docker image does."""


@image.command(name="ls")
@click.option("-a", "--all", "all_", is_flag=True, help="Show all images (default hides intermediate images).")
@click.option("-f", "--filter", "filters", multiple=True, metavar="FILTER", help="Filter output (e.g. dangling=true).")
@click.option("--format", "template", metavar="FORMAT", help="'table', 'json' or a Go template.")
@click.option("--no-trunc", is_flag=True, help="Don't truncate output.")
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs.")
@click.argument("reference", required=False)
def ls(all_, filters, template, no_trunc, quiet, reference) -> None:
    """List images."""
    client = connect()
    found = calling(client.api.images, name=reference, all=all_, filters=filters_of(filters) or None)
    found.sort(key=lambda summary: summary.get("Created") or 0, reverse=True)
    rows = [row for summary in found for row in image_rows(summary, no_trunc)]
    if quiet and not template:
        template = "{{.ID}}"
    for line in format_rows(template or IMAGE_TABLE, rows, IMAGE_HEADERS):
        click.echo(line)


@image.command()
@click.option("-f", "--format", "template", metavar="FORMAT", help="Format the output with a Go template.")
@click.argument("names", nargs=-1, required=True)
def inspect(template, names) -> None:
    """Display detailed information on one or more images."""
    client = connect()
    inspect_all(names, client.api.inspect_image, None if template in (None, "json") else template)


@image.command(name="rm")
@click.option("-f", "--force", is_flag=True, help="Force removal of the image.")
@click.option("--no-prune", is_flag=True, help="Do not delete untagged parents.")
@click.argument("names", nargs=-1, required=True)
def rm(force, no_prune, names) -> None:
    """Remove one or more images."""
    client = connect()

    def remove(name):
        for entry in client.api.remove_image(name, force=force, noprune=no_prune) or []:
            for key, word in (("Untagged", "Untagged"), ("Deleted", "Deleted")):
                if entry.get(key):
                    click.echo(f"{word}: {entry[key]}")
    for_each(names, remove, missing_ok=force)


@image.command()
@click.argument("source")
@click.argument("target")
def tag(source, target) -> None:
    """Create a tag TARGET that refers to SOURCE."""
    repository, tag_ = split_reference(target)
    calling(connect().api.tag, source, repository, tag=None if tag_ == "<none>" else tag_)


@image.command(name="import")
@click.option("-c", "--change", "changes", multiple=True, metavar="CHANGE",
              help="Apply a Dockerfile instruction to the created image (repeatable).")
@click.option("-m", "--message", metavar="MESSAGE", help="Set the commit message for the imported image.")
@click.option("--platform", metavar="PLATFORM", help="Set platform if server is multi-platform capable.")
@click.argument("source")
@click.argument("reference", required=False)
def import_(changes, message, platform, source, reference) -> None:
    """Import the contents from a tarball (a file, a URL or - for stdin) to create an image."""
    api = connect().api
    params = {"fromSrc": source if source.startswith(("http://", "https://")) else "-", "changes": list(changes),
              "message": message, "platform": platform}
    if reference:
        params["repo"], tag_ = split_reference(reference)
        params["tag"] = None if tag_ == "<none>" else tag_
    data = None
    if params["fromSrc"] == "-":
        data = _chunks(sys.stdin.buffer if source == "-" else _open(source))
    response = calling(api._post, api._url("/images/create"), params=params, data=data,
                       headers={"Content-Type": "application/tar"}, timeout=None)
    text = calling(api._result, response)
    for line in text.splitlines():
        document = json.loads(line) if line.strip().startswith("{") else {"status": line}
        if "error" in document:
            raise DaemonError(document["error"])
        if document.get("status"):
            click.echo(document["status"])


def _open(path: str):
    try:
        return open(path, "rb")
    except OSError as error:
        raise DaemonError(f"open {path}: {error.strerror.lower()}") from None


def _chunks(handle):
    while chunk := handle.read(1 << 20):
        yield chunk


@image.command()
@click.option("-i", "--input", "source", metavar="FILE", help="Read from tar archive file, instead of STDIN.")
@click.option("-q", "--quiet", is_flag=True, help="Suppress the load output.")
def load(source, quiet) -> None:
    """Load an image from a tar archive or STDIN."""
    if source is None and sys.stdin.isatty():
        raise DaemonError("requested load from stdin, but stdin is empty")
    api = connect().api
    handle = sys.stdin.buffer if source in (None, "-") else _open(source)
    from engine.client.errors import DockerException
    try:
        for document in api.load_image(handle, quiet=quiet):
            if document.get("error"):
                raise DaemonError(document["error"])
            if document.get("stream"):
                click.echo(document["stream"], nl=False)
    except DockerException as error:
        raise DaemonError(message_of(error)) from None


@image.command()
@click.option("-o", "--output", metavar="FILE", help="Write to a file, instead of STDOUT.")
@click.argument("names", nargs=-1, required=True)
def save(output, names) -> None:
    """Save one or more images to a tar archive (streamed to STDOUT by default)."""
    if output is None and sys.stdout.isatty():
        raise DaemonError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    api = connect().api
    response = calling(api._get, api._url("/images/get"), params={"names": list(names)}, stream=True, timeout=None)
    chunks = calling(api._stream, response)
    try:
        target = open(output, "wb") if output else sys.stdout.buffer  # noqa: SIM115 - closed below
    except OSError as error:
        raise DaemonError(f"failed to save image: open {output}: {error.strerror.lower()}") from None
    try:
        calling(_copy, chunks, target)
    finally:
        target.flush()
        if output:
            target.close()


def _copy(chunks, target) -> None:
    for chunk in chunks:
        target.write(chunk)


@image.command()
@click.option("-a", "--all", "all_", is_flag=True, help="Remove all unused images, not just dangling ones.")
@click.option("--filter", "filters", multiple=True, metavar="FILTER", help="Provide filter values (e.g. until=24h).")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation.")
def prune(all_, filters, force) -> None:
    """Remove unused images."""
    warning = ("This will remove all images without at least one container associated to them." if all_
               else "This will remove all dangling images.")
    if not force and not confirm(warning):
        return
    selected = dict(filters_of(filters), dangling=["false" if all_ else "true"])
    report = calling(connect().api.prune_images, filters=selected)
    deleted = report.get("ImagesDeleted") or []
    if deleted:
        click.echo("Deleted Images:")
        for entry in deleted:
            for key in ("Untagged", "Deleted"):
                if entry.get(key):
                    click.echo(f"{key.lower()}: {entry[key]}")
        click.echo()
    click.echo(f"Total reclaimed space: {human_size(report.get('SpaceReclaimed') or 0)}")

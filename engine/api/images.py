"""``/images/...``: list (with docker's filters), inspect, history, tag,
remove, prune, save (a streamed tarball), load, import; a pull answers that
registry pulls are not supported yet. Docker's shapes, status codes and words,
and docker's image events (tag, untag, delete, prune, save, load, import).

Progress answers (load, import) are docker's JSON lines, each ended by CRLF as
moby's streamformatter writes them. Load and import finish before the answer
starts, so their errors keep their HTTP status (docker does the same while
nothing has been flushed). A save streams: the service writes the tarball in
a worker thread, chunks cross to the connection through a small queue, and a
failure before the first chunk (no such image) is still a proper 404.

Imports engine.images (errors, reference) and the API's http and routes;
must not import engine.containers or engine.runtime.
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import BinaryIO

import anyio
import anyio.from_thread

from engine.images.errors import ImageNotFound, InvalidReference
from engine.images.reference import (
    Reference,
    not_found_name,
    parse_reference,
    parse_tag,
)

from .filters import bool_filter, parse_filters
from .http import HTTPError, Request, Response, document, empty
from .routes import Router, blocking

LIST_FILTERS = ("before", "dangling", "label", "reference", "since", "until")
PRUNE_FILTERS = ("dangling", "label", "label!", "until")
TAR = "application/x-tar"
CHUNK = 64 * 1024
NO_PULLS = "registry pulls are not supported yet"
NO_URL_IMPORT = "importing from a URL is not supported yet: send the tarball as the body (fromSrc=-)"


class Images:
    def __init__(self, engine) -> None:
        self.engine = engine
        self.service = engine.images

    def register(self, router: Router) -> None:
        router.add("GET", "/images/json", self.list)
        router.add("POST", "/images/create", self.create)
        router.add("POST", "/images/load", self.load)
        router.add("GET", "/images/get", self.save_many)
        router.add("POST", "/images/prune", self.prune)
        router.add("GET", "/images/{name:path}/json", self.inspect)
        router.add("GET", "/images/{name:path}/history", self.history)
        router.add("POST", "/images/{name:path}/tag", self.tag)
        router.add("GET", "/images/{name:path}/get", self.save_one)
        router.add("DELETE", "/images/{name:path}", self.remove)

    # -- reading -----------------------------------------------------------------------
    async def list(self, request: Request) -> Response:
        filters = parse_filters(request.arg("filters"), LIST_FILTERS)
        summaries = await blocking(self.service.list)
        created = {summary["Id"]: summary["Created"] for summary in summaries}

        def created_of(name: str) -> int:
            image_id = self.service.resolve(name)
            if image_id not in created:  # removed since the listing
                raise ImageNotFound(not_found_name(name))
            return created[image_id]
        return document(await blocking(select, summaries, filters, created_of, time.time()))

    async def inspect(self, request: Request, name: str) -> Response:
        return document(await blocking(self.service.inspect, name))

    async def history(self, request: Request, name: str) -> Response:
        return document(await blocking(self.service.history, name))

    # -- naming and removal ------------------------------------------------------------
    async def tag(self, request: Request, name: str) -> Response:
        image_id = await blocking(self.service.resolve, name)
        tagged = await blocking(self.service.tag, image_id, request.arg("repo") or "", request.arg("tag") or None)
        await self._publish("tag", image_id, tagged)
        return empty(201)

    async def remove(self, request: Request, name: str) -> Response:
        image_id = await blocking(self.service.resolve, name)
        removed = await blocking(self.service.remove, name, force=request.flag("force"),
                                 noprune=request.flag("noprune"))
        await self._publish_removal(removed, {image_id})
        return document(removed)

    async def prune(self, request: Request) -> Response:
        filters = parse_filters(request.arg("filters"), PRUNE_FILTERS)
        for key in ("label", "label!", "until"):
            if key in filters:
                raise HTTPError(400, f"image prune filter '{key}' is not supported yet")
        dangling_only = bool_filter(filters, "dangling", True)
        before = {summary["Id"] for summary in await blocking(self.service.list)}
        pruned = await blocking(self.service.prune, all=not dangling_only)
        await self._publish_removal(pruned["ImagesDeleted"] or [], before)
        self.engine.events.publish("image", "prune", "", {"reclaimed": str(pruned["SpaceReclaimed"])})
        return document(pruned)

    # -- events ------------------------------------------------------------------------
    async def _publish(self, action: str, image_id: str, name: str | None = None) -> None:
        """docker's image event: the image's labels (while it exists) and a name."""
        try:
            labels = (await blocking(self.service.inspect, image_id))["Config"].get("Labels") or {}
        except ImageNotFound:
            labels = {}
        self.engine.events.publish("image", action, image_id, {**labels, "name": name or image_id})

    async def _publish_removal(self, items: list[dict], images: set[str]) -> None:
        """untag and delete events for docker's removal list, whose untags come
        before their image's "Deleted" (the other "Deleted" are layers)."""
        untagged = 0
        for item in items:
            if "Untagged" in item:
                untagged += 1
            elif item.get("Deleted") in images:
                for _ in range(untagged):
                    await self._publish("untag", item["Deleted"])
                await self._publish("delete", item["Deleted"])
                untagged = 0
        if untagged and len(images) == 1:  # untagged only: the image stays
            for _ in range(untagged):
                await self._publish("untag", next(iter(images)))

    # -- archives ----------------------------------------------------------------------
    async def save_many(self, request: Request) -> Response:
        return await self._save(request.query.get("names", []))

    async def save_one(self, request: Request, name: str) -> Response:
        return await self._save([name])

    async def _save(self, names: list[str]) -> Response:
        chunks = self._written(lambda dest: self.service.save(names, dest))
        first = await anext(chunks, b"")  # an error before any byte keeps its status
        for name in names:
            try:
                await self._publish("save", await blocking(self.service.resolve, name))
            except ImageNotFound:
                pass  # a repository saved by name, whose tags have no "latest"
        return Response(200, content_type=TAR, stream=_prepend(first, chunks))

    def _written(self, write: Callable[[BinaryIO], None]) -> AsyncIterator[bytes]:
        """What ``write(dest)`` writes in a worker thread, as chunks. The thread
        runs in a daemon task, not in the reader: a reader that stops early only
        closes its end, and the writer's next chunk fails and ends it."""
        send, receive = anyio.create_memory_object_stream(4)

        def work() -> None:
            dest = _ChunkWriter(lambda chunk: anyio.from_thread.run(send.send, chunk))
            write(dest)
            dest.flush()

        async def produce() -> None:
            async with send:
                try:
                    await anyio.to_thread.run_sync(work)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    pass  # the reader went away
                except Exception as error:  # noqa: BLE001 - handed to the reader, who raises it
                    try:
                        await send.send(error)
                    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                        pass

        async def read() -> AsyncIterator[bytes]:
            async with receive:
                async for item in receive:
                    if isinstance(item, Exception):
                        raise item
                    yield item
        self.engine.spawn(produce())
        return read()

    async def load(self, request: Request) -> Response:
        """``docker load``: the same lines with or without ``quiet``."""
        loaded = await blocking(self.service.load, request.payload())
        for image in loaded:
            await self._publish("load", image.id)
        return Response(200, b"".join(progress("stream", message + "\n")
                                      for image in loaded for message in image.messages))

    async def create(self, request: Request) -> Response:
        """``docker pull`` (not yet) or ``docker import`` of the body (``fromSrc=-``)."""
        if request.arg("fromImage"):
            raise HTTPError(500, NO_PULLS)  # docker's status when no registry can be reached
        source = request.arg("fromSrc")
        if not source:
            raise HTTPError(400, "fromImage or fromSrc is required")
        if source != "-":
            raise HTTPError(500, NO_URL_IMPORT)
        reference = repo_tag(request.arg("repo") or "", request.arg("tag") or "")
        image_id = await blocking(self.service.import_image, request.payload(), reference,
                                  changes=request.query.get("changes", []),
                                  message=request.arg("message") or None)
        await self._publish("import", image_id)
        return Response(200, progress("status", image_id))


# -- pure helpers ------------------------------------------------------------------------

def progress(key: str, text: str) -> bytes:
    """One line of docker's JSON progress stream."""
    return json.dumps({key: text}).encode() + b"\r\n"


def repo_tag(repo: str, tag: str) -> str | None:
    """moby's RepoTagReference: ``repo`` with ``tag`` in place of its own."""
    if not repo:
        return None
    ref = parse_reference(repo)
    if ref.digest:
        raise InvalidReference("cannot import digest reference")
    if tag:
        ref = Reference(ref.domain, ref.path, parse_tag(tag), None)
    return str(ref)


def select(summaries: list[dict], filters: dict[str, list[str]],
           created_of: Callable[[str], int], now: float) -> list[dict]:
    """docker's image list filters over summaries (newest first, as given)."""
    dangling = bool_filter(filters, "dangling", False) if "dangling" in filters else None
    before = min((created_of(name) for name in filters.get("before", [])), default=None)
    since = max((created_of(name) for name in filters.get("since", [])), default=None)
    until = min((timestamp(value, now) for value in filters.get("until", [])), default=None)
    chosen = []
    for summary in summaries:
        if dangling is not None and dangling == bool(summary["RepoTags"] or summary["RepoDigests"]):
            continue
        if before is not None and not summary["Created"] < before:
            continue
        if since is not None and not summary["Created"] > since:
            continue
        if until is not None and not summary["Created"] < until:
            continue
        if not all(label_matches(summary["Labels"], wanted) for wanted in filters.get("label", [])):
            continue
        if "reference" in filters:
            summary = matching_references(summary, filters["reference"])
            if summary is None:
                continue
        chosen.append(summary)
    return chosen


def label_matches(labels: dict, wanted: str) -> bool:
    key, equals, value = wanted.partition("=")
    return key in labels and (not equals or labels[key] == value)


def matching_references(summary: dict, patterns: list[str]) -> dict | None:
    """The summary with only the names a pattern matches (docker lists just
    those), or None when no name matches."""
    def matches(name: str) -> bool:
        return any(path_match(pattern, name) or path_match(pattern, parse_reference(name).familiar_name)
                   for pattern in patterns)
    tags = [name for name in summary["RepoTags"] if matches(name)]
    digests = [name for name in summary["RepoDigests"] if matches(name)]
    if not tags and not digests:
        return None
    return {**summary, "RepoTags": tags, "RepoDigests": digests}


def path_match(pattern: str, name: str) -> bool:
    """Go's path.Match: shell patterns whose ``*`` stops at ``/``."""
    parts, names = pattern.split("/"), name.split("/")
    return len(parts) == len(names) and all(fnmatchcase(n, p) for p, n in zip(parts, names))


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def timestamp(value: str, now: float) -> float:
    """moby's GetTimestamp: Unix seconds, a Go duration before ``now``, or an
    RFC 3339 date (UTC when it names no zone)."""
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    parts = _DURATION_PART.findall(value)
    if parts and "".join(number + unit for number, unit in parts) == value:
        return now - sum(float(number) * _UNITS[unit] for number, unit in parts)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise HTTPError(400, f'failed to parse value as time or duration: "{value}"') from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


class _ChunkWriter:
    """A write-only file that hands on what it gets in chunks of ``CHUNK``."""

    def __init__(self, send: Callable[[bytes], None]) -> None:
        self._send, self._buffer = send, bytearray()

    def write(self, data) -> int:
        self._buffer += data
        if len(self._buffer) >= CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            chunk, self._buffer = bytes(self._buffer), bytearray()
            self._send(chunk)

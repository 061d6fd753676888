"""``/containers/{id}/archive``: ``docker cp`` both ways. GET is a tar of
the path (and its stat, base64 JSON in ``X-Docker-Container-Path-Stat``),
HEAD the stat alone, PUT extracts the request's tar into a directory.

The work happens in a short-lived archive process
(``engine.runtime.archive``, which takes the container's view of the
filesystem); this module runs it, streams its output and gives its errors
docker's status codes and words.
"""
from __future__ import annotations

import base64
import json
import subprocess

import anyio

from engine.containers import archive

from .http import HTTPError, Request, Response, empty
from .routes import Router, blocking

STAT_HEADER = "X-Docker-Container-Path-Stat"
CHUNK = 65536


class Archive:
    def __init__(self, engine) -> None:
        self.engine = engine
        self.service = engine.containers

    def register(self, router: Router) -> None:
        router.add("GET", "/containers/{id}/archive", self.get)  # and HEAD
        router.add("PUT", "/containers/{id}/archive", self.put)

    async def get(self, request: Request, id: str) -> Response:
        found = await blocking(archive.request, self.service, id, _path(request))
        if request.method == "HEAD":
            result = await blocking(_run, "stat", found)
            return Response(200, content_type="", headers=[(STAT_HEADER, _stat_header(result))])
        argv, cwd = archive.command("get", found)
        child = await blocking(subprocess.Popen, argv, cwd=cwd, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE)
        try:
            result = _answer(await blocking(child.stdout.readline))
            await self._publish("archive-path", found)
        except BaseException:
            await _end(child)
            raise
        return Response(200, content_type="application/x-tar", headers=[(STAT_HEADER, _stat_header(result))],
                        stream=_tar(child))

    async def put(self, request: Request, id: str) -> Response:
        owner = await blocking(archive.owner, self.service, id) if request.flag("copyUIDGID") else None
        found = await blocking(archive.request, self.service, id, _path(request), owner=owner,
                               no_overwrite_dir_non_dir=request.flag("noOverwriteDirNonDir"))
        await blocking(_run, "put", found, request.payload().read())
        await self._publish("extract-to-dir", found)
        return empty(200)

    async def _publish(self, action: str, found: dict) -> None:
        inspected = await blocking(self.service.inspect, found["name"])
        attributes = {**(inspected["Config"].get("Labels") or {}), "image": inspected["Config"]["Image"],
                      "name": found["name"], "path": found["path"]}
        self.engine.events.publish("container", action, inspected["Id"], attributes)


def _path(request: Request) -> str:
    path = request.arg("path")
    if not path:
        raise HTTPError(400, "bad parameter: path cannot be empty")
    return path


def _run(op: str, found: dict, body: bytes = b"") -> dict:
    """The archive process to its end; its answer."""
    argv, cwd = archive.command(op, found)
    done = subprocess.run(argv, cwd=cwd, input=body, stdout=subprocess.PIPE, check=False)
    return _answer(done.stdout.partition(b"\n")[0])


def _answer(line: bytes) -> dict:
    """The archive process's first line; its error as docker's."""
    try:
        answer = json.loads(line)
    except ValueError:  # it died first; what it said went to the daemon's log (stderr)
        raise HTTPError(500, "the archive process failed without an answer") from None
    if "error" in answer:
        raise HTTPError(answer.get("status", 500), answer["error"])
    return answer


def _stat_header(answer: dict) -> str:
    return base64.b64encode(json.dumps(answer["stat"]).encode()).decode()


async def _tar(child: subprocess.Popen):
    try:
        while chunk := await blocking(child.stdout.read1, CHUNK):
            yield chunk
    finally:
        await _end(child)


async def _end(child: subprocess.Popen) -> None:
    """The archive process gone and reaped (early, if the client left)."""
    with anyio.CancelScope(shield=True):
        if child.poll() is None:
            child.kill()
        await blocking(child.wait)
        child.stdout.close()

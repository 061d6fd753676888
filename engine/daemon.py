"""The engine daemon: the Docker Engine API on a UNIX socket, in front of the
engine's services (images, volumes, networks, containers and their supervisor).

    python -m engine.daemon [--root DIR] [--run DIR] [--socket PATH] [--cgroup-parent NAME]
                            [--config-file FILE]

The state root defaults to ``$DOCKYARD_ROOT`` or /var/lib/dockyard, the
runtime dir to ``$DOCKYARD_RUN`` or /run/dockyard, the socket to
RUN/engine.sock (mode 0660, group ``dockyard`` — or $DOCKYARD_GROUP — when it exists); RUN/engine.pid
holds its pid and a lock, so two daemons never serve one runtime dir. At start it
reconciles its records with the kernel; containers run under the
supervisor, so stopping the daemon (SIGTERM, SIGINT) leaves them running.
"""
from __future__ import annotations

import argparse
import fcntl
import grp
import os
import secrets
import signal
import sys
from pathlib import Path

import anyio

from engine.api import http
from engine.api.archive import Archive
from engine.api.containers import Containers
from engine.api.df import Df
from engine.api.events import Events
from engine.api.execs import Execs
from engine.api.images import Images
from engine.api.networks import Networks
from engine.api.routes import Router
from engine.api.system import System
from engine.api.volumes import Volumes


class Engine:
    """The services the API serves, and a place for the daemon's own tasks."""

    def __init__(self, root: Path, run: Path, cgroup_parent: str = "dockyard", settings=None) -> None:
        from engine.containers.service import ContainerService
        from engine.images.service import ImageService
        from engine.networks.service import NetworkService
        from engine.runtime import cgroups
        from engine.volumes.service import VolumeService
        self.root, self.run = root, run
        self.networks = NetworkService(root, settings, container_name=self._container_name)
        self.containers = ContainerService(root, run, None, cgroups.detect(parent=cgroup_parent),
                                           networks=self.networks)
        self.images = ImageService(root, in_use=self._image_users)
        self.containers.images = self.images
        self.volumes = VolumeService(root, in_use=self.containers.volume_users)
        self.containers.volumes = self.volumes
        self.id = _engine_id(root)
        self._group: anyio.abc.TaskGroup | None = None
        self.events = Events(self)  # the parts publish what they do
        self.parts = (System(self), Containers(self), Execs(self), Images(self), Volumes(self), Archive(self),
                      Df(self), Networks(self), self.events)

    def _container_name(self, cid: str) -> str:
        return self.containers.name_of(cid) or cid[:12]  # removed meanwhile: its id says enough

    def reconcile(self) -> list[str]:
        """At start: containers first (what runs), then their networks."""
        removed = self.containers.reconcile()
        running = {c["Id"]: self.containers.inspect(c["Id"])["State"]["Pid"] for c in self.containers.list()}
        self.networks.ensure_default()
        return removed + self.networks.reconcile(running)

    def _image_users(self, image_id: str) -> list[tuple[str, bool]]:
        """(container id, running) of each container made from the image."""
        return [(c["Id"], c["State"] in ("running", "paused"))
                for c in self.containers.list(all=True) if c["ImageID"] == image_id]

    def spawn(self, coroutine) -> None:
        """Run a task beside the requests (AutoRemove, ...)."""
        assert self._group is not None, "the daemon is not serving"
        self._group.start_soon(lambda: coroutine)

    def router(self) -> Router:
        router = Router()
        for part in self.parts:
            part.register(router)
        return router

    async def serve(self, socket_path: str, *, task_status=anyio.TASK_STATUS_IGNORED) -> None:
        removed = await anyio.to_thread.run_sync(self.reconcile)
        for item in removed:
            print(f"dockyard engine: removed what a crash left: {item}", file=sys.stderr, flush=True)
        async with anyio.create_task_group() as group:
            self._group = group
            for part in self.parts:  # live restore: watch what runs already
                if hasattr(part, "adopt"):
                    await part.adopt()
            await group.start(lambda task_status: http.serve(
                socket_path, self.router(), group=_group_id(os.environ.get("DOCKYARD_GROUP", "dockyard")),
                task_status=task_status))
            task_status.started()
            try:
                await anyio.sleep_forever()
            finally:
                self.networks.close()  # DNS and held ports; bridges and rules stay, as docker's


def _engine_id(root: Path) -> str:
    path = root / "engine-id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        root.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(16)
        path.write_text(value + "\n")
        return value


def _group_id(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dockyard engine serve", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("DOCKYARD_ROOT", "/var/lib/dockyard")))
    parser.add_argument("--run", type=Path, default=Path(os.environ.get("DOCKYARD_RUN", "/run/dockyard")))
    parser.add_argument("--socket", help="the API socket (default: RUN/engine.sock)")
    parser.add_argument("--cgroup-parent", default=os.environ.get("DOCKYARD_CGROUP_PARENT", "dockyard"),
                        help="the containers' parent cgroup (default: $DOCKYARD_CGROUP_PARENT or dockyard)")
    parser.add_argument("--config-file", type=Path,
                        default=Path(os.environ.get("DOCKYARD_CONFIG", "/etc/dockyard/daemon.json")),
                        help="the daemon's config file (default: $DOCKYARD_CONFIG or /etc/dockyard/daemon.json)")
    args = parser.parse_args(argv)
    from engine import settings
    try:
        network_settings = settings.load(args.config_file)
    except settings.ConfigFileError as error:
        print(f"dockyard engine: {error}", file=sys.stderr)
        return 1
    if os.geteuid() != 0:
        print("dockyard engine: the engine needs root (namespaces, mounts, cgroups)", file=sys.stderr)
        return 1
    args.run.mkdir(parents=True, exist_ok=True)
    lock = open(args.run / "engine.pid", "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        print(f"dockyard engine: another engine daemon (pid {lock.read().strip() or '?'}) serves "
              f"{args.run}; stop it first (kill -TERM that pid)", file=sys.stderr)
        return 1
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    socket_path = args.socket or str(args.run / "engine.sock")
    engine = Engine(args.root, args.run, args.cgroup_parent, network_settings)

    async def run() -> None:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async with anyio.create_task_group() as group:
                await group.start(engine.serve, socket_path)
                print(f"dockyard engine: serving on {socket_path}", file=sys.stderr, flush=True)
                async for _ in signals:
                    group.cancel_scope.cancel()
                    break
    anyio.run(run)
    try:
        os.unlink(socket_path)  # ours: we hold the lock
    except FileNotFoundError:
        pass
    lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``dockyard engine``: the engine daemon. The orchestrator does not import
the engine (only its client): ``serve`` becomes the daemon's own process;
``status``, ``stop`` and ``logs`` go through the client and the files the
daemon keeps (its pid file and its log)."""
from __future__ import annotations

import os
import signal
import sys
import time

import click


def _engine():
    from engine.client.engine import Engine
    return Engine.from_env()


@click.group(name="engine")
def engine() -> None:
    """Manage the Dockyard engine daemon (it serves the Docker Engine API)."""


@engine.command()
@click.option("--root", metavar="DIR", help="State root (default: $DOCKYARD_ROOT or /var/lib/dockyard).")
@click.option("--run", "run_dir", metavar="DIR", help="Runtime dir (default: $DOCKYARD_RUN or /run/dockyard).")
@click.option("--socket", metavar="PATH", help="API socket (default: RUN/engine.sock).")
@click.option("--config-file", metavar="FILE",
              help="Daemon config file (default: $DOCKYARD_CONFIG or /etc/dockyard/daemon.json).")
def serve(root, run_dir, socket, config_file) -> None:
    """Run the engine daemon in the foreground: the Docker Engine API on a UNIX socket."""
    argv = [sys.executable, "-m", "engine.daemon"]
    for flag, value in (("--root", root), ("--run", run_dir), ("--socket", socket),
                        ("--config-file", config_file)):
        if value:
            argv += [flag, value]
    sys.stdout.flush()
    os.execv(sys.executable, argv)


@engine.command()
def status() -> None:
    """Say whether the engine runs (exit status 1 if not)."""
    found = _engine()
    if not found.answers():
        click.echo(f"the Dockyard engine is not running (socket {found.socket})")
        raise SystemExit(1)
    from engine.client import DockerClient
    version = DockerClient(base_url=found.host).version()
    click.echo(f"the Dockyard engine {version['Version']} (API {version['ApiVersion']}) is running: "
               f"pid {found.pid()}, socket {found.socket}, state root {found.root}")


@engine.command()
@click.option("--containers", is_flag=True, help="Stop the running containers first.")
@click.option("-t", "--timeout", default=10, show_default=True, metavar="SECONDS",
              help="With --containers: how long each may take to stop before it is killed.")
def stop(containers: bool, timeout: int) -> None:
    """Stop the engine daemon; its containers keep running unless --containers."""
    found = _engine()
    pid = found.pid()
    if pid is None:
        click.echo("the Dockyard engine is not running")
        return
    if containers and found.answers():
        from engine.client import DockerClient
        client = DockerClient(base_url=found.host)
        for container in client.containers.list():
            container.stop(timeout=timeout)
            click.echo(f"stopped {container.name}")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while found.pid() is not None:
        if time.monotonic() > deadline:
            raise click.ClickException(f"the Dockyard engine (pid {pid}) did not stop within 15 s; "
                                       f"see {found.log}")
        time.sleep(0.05)
    click.echo(f"the Dockyard engine (pid {pid}) has stopped")


@engine.command()
@click.option("-f", "--follow", is_flag=True, help="Keep printing what it logs.")
def logs(follow: bool) -> None:
    """Print the log of the engine daemon started in the background."""
    path = _engine().log
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise click.ClickException(f"no engine log at {path}: the engine was never started in the "
                                   "background with this state root") from None
    with handle:
        while True:
            chunk = handle.read(65536)
            if chunk:
                sys.stdout.buffer.write(chunk)
                sys.stdout.flush()
            elif not follow:
                return
            else:
                time.sleep(0.2)

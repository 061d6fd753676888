"""``dockyard engine``: the engine daemon. The orchestrator does not import
the engine (only its client): ``serve`` becomes the daemon's own process."""
from __future__ import annotations

import os
import sys

import click


@click.group(name="engine")
def engine() -> None:
    """Manage the Dockyard engine daemon (it serves the Docker Engine API)."""


@engine.command()
@click.option("--root", metavar="DIR", help="State root (default: $DOCKYARD_ROOT or /var/lib/dockyard).")
@click.option("--run", "run_dir", metavar="DIR", help="Runtime dir (default: $DOCKYARD_RUN or /run/dockyard).")
@click.option("--socket", metavar="PATH", help="API socket (default: RUN/engine.sock).")
def serve(root, run_dir, socket) -> None:
    """Run the engine daemon in the foreground: the Docker Engine API on a UNIX socket."""
    argv = [sys.executable, "-m", "engine.daemon"]
    for flag, value in (("--root", root), ("--run", run_dir), ("--socket", socket)):
        if value:
            argv += [flag, value]
    sys.stdout.flush()
    os.execv(sys.executable, argv)

"""``dockyard``: the command line, docker compose's global flags first.

Owns the click group and the global options; each family of commands lives
in its own module and is imported only when it runs, so ``dockyard --help``
pays for click alone. Errors become messages in ``exit.py``, nowhere else.
"""
from __future__ import annotations

import os
import sys

import click

from . import exit as exit_

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Group(click.Group):
    """Commands registered by name and module, imported on use."""

    lazy = {"config": ("orchestrator.cli.config", "config"),
            "cp": ("orchestrator.cli.oneoff", "cp"),
            "create": ("orchestrator.cli.compose", "create"),
            "down": ("orchestrator.cli.compose", "down"),
            "events": ("orchestrator.cli.listing", "events"),
            "images": ("orchestrator.cli.listing", "images"),
            "kill": ("orchestrator.cli.lifecycle", "kill"),
            "ls": ("orchestrator.cli.listing", "ls"),
            "pause": ("orchestrator.cli.lifecycle", "pause"),
            "port": ("orchestrator.cli.listing", "port"),
            "restart": ("orchestrator.cli.lifecycle", "restart"),
            "rm": ("orchestrator.cli.lifecycle", "rm"),
            "scale": ("orchestrator.cli.compose", "scale"),
            "start": ("orchestrator.cli.lifecycle", "start"),
            "stop": ("orchestrator.cli.lifecycle", "stop"),
            "top": ("orchestrator.cli.listing", "top"),
            "unpause": ("orchestrator.cli.lifecycle", "unpause"),
            "version": ("orchestrator.cli.listing", "version"),
            "wait": ("orchestrator.cli.lifecycle", "wait"),
            "exec": ("orchestrator.cli.oneoff", "exec_"),
            "run": ("orchestrator.cli.oneoff", "run"),
            "logs": ("orchestrator.cli.compose", "logs"),
            "ps": ("orchestrator.cli.compose", "ps"),
            "up": ("orchestrator.cli.compose", "up"),
            "engine": ("orchestrator.cli.engine", "engine"),
            "image": ("orchestrator.cli.image", "image"),
            "network": ("orchestrator.cli.network", "network"),
            "volume": ("orchestrator.cli.volume", "volume")}

    def list_commands(self, ctx):
        return sorted(self.lazy)

    def get_command(self, ctx, name):
        if name not in self.lazy:
            return None
        module_name, attribute = self.lazy[name]
        module = __import__(module_name, fromlist=[attribute])
        return getattr(module, attribute)


@click.group(cls=_Group, context_settings=CONTEXT)
@click.option("-f", "--file", "files", multiple=True, metavar="FILE",
              help="Compose configuration files (repeatable; - reads standard input).")
@click.option("-p", "--project-name", metavar="NAME", help="Project name.")
@click.option("--project-directory", metavar="DIR",
              help="Alternate working directory (default: the directory of the first file).")
@click.option("--env-file", "env_files", multiple=True, metavar="FILE",
              help="Alternate environment files (repeatable).")
@click.option("--profile", "profiles", multiple=True, metavar="PROFILE",
              help="Profiles to enable (repeatable).")
@click.option("--progress", type=click.Choice(["auto", "tty", "plain", "json", "quiet"]), default="auto",
              show_default=True, help="Set type of progress output.")
@click.option("--ansi", type=click.Choice(["never", "always", "auto"]), default="auto", show_default=True,
              help="Control when to print ANSI control characters.")
@click.option("--dry-run", is_flag=True, help="Execute command in dry run mode: print the plan, change nothing "
              "(not exec, run, cp).")
@click.option("--parallel", type=int, default=-1, show_default=True, metavar="N",
              help="Control max parallelism, -1 for unlimited.")
@click.option("-H", "--host", metavar="URL", help="The engine to talk to (unix://PATH; default: "
              "$DOCKYARD_HOST, $DOCKER_HOST, else Dockyard's own engine, started on first use).")
@click.version_option(package_name="dockyard", prog_name="dockyard")
@click.pass_context
def cli(ctx, files, project_name, project_directory, env_files, profiles, progress, ansi, dry_run, parallel, host):
    """Define and run multi-container applications with Dockyard."""
    if host:  # engine.client.from_env reads it first
        os.environ["DOCKYARD_HOST"] = host
    ctx.obj = {"files": files, "project_name": project_name, "project_directory": project_directory,
               "env_files": env_files, "profiles": profiles, "progress": progress, "ansi": ansi,
               "dry_run": dry_run, "parallel": parallel}


def main(argv: list[str] | None = None) -> int:
    def command() -> int | None:
        return cli.main(args=argv, prog_name="dockyard", standalone_mode=False)

    try:
        return exit_.run(command)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Abort:
        sys.stderr.write("Aborted!\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""Where a project comes from: its compose files, directory, environment, name.

Owns file discovery (-f, COMPOSE_FILE, compose.yaml in the working directory
or its parents plus the override file beside it), the project directory, the
environment used for interpolation (the process environment, then
--env-file/.env files; the process environment wins), and the rules that
pick the project name before the files are parsed (-p, COMPOSE_PROJECT_NAME).

Pure apart from reading files: the process environment, the working
directory and stdin come in through ``Options``. Must not import other loader
stages except dotenv and errors.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Callable, Mapping

from . import dotenv
from .errors import ConfigError, quote

DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILES = ("compose.override.yml", "compose.override.yaml",
                  "docker-compose.override.yml", "docker-compose.override.yaml")

_NAME_CHARS = re.compile(r"[a-z0-9_-]")


@dataclass(frozen=True)
class Options:
    """What the command line says about the project (docker compose's global flags)."""

    files: tuple[str, ...] = ()
    project_name: str | None = None
    project_directory: str | None = None
    env_files: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    interpolate: bool = True
    cwd: str = field(default_factory=os.getcwd)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    read_stdin: Callable[[], str] | None = None


@dataclass(frozen=True)
class ConfigFile:
    filename: str  # absolute path, or "-" for stdin
    content: str


@dataclass
class Sources:
    """Everything the pipeline needs before parsing the first file."""

    files: list[ConfigFile]
    working_dir: str
    environment: dict[str, str]
    env_files: list[str]
    profiles: list[str]
    explicit_name: str | None  # from -p or COMPOSE_PROJECT_NAME, already validated


def normalize_project_name(name: str) -> str:
    """Lowercase, drop characters compose does not allow, strip leading -/_."""
    return "".join(_NAME_CHARS.findall(name.lower())).lstrip("_-")


def invalid_project_name(name: str, origin: str) -> ConfigError:
    return ConfigError(
        f"invalid project name {quote(name)} (from {origin}): must consist only of lowercase "
        "alphanumeric characters, hyphens, and underscores as well as start with a letter or number")


def _abs(path: str, base: str) -> str:
    return os.path.normpath(os.path.join(base, os.path.expanduser(path)))


def _find_default_files(start: str) -> list[str]:
    directory = start
    while True:
        found = [n for n in DEFAULT_FILES if os.path.isfile(os.path.join(directory, n))]
        if found:
            paths = [os.path.join(directory, found[0])]
            overrides = [n for n in OVERRIDE_FILES if os.path.isfile(os.path.join(directory, n))]
            if overrides:
                paths.append(os.path.join(directory, overrides[0]))
            return paths
        parent = os.path.dirname(directory)
        if parent == directory:
            return []
        directory = parent


def _config_paths(options: Options, environment: Mapping[str, str], cwd: str) -> list[str]:
    if options.files:
        return [f if f == "-" else _abs(f, options.cwd) for f in options.files]
    if environment.get("COMPOSE_FILE"):
        separator = environment.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        return [_abs(f, options.cwd) for f in environment["COMPOSE_FILE"].split(separator) if f]
    return _find_default_files(cwd)


def _working_dir(options: Options, paths: list[str]) -> str:
    if options.project_directory:
        return _abs(options.project_directory, options.cwd)
    for path in paths:
        if path != "-":
            return os.path.dirname(path)
    return options.cwd


def _env_files(options: Options, working_dir: str) -> list[str]:
    if options.env_files:
        return [_abs(f, options.cwd) for f in options.env_files]
    disable = options.environ.get("COMPOSE_DISABLE_ENV_FILE", "")
    if disable.lower() in ("1", "true", "t"):
        return []
    default = os.path.join(working_dir, ".env")
    return [default] if os.path.isfile(default) else []


def load_env_files(files: list[str], base: Mapping[str, str]) -> dict[str, str]:
    """Variables of ``files`` in order; ``base`` (the process environment)
    wins over them, later files win over earlier ones."""
    loaded: dict[str, str] = {}

    def lookup(name: str) -> str | None:
        if name in base:
            return base[name]
        return loaded.get(name)

    for path in files:
        if os.path.isdir(path):
            raise ConfigError(f"env file {path} is a directory, not a file")
        if not os.path.exists(path):
            raise ConfigError(f"env file {path} not found", hint="check the --env-file path")
        dotenv.load_file(path, lookup, into=loaded)
    environment = dict(loaded)
    environment.update(base)
    return environment


def read_file(path: str, options: Options) -> ConfigFile:
    if path == "-":
        if options.read_stdin is None:
            raise ConfigError("-f - reads the compose file from standard input, but none was given")
        return ConfigFile("-", options.read_stdin())
    try:
        with open(path, encoding="utf-8") as handle:
            return ConfigFile(path, handle.read())
    except FileNotFoundError:
        raise ConfigError(f"compose file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"compose file {path} is a directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read compose file {path}: {exc}") from None


def _profiles(options: Options, environment: Mapping[str, str]) -> list[str]:
    if options.profiles:
        return list(options.profiles)
    return [p.strip() for p in environment.get("COMPOSE_PROFILES", "").split(",") if p.strip()]


def resolve(options: Options) -> Sources:
    """Find the files and build the interpolation environment, as compose does:
    a first .env pass (in the working directory) may set COMPOSE_FILE, the
    second one (in the project directory) is the one that counts."""
    environ = dict(options.environ)
    environ.setdefault("PWD", options.cwd)
    first_dir = _abs(options.project_directory, options.cwd) if options.project_directory else (
        os.path.dirname(_abs(options.files[0], options.cwd))
        if options.files and options.files[0] != "-" else options.cwd)
    environment = load_env_files(_env_files(options, first_dir), environ)
    paths = _config_paths(options, environment, first_dir)
    if not paths:
        raise ConfigError(
            "no configuration file provided: not found",
            hint=f"no {' or '.join(DEFAULT_FILES[:2])} in {options.cwd} or its parents; "
                 "use -f to name one")
    working_dir = _working_dir(options, paths)
    # compose looks for .env again in the project directory, and keeps the
    # first one when there is none there.
    env_files = _env_files(options, working_dir) or _env_files(options, first_dir)
    # ... and what the first pass set wins over the second one.
    environment = load_env_files(env_files, environment)
    explicit = _explicit_name(options, environment)
    files = [read_file(p, options) for p in paths]
    return Sources(files, working_dir, environment, env_files,
                   _profiles(options, environment), explicit)


def _explicit_name(options: Options, environment: Mapping[str, str]) -> str | None:
    if options.project_name:
        if normalize_project_name(options.project_name) != options.project_name:
            raise invalid_project_name(options.project_name, "-p/--project-name")
        return options.project_name
    from_env = environment.get("COMPOSE_PROJECT_NAME")
    if from_env:
        if normalize_project_name(from_env) != from_env:
            raise invalid_project_name(from_env, "COMPOSE_PROJECT_NAME")
        return from_env
    return None

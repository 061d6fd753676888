"""``include``: other compose projects imported into this one.

Owns resolving an include entry (its files, its own project directory, its
own env files layered under the including project's environment), cycle
detection, and importing the included resources with conflict checks
(``services.x conflicts with imported resource``). The included project is
loaded by the caller's pipeline, passed in as ``load_model``.

Must not import load; imports sources (env files), errors.
"""
from __future__ import annotations

import os
from typing import Callable

from .errors import ConfigError, CycleError, quote
from .sources import load_env_files

# load_model(files, working_dir, environment, chain) -> merged canonical model
LoadModel = Callable[[list[str], str, dict, tuple], dict]

_SECTIONS = ("services", "volumes", "networks", "secrets", "configs", "models")


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def apply(document: dict, working_dir: str, environment: dict, chain: tuple,
          load_model: LoadModel) -> None:
    """Import every ``include`` entry of ``document`` into it, then drop the key."""
    for index, entry in enumerate(document.pop("include", None) or []):
        where = ("include", index)
        files = [os.path.normpath(os.path.join(working_dir, os.path.expanduser(p)))
                 for p in _as_list(entry.get("path"))]
        if not files:
            raise ConfigError("include needs a path").at(path=where)
        main = files[0]
        if main in chain:
            names = "\n include ".join(chain[1:] + (main,))
            raise CycleError(f"include cycle detected:\n{chain[0]}\n include {names}").at(path=where)
        project_dir = entry.get("project_directory")
        project_dir = (os.path.normpath(os.path.join(working_dir, os.path.expanduser(project_dir)))
                       if project_dir else os.path.dirname(main))
        env_files = [os.path.normpath(os.path.join(working_dir, f)) for f in _as_list(entry.get("env_file"))]
        if not env_files and os.path.isfile(os.path.join(project_dir, ".env")):
            env_files = [os.path.join(project_dir, ".env")]
        for path in files:
            if not os.path.isfile(path):
                raise ConfigError(f"included file {path} not found").at(path=where + ("path",))
        try:
            # the including project's environment wins over the included env files
            included_env = load_env_files(env_files, environment)
        except ConfigError as exc:
            raise exc.at(path=where + ("env_file",))
        imported = load_model(files, project_dir, included_env, chain + (main,))
        _import(imported, document, where)


def _import(source: dict, target: dict, where: tuple) -> None:
    for section in _SECTIONS:
        resources = source.get(section)
        if not resources:
            continue
        into = target.setdefault(section, {})
        if into is None:
            into = target[section] = {}
        for name, resource in resources.items():
            if name in into and into[name] != resource:
                raise ConfigError(
                    f"{section}.{name} conflicts with imported resource",
                    hint=f"{section} {quote(name)} is defined both here and in an included project; "
                         "rename one or remove it from the include").at(path=(section, name))
            into.setdefault(name, resource)

"""``extends``: a service built on another one, in the same file or another.

Owns resolving extends chains (depth first, with cycle detection naming the
chain), loading the base file through the same per-file stages as any compose
file (passed in as ``load_file``), making the base file's relative paths
absolute against its own directory, and merging with the override rules.

Must not import load (it receives what it needs); imports merge, paths, errors.
"""
from __future__ import annotations

import copy
import os
from typing import Callable

from . import merge, paths
from .errors import ConfigError, CycleError, quote

# load_file(path) -> the services mapping of that file, canonical and interpolated
LoadFile = Callable[[str], dict]


class _Resolver:
    def __init__(self, load_file: LoadFile, rules) -> None:
        self.load_file = load_file
        self.rules = rules
        self.files: dict[str, dict] = {}

    def services_of(self, filename: str) -> dict:
        if filename not in self.files:
            services = self.load_file(filename)
            base_dir = os.path.dirname(filename)
            for service in services.values():
                if isinstance(service, dict):
                    paths.resolve_service(service, base_dir)
            self.files[filename] = services
        return self.files[filename]

    def resolve(self, name: str, services: dict, filename: str, chain: tuple) -> dict | None:
        service = services.get(name)
        if not isinstance(service, dict) or "extends" not in service:
            return service
        extends = service["extends"]
        ref, ref_file = extends["service"], extends.get("file")
        link = (filename, name)
        if link in chain:
            names = " -> ".join(n for _, n in chain + (link,))
            raise CycleError(f"circular reference with extends: {names}").at(
                path=("services", name, "extends"))
        if ref_file:
            target_file = os.path.normpath(os.path.join(os.path.dirname(filename), ref_file))
            try:
                target_services = self.services_of(target_file)
            except FileNotFoundError:
                raise ConfigError(f"cannot extend service {quote(name)}: file {target_file} not found").at(
                    path=("services", name, "extends", "file")) from None
        else:
            target_file, target_services = filename, services
        if ref not in target_services:
            where = f" in {target_file}" if ref_file else ""
            raise ConfigError(f"cannot extend service {quote(name)}: service {quote(ref)} not found{where}").at(
                path=("services", name, "extends", "service"))
        base = self.resolve(ref, target_services, target_file, chain + (link,))
        merged = merge.merge_values(copy.deepcopy(base) if base else {},
                                    {k: v for k, v in service.items() if k != "extends"},
                                    ("services", name), rules=self.rules)
        merge.enforce_unicity(merged)
        services[name] = merged
        return merged


def apply(document: dict, filename: str, load_file: LoadFile, *, raw: bool = False) -> None:
    """Resolve every ``extends`` in ``document`` (one file, canonical).
    ``raw``: the file was not interpolated (see merge.RAW_RULES)."""
    services = document.get("services")
    if not isinstance(services, dict):
        return
    resolver = _Resolver(load_file, merge.RAW_RULES if raw else merge.RULES)
    for name in list(services):
        resolver.resolve(name, services, filename, ())

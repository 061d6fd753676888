"""A service's final environment and labels: ``env_file`` and ``label_file``
contents layered under ``environment``/``labels`` (compose-go's
WithServicesEnvironmentResolved / WithServicesLabelsResolved).

Reads the files named by the model; imports dotenv, errors.
"""
from __future__ import annotations

import os

from . import dotenv
from .errors import ConfigError


def resolve_env_files(name: str, service: dict, environment: dict, *, discard: bool) -> None:
    """Fill ``service["environment"]`` from its env files; the service's own
    entries win (a bare ``FOO`` that the environment did not resolve stays null)."""
    own = dict(service.get("environment") or {})
    for key, value in list(own.items()):
        if value is None and key in environment:
            own[key] = environment[key]
    resolved: dict = {k: v for k, v in own.items() if v is not None}

    def lookup(key: str) -> str | None:
        if key in environment:
            return environment[key]
        value = own.get(key)
        return None if value is None else str(value)

    for index, entry in enumerate(service.get("env_file") or []):
        path = entry["path"]
        if not os.path.exists(path):
            if entry.get("required", True):
                raise ConfigError(f"env file {path} not found",
                                  hint="create it, or mark it optional with required: false").at(
                    path=("services", name, "env_file", index))
            continue
        try:
            resolved.update(dotenv.load_file(path, lookup, format=entry.get("format")))
        except ConfigError as exc:
            raise exc.at(path=("services", name, "env_file", index))
    resolved.update(own)
    if resolved or "environment" in service:
        service["environment"] = resolved
    if discard:
        service.pop("env_file", None)


def resolve_label_files(name: str, service: dict, *, discard: bool) -> None:
    labels: dict = {}

    def lookup(key: str) -> str | None:
        value = labels.get(key)
        return None if value is None else str(value)

    for index, path in enumerate(service.get("label_file") or []):
        if not os.path.exists(path):
            raise ConfigError(f"label file {path} not found").at(path=("services", name, "label_file", index))
        try:
            labels.update(dotenv.load_file(path, lookup))
        except ConfigError as exc:
            raise exc.at(path=("services", name, "label_file", index))
    if labels:
        labels.update(service.get("labels") or {})
        service["labels"] = labels
    if discard:
        service.pop("label_file", None)

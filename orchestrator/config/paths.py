"""Relative paths in a compose model made absolute (compose-go's paths).

Owns which keys hold host paths (bind mount sources, build contexts,
env_file and label_file paths, secret and config files, extends files,
watch paths, local bind-style volume devices) and how each is resolved
against a base directory, with ``~`` expanded.

Standard library only (plus errors).
"""
from __future__ import annotations

import os

_REMOTE_CONTEXT = ("https://", "http://", "git://", "ssh://", "github.com/", "git@")


def _expand(path: str) -> str:
    if path.startswith("~"):
        return os.path.expanduser(path)
    return path


def abs_path(path: str, base: str) -> str:
    path = _expand(path)
    if not path or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(base, path))


def _context(path: str, base: str) -> str:
    if "://" in path or path.startswith("service:") or path.startswith(_REMOTE_CONTEXT):
        return path
    return abs_path(path, base)


def _symlink(path: str, base: str) -> str:
    path = abs_path(path, base)
    return os.path.realpath(path) if os.path.lexists(path) else path


def resolve_service(service: dict, base: str) -> None:
    build = service.get("build")
    if isinstance(build, dict):
        if isinstance(build.get("context"), str):
            build["context"] = _context(build["context"], base)
        contexts = build.get("additional_contexts")
        if isinstance(contexts, dict):
            for key, value in contexts.items():
                contexts[key] = _context(value, base) if isinstance(value, str) else value
        ssh = build.get("ssh")
        if isinstance(ssh, dict):
            for key, value in ssh.items():
                if isinstance(value, str):
                    ssh[key] = abs_path(value, base)
    for entry in service.get("env_file") or []:
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            entry["path"] = abs_path(entry["path"], base)
    if isinstance(service.get("label_file"), list):
        service["label_file"] = [abs_path(p, base) for p in service["label_file"]]
    extends = service.get("extends")
    if isinstance(extends, dict) and isinstance(extends.get("file"), str):
        extends["file"] = abs_path(extends["file"], base)
    for trigger in (service.get("develop") or {}).get("watch") or []:
        if isinstance(trigger, dict) and isinstance(trigger.get("path"), str):
            trigger["path"] = _symlink(trigger["path"], base)
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict) and volume.get("type") == "bind" and isinstance(volume.get("source"), str):
            volume["source"] = abs_path(volume["source"], base)


def resolve_model(model: dict, base: str) -> None:
    """Resolve every host path of ``model`` against ``base`` (in place)."""
    for service in (model.get("services") or {}).values():
        if isinstance(service, dict):
            resolve_service(service, base)
    for section in ("configs", "secrets"):
        for resource in (model.get(section) or {}).values():
            if isinstance(resource, dict) and isinstance(resource.get("file"), str):
                resource["file"] = abs_path(resource["file"], base)
    for volume in (model.get("volumes") or {}).values():
        if isinstance(volume, dict) and volume.get("driver") == "local":
            options = volume.get("driver_opts") or {}
            if options.get("o") == "bind" and isinstance(options.get("device"), str):
                options["device"] = abs_path(options["device"], base)

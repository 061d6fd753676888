"""Checks that need the whole project: references between services and the
top-level networks/volumes/secrets/configs, and attributes that exclude each
other (compose-go's checkConsistency). Dependency edges (depends_on, links,
service: references) and cycles are the graph's job (orchestrator.graph).

Every problem is collected, so a user sees them all at once; each names the
service and the key. Imports errors only.
"""
from __future__ import annotations

import difflib

from .errors import ConfigError, ReferenceError_, SchemaError
from .syntax import parse_bytes


def _undefined(kind: str, service: str, name: str, defined, path: tuple) -> ConfigError:
    close = difflib.get_close_matches(name, sorted(defined), n=1)
    hint = f'did you mean "{close[0]}"?' if close else f"define it under the top-level {kind}s: key"
    return ReferenceError_(f'service "{service}" refers to undefined {kind} "{name}"', hint=hint).at(path=path)


def _references(name: str, service: dict, model: dict) -> list[ConfigError]:
    errors = []
    networks = model.get("networks") or {}
    for network in service.get("networks") or {}:
        if network not in networks:
            errors.append(_undefined("network", name, network, networks, ("services", name, "networks", network)))
    volumes = model.get("volumes") or {}
    for index, volume in enumerate(service.get("volumes") or []):
        source = volume.get("source")
        if volume.get("type") == "volume" and source and source not in volumes:
            errors.append(_undefined("volume", name, source, volumes, ("services", name, "volumes", index)))
    for kind, key, holder in (("secret", "secrets", service), ("config", "configs", service),
                              ("secret", "secrets", service.get("build") or {})):
        defined = model.get(key) or {}
        for index, entry in enumerate(holder.get(key) or []):
            if entry.get("source") not in defined:
                path = ("services", name) + (("build",) if holder is not service else ()) + (key, index)
                errors.append(_undefined(kind, name, str(entry.get("source")), defined, path))
    models = model.get("models") or {}
    for model_name in service.get("models") or {}:
        if model_name not in models:
            errors.append(_undefined("model", name, model_name, models, ("services", name, "models", model_name)))
    return errors


def _exclusive(name: str, service: dict) -> list[ConfigError]:
    errors = []
    where = ("services", name)
    if not service.get("build") and not service.get("image") and not service.get("provider"):
        errors.append(SchemaError(f'service "{name}" has neither an image nor a build context specified',
                                  hint="add image: or build:").at(path=where))
    build = service.get("build") or {}
    if build.get("dockerfile_inline") and build.get("dockerfile") not in (None, "Dockerfile"):
        errors.append(SchemaError(f'service "{name}" declares mutually exclusive dockerfile and dockerfile_inline')
                      .at(path=where + ("build",)))
    if service.get("network_mode") and service.get("networks"):
        errors.append(SchemaError(f'service "{name}" declares mutually exclusive network_mode and networks')
                      .at(path=where + ("network_mode",)))
    test = (service.get("healthcheck") or {}).get("test")
    if isinstance(test, list) and test and test[0] not in ("CMD", "CMD-SHELL", "NONE"):
        errors.append(SchemaError('healthcheck.test must start either by "CMD", "CMD-SHELL" or "NONE"')
                      .at(path=where + ("healthcheck", "test")))
    errors.extend(_limits(name, service))
    mounts: dict[str, str] = {}
    for key, targets in (("tmpfs", [str(t).split(":")[0] for t in service.get("tmpfs") or []]),
                         ("volumes", [v.get("target") for v in service.get("volumes") or []])):
        for index, target in enumerate(targets):
            here = f"services.{name}.{key}[{index}]"
            if target in mounts:
                errors.append(SchemaError(f"target {target} already mounted as {mounts[target]}")
                              .at(path=where + (key, index)))
            mounts[target] = here
    return errors


def _limits(name: str, service: dict) -> list[ConfigError]:
    errors = []
    where = ("services", name)
    deploy = service.get("deploy") or {}
    scale, replicas = service.get("scale"), deploy.get("replicas")
    if scale is not None and replicas is not None and scale != replicas:
        errors.append(SchemaError("can't set distinct values on 'scale' and 'deploy.replicas'").at(path=where + ("scale",)))
    for key, value in (("scale", scale), ("deploy.replicas", replicas)):
        if isinstance(value, int) and value < 0:
            errors.append(SchemaError("must be greater than or equal to 0").at(path=where + tuple(key.split("."))))
    limits = (deploy.get("resources") or {}).get("limits") or {}
    reservations = (deploy.get("resources") or {}).get("reservations") or {}
    for key, holder, deploy_key, parse in (
            ("cpus", limits, "limits.cpus", float), ("mem_limit", limits, "limits.memory", parse_bytes),
            ("mem_reservation", reservations, "reservations.memory", parse_bytes),
            ("pids_limit", limits, "limits.pids", int)):
        mine, theirs = service.get(key), holder.get(deploy_key.split(".")[1])
        if mine in (None, 0, "") or theirs is None or not deploy:
            continue
        try:
            differ = parse(mine) != parse(theirs)
        except (TypeError, ValueError):
            continue  # the value itself is reported where it is rendered
        if differ:
            errors.append(SchemaError(
                f"can't set distinct values on '{key}' and 'deploy.resources.{deploy_key}'",
                hint="set only one of them").at(path=where + (key,)))
    count = scale if scale is not None else (replicas if replicas is not None else 1)
    if count > 1 and service.get("container_name"):
        errors.append(SchemaError(
            f"can't set container_name and {'scale' if scale is not None else 'deploy.replicas'} "
            "as container name must be unique").at(path=where + ("container_name",)))
    return errors


def check(model: dict) -> None:
    """Raise every consistency problem of the enabled services of ``model``."""
    from .errors import raise_all
    errors: list[ConfigError] = []
    for name, service in sorted((model.get("services") or {}).items()):
        errors.extend(_exclusive(name, service))
        errors.extend(_references(name, service, model))
    owners: dict[str, str] = {}
    for name, service in sorted((model.get("services") or {}).items()):
        container_name = service.get("container_name")
        if container_name and container_name in owners:
            errors.append(SchemaError(
                f'container name "{container_name}" is already in use by service "{owners[container_name]}"',
                hint="container names must be unique").at(path=("services", name, "container_name")))
        elif container_name:
            owners[container_name] = name
    for name, secret in sorted((model.get("secrets") or {}).items()):
        if not secret.get("external") and not secret.get("file") and not secret.get("environment"):
            errors.append(SchemaError(f'secret "{name}" must declare either `file` or `environment`')
                          .at(path=("secrets", name)))
    raise_all(errors)

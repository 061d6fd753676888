"""The loader pipeline: compose files in, a Project out. One stage per line.

Per file (so every error names the file it is in): parse YAML with a source
map -> interpolate -> validate against the schema -> canonical long syntax.
Then per project: extends -> include -> !reset/!override -> merge ->
defaults -> paths -> normalize -> profiles -> consistency -> dependency graph
-> env_file/label_file -> selected services -> unused resources dropped.

Owns the order of the stages and where errors get their file and line; each
stage lives in its own module. Imports orchestrator.config modules and the
graph's checks (which do not import networkx).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import canonical, consistency, environment as env_stage, extends, include, merge
from . import normalize, paths, shape, sources, substitution, validate, yamlsrc
from .errors import ConfigError, ConfigErrors, SchemaError, raise_all, quote
from .validate_checks import REQUIRED, UNIQUE
from .. import graph
from .sources import ConfigFile, Options


@dataclass
class Project:
    name: str
    working_dir: str
    config_files: list[str]
    environment: dict[str, str]
    # Canonical and normalized; only enabled (and selected) services. Loaded
    # without interpolation it is compose's raw model instead: normalized,
    # before profiles and env files (what `config --no-interpolate` prints).
    model: dict
    disabled: dict = field(default_factory=dict)  # services profiles turned off
    profiles: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _rendered: dict = field(default_factory=dict, repr=False)

    @property
    def services(self) -> dict:
        return self.model.get("services") or {}

    def render(self, fmt: str = shape.YAML, *, escape: bool = True) -> dict:
        """The project as ``docker compose config --format FMT`` prints it."""
        if fmt not in self._rendered:
            self._rendered[fmt] = shape.render(self.model, fmt)
        document = self._rendered[fmt]
        return shape.escape_dollars(document) if escape else document


def _display(path: str, cwd: str) -> str:
    if path == "-":
        return "<stdin>"
    relative = os.path.relpath(path, cwd)
    return path if relative.startswith("..") else relative


class _Locator:
    """Gives project-level errors the file and line of the key they name."""

    def __init__(self) -> None:
        self.maps: list[yamlsrc.SourceMap] = []

    def add(self, source: yamlsrc.SourceMap) -> None:
        self.maps.append(source)

    def locate(self, error: ConfigError) -> ConfigError:
        if error.location.file or not error.location.path:
            return error
        path = error.location.path
        for depth in range(len(path), 0, -1):
            for source in reversed(self.maps):
                if path[:depth] in source.values:
                    line, column = source.locate(path)
                    return error.at(file=source.file, line=line, column=column)
        return error


class _Pipeline:
    def __init__(self, options: Options, interpolate: bool) -> None:
        self.options = options
        self.interpolate = interpolate
        self.locator = _Locator()
        self.warnings: list[str] = []

    # -- per file -----------------------------------------------------------
    def parse(self, file: ConfigFile, environment: dict) -> list[yamlsrc.Document]:
        display = _display(file.filename, self.options.cwd)
        documents = yamlsrc.load_documents(file.content, display)
        for document in documents:
            self.locator.add(document.source)
            document.data = self._stages(document, environment)
        return documents

    def _stages(self, document: yamlsrc.Document, environment: dict) -> dict:
        source = document.source
        try:
            data = document.data
            if not isinstance(data, dict):
                raise SchemaError("top-level object must be a mapping").at(path=())
            if self.interpolate:
                data = substitution.interpolate(data, environment.get, self._warn)
            self._validate(data, source)
            if "version" in data:
                self._warn(f"{source.file}: the attribute `version` is obsolete, "
                           "it will be ignored, please remove it to avoid potential confusion")
                del data["version"]
            return canonical.canonical(data, lenient=not self.interpolate)
        except ConfigErrors as errors:
            raise ConfigErrors(_at(e, source) for e in errors.errors) from None
        except ConfigError as error:
            raise _at(error, source) from None

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def _validate(self, data: dict, source: yamlsrc.SourceMap) -> None:
        """Each file on its own, so errors name it. A missing required key
        waits for the merge (an override may complete an entry), as compose
        validates the merged model."""
        errors = []
        for violation in validate.validate(data):
            if violation.kind == REQUIRED:
                continue
            line, column = source.locate(violation.path, key=violation.key)
            errors.append(SchemaError(violation.message).at(
                file=source.file, line=line, column=column, path=violation.path))
        raise_all(errors)

    # -- per project -----------------------------------------------------------
    def load_model(self, files: list[ConfigFile], working_dir: str, environment: dict,
                   chain: tuple = ()) -> dict:
        model: dict = {}
        for file in files:
            for document in self.parse(file, environment):
                data = document.data
                try:
                    extends.apply(data, file.filename, lambda path: self._services_of(path, environment),
                                  raw=not self.interpolate)
                    here = chain if chain[-1:] == (file.filename,) else chain + (file.filename,)
                    include.apply(data, working_dir, environment, here, self._included)
                except ConfigError as error:
                    raise _at(error, document.source) from None
                merge.apply_tags(model, data, document.tags)
                model = merge.merge_documents(model, data, raw=not self.interpolate)
        self.validate_merged(model)
        normalize.apply_defaults(model)
        normalize.check_semantics(model)
        paths.resolve_model(model, working_dir)
        return model

    def validate_merged(self, model: dict) -> None:
        """What only the merged model shows: required keys no file supplied,
        and the same entry repeated by two files."""
        errors = []
        for violation in validate.validate(model):
            if violation.kind in (REQUIRED, UNIQUE):
                error = SchemaError(violation.message).at(path=violation.path)
                errors.append(self.locator.locate(error))
        raise_all(errors)

    def _services_of(self, path: str, environment: dict) -> dict:
        if not os.path.isfile(path):
            raise FileNotFoundError(path)
        with open(path, encoding="utf-8") as handle:
            merged: dict = {}
            for document in self.parse(ConfigFile(path, handle.read()), environment):
                merge.apply_tags(merged, document.data, document.tags)
                merged = merge.merge_documents(merged, document.data, raw=not self.interpolate)
        return merged.get("services") or {}

    def _included(self, paths_: list[str], working_dir: str, environment: dict, chain: tuple) -> dict:
        files = [sources.read_file(p, self.options) for p in paths_]
        return self.load_model(files, working_dir, environment, chain)


def _at(error: ConfigError, source: yamlsrc.SourceMap) -> ConfigError:
    if error.location.file:
        return error
    line, column = source.locate(error.location.path or ())
    return error.at(file=source.file, line=line, column=column)


def _name_in_files(files: list[ConfigFile], environment: dict, interpolate: bool, cwd: str) -> str:
    """The last non-empty top-level ``name:`` of the files, interpolated."""
    found = ""
    for file in files:
        for document in yamlsrc.load_documents(file.content, _display(file.filename, cwd)):
            name = document.data.get("name") if isinstance(document.data, dict) else None
            if isinstance(name, str) and name:
                found = substitution.interpolate(name, environment.get) if interpolate else name
    return found


def _project_name(resolved: sources.Sources, interpolate: bool, cwd: str) -> str:
    if resolved.explicit_name:
        return resolved.explicit_name
    name = sources.normalize_project_name(
        _name_in_files(resolved.files, resolved.environment, interpolate, cwd))
    if not name:
        name = sources.normalize_project_name(os.path.basename(resolved.working_dir))
    if not name:
        raise ConfigError(
            f"project name must not be empty: the directory name {quote(os.path.basename(resolved.working_dir))} "
            "has no usable characters", hint="set one with -p, COMPOSE_PROJECT_NAME or name:")
    return name


def _split_profiles(services: dict, profiles: list[str]) -> tuple[dict, dict]:
    enabled, disabled = {}, {}
    for name, service in services.items():
        own = service.get("profiles") or []
        on = not own or "*" in profiles or any(p in own for p in profiles)
        (enabled if on else disabled)[name] = service
    return enabled, disabled


def _unused_resources_dropped(model: dict) -> None:
    services = (model.get("services") or {}).values()
    used = {
        "networks": {n for s in services for n in (s.get("networks") or {})},
        "volumes": {v.get("source") for s in services for v in s.get("volumes") or []
                    if v.get("type") == "volume" and v.get("source")},
        "secrets": {x.get("source") for s in services
                    for x in (s.get("secrets") or []) + ((s.get("build") or {}).get("secrets") or [])},
        "configs": {x.get("source") for s in services for x in s.get("configs") or []},
        "models": {m for s in services for m in (s.get("models") or {})},
    }
    for section, names in used.items():
        if section in model:
            model[section] = {k: v for k, v in model[section].items() if k in names}


def _checked(model: dict, enabled: dict, disabled: dict) -> list[str]:
    """Consistency and dependency checks, every error of both reported."""
    errors: list[ConfigError] = []
    warnings: list[str] = []
    for check in (lambda: consistency.check(model), lambda: warnings.extend(graph.check(enabled, disabled))):
        try:
            check()
        except ConfigErrors as many:
            errors.extend(many.errors)
        except ConfigError as one:
            errors.append(one)
    raise_all(errors)
    return warnings


def load_project(options: Options, *, services: tuple[str, ...] = (), interpolate: bool = True,
                 resolve_env_files: bool = True) -> Project:
    """Load the project the command line describes; raises ConfigError."""
    resolved = sources.resolve(options)
    name = _project_name(resolved, interpolate, options.cwd)
    environment = dict(resolved.environment, COMPOSE_PROJECT_NAME=name)
    pipeline = _Pipeline(options, interpolate)
    model = pipeline.load_model(resolved.files, resolved.working_dir, environment)
    if not model:
        raise ConfigError("empty compose file", hint="a compose file needs at least a services: key")
    try:
        return _finish(model, name, resolved, environment, services, resolve_env_files, pipeline)
    except ConfigErrors as errors:
        raise ConfigErrors(pipeline.locator.locate(e) for e in errors.errors) from None
    except ConfigError as error:
        raise pipeline.locator.locate(error) from None


def _finish(model, name, resolved, environment, selected, resolve_env_files, pipeline) -> Project:
    model["name"] = name
    normalize.normalize(model, name, environment)
    if not pipeline.interpolate:  # compose stops at its raw model here
        return Project(name, resolved.working_dir, [f.filename for f in resolved.files],
                       environment, model, warnings=pipeline.warnings)
    profiles = list(resolved.profiles)
    all_services = model.get("services") or {}
    unknown = [s for s in selected if s not in all_services]
    if unknown:
        raise ConfigError(f"no such service: {unknown[0]}")
    for service in selected:  # naming a service enables its profiles
        profiles += all_services[service].get("profiles") or []
    enabled, disabled = _split_profiles(all_services, profiles)
    model["services"] = enabled
    warnings = _checked(model, enabled, disabled)
    for service_name, service in enabled.items():
        if resolve_env_files:
            env_stage.resolve_env_files(service_name, service, environment, discard=True)
        env_stage.resolve_label_files(service_name, service, discard=True)
    if selected:
        keep = graph.closure(enabled, selected)
        model["services"] = {n: s for n, s in enabled.items() if n in keep}
        for service in model["services"].values():
            if "depends_on" in service:
                service["depends_on"] = {d: c for d, c in service["depends_on"].items() if d in keep}
    _unused_resources_dropped(model)
    project = Project(name, resolved.working_dir, [f.filename for f in resolved.files], environment,
                      model, disabled, profiles, pipeline.warnings + warnings)
    project.render(shape.JSON, escape=False)  # typed values (sizes, durations) fail here, located
    return project

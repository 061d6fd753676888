"""Configuration errors: the one exception tree of the loader.

Every error a user can cause while Dockyard reads compose files is a
ConfigError. It carries where the problem is (file, line, column, key path)
as data and renders itself as ``file:line:col: key.path: message``; the CLI
only prints it. Stages raise errors with whatever location they know and the
pipeline adds the rest (``at``), so no stage formats locations by hand.

    ConfigError
     ├── YamlSyntaxError        the file is not YAML
     ├── InterpolationError     ${...} that cannot be substituted
     ├── DotenvError            a .env / env_file line that cannot be parsed
     ├── SchemaError            a key or value the compose specification forbids
     ├── ReferenceError_        a service/network/volume/... that is not defined
     └── CycleError             extends, include or depends_on loops
    ConfigErrors                several ConfigErrors reported together

Must not import anything outside the standard library.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Sequence

Path = tuple  # a key path: ("services", "web", "ports", 0)


def quote(value) -> str:
    """A value quoted for a message, the same way everywhere: ``"80800:80"``."""
    text = value if isinstance(value, str) else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_path(path: Sequence[str | int]) -> str:
    """``("services", "web", "ports", 0)`` -> ``services.web.ports[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Location:
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    path: tuple = ()

    def __str__(self) -> str:
        parts = []
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.path:
            parts.append(format_path(self.path))
        return ": ".join(parts)


class ConfigError(Exception):
    """A problem with the user's configuration, with where it is."""

    def __init__(self, message: str, *, location: Location | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()
        self.hint = hint

    def at(self, *, file: str | None = None, line: int | None = None,
           column: int | None = None, path: tuple | None = None) -> "ConfigError":
        """Fill in location fields that are still unknown; returns self."""
        loc = self.location
        self.location = replace(
            loc,
            file=loc.file or file,
            line=loc.line if loc.line is not None else line,
            column=loc.column if loc.column is not None else column,
            path=loc.path or (path or ()),
        )
        return self

    def __str__(self) -> str:
        where = str(self.location)
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class YamlSyntaxError(ConfigError):
    pass


class InterpolationError(ConfigError):
    pass


class DotenvError(ConfigError):
    pass


class SchemaError(ConfigError):
    pass


class ReferenceError_(ConfigError):
    pass


class CycleError(ConfigError):
    pass


class ConfigErrors(ConfigError):
    """Several problems, reported together (all errors of one file)."""

    def __init__(self, errors: Iterable[ConfigError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def raise_all(errors: list[ConfigError]) -> None:
    """Raise nothing, the single error, or all of them together."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)

"""docker's output, for the engine-level commands: its Go-template subset
(``--format``), its tabwriter tables, sizes (``1.98MB``), ages (``2 hours
ago``) and Go's JSON and value printing. Pure: no client, no I/O."""
from __future__ import annotations

import json
import re
import shlex
import sys
import time
from datetime import UTC, datetime

import click

from engine.client.units import human_duration, human_size  # noqa: F401 - re-exported


class DaemonError(click.ClickException):
    """An error worded as the docker CLI words it, printed as it is; exit status 1."""

    def show(self, file=None) -> None:
        (file or sys.stderr).write(self.message.rstrip("\n") + "\n")


_ACTION = re.compile(r"{{-?\s*(.*?)\s*-?}}", re.DOTALL)
NO_VALUE = "<no value>"


def since(timestamp: float, now: float | None = None) -> str:
    return human_duration((time.time() if now is None else now) - timestamp) + " ago"


def go_time(timestamp: float) -> str:
    """Go's ``time.Time.String()`` in local time: ``2026-11-25 20:18:51 +0000 UTC``."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S %z ") + (moment.tzname() or "")


def go_json(value, indent: int | None = None, sort_keys: bool = False) -> str:
    """Go's ``json.Marshal``: compact, ``<``, ``>``, ``&`` escaped (``sort_keys``:
    a struct whose fields are in alphabetical order, as docker's volume)."""
    separators = (",", ": ") if indent else (",", ":")
    text = json.dumps(value, indent=indent, separators=separators, ensure_ascii=False, sort_keys=sort_keys)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def go_value(value) -> str:
    """How ``text/template`` prints a decoded JSON value."""
    if value is None:
        return NO_VALUE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(go_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{key}:{go_value(value[key])}" for key in sorted(value)) + "]"
    return str(value)


class TemplateError(ValueError):
    """A format string that docker's template engine would refuse."""


def _field(value, path: str, strict: bool):
    for name in [part for part in path.split(".") if part]:
        if isinstance(value, dict) and name in value:
            value = value[name]
        elif isinstance(value, dict) and not strict:
            return None
        else:
            raise TemplateError(f'map has no entry for key "{name}"')
    return value


def _join(items, separator):
    return separator.join(go_value(item) for item in items or [])


def _index(value, *keys):
    for key in keys:
        value = value[key] if isinstance(value, (list, dict)) else None
    return value


_FUNCTIONS = {"json": go_json, "join": _join, "upper": lambda s: str(s).upper(), "lower": lambda s: str(s).lower(),
              "title": lambda s: str(s).title(), "index": _index, "println": lambda *a: " ".join(map(go_value, a)) + "\n",
              "print": lambda *a: "".join(map(go_value, a))}


def _argument(token: str, data, strict: bool):
    if token.startswith("."):
        return _field(data, token, strict)
    if token[:1] in "\"'`":
        return token[1:-1]
    if re.fullmatch(r"-?\d+", token):
        return int(token)
    raise TemplateError(f'function "{token}" not defined')


def _command(tokens: list[str], data, strict: bool, piped=None):
    head, rest = tokens[0], tokens[1:]
    args = [_argument(token, data, strict) for token in rest] + ([piped] if piped is not None else [])
    if head in _FUNCTIONS:
        return _FUNCTIONS[head](*args)
    value = _argument(head, data, strict)
    return value(*args) if callable(value) else value


def evaluate(action: str, data, strict: bool = False):
    """One ``{{...}}`` action: a field path, a function call, a method call
    (``.Label "k"``), or a pipeline of them (``.Name | json``)."""
    value = None
    for number, stage in enumerate(action.split("|")):
        try:
            tokens = shlex.split(stage, posix=False)
        except ValueError as error:
            raise TemplateError(str(error)) from None
        if not tokens:
            raise TemplateError("missing value for command")
        value = _command(tokens, data, strict, value if number else None)
    return value


def render(template: str, data, strict: bool = False) -> str:
    """``template`` with its actions replaced (docker's subset of ``text/template``)."""
    def replace(match):
        try:
            value = evaluate(match.group(1), data, strict)
        except TemplateError as error:
            line = template.count("\n", 0, match.start(1)) + 1
            column = match.start(1) - (template.rfind("\n", 0, match.start(1)) + 1)
            raise DaemonError(f'template parsing error: template: :{line}:{column}: executing "" '
                              f"at <{match.group(1)}>: {error}") from None
        return value if isinstance(value, str) else go_value(value)
    return _ACTION.sub(replace, template)


def tabulate(lines: list[str], minwidth: int = 10, padding: int = 3) -> list[str]:
    """Go's ``tabwriter`` as docker sets it: tab-separated cells aligned, the
    last cell of a line left as it is."""
    rows = [line.split("\t") for line in lines]
    widths: dict[int, int] = {}
    for row in rows:
        for column, cell in enumerate(row[:-1]):
            widths[column] = max(widths.get(column, 0), len(cell) + padding, minwidth)
    return ["".join(cell.ljust(widths[column]) for column, cell in enumerate(row[:-1])) + row[-1]
            for row in rows]


def format_rows(template: str, rows: list[dict], headers: dict[str, str], quiet_field: str | None = None) -> list[str]:
    """docker's ``--format`` for a list: ``table ...`` (a header and aligned
    columns), ``json`` (a JSON object per line) or a template per line."""
    template = template.replace("\\t", "\t").replace("\\n", "\n")
    if template == "json":
        return [go_json({key: value for key, value in row.items() if not callable(value)}) for row in rows]
    if template.startswith("table"):
        template = template[len("table"):].lstrip(" ")
        header = {name: title for name, title in headers.items()}
        header["Label"] = lambda key: "LABEL " + key.upper()
        lines = [render(template, header)] + [render(template, row) for row in rows]
        return tabulate("\n".join(lines).split("\n"))
    return [render(template, row) for row in rows]


def labels_text(labels: dict | None) -> str:
    return ",".join(f"{key}={value}" for key, value in sorted((labels or {}).items()))


def with_label_method(row: dict, labels: dict | None) -> dict:
    row["Label"] = lambda key: (labels or {}).get(key, "")
    return row

"""Documents to text the way Docker Compose v2 writes them.

YAML as Go's yaml.v3 encoder with indent 2 writes it: block style, lists
indented under their key, strings that would read back as another type in
double quotes, multi-line strings as literal blocks, no line folding. It is
a small emitter of our own for plain data (dicts, lists, scalars): PyYAML's
Python emitter took most of ``dockyard config``'s time on big projects and
its C emitter cannot indent lists under their key. JSON as Go's
``json.MarshalIndent`` with two spaces. Standard library only, plus
yamlsrc's scalar resolution (to know what needs quotes).
"""
from __future__ import annotations

import json
import math

from .syntax import go_float
from .yamlsrc import resolve_plain

# Characters that cannot start a plain scalar in block context; "-", "?" and
# ":" can when no space follows.
_INDICATORS = set("!&*,[]{}#|>@`\"'%")
# Words YAML 1.1 reads as booleans: yaml.v3 double-quotes them for old readers.
_OLD_BOOLEANS = {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
                 "on", "On", "ON", "off", "Off", "OFF"}


def _ambiguous(text: str) -> bool:
    """Plain, it would read back as something else: yaml.v3 double-quotes it."""
    return resolve_plain(text) != text or text in _OLD_BOOLEANS


def _plain_ok(text: str) -> bool:
    """What the emitter allows plain (else yaml.v3 falls back to single quotes)."""
    if not text or text != text.strip() or text.startswith(("---", "...")):
        return False
    first = text[0]
    if first in _INDICATORS or (first in "-?:" and (len(text) == 1 or text[1] == " ")):
        return False
    if ": " in text or " #" in text or text.endswith(":") or "\t" in text:
        return False
    return text.isprintable()


def _block_ok(text: str) -> bool:
    lines = text.split("\n")
    return (not text.startswith((" ", "\n")) and "\r" not in text
            and all(line.isprintable() and line == line.rstrip(" ") for line in lines))


def _string(text: str, indent: str) -> str:
    if _ambiguous(text):
        return json.dumps(text, ensure_ascii=False)
    if _plain_ok(text):
        return text
    if "\n" not in text and text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    if "\n" in text and _block_ok(text):
        body = text.rstrip("\n")
        trailing = len(text) - len(body)
        chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
        lines = body.split("\n") + [""] * (trailing - 1 if trailing > 1 else 0)
        return f"|{chomp}\n" + "\n".join(f"{indent}  {line}" if line else "" for line in lines)
    return json.dumps(text, ensure_ascii=False)


def _scalar(value, indent: str) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        if math.isnan(value):
            return ".nan"
        return go_float(value)
    return _string(str(value), indent)


def _lines(value, indent: str, out: list[str]) -> None:
    """Append the block lines of a non-empty mapping or list at ``indent``."""
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{indent}{_string(str(key), indent)}:"
            _child(head, item, indent + "  ", out)
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner: list[str] = []
                _lines(item, indent + "  ", inner)
                inner[0] = f"{indent}- " + inner[0][len(indent) + 2:]
                out.extend(inner)
            else:
                _child(f"{indent}-", item, indent + "  ", out)


def _child(head: str, value, indent: str, out: list[str]) -> None:
    if isinstance(value, (dict, list)):
        if value:
            out.append(head)
            _lines(value, indent, out)
        else:
            out.append(f"{head} {'{}' if isinstance(value, dict) else '[]'}")
    else:
        out.append(f"{head} {_scalar(value, indent[:-2])}")


def to_yaml(document) -> str:
    if not isinstance(document, (dict, list)):
        return _scalar(document, "") + "\n"
    if not document:
        return "{}\n" if isinstance(document, dict) else "[]\n"
    out: list[str] = []
    _lines(document, "", out)
    return "\n".join(out) + "\n"


def to_json(document) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

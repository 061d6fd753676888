"""JSON values as the schema validator sees them, and the words for them.

Owns: JSON schema's view of Python data (which types a value has, when two
values are equal), the phrases of validation messages ("a list of strings",
'one of "a", "b"'), and how a problem is recorded: ``report`` appends a
``(path, message, key)`` triple that validate.py turns into a Violation.

Part of the validator (validate.py); must not import pydantic, jsonschema or
the models.
"""
from __future__ import annotations

import json

# --- types and equality ------------------------------------------------------

NUMBER = frozenset({"number"})
INTEGRAL = frozenset({"number", "integer"})  # 2 and 2.0 alike
EXACT_TYPES = {
    str: frozenset({"string"}), bool: frozenset({"boolean"}), int: INTEGRAL,
    type(None): frozenset({"null"}), dict: frozenset({"object"}), list: frozenset({"array"}),
}
_BASE_TYPES = [(bool, EXACT_TYPES[bool]), (str, EXACT_TYPES[str]), (int, INTEGRAL),
               (dict, EXACT_TYPES[dict]), (list, EXACT_TYPES[list])]
_PY_TYPES = {"string": (str,), "boolean": (bool,), "integer": (int,), "number": (int, float),
             "null": (type(None),), "object": (dict,), "array": (list,)}
STANDARD = (str, bool, int, float, type(None), dict, list)  # what YAML loading produces


def json_types(value) -> frozenset:
    """The JSON schema types ``value`` belongs to (as the jsonschema package
    decides: true is not a number, 2.0 is an integer)."""
    kind = type(value)
    if kind in EXACT_TYPES:
        return EXACT_TYPES[kind]
    if kind is float:
        return INTEGRAL if value.is_integer() else NUMBER
    for base, types in _BASE_TYPES:
        if isinstance(value, base):
            return types
    return frozenset()


def python_types(declared) -> frozenset:
    """The Python types whose values certainly have the declared JSON type(s)
    (floats are left out of "integer": only the integral ones are)."""
    names = [declared] if isinstance(declared, str) else declared
    found: set = set()
    for name in names:
        found.update(_PY_TYPES[name] if name != "integer" else (int,))
    return frozenset(found)


_BOOL, _LIST, _DICT = object(), object(), object()


def freeze(value):
    """A hashable stand-in with JSON equality: 1 == 1.0, but true != 1."""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return (_BOOL, value)
    if isinstance(value, dict):
        return (_DICT, frozenset((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (_LIST, tuple(freeze(v) for v in value))
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def duplicates(items: list) -> list[tuple[int, int]]:
    """(index, index of the equal earlier item) for each repeated item."""
    seen: dict = {}
    found = []
    for index, item in enumerate(items):
        first = seen.setdefault(freeze(item), index)
        if first != index:
            found.append((index, first))
    return found


def surely_distinct(items: list) -> bool:
    """A quick answer for the usual lists. Python's equality is coarser than
    JSON's (True == 1), so distinct in a set means distinct in JSON; a single
    mapping or list among scalars equals none of them. Anything else needs
    ``duplicates``."""
    try:
        return len(set(items)) == len(items)
    except TypeError:
        pass
    scalars = [item for item in items if type(item) not in (dict, list)]
    if len(items) - len(scalars) > 1:
        return False
    try:
        return len(set(scalars)) == len(scalars)
    except TypeError:
        return False


# --- words -------------------------------------------------------------------------

NOUNS = {"string": "a string", "integer": "an integer", "number": "a number",
         "boolean": "a boolean", "null": "null", "object": "a mapping", "array": "a list"}
PLURALS = {"string": "strings", "integer": "integers", "number": "numbers",
           "boolean": "booleans", "object": "mappings", "array": "lists"}


def quote(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def show(value) -> str:
    """A value in a message: scalars as JSON, containers elided."""
    if isinstance(value, dict):
        return "{...}"
    if isinstance(value, list):
        return "[...]"
    return quote(value) if isinstance(value, (str, int, float, type(None))) else repr(value)


def either(nouns) -> str:
    """'a string, a number or null' (null reads best last)."""
    nouns = sorted(dict.fromkeys(nouns), key=lambda noun: noun == "null")
    if len(nouns) == 1:
        return nouns[0]
    return ", ".join(nouns[:-1]) + " or " + nouns[-1]


def choices(values: list) -> str:
    if len(values) == 1:
        return quote(values[0])
    return "one of " + ", ".join(quote(v) for v in values)


def wrong_type(value, nouns, accepted: frozenset | None) -> str:
    """'must be a string or a list of strings, not a number'."""
    types = json_types(value)
    if types == NUMBER and accepted and "integer" in accepted:
        found = f"the fractional number {value}"
    elif types:
        found = NOUNS["boolean" if "boolean" in types else min(types, key=_TYPE_ORDER.index)]
    else:
        found = f"a {type(value).__name__}"
    return f"must be {either(nouns)}, not {found}"


_TYPE_ORDER = ["number", "integer", "string", "null", "object", "array", "boolean"]


# --- reporting -------------------------------------------------------------------------

def materialize(lazy) -> tuple:
    """Paths are built as (parent, key) pairs while checking and only turned
    into tuples when something is reported."""
    parts = []
    while lazy is not None:
        lazy, key = lazy
        parts.append(key)
    parts.reverse()
    return tuple(parts)


def report(out: list, lazy, message: str, *, key: bool = False, kind: str = "") -> None:
    out.append((materialize(lazy), message, key, kind))

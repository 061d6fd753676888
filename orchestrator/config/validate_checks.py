"""The checks a compiled schema is made of: one closure per keyword group.

Owns: what each JSON schema keyword means for a value (type, enum, string,
number, object and array keywords, anyOf/oneOf), written for speed: a check
is ``check(value, lazy_path, out)`` and appends ``(path, message, key)``
triples to ``out``; paths stay lazy ``(parent, key)`` pairs until something
is reported; a ``Route`` lets a parent skip the call for values whose Python
type settles the matter.

Part of the validator (validate.py compiles schemas into these); must not
import pydantic, jsonschema or the models.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from .validate_values import (EXACT_TYPES, STANDARD, choices, duplicates, either, freeze,
                              json_types, python_types, quote, report, show,
                              surely_distinct, wrong_type)

# Violation.kind of the two checks whose outcome a merge of files can change.
REQUIRED, UNIQUE = "required", "unique"

Check = Callable[[object, object, list], None]


def nothing(value, lazy, out) -> None:
    pass


def refuse(value, lazy, out) -> None:
    report(out, lazy, "is not allowed here")


class Route(dict):
    """Python type of a value -> what to run on it: None when the type alone
    makes it valid, the one possible branch's check for a union, else
    (``default``) the full check. One subscript per value."""

    __slots__ = ("default",)

    def __init__(self, table: dict, default: Check) -> None:
        super().__init__(table)
        self.default = default

    def __missing__(self, kind):
        return self.default


class Node:
    """A compiled schema: ``check`` reports violations; ``route`` (see Route);
    ``fast``, the Python types that pass without a check; ``types``, the JSON
    types it can accept (None: any), to find the branch of a union a value
    means; ``nouns``, what it accepts in words."""

    __slots__ = ("check", "route", "fast", "types", "nouns")

    def __init__(self, check: Check, route: dict, types: frozenset | None, nouns: tuple):
        self.check, self.types, self.nouns = check, types, nouns
        # Every usual type gets an entry: __missing__ is a Python call.
        self.route = Route({kind: route.get(kind, check) for kind in STANDARD}, check)
        self.fast = frozenset(kind for kind, then in route.items() if then is None)


ANY = Node(nothing, dict.fromkeys(STANDARD), None, ("any value",))


def union_route(branches: list[Node]) -> dict:
    """For each Python type only one branch can take, that branch's route."""
    route = {}
    for kind in STANDARD:
        if kind is float:
            continue  # 2.0 is an integer, 2.5 is not: the type does not decide
        chosen = [b for b in branches if b.types is None or b.types & EXACT_TYPES[kind]]
        if len(chosen) == 1:
            route[kind] = chosen[0].route[kind]
    return route


def sequence(checks: list[Check]) -> Check:
    """Every check of a schema (they report, they don't stop each other)."""
    if len(checks) == 1:
        return checks[0]

    def check(value, lazy, out) -> None:
        for each in checks:
            each(value, lazy, out)
    return check


def guarded(declared, typed: Callable, checks: list[Check]) -> Check:
    """``checks`` when the value has the declared type; values whose Python
    type settles it skip the full type check."""
    fast = python_types(declared)
    if not checks:
        def check_type(value, lazy, out) -> None:
            if type(value) not in fast:
                typed(value, lazy, out)
        return check_type
    rest = sequence(checks)

    def check(value, lazy, out) -> None:
        if type(value) in fast or typed(value, lazy, out):
            rest(value, lazy, out)
    return check


def type_check(declared, nouns: tuple) -> Callable:
    """Reports a wrong type; returns whether the type was right."""
    names = frozenset([declared] if isinstance(declared, str) else declared)
    fast = python_types(declared)

    def typed(value, lazy, out) -> bool:
        if type(value) in fast or names & json_types(value):
            return True
        report(out, lazy, wrong_type(value, nouns, names))
        return False
    return typed


def enum_check(schema: dict) -> Check | None:
    if "enum" not in schema and "const" not in schema:
        return None
    values = schema["enum"] if "enum" in schema else [schema["const"]]
    allowed = {freeze(v) for v in values}
    words = [v for v in values if isinstance(v, str)]

    def check(value, lazy, out) -> None:
        if freeze(value) in allowed:
            return
        hint = _did_you_mean(value, words) if isinstance(value, str) else ""
        report(out, lazy, f"must be {choices(values)}, not {show(value)}{hint}")
    return check


def string_check(schema: dict) -> Check | None:
    pattern, shortest, longest = (schema.get(k) for k in ("pattern", "minLength", "maxLength"))
    if pattern is None and shortest is None and longest is None:
        return None
    search = re.compile(pattern).search if pattern is not None else None

    def check(value, lazy, out) -> None:
        if not isinstance(value, str):
            return
        if search is not None and not search(value):
            report(out, lazy, f"{quote(value)} does not match the pattern {quote(pattern)}")
        if shortest is not None and len(value) < shortest:
            report(out, lazy, f"must be at least {shortest} characters long")
        if longest is not None and len(value) > longest:
            report(out, lazy, f"must be at most {longest} characters long")
    return check


# Written as failure tests, as jsonschema does, so that NaN passes every bound.
_NUMBER_FAILS = {"minimum": lambda v, n: v < n, "maximum": lambda v, n: v > n,
                 "exclusiveMinimum": lambda v, n: v <= n, "exclusiveMaximum": lambda v, n: v >= n}
_NUMBER_WORDS = {"minimum": "at least", "maximum": "at most",
                 "exclusiveMinimum": "greater than", "exclusiveMaximum": "less than"}


def number_check(schema: dict) -> Check | None:
    bounds = [(schema[k], k) for k in _NUMBER_FAILS if k in schema]
    if not bounds:
        return None

    def check(value, lazy, out) -> None:
        if type(value) is bool or not isinstance(value, (int, float)):
            return
        for limit, keyword in bounds:
            if _NUMBER_FAILS[keyword](value, limit):
                report(out, lazy, f"must be {_NUMBER_WORDS[keyword]} {limit}, not {value}")
    return check


def _did_you_mean(word: str, known: list[str]) -> str:
    import difflib  # only when there is something to report: it costs start-up time

    close = difflib.get_close_matches(word, known, n=1)
    return f" (did you mean {quote(close[0])}?)" if close else ""


def unknown_key_message(names: list[str], patterns: list[str]) -> Callable[[str], str]:
    shown = [p for p in patterns if p != "^x-"]

    def message(key) -> str:
        if names:
            return f"unknown key {quote(key)}{_did_you_mean(str(key), names)}"
        if shown:
            return f"invalid key {quote(key)}: must match the pattern {quote(shown[0])}"
        return f"unknown key {quote(key)}: no keys are allowed here"
    return message


def object_check(table: dict, patterns: list, other: Node | None, unknown: Callable,
                 required: tuple, typed: Callable | None) -> Check:
    """properties (``table``: name -> Route), patternProperties (``patterns``:
    (search, Node, text)), additionalProperties (``other``; None: refused) and
    required. With ``typed``, also the type check: one call per mapping."""
    route_of = table.get
    others = other_keys(patterns, other, unknown)
    if not table and len(patterns) == 1:
        return map_check(patterns[0], others, required, typed)

    def check(value, lazy, out) -> None:
        if type(value) is not dict and not isinstance(value, dict):
            if typed is not None:
                typed(value, lazy, out)
            return
        for key, item in value.items():
            route = route_of(key)
            if route is None:
                others(key, item, lazy, out)
            else:
                then = route[type(item)]
                if then is not None:
                    then(item, (lazy, key), out)
        if required:
            _required(value, required, lazy, out)
    return check


def _required(value: dict, required: tuple, lazy, out: list) -> None:
    for name in required:
        if name not in value:
            report(out, lazy, f"missing required key {quote(name)}", kind=REQUIRED)


def other_keys(patterns: list, other: Node | None, unknown: Callable):
    """The check of a key that is not a property."""
    def check(key, item, lazy, out) -> None:
        matched = False
        for search, node, _ in patterns:
            if search(key):
                matched = True
                then = node.route[type(item)]
                if then is not None:
                    then(item, (lazy, key), out)
        if matched:
            return
        if other is None:
            report(out, (lazy, key), unknown(key), key=True)
        else:
            then = other.route[type(item)]
            if then is not None:
                then(item, (lazy, key), out)
    return check


def map_check(pattern: tuple, others: Callable, required: tuple,
              typed: Callable | None) -> Check:
    """A mapping with one key pattern (services, environment, ...): when all
    keys match, the usual case, they are tested in one C loop, and so are the
    values' types when those settle it."""
    search, node, _ = pattern
    fast, route = node.fast, node.route

    def check(value, lazy, out) -> None:
        if type(value) is not dict and not isinstance(value, dict):
            if typed is not None:
                typed(value, lazy, out)
            return
        if not all(map(search, value)):
            for key, item in value.items():
                others(key, item, lazy, out)
        elif not fast or not set(map(type, value.values())) <= fast:
            for key, item in value.items():
                then = route[type(item)]
                if then is not None:
                    then(item, (lazy, key), out)
        if required:
            _required(value, required, lazy, out)
    return check


def array_check(items: Node, unique: bool, shortest: int | None, longest: int | None,
                typed: Callable | None) -> Check:
    """items, uniqueItems, minItems, maxItems; with ``typed``, also the type."""
    route = items.route

    def check(value, lazy, out) -> None:
        if type(value) is not list and not isinstance(value, list):
            if typed is not None:
                typed(value, lazy, out)
            return
        if items is not ANY:
            for index, item in enumerate(value):
                then = route[type(item)]
                if then is not None:
                    then(item, (lazy, index), out)
        if unique and len(value) > 1 and not surely_distinct(value):
            for index, first in duplicates(value):
                report(out, (lazy, index), f"duplicate item {show(value[index])} (same as item {first})",
                       kind=UNIQUE)
        if shortest is not None and len(value) < shortest:
            report(out, lazy, f"must have at least {shortest} items")
        if longest is not None and len(value) > longest:
            report(out, lazy, f"must have at most {longest} items")
    return check


def union_check(branches: list[Node], one_of: bool) -> Check:
    """anyOf/oneOf. Only the branches that can take the value's type are
    tried; when just one can, its own violations are the useful ones."""
    nouns = tuple(noun for b in branches for noun in b.nouns)
    accepted = frozenset().union(*(b.types or () for b in branches))
    by_type: dict = {}  # Python type -> candidate branches (floats vary: not kept)

    def candidates(value) -> list[Node]:
        types = json_types(value)
        found = [b for b in branches if b.types is None or b.types & types]
        if type(value) is not float:
            by_type[type(value)] = found
        return found

    def check(value, lazy, out) -> None:
        chosen = by_type.get(type(value)) or candidates(value)
        if len(chosen) == 1:
            then = chosen[0].route[type(value)]
            if then is not None:
                then(value, lazy, out)
        elif not chosen:
            report(out, lazy, wrong_type(value, nouns, accepted))
        else:
            _try_each(chosen, value, lazy, out, one_of, nouns)
    return check


def _try_each(branches: list[Node], value, lazy, out: list, one_of: bool, nouns: tuple) -> None:
    """Several branches could take the value: count those that do; if none,
    report the branch with the fewest complaints."""
    results = []
    for branch in branches:
        found: list = []
        branch.check(value, lazy, found)
        results.append(found)
    passed = sum(1 for found in results if not found)
    if passed == 1 or (passed and not one_of):
        return
    if passed:
        report(out, lazy, f"is ambiguous: it is valid as more than one of {either(nouns)}")
        return
    out.extend(min(results, key=len))

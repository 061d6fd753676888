"""Interpolation: ``$VAR``, ``${VAR:-default}`` and friends, as Compose does it.

This module owns the substitution engine the loader runs on every string of
every compose file, and that ``dotenv`` runs on ``.env`` values, plus the
extraction of the variable names a template mentions (``config --variables``).
The environment arrives as a lookup function (``None`` means unset), so the
engine never reads ``os.environ``.

The semantics are compose-go's ``template`` package (v2.9.1), quirks
included, because users' files are written against it:

* one regular expression finds ``$$``, ``$NAME``, ``${...}``; for a braced
  form with an operator its argument runs greedily to the *last* ``}`` of the
  line, then is cut back at the ``}`` that balances the opening brace; what
  was cut off (the "rest") is substituted on its own;
* the argument of an operator (a default, an alternate value, an error
  message) is always substituted first, even when it is not used, so its
  errors surface;
* names are ASCII letters, digits and ``_``, plus the two non-ASCII letters
  Go's case folding equates with ``k`` and ``s`` (U+212A, U+017F);
* a lone ``$`` that starts nothing (``$1``, ``$}``, ``a $``) stays as is;
  ``${`` that starts nothing valid is an error.

Must not import anything but the standard library and ``errors``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Callable

from orchestrator.config.errors import InterpolationError

Lookup = Callable[[str], "str | None"]

# Go's (?i)[_a-z] also matches KELVIN SIGN and LONG S; Python's re.IGNORECASE
# would add dotted/dotless i as well, so the classes are spelled out.
_FIRST = "_a-zA-Z\u017f\u212a"
_NAME = f"[{_FIRST}][{_FIRST}0-9]*"
_PATTERN = re.compile(
    r"\$(?:"
    r"(?P<escaped>\$)"
    rf"|(?P<named>{_NAME})"
    rf"|\{{(?:(?P<braced>{_NAME})(?:(?P<op>:?[-+?])(?P<arg>.*))?\}}"
    r"|(?P<invalid>))"
    r")"
)
_BRACES = re.compile(r"\{.?|\}", re.S)  # "{" swallows the character after it
_ESCAPE_HINT = "you may need to escape any $ with another $"


@dataclass(frozen=True)
class Variable:
    """One reference to a variable, as ``config --variables`` lists it."""

    name: str
    default: str = ""
    alternate: str = ""  # the ``+`` / ``:+`` value
    required: bool = False


def substitute(template: str, lookup: Lookup, *,
               on_unset: Callable[[str], None] | None = None) -> str:
    """Replace the variable references in ``template``.

    ``lookup(name)`` returns the value, or ``None`` when the variable is
    unset. ``on_unset(name)`` is told about plain ``$NAME`` / ``${NAME}``
    references to unset variables (compose warns "The X variable is not set.
    Defaulting to a blank string."). Raises InterpolationError only.
    """
    if "$" not in template:
        return template
    try:
        return _substitute(template, lookup, on_unset)
    except RecursionError:
        # Only ${A:-${B:-${C:-...}}} nested hundreds deep gets here.
        raise InterpolationError(
            "invalid interpolation format: variables nested too deeply") from None


def variables(template: str) -> set[str]:
    """The names of the variables ``template`` refers to."""
    return {v.name for v in extract(template) if v.name}


def extract(template: str) -> list[Variable]:
    """Every variable reference in ``template``, in compose-go's order.

    The order matters to callers that keep the last reference of each name
    (compose-go's ExtractVariables builds a map): the references in the
    "rest" after a braced operator come before the reference itself.
    """
    if "$" not in template:
        return []
    out: list[Variable] = []
    pending: list[list[Variable]] = []  # held back until their rest is done
    pos, rest_end = 0, -1
    while (m := _PATTERN.search(template, pos)) is not None:
        if pending and m.start() >= rest_end:
            _flush(pending, out)
        group: list[Variable] = []
        pos = _extract_one(m, group)
        if pos != m.end():  # a rest follows: its references go first
            pending.append(group)
            rest_end = m.end()
        else:
            out.extend(group)
    _flush(pending, out)
    return out


def _flush(pending: list[list[Variable]], out: list[Variable]) -> None:
    while pending:
        out.extend(pending.pop())


def _extract_one(m: re.Match, group: list[Variable]) -> int:
    """Append the references of one match; return where scanning resumes."""
    if m["escaped"]:
        return m.end()
    if m["named"]:
        group.append(Variable(m["named"]))
        return m.end()
    if m["invalid"] is not None:
        group.append(Variable(""))  # compose-go records a nameless variable
        return m.end()
    name, op = m["braced"], m["op"]
    if op is None:
        group.append(Variable(name))
        return m.end()
    arg, resume = _split_arg(m)
    required = op.endswith("?")
    default = arg if op.endswith("-") else ""
    alternate = arg if op.endswith("+") else ""
    group.append(Variable(name, default, alternate, required))
    for nested in (default, alternate):
        if nested:
            group.extend(extract(nested))
    return resume


def _substitute(template: str, lookup: Lookup,
                on_unset: Callable[[str], None] | None) -> str:
    """The scanning loop. A "rest" is scanned in place rather than by
    recursion (it always ends where the match ends), so a long line of
    ``${A:-a}${B:-b}...`` costs no stack; only the error text needs to know
    that compose would have reported the rest as the template."""
    out: list[str] = []
    pos, rest_start, rest_end = 0, 0, -1
    while (m := _PATTERN.search(template, pos)) is not None:
        out.append(template[pos:m.start()])
        if m.start() >= rest_end:
            rest_start, rest_end = 0, len(template)
        pos = m.end()
        if m["escaped"]:
            out.append("$")
        elif m["named"]:
            out.append(_plain(m["named"], lookup, on_unset))
        elif m["invalid"] is not None:
            raise _invalid(template[rest_start:rest_end])
        elif m["op"] is None:
            out.append(_plain(m["braced"], lookup, on_unset))
        else:
            arg, pos = _split_arg(m)
            out.append(_apply(m["braced"], m["op"], arg, lookup, on_unset))
            if pos != m.end():
                rest_start, rest_end = pos, m.end()
    out.append(template[pos:])
    return "".join(out)


def _split_arg(m: re.Match) -> tuple[str, int]:
    """The operator's argument, and where the rest after it starts.

    The regex took the argument up to the last ``}`` of the line; compose
    cuts it at the ``}`` that closes the opening brace, counting braces the
    way compose-go's getFirstBraceClosingIndex does (the character after
    each ``{`` is skipped, so ``{}`` never closes anything).
    """
    text, base = m.group(0), m.start()
    depth = 0
    for brace in _BRACES.finditer(text):
        if brace.group() == "}":
            depth -= 1
            if depth == 0:
                return text[m.start("arg") - base:brace.start()], base + brace.end()
        else:
            depth += 1
    return m["arg"], m.end()


def _plain(name: str, lookup: Lookup,
           on_unset: Callable[[str], None] | None) -> str:
    value = lookup(name)
    if value is None:
        if on_unset is not None:
            on_unset(name)
        return ""
    return value


def _apply(name: str, op: str, arg: str, lookup: Lookup,
           on_unset: Callable[[str], None] | None) -> str:
    """``${name<op>arg}``; the argument is substituted even when unused."""
    resolved = _substitute(arg, lookup, on_unset) if "$" in arg else arg
    value = lookup(name)
    strict = op.startswith(":")  # the colon forms treat "" like unset
    missing = value is None or (strict and value == "")
    kind = op[-1]
    if kind == "-":
        return resolved if missing else value
    if kind == "+":
        return (value or "") if missing else resolved
    if missing:
        raise _missing(name, resolved)
    return value


def _missing(name: str, reason: str) -> InterpolationError:
    message = f"required variable {name} is missing a value"
    if reason:
        message += f": {reason}"
    return InterpolationError(message)


def _invalid(template: str) -> InterpolationError:
    return InterpolationError(
        f"invalid interpolation format for {json.dumps(template, ensure_ascii=False)}",
        hint=_ESCAPE_HINT)

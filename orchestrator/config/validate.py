"""Schema validation of one compose document, fast enough for every command.

Owns: reading ``schemas/compose.schema.json`` (generated from the models by
schema.py) once, compiling it into closures (validate_checks.py), and
checking plain data (dicts, lists, scalars from yamlsrc) against it. Every
problem of a document is reported, each as a ``Violation``: the key path, a
specific message, and whether the key itself is at fault (an unknown key), so
the caller can point at the key's line rather than its value's. Turning
violations into errors with file:line:col is the caller's job.

The compiler understands the JSON schema subset that the generated schema and
the official compose schema use: type, enum, const, minimum, maximum,
exclusiveMinimum/Maximum, pattern, min/maxLength, items, uniqueItems,
min/maxItems, properties, patternProperties, additionalProperties, required,
anyOf, oneOf, allOf and local ``$ref``. Any other keyword is refused when
compiling rather than silently ignored. Semantics are draft-07's as the
``jsonschema`` package implements them (``2.0`` is an integer, ``true`` is not
a number, patterns are searched, not anchored).

Must not import pydantic, jsonschema or the models: it runs on every
``dockyard config`` and must cost milliseconds.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

from . import validate_checks as checks
from .validate_checks import ANY, Check, Node
from .validate_values import NOUNS, PLURALS, choices, json_types, python_types

__all__ = ["SCHEMA_PATH", "Validator", "Violation", "validate"]

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "compose.schema.json"


@dataclass(frozen=True)
class Violation:
    """One way a document breaks the schema. ``key`` is true when the key at
    the end of ``path`` is itself wrong (unknown), not its value."""

    path: tuple
    message: str
    key: bool = False
    # "required" or "unique" for the checks a merge can change (an override
    # may complete an entry, or repeat one), "" for the others.
    kind: str = ""


def validate(document: object) -> list[Violation]:
    """Every violation of the compose schema in ``document``, in document order."""
    return _default_validator().validate(document)


@functools.cache
def _default_validator() -> "Validator":
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        return Validator(json.load(handle))


class Validator:
    """A JSON schema compiled once, applied to many documents."""

    def __init__(self, schema: dict) -> None:
        self._root = _Compiler(schema).node(schema)

    def validate(self, document: object) -> list[Violation]:
        out: list = []
        self._root.check(document, None, out)
        return [Violation(path, message, key, kind) for path, message, key, kind in out]


_ANNOTATIONS = {"$schema", "$id", "$comment", "$defs", "definitions", "title",
                "description", "default", "deprecated", "examples", "readOnly", "writeOnly"}
_KEYWORDS = {"type", "enum", "const", "minimum", "maximum", "exclusiveMinimum",
             "exclusiveMaximum", "pattern", "minLength", "maxLength", "items", "uniqueItems",
             "minItems", "maxItems", "properties", "patternProperties",
             "additionalProperties", "required", "anyOf", "oneOf", "allOf", "$ref"}
_OBJECT_KEYWORDS = {"properties", "patternProperties", "additionalProperties", "required"}
_ARRAY_KEYWORDS = {"items", "uniqueItems", "minItems", "maxItems"}


class _Compiler:
    """Turns (sub)schemas into Nodes, each once."""

    def __init__(self, root: dict) -> None:
        self.root = root
        self.refs: dict[str, Node] = {}
        self.compiled: dict = {}  # by id(), and small leaves by their text too

    def node(self, schema) -> Node:
        if not isinstance(schema, dict):
            return self._compile(schema)
        key = id(schema)
        if key not in self.compiled:
            # Most subschemas are small leaves such as {"type": "string"},
            # repeated hundreds of times: compile each text once.
            flat = not any(isinstance(v, (dict, list)) and k != "type" for k, v in schema.items())
            text = repr(schema) if flat else None
            if text is not None and text in self.compiled:
                self.compiled[key] = self.compiled[text]
            else:
                self.compiled[key] = self._compile(schema)
                if text is not None:
                    self.compiled[text] = self.compiled[key]
        return self.compiled[key]

    def ref(self, ref: str) -> Node:
        if ref not in self.refs:
            # A recursive reference meets this stand-in, which forwards to
            # the compiled target once there is one.
            self.refs[ref] = Node(lambda v, lazy, out: self.refs[ref].check(v, lazy, out),
                                  {}, None, ("a valid value",))
            self.refs[ref] = self.node(self._resolve(ref))
        return self.refs[ref]

    def _resolve(self, ref: str):
        if not ref.startswith("#"):
            raise ValueError(f"only local $ref is supported, not {ref!r}")
        target = self.root
        for part in filter(None, ref[1:].split("/")):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return target

    def _compile(self, schema) -> Node:
        if schema is True or (isinstance(schema, dict) and not set(schema) - _ANNOTATIONS):
            return ANY
        if schema is False:
            return Node(checks.refuse, {}, frozenset(), ("nothing",))
        keywords = set(schema) - _ANNOTATIONS
        if keywords - _KEYWORDS:
            raise ValueError(f"unsupported schema keywords: {sorted(keywords - _KEYWORDS)}")
        if keywords == {"$ref"}:
            return self.ref(schema["$ref"])
        types = self._types(schema)
        nouns = self._nouns(schema, types)
        return Node(self._check(schema, nouns), self._route(schema, keywords), types, nouns)

    def _route(self, schema: dict, keywords: set) -> dict:
        if keywords == {"type"}:
            return dict.fromkeys(python_types(schema["type"]))
        if keywords in ({"anyOf"}, {"oneOf"}):
            return checks.union_route([self.node(b) for b in schema[next(iter(keywords))]])
        return {}

    def _check(self, schema: dict, nouns: tuple) -> Check:
        others = [c for c in (checks.enum_check(schema), checks.string_check(schema),
                              checks.number_check(schema), self._combined(schema)) if c]
        typed = checks.type_check(schema["type"], nouns) if "type" in schema else None
        if typed is not None and schema["type"] in ("object", "array") and not others:
            # The object/array check reports a wrong type itself: one call, not
            # two. (Array keywords never apply to an object, and vice versa.)
            build = self._object if schema["type"] == "object" else self._array
            fused = build(schema, typed)
            if fused is not None:
                return fused
        found = [c for c in (self._object(schema), self._array(schema)) if c] + others
        if typed is not None:
            return checks.guarded(schema["type"], typed, found)
        return checks.sequence(found) if found else checks.nothing

    def _types(self, schema: dict) -> frozenset | None:
        if "type" in schema:
            declared = schema["type"]
            return frozenset([declared] if isinstance(declared, str) else declared)
        if "enum" in schema or "const" in schema:
            values = schema.get("enum", [schema.get("const")])
            return frozenset().union(*(json_types(v) for v in values))
        if "$ref" in schema:
            return self.ref(schema["$ref"]).types
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            found = [self.node(b).types for b in branches]
            return None if None in found else frozenset().union(*found)
        return None

    def _nouns(self, schema: dict, types: frozenset | None) -> tuple:
        """What the schema accepts, as alternatives: ("a string", "null")."""
        if "const" in schema or "enum" in schema:
            return (choices(schema.get("enum", [schema.get("const")])),)
        if "$ref" in schema:
            return self.ref(schema["$ref"]).nouns
        if "anyOf" in schema or "oneOf" in schema:
            branches = schema.get("anyOf") or schema["oneOf"]
            return tuple(noun for b in branches for noun in self.node(b).nouns)
        if types is None:
            return ("a valid value",)
        declared = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        return tuple(self._type_noun(name, schema) for name in declared)

    def _type_noun(self, name: str, schema: dict) -> str:
        items = schema.get("items")
        if name == "array" and isinstance(items, dict):
            item_types = self.node(items).types
            if item_types is not None and len(item_types - {"integer"}) == 1:
                return "a list of " + PLURALS[min(item_types - {"integer"})]
        return NOUNS[name]

    def _object(self, schema: dict, typed: Callable | None = None) -> Check | None:
        if not _OBJECT_KEYWORDS & set(schema):
            return None
        properties = schema.get("properties", {})
        patterns = [(re.compile(p).search, self.node(s), p)
                    for p, s in schema.get("patternProperties", {}).items()]
        table = {name: self._property(self.node(sub), name, patterns)
                 for name, sub in properties.items()}
        extra = schema.get("additionalProperties", True)
        other = None if extra is False else self.node(extra)
        unknown = checks.unknown_key_message(list(properties), [p for _, _, p in patterns])
        required = tuple(schema.get("required", ()))
        return checks.object_check(table, patterns, other, unknown, required, typed)

    @staticmethod
    def _property(node: Node, name: str, patterns: list) -> checks.Route:
        """A property that also matches patternProperties must pass both."""
        also = [n for search, n, _ in patterns if search(name) and n is not ANY]
        if not also:
            return node.route
        return checks.Route({}, checks.sequence([node.check] + [n.check for n in also]))

    def _array(self, schema: dict, typed: Callable | None = None) -> Check | None:
        keywords = _ARRAY_KEYWORDS & set(schema)
        if not keywords or (keywords == {"uniqueItems"} and not schema["uniqueItems"]):
            return None
        items = self.node(schema.get("items", True))
        return checks.array_check(items, bool(schema.get("uniqueItems")),
                                  schema.get("minItems"), schema.get("maxItems"), typed)

    def _combined(self, schema: dict) -> Check | None:
        found = [self.node(sub).check for sub in schema.get("allOf", ())]
        if "$ref" in schema:
            found.append(self.ref(schema["$ref"]).check)
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                branches = [self.node(b) for b in schema[keyword]]
                found.append(checks.union_check(branches, keyword == "oneOf"))
        return checks.sequence(found) if found else None

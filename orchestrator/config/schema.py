"""The compose JSON schema, generated from the models.

Owns: turning the pydantic models (model.py) into ``schemas/compose.schema.json``,
the file the runtime validator (validate.py) reads. The generated schema says
what the official compose schema says — ``additionalProperties: false`` with
``patternProperties: {"^x-": {}}``, required keys, enums, bounds, patterns,
``uniqueItems`` — in pydantic's layout (``$defs``), cleaned of pydantic's
noise (titles, null defaults) so it reads like a hand-written schema.

    python -m orchestrator.config.schema --write   # regenerate the file

Must not import other loader stages; only the models.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic.json_schema import GenerateJsonSchema

from .model import ComposeFile

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "compose.schema.json"
DRAFT = "http://json-schema.org/draft-07/schema#"


class _Generator(GenerateJsonSchema):
    """``X | None = None`` means "may be absent": the null is not part of the
    schema. Explicit nulls come from ``model_types.Nullable``."""

    def nullable_schema(self, schema):
        return self.generate_inner(schema["schema"])


def generate() -> dict:
    """The compose schema, as a JSON-ready dict."""
    raw = ComposeFile.model_json_schema(schema_generator=_Generator)
    definitions = raw.pop("$defs")
    schema = {"$schema": DRAFT, "$id": "dockyard-compose.schema.json"}
    schema.update(_clean(raw))
    schema["title"] = "Compose file (Dockyard)"
    schema["$defs"] = {name: _clean(sub) for name, sub in definitions.items()}
    return schema


def render(schema: dict) -> str:
    """Stable text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_SCHEMA_MAPS = ("properties", "patternProperties")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf")
_SCHEMA_VALUES = ("items", "additionalProperties", "not")


def _clean(schema):
    """One schema node, recursively: drop pydantic's titles, null defaults and
    ``additionalProperties: true``; flatten nested anyOf; write unions of bare
    types as a type list."""
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "title" or (key == "default" and value is None):
            continue
        if key == "additionalProperties" and value is True:
            continue
        if key in _SCHEMA_MAPS:
            value = {name: _clean(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS:
            value = [_clean(sub) for sub in value]
        elif key in _SCHEMA_VALUES:
            value = _clean(value)
        out[key] = value
    if "anyOf" in out:
        out = _simplify_union(out)
    return out


def _simplify_union(schema: dict) -> dict:
    branches = []
    for branch in schema["anyOf"]:
        nested = set(branch) == {"anyOf"}
        branches.extend(branch["anyOf"] if nested else [branch])
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    bare = [b for b in branches if set(b) == {"type"}]
    if len(bare) > 1:
        merged = {"type": _type_list(bare)}
        at = branches.index(bare[0])
        branches = [b for b in branches if b not in bare]
        branches.insert(at, merged)
    if len(branches) == 1:
        return {**rest, **branches[0]}
    return {**rest, "anyOf": branches}


def _type_list(bare: list[dict]) -> str | list[str]:
    """The union of bare ``{"type": ...}`` branches as one type list."""
    types: list[str] = []
    for branch in bare:
        declared = branch["type"]
        types.extend([declared] if isinstance(declared, str) else declared)
    types = list(dict.fromkeys(types))
    if "number" in types and "integer" in types:
        types.remove("integer")
    return types[0] if len(types) == 1 else types


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestrator.config.schema",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true",
                        help=f"write the schema to {SCHEMA_PATH} (default: print it)")
    args = parser.parse_args(argv)
    text = render(generate())
    if args.write:
        SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
        SCHEMA_PATH.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The building blocks the compose models are declared with.

Owns: the three kinds of objects of the compose specification (closed,
closed-but-extensible with ``x-*`` keys, open), the JSON types the
specification uses for interpolated values (``Number``, ``IntOrStr``, ...),
and the markers that make pydantic's JSON schema say what the official schema
says (``Nullable``, ``UNIQUE``, ``PatternMap``).

One rule makes the models short: ``X | None = None`` in a model means "the key
may be absent", never "the value may be null"; the schema generator drops that
``null``. Where the specification allows an explicit null the type says so with
``Nullable``.

Must not import other loader stages (the validator's JSON equality aside).
"""
from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import core_schema

from .validate_values import duplicates

NAME = "^[a-zA-Z0-9._-]+$"  # names of services, networks, volumes, ...
NON_EMPTY = "^.+$"  # option maps: any key but the empty one
X_PATTERN = "^x-"


def _x_keys_only(schema: dict, cls: type) -> None:
    schema["additionalProperties"] = False
    schema["patternProperties"] = {X_PATTERN: {}}


class Closed(BaseModel):
    """An object whose keys are exactly its fields."""

    model_config = ConfigDict(extra="forbid", strict=True, protected_namespaces=())


class Extensible(BaseModel):
    """An object whose keys are its fields plus ``x-*`` extensions (kept)."""

    model_config = ConfigDict(extra="allow", strict=True, protected_namespaces=(),
                              json_schema_extra=_x_keys_only)

    @model_validator(mode="after")
    def _only_x_extras(self):
        unknown = [key for key in self.model_extra or {} if not key.startswith("x-")]
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r}")
        return self


class Open(BaseModel):
    """An object the specification leaves open: unknown keys are kept."""

    model_config = ConfigDict(extra="allow", strict=True, protected_namespaces=())


class Nullable:
    """The value may be an explicit null (the schema gets ``anyOf [.., null]``)."""

    def __get_pydantic_json_schema__(self, schema, handler):
        return {"anyOf": [handler(schema), {"type": "null"}]}


class _Unique:
    """A list whose items must differ (``uniqueItems``)."""

    def __get_pydantic_core_schema__(self, source, handler):
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema, handler):
        return {**handler(schema), "uniqueItems": True}

    @staticmethod
    def _check(items: list) -> list:
        for index, first in duplicates(items):
            raise ValueError(f"item {index} is a duplicate of item {first}")
        return items


UNIQUE = _Unique()


class PatternMap:
    """A mapping whose keys match ``pattern`` (``patternProperties``); when
    ``closed``, other keys are errors, otherwise the specification lets them
    through unchecked."""

    def __init__(self, pattern: str, *, closed: bool) -> None:
        self.pattern = pattern
        self.closed = closed
        self._regex = re.compile(pattern)

    def __get_pydantic_core_schema__(self, source, handler):
        inner = handler(source)
        if not self.closed:
            return core_schema.no_info_wrap_validator_function(self._matching_only, inner)
        return core_schema.no_info_after_validator_function(self._check, inner)

    def _matching_only(self, mapping, validate):
        """Validate the entries whose key matches; keep the others as they are."""
        if not isinstance(mapping, dict):
            return validate(mapping)
        checked = validate({k: v for k, v in mapping.items()
                            if not isinstance(k, str) or self._regex.search(k)})
        return {k: checked[k] if k in checked else v for k, v in mapping.items()}

    def __get_pydantic_json_schema__(self, schema, handler):
        generated = dict(handler(schema))
        values = generated.pop("additionalProperties", {})
        generated["patternProperties"] = {self.pattern: {} if values is True else values}
        if self.closed:
            generated["additionalProperties"] = False
        return generated

    def _check(self, mapping: dict) -> dict:
        for key in mapping:
            if not self._regex.search(key):
                raise ValueError(f"key {key!r} does not match {self.pattern}")
        return mapping


def _integral(value):
    """JSON schema's ``integer`` includes 2.0; so do the models."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


Integer = Annotated[int, BeforeValidator(_integral)]
# Bounds go before the validator, or pydantic cannot put them in the schema.
PositiveInt = Annotated[int, Field(ge=0), BeforeValidator(_integral)]
Percent = Annotated[int, Field(ge=0, le=100), BeforeValidator(_integral)]
OomScore = Annotated[int, Field(ge=-1000, le=1000), BeforeValidator(_integral)]
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]
BoolOrStr = bool | str
IntOrStr = Integer | str
NumOrStr = Number | str
Scalar = str | Number | bool
AnyMap = dict[str, Any]

V = TypeVar("V")
NameMap = Annotated[dict[str, V], PatternMap(NAME, closed=True)]  # other keys are errors
OpenNameMap = Annotated[dict[str, V], PatternMap(NAME, closed=False)]  # others unchecked
OptionMap = Annotated[dict[str, V], PatternMap(NON_EMPTY, closed=False)]
ClosedOptionMap = Annotated[dict[str, V], PatternMap(NON_EMPTY, closed=True)]

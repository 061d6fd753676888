"""YAML in, plain data plus a source map out; YAML as compose-go reads it.

Owns: turning compose file text into dicts, lists and scalars, remembering
where every key and value came from (for errors with line and column), and
the compose tags ``!reset`` and ``!override``.

Scalars resolve as Go's yaml.v3 resolves them, because that is what Docker
Compose v2 sees: only true/false are booleans (``yes``/``on`` stay strings),
``0755`` is octal, ``1_000`` is 1000. PyYAML's YAML 1.1 resolver would turn
``FOO: yes`` into ``True``. Duplicate keys are errors, as in yaml.v3.

Must not import other loader stages.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import yaml

from .errors import YamlSyntaxError

try:  # libyaml is several times faster; the pure parser is the fallback.
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """No implicit resolution: every plain scalar arrives as a string node and
    ``resolve_plain`` decides its type the yaml.v3 way."""


_Loader.yaml_implicit_resolvers = {}
# Untagged plain scalars get a tag of our own, so that an explicit ``!!str``
# stays distinguishable from a plain scalar that resolve_plain must type.
PLAIN_TAG = "tag:dockyard,plain"
_DEFAULT_TAGS = {yaml.SequenceNode: "tag:yaml.org,2002:seq", yaml.MappingNode: "tag:yaml.org,2002:map"}


def _resolve(self, kind, value, implicit):
    # Called by the composer for untagged nodes only; cheaper than PyYAML's
    # general resolver.
    if kind is yaml.ScalarNode:
        return PLAIN_TAG if implicit[0] else "tag:yaml.org,2002:str"
    return _DEFAULT_TAGS[kind]


_Loader.resolve = _resolve

STR_TAG = "tag:yaml.org,2002:str"
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
RESET_TAG = "!reset"
OVERRIDE_TAG = "!override"

_CONSTANTS = {
    "true": True, "True": True, "TRUE": True,
    "false": False, "False": False, "FALSE": False,
    "": None, "~": None, "null": None, "Null": None, "NULL": None,
    ".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan,
    ".inf": math.inf, ".Inf": math.inf, ".INF": math.inf,
    "+.inf": math.inf, "+.Inf": math.inf, "+.INF": math.inf,
    "-.inf": -math.inf, "-.Inf": -math.inf, "-.INF": -math.inf,
}
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$")
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9:.]+(Z|[-+][0-9:]+)?)?$")
_INT64 = 2**63


def _go_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64), plus the unsigned fallback yaml.v3 tries."""
    if not _GO_INT.match(text):
        return None
    sign = -1 if text[0] == "-" else 1
    body = text.lstrip("+-")
    low = body.lower()
    if low.startswith("0x"):
        value = int(body[2:], 16)
    elif low.startswith("0o"):
        value = int(body[2:], 8)
    elif low.startswith("0b"):
        value = int(body[2:], 2)
    elif len(body) > 1 and body[0] == "0":
        value = int(body[1:], 8)
    else:
        value = int(body)
    value *= sign
    if -_INT64 <= value < 2 * _INT64:
        return value
    return None


def resolve_plain(text: str):
    """The value of an unquoted scalar, as yaml.v3 decodes it into ``any``."""
    if text in _CONSTANTS:
        return _CONSTANTS[text]
    first = text[0]
    if first == ".":
        try:
            return float(text)
        except ValueError:
            return text
    if first.isdigit() or first in "+-":
        if _TIMESTAMP.match(text):
            return text  # compose never needs dates; keep the text as written
        plain = text.replace("_", "")
        value = _go_int(plain)
        if value is not None:
            return value
        if _YAML_FLOAT.match(plain):
            return float(plain)
    return text


@dataclass
class SourceMap:
    """Where each key path of one document is. The tables hold PyYAML marks
    (turned into 1-based line and column only when an error asks)."""

    file: str | None
    values: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)

    def locate(self, path: tuple, *, key: bool = False) -> tuple[int | None, int | None]:
        """(line, column) of ``path`` (its key when ``key``), else of its
        closest known ancestor."""
        table = self.keys if key else self.values
        path = tuple(path)
        while path:
            if path in table:
                return _position(table[path])
            if key and path in self.values:
                return _position(self.values[path])
            path = path[:-1]
        return _position(self.values[()]) if () in self.values else (None, None)


@dataclass
class Document:
    """One YAML document of a compose file."""

    data: object
    source: SourceMap
    # Paths whose value carried !reset (the key is left out of ``data``) or
    # !override, with the tag.
    tags: dict = field(default_factory=dict)


def _position(mark) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


def _mark(node) -> tuple[int, int]:
    return _position(node.start_mark)


class _Builder:
    """Turns a composed node tree into plain data and fills the source map."""

    def __init__(self, source: SourceMap, tags: dict) -> None:
        self.source = source
        self.tags = tags

    def build(self, node, path: tuple):
        self.source.values[path] = node.start_mark
        if node.tag in (RESET_TAG, OVERRIDE_TAG):
            self.tags[path] = node.tag
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            kept = [item for item in node.value if item.tag != RESET_TAG]
            return [self.build(item, path + (i,)) for i, item in enumerate(kept)]
        return self._scalar(node, path)

    def _scalar(self, node, path: tuple):
        if node.tag == PLAIN_TAG or (node.tag == OVERRIDE_TAG and not node.style):
            return resolve_plain(node.value)
        if node.tag in (STR_TAG, OVERRIDE_TAG):
            return node.value
        # An explicit core tag such as !!int: let PyYAML's constructor decide.
        try:
            return yaml.SafeLoader.construct_scalar(yaml.SafeLoader(""), node) \
                if node.tag.endswith(":str") else _construct_tagged(node)
        except (yaml.YAMLError, ValueError) as exc:
            raise _syntax(self.source.file, node, f"cannot decode {node.value!r} as {node.tag}") from exc

    def _pairs(self, node):
        """The mapping's key/value node pairs with ``<<`` merges expanded;
        explicit keys win over merged ones, as in yaml.v3."""
        own, merged = [], []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or (
                    key_node.tag == PLAIN_TAG and key_node.value == "<<"):
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        raise _syntax(self.source.file, source, "map merge requires map or sequence of maps as the value")
                    merged.extend(self._pairs(source))
            else:
                own.append((key_node, value_node))
        # Explicit keys win over merged ones; among merged maps the first wins.
        taken = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        for key_node, value_node in merged:
            if key_node.value not in taken:
                taken.add(key_node.value)
                own.append((key_node, value_node))
        return own

    def _mapping(self, node, path: tuple) -> dict:
        out: dict = {}
        seen: dict = {}
        for key_node, value_node in self._pairs(node):
            if not isinstance(key_node, yaml.ScalarNode):
                raise _syntax(self.source.file, key_node, "mapping keys must be strings")
            key = resolve_plain(key_node.value) if key_node.tag == PLAIN_TAG else key_node.value
            if not isinstance(key, str):  # yaml.v3 then gives compose a map it rejects
                where = ".".join(str(p) for p in path) or "top level"
                raise _syntax(self.source.file, key_node,
                              f"non-string key in {where}: {key_node.value} (quote it to make it a string)")
            if key in seen and key_node.start_mark is not seen[key].start_mark:
                line = seen[key].start_mark.line + 1
                raise _syntax(self.source.file, key_node, f"mapping key {key!r} already defined at line {line}")
            seen[key] = key_node
            child = path + (key,)
            self.source.keys[child] = key_node.start_mark
            if value_node.tag == RESET_TAG:  # the key is gone, as in compose
                self.tags[child] = RESET_TAG
                continue
            out[key] = self.build(value_node, child)
        return out


def _construct_tagged(node):
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _syntax(file: str | None, node, message: str) -> YamlSyntaxError:
    line, column = _mark(node)
    return YamlSyntaxError(message).at(file=file, line=line, column=column)


def load_documents(text: str, file: str | None = None) -> list[Document]:
    """Every document of ``text``; an empty file is one empty mapping."""
    loader = _Loader(text)
    documents = []
    try:
        while loader.check_node():
            node = loader.get_node()
            source = SourceMap(file)
            tags: dict = {}
            data = _Builder(source, tags).build(node, ()) if node is not None else {}
            documents.append(Document(data, source, tags))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        error = YamlSyntaxError(exc.problem or str(exc))
        if mark is not None:
            error.at(line=mark.line + 1, column=mark.column + 1)
        raise error.at(file=file) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc)).at(file=file) from None
    finally:
        loader.dispose()
    return documents or [Document({}, SourceMap(file))]


def load(text: str, file: str | None = None) -> Document:
    """The first (usually only) document of ``text``."""
    return load_documents(text, file)[0]

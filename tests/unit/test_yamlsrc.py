"""YAML as Docker Compose v2 reads it (yaml.v3): scalars, merge keys,
duplicate keys, the compose tags, the source map and syntax errors. Rows
marked "binary" were checked against the Docker Compose v2.40.3 binary."""
from __future__ import annotations

import math

import pytest

from orchestrator.config import yamlsrc
from orchestrator.config.errors import YamlSyntaxError


def value_of(text: str):
    return yamlsrc.load(f"v: {text}\n").data["v"]


# (as written after "v: ", decoded value)
SCALARS = [
    # only true/false are booleans in yaml.v3 (binary: yes/on stay strings)
    ("true", True), ("True", True), ("FALSE", False),
    ("yes", "yes"), ("on", "on"), ("no", "no"), ("off", "off"), ("y", "y"),
    # null forms
    ("null", None), ("Null", None), ("NULL", None), ("~", None), ("", None),
    # integers: octal (binary: 0755 -> 493), underscores, hex, 0o, 0b, signs
    ("0755", 493), ("012", 10), ("0o17", 15), ("0x1F", 31), ("0b101", 5),
    ("1_000", 1000), ("+12", 12), ("-7", -7), ("0", 0),
    # not valid octal, still a float (binary: 08 -> "8")
    ("08", 8.0),
    # floats
    ("1.5", 1.5), ("1e3", 1000.0), (".5", 0.5), ("1_0.5", 10.5), ("-2.5e-3", -0.0025),
    (".inf", math.inf), (".Inf", math.inf), ("+.INF", math.inf), ("-.inf", -math.inf),
    # strings that only look numeric
    ("1.2.3", "1.2.3"), ("0xZZ", "0xZZ"), ("1e", "1e"), ("0.0.0.0:80:80", "0.0.0.0:80:80"),
    ("8080:80", "8080:80"), ("2024-01-02", "2024-01-02"), ("nginx", "nginx"),
    # quoted scalars are always strings
    ('"yes"', "yes"), ("'0755'", "0755"), ('"true"', "true"), ("'null'", "null"),
    ('"1_000"', "1_000"), ("''", ""), ('"~"', "~"),
    # explicit core tags
    ('!!int "12"', 12), ("!!float 1", 1.0), ("|\n  text", "text\n"),
]


@pytest.mark.parametrize("text, expected", SCALARS)
def test_scalar_resolution(text, expected):
    value = value_of(text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("text", [".nan", ".NaN", ".NAN"])
def test_nan(text):
    assert math.isnan(value_of(text))


@pytest.mark.parametrize("text, expected", [("!!str 1", "1"), ("!!str true", "true")])
def test_explicit_str_tag_keeps_a_string(text, expected):
    # binary: `x-a: !!str 1` prints x-a: "1"
    assert value_of(text) == expected


def test_quoted_numeric_key_is_a_string():
    assert yamlsrc.load("'01': a\n").data == {"01": "a"}


@pytest.mark.parametrize("text", ["1: a", "0x10: a", "true: a", "1.5: a", "null: a", "~: a"])
def test_non_string_keys_are_errors(text):
    # binary: `labels: {1: a}` -> "non-string key in services.a.labels: 1"
    with pytest.raises(YamlSyntaxError) as caught:
        yamlsrc.load(f"x:\n  labels:\n    {text}\n", "f.yaml")
    assert "non-string key in x.labels" in caught.value.message
    assert (caught.value.location.line, caught.value.location.column) == (3, 5)


MERGES = [
    # a single merge: explicit keys win, wherever they are written
    ("base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  a: 10\n", {"a": 10, "b": 2}),
    ("base: &b {a: 1, b: 2}\nx:\n  a: 10\n  <<: *b\n", {"a": 10, "b": 2}),
    # a list of merges
    ("b1: &b1 {a: 1}\nb2: &b2 {c: 3}\nx:\n  <<: [*b1, *b2]\n  d: 4\n", {"a": 1, "c": 3, "d": 4}),
    ("b1: &b1 {a: 1}\nx:\n  <<: [*b1]\n  a: 2\n", {"a": 2}),
    # nested mappings are not merged deeply: the explicit one replaces
    ("base: &b {env: {A: 1}}\nx:\n  <<: *b\n  env: {B: 2}\n", {"env": {"B": 2}}),
]


@pytest.mark.parametrize("text, expected", MERGES)
def test_merge_keys(text, expected):
    assert yamlsrc.load(text).data["x"] == expected


def test_merge_list_earlier_map_wins():
    # binary: environment {<<: [*base, *more]} with B in both gives B from base
    text = "b1: &b1 {A: 1, B: 2}\nb2: &b2 {B: 3, C: 4}\nx:\n  <<: [*b1, *b2]\n"
    assert yamlsrc.load(text).data["x"] == {"A": 1, "B": 2, "C": 4}


def test_merge_requires_mappings():
    with pytest.raises(YamlSyntaxError) as caught:
        yamlsrc.load("x:\n  <<: 1\n", "f.yaml")
    assert "map merge requires map" in caught.value.message
    assert (caught.value.location.line, caught.value.location.column) == (2, 7)


@pytest.mark.parametrize("text, line, first", [
    ("a: 1\na: 2\n", 2, 1),
    ("x:\n  y: 1\n  z: 0\n  y: 2\n", 4, 2),
    ("x: {k: 1, k: 2}\n", 1, 1),
])
def test_duplicate_keys_are_errors_naming_both_lines(text, line, first):
    with pytest.raises(YamlSyntaxError) as caught:
        yamlsrc.load(text, "f.yaml")
    error = caught.value
    assert error.location.file == "f.yaml"
    assert error.location.line == line
    assert f"already defined at line {first}" in error.message


COMPOSE_TAGS = """\
services:
  web:
    image: nginx
    ports: !reset []
    command: !reset null
    environment: !override
      A: 1
    volumes:
      - data:/a
      - !reset other:/b
"""


def test_reset_removes_the_key_and_records_it():
    document = yamlsrc.load(COMPOSE_TAGS)
    web = document.data["services"]["web"]
    assert web == {"image": "nginx", "environment": {"A": 1}, "volumes": ["data:/a"]}
    assert document.tags == {
        ("services", "web", "ports"): "!reset",
        ("services", "web", "command"): "!reset",
        ("services", "web", "environment"): "!override",
    }


def test_untagged_document_has_no_tags():
    assert yamlsrc.load("services: {a: {image: x}}\n").tags == {}


# -- the source map --------------------------------------------------------

SOURCE = """\
services:
  web:
    image: nginx
    ports:
      - "80:80"
      - target: 443
    environment: !override
      A: "1"
"""


@pytest.mark.parametrize("path, key, position", [
    ((), False, (1, 1)),
    (("services",), True, (1, 1)),
    (("services", "web"), True, (2, 3)),
    (("services", "web"), False, (3, 5)),
    (("services", "web", "image"), False, (3, 12)),
    (("services", "web", "image"), True, (3, 5)),
    (("services", "web", "ports", 0), False, (5, 9)),
    (("services", "web", "ports", 1, "target"), False, (6, 17)),
    (("services", "web", "ports", 1, "target"), True, (6, 9)),
    (("services", "web", "environment"), False, (7, 18)),  # where the tag starts
    (("services", "web", "environment", "A"), True, (8, 7)),
    # unknown paths fall back to their closest known ancestor
    (("services", "web", "ports", 7), False, (5, 7)),  # the list itself
    (("services", "web", "nope", "deeper"), False, (3, 5)),
    (("services", "web", "nope"), True, (2, 3)),
    (("elsewhere",), False, (1, 1)),
    # a list item has no key: its value's position stands in
    (("services", "web", "ports", 0), True, (5, 9)),
])
def test_source_map_locates(path, key, position):
    source = yamlsrc.load(SOURCE, "compose.yaml").source
    assert source.file == "compose.yaml"
    assert source.locate(path, key=key) == position


def test_source_map_of_empty_file_knows_nothing():
    assert yamlsrc.load("").source.locate(("services",)) == (None, None)


# -- syntax errors ---------------------------------------------------------

SYNTAX_ERRORS = [
    ("a: [1\n", 2, 1, "did not find expected ',' or ']'"),
    ("a:\n  b: 1\n c: 2\n", 3, 2, "did not find expected key"),
    ("a: b: c\n", 1, 5, "mapping values are not allowed"),
    ("\tfoo: 1\n", 1, 1, "cannot start any token"),
    ("a: *nope\n", 1, 4, "undefined alias"),
    ('a: "x\n', 2, 1, "unexpected end of stream"),
    ("? [a]\n: 1\n", 1, 3, "mapping keys must be strings"),
]


@pytest.mark.parametrize("text, line, column, words", SYNTAX_ERRORS)
def test_syntax_errors_carry_line_and_column(text, line, column, words):
    with pytest.raises(YamlSyntaxError) as caught:
        yamlsrc.load(text, "compose.yaml")
    error = caught.value
    assert (error.location.file, error.location.line, error.location.column) == ("compose.yaml", line, column)
    assert words in error.message
    assert str(error).startswith(f"compose.yaml:{line}:{column}: ")


# -- documents -------------------------------------------------------------

def test_multi_document_file():
    documents = yamlsrc.load_documents("a: 1\n---\nb: !reset 2\nc: 3\n", "f.yaml")
    assert [d.data for d in documents] == [{"a": 1}, {"c": 3}]
    assert [d.tags for d in documents] == [{}, {("b",): "!reset"}]
    # each document has its own map, with lines counted in the whole file
    assert documents[1].source.locate(("c",)) == (4, 4)
    assert documents[0].source.locate(("b",)) == (1, 1)
    assert yamlsrc.load("a: 1\n---\nb: 2\n").data == {"a": 1}


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_empty_file_is_one_empty_mapping(text):
    documents = yamlsrc.load_documents(text, "f.yaml")
    assert len(documents) == 1
    assert documents[0].data == {}
    assert documents[0].tags == {}


def test_explicit_empty_document_is_null():
    # binary: a file holding only `---` is "top-level object must be a mapping"
    assert yamlsrc.load("---\n").data is None

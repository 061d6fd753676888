"""The generated compose schema and the runtime validator.

- schemas/compose.schema.json is what ``generate()`` makes from the models;
- the generated schema has the official schema's shape, key by key: types,
  enums, bounds, patterns, required keys, closed objects, ``x-*`` keys and the
  order of properties (which is the models' field order);
- the validator reports every violation, with precise paths and messages.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import jsonschema
import pytest

from orchestrator.config import schema as schema_module
from orchestrator.config.validate import SCHEMA_PATH, Validator, Violation, validate

REPO = Path(__file__).resolve().parents[2]
OFFICIAL_PATH = REPO.parent / "shared" / "compose-spec" / "compose-spec.json"


@pytest.fixture(scope="module")
def generated() -> dict:
    return schema_module.generate()


@pytest.fixture(scope="module")
def official() -> dict:
    return json.loads(OFFICIAL_PATH.read_text())


def web(**keys) -> dict:
    return {"services": {"web": {"image": "nginx", **keys}}}


def paths(violations: list[Violation]) -> list[tuple]:
    return [v.path for v in violations]


# --- the checked-in schema -----------------------------------------------------

def test_checked_in_schema_is_up_to_date(generated):
    assert SCHEMA_PATH.exists(), "run: python -m orchestrator.config.schema --write"
    on_disk = SCHEMA_PATH.read_text(encoding="utf-8")
    assert on_disk == schema_module.render(generated), (
        "schemas/compose.schema.json is stale: the models changed. "
        "Run: python -m orchestrator.config.schema --write")


def test_rendering_is_stable_with_a_trailing_newline(generated):
    text = schema_module.render(generated)
    assert text.endswith("}\n")
    assert text == schema_module.render(json.loads(text))


def test_the_validator_understands_every_keyword_of_the_generated_schema(generated):
    Validator(generated)  # raises on a keyword it would otherwise ignore


def test_the_validator_refuses_keywords_it_does_not_implement():
    with pytest.raises(ValueError, match="unsupported schema keywords"):
        Validator({"type": "string", "format": "email"})


# --- the generated schema has the official schema's shape ----------------------

def resolve(root: dict, node: dict) -> dict:
    """``node``, or what its $ref points at."""
    while "$ref" in node:
        target = root
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def shape(root: dict) -> dict:
    """What a schema says at each place of a document ("services", "<pattern>",
    "build", "[]", ...), unions merged: types, enums, bounds, patterns,
    uniqueItems, and for mappings their properties in order, whether other
    keys are refused, their key patterns and required keys."""
    facts: dict = defaultdict(set)

    def walk(node, where: tuple) -> None:
        if node is True or node == {}:
            facts[where].add(("any",))
            return
        if "$ref" in node:
            walk(resolve(root, {"$ref": node["$ref"]}), where)
        for keyword in ("anyOf", "oneOf", "allOf"):
            for branch in node.get(keyword, ()):
                walk(branch, where)
        declared = node.get("type")
        types = None if declared is None else {declared} if isinstance(declared, str) else set(declared)
        for name in types or ():
            facts[where].add(("type", name))
        _leaf_facts(node, facts[where])
        if _is_mapping(node) and (types is None or "object" in types):
            _mapping_facts(node, where, facts[where], walk)
        if "items" in node and (types is None or "array" in types):
            walk(node["items"], where + ("[]",))

    walk(root, ())
    return dict(facts)


def _leaf_facts(node: dict, found: set) -> None:
    if "enum" in node or "const" in node:
        found.add(("enum", tuple(node.get("enum", [node.get("const")]))))
    for keyword in ("minimum", "maximum", "pattern"):
        if keyword in node:
            found.add((keyword, node[keyword]))
    if node.get("uniqueItems"):
        found.add(("uniqueItems",))


def _is_mapping(node: dict) -> bool:
    return bool({"properties", "patternProperties", "additionalProperties", "required"} & set(node))


def _mapping_facts(node: dict, where: tuple, found: set, walk) -> None:
    properties = node.get("properties", {})
    patterns = node.get("patternProperties", {})
    found.add(("properties", tuple(properties)))
    found.add(("closed", node.get("additionalProperties", True) is False))
    found.add(("key patterns", tuple(sorted(patterns))))
    found.add(("required", tuple(sorted(node.get("required", ())))))
    for name, sub in properties.items():
        walk(sub, where + (name,))
    for pattern, sub in patterns.items():
        walk(sub, where + (f"<{pattern}>",))
    if isinstance(node.get("additionalProperties"), dict):
        walk(node["additionalProperties"], where + ("<other>",))


def test_generated_schema_says_what_the_official_schema_says(generated, official):
    ours, theirs = shape(generated), shape(official)
    assert set(ours) == set(theirs), {
        "only in ours": sorted(set(ours) - set(theirs)),
        "only in the official schema": sorted(set(theirs) - set(ours))}
    different = {where: {"ours": sorted(ours[where] - theirs[where]),
                         "official": sorted(theirs[where] - ours[where])}
                 for where in ours if ours[where] != theirs[where]}
    assert not different


def test_the_shape_comparison_would_notice_a_difference(generated, official):
    tampered = json.loads(json.dumps(generated))
    tampered["$defs"]["Service"]["properties"]["cgroup"]["enum"].append("other")
    assert shape(tampered) != shape(official)


# --- x-* keys where, and only where, the official schema allows them ----------

def branch(root: dict, node: dict, want: str) -> dict:
    """The form of ``node`` that is a mapping (``want="object"``) or a list."""
    node = resolve(root, node)
    for keyword in ("oneOf", "anyOf"):
        for option in node.get(keyword, ()):
            option = branch(root, option, want)
            if option is not None:
                return option
    declared = node.get("type", "object" if "properties" in node else None)
    declared = [declared] if isinstance(declared, str) else declared or []
    return node if want in declared else None


def minimal(root: dict, node: dict):
    """A smallest valid value for ``node`` (of the official schema)."""
    node = resolve(root, node)
    options = node.get("oneOf") or node.get("anyOf")
    if options:
        return minimal(root, next(o for o in options if o.get("type") != "null"))
    if "enum" in node:
        return node["enum"][0]
    declared = node.get("type", "object")
    declared = declared if isinstance(declared, str) else declared[0]
    if declared == "object":
        return {name: minimal(root, node["properties"][name]) for name in node.get("required", ())}
    return {"string": "a", "integer": 1, "number": 1, "boolean": True, "array": [],
            "null": None}[declared]


def empty(root: dict, node: dict, want: str):
    """An empty list, or a mapping with just its required keys."""
    if want == "array":
        return []
    return {name: minimal(root, node["properties"][name]) for name in node.get("required", ())}


SAMPLE_KEYS = {"^[a-zA-Z0-9._-]+$": "a", "^[a-z]+$": "nofile", ".+": "k", "^.+$": "k"}


def document_reaching(where: tuple, official: dict, extra_key: str) -> tuple[dict, tuple]:
    """A minimal valid document with ``extra_key`` added to the mapping at
    ``where`` (a place of ``shape()``), and the key path of that extra key."""
    document: dict = {}
    value, node, key_path = document, official, []
    for index, step in enumerate(where):
        want = "array" if where[index + 1:index + 2] == ("[]",) else "object"
        if step == "[]":
            node = branch(official, node["items"], want)
            value.append(empty(official, node, want))
            value, key = value[-1], 0
        else:
            pattern = step[1:-1] if step.startswith("<") else None
            sub = node["patternProperties"][pattern] if pattern else node["properties"][step]
            node = branch(official, sub, want)
            key = SAMPLE_KEYS[pattern] if pattern else step
            value[key] = empty(official, node, want)
            value = value[key]
        key_path.append(key)
    value[extra_key] = 1
    return document, tuple(key_path) + (extra_key,)


def closed_mappings(official: dict) -> dict:
    """Every place with closed mappings -> whether x-* keys are allowed there."""
    found = {}
    for where, facts in shape(official).items():
        if ("closed", True) in facts and any(f[0] == "properties" and f[1] for f in facts):
            patterns = {p for kind, *rest in facts if kind == "key patterns" for p in rest[0]}
            found[where] = "^x-" in patterns
    return found


def test_x_keys_are_allowed_exactly_where_the_official_schema_allows_them(official):
    places = closed_mappings(official)
    assert sum(places.values()) > 40 and not all(places.values())
    for where, allowed in sorted(places.items()):
        document, key_path = document_reaching(where, official, "x-test")
        assert jsonschema.Draft7Validator(official).is_valid(document) == allowed, where
        ours = validate(document)
        if allowed:
            assert ours == [], (where, document)
        else:
            assert [(v.path, v.key) for v in ours] == [(key_path, True)], (where, document)


def test_other_unknown_keys_are_refused_at_every_closed_mapping(official):
    for where in sorted(closed_mappings(official)):
        document, key_path = document_reaching(where, official, "y-test")
        ours = validate(document)
        assert [(v.path, v.key) for v in ours] == [(key_path, True)], (where, document)
        assert ours[0].message.startswith('unknown key "y-test"')


def test_x_keys_at_many_levels_of_one_document():
    document = {
        "x-top": {"anything": [1, 2]},
        "services": {"web": {
            "x-service": 1, "image": "nginx",
            "build": {"context": ".", "x-build": 1},
            "deploy": {"x-deploy": 1, "resources": {"x-r": 1, "limits": {"x-l": 1}}},
            "healthcheck": {"test": "true", "x-h": 1},
            "ports": [{"target": 80, "x-p": 1}],
            "volumes": [{"type": "bind", "source": ".", "target": "/a", "bind": {"x-b": 1}}],
            "depends_on": {"db": {"condition": "service_started", "x-d": 1}},
            "networks": {"front": {"x-n": 1}},
            "logging": {"x-log": 1},
            "ulimits": {"nofile": {"soft": 1, "hard": 2, "x-u": 1}},
        }},
        "networks": {"front": {"x-net": 1, "ipam": {"x-i": 1, "config": [{"x-c": 1}]}}},
        "volumes": {"data": {"x-vol": 1}},
        "secrets": {"s": {"file": "f", "x-sec": 1}},
        "configs": {"c": {"file": "f", "x-conf": 1}},
        "models": {"m": {"model": "ai/m", "x-model": 1}},
    }
    assert validate(document) == []


# --- the validator ---------------------------------------------------------------

def test_a_valid_document_has_no_violations():
    assert validate({"services": {"web": {"image": "nginx", "ports": ["80:80"]}}}) == []
    assert validate({}) == []


def test_unknown_key_suggests_the_closest_known_key():
    [violation] = validate(web(enviroment={"A": "1"}))
    assert violation == Violation(("services", "web", "enviroment"),
                                  'unknown key "enviroment" (did you mean "environment"?)', True)


def test_unknown_key_suggestions_at_several_levels():
    found = validate({"servics": {}, "services": {"web": {
        "image": "nginx", "build": {"dockerfil": "D"}, "deploy": {"resources": {"limit": {}}}}}})
    assert [(v.path, v.message) for v in found] == [
        (("servics",), 'unknown key "servics" (did you mean "services"?)'),
        (("services", "web", "build", "dockerfil"),
         'unknown key "dockerfil" (did you mean "dockerfile"?)'),
        (("services", "web", "deploy", "resources", "limit"),
         'unknown key "limit" (did you mean "limits"?)'),
    ]
    assert all(v.key for v in found)


def test_unknown_key_without_a_close_match_has_no_suggestion():
    [violation] = validate(web(zzzzzz=1))
    assert violation.message == 'unknown key "zzzzzz"'


def test_every_violation_is_reported_in_document_order():
    found = validate({"services": {
        "a": {"image": 1, "restart": ["no"], "bogus": True},
        "b": {"ports": [True], "cgroup": "hots", "cpu_percent": 101},
    }, "volumes": {"v": {"driver": 5}}})
    assert paths(found) == [
        ("services", "a", "image"), ("services", "a", "restart"), ("services", "a", "bogus"),
        ("services", "b", "ports", 0), ("services", "b", "cgroup"), ("services", "b", "cpu_percent"),
        ("volumes", "v", "driver"),
    ]


def test_nested_paths_use_ints_for_list_items():
    found = validate(web(deploy={"resources": {"reservations": {"devices": [
        {"capabilities": ["gpu"]}, {"capabilities": ["gpu"], "count": [1]}]}}}))
    assert paths(found) == [
        ("services", "web", "deploy", "resources", "reservations", "devices", 1, "count")]


@pytest.mark.parametrize("document, path, message", [
    ({"services": []}, ("services",), "must be a mapping, not a list"),
    (web(dns=5), ("services", "web", "dns"), "must be a string or a list of strings, not a number"),
    (web(cgroup="hots"), ("services", "web", "cgroup"),
     'must be one of "host", "private", not "hots" (did you mean "host"?)'),
    (web(ports=[True]), ("services", "web", "ports", 0),
     "must be a number, a string or a mapping, not a boolean"),
    (web(ports=[{"target": 80, "publised": 8080}]), ("services", "web", "ports", 0, "publised"),
     'unknown key "publised" (did you mean "published"?)'),
    (web(ports=["80:80", "80:80"]), ("services", "web", "ports", 1),
     'duplicate item "80:80" (same as item 0)'),
    (web(depends_on={"db": {"required": True}}), ("services", "web", "depends_on", "db"),
     'missing required key "condition"'),
    (web(oom_score_adj=-1001), ("services", "web", "oom_score_adj"), "must be at least -1000, not -1001"),
    (web(cpu_percent=2.5), ("services", "web", "cpu_percent"),
     "must be a string or an integer, not the fractional number 2.5"),
    (web(gpus="any"), ("services", "web", "gpus"), 'must be "all", not "any"'),
    (web(environment={"A": [1]}), ("services", "web", "environment", "A"),
     "must be a string, a number, a boolean or null, not a list"),
    (web(command=5), ("services", "web", "command"),
     "must be a string, a list of strings or null, not a number"),
    (web(container_name="-x"), ("services", "web", "container_name"),
     '"-x" does not match the pattern "[a-zA-Z0-9][a-zA-Z0-9_.-]+"'),
    ({"services": {"my web": {}}}, ("services", "my web"),
     'invalid key "my web": must match the pattern "^[a-zA-Z0-9._-]+$"'),
    (web(volumes=[{"source": "a", "target": "/b"}]), ("services", "web", "volumes", 0),
     'missing required key "type"'),
    (web(healthcheck={"test": ["CMD", 1]}), ("services", "web", "healthcheck", "test", 1),
     "must be a string, not a number"),
])
def test_messages_are_specific(document, path, message):
    found = validate(document)
    assert [(v.path, v.message) for v in found] == [(path, message)]


def test_a_document_that_is_not_a_mapping():
    assert validate(["services"]) == [Violation((), "must be a mapping, not a list", False)]


def test_json_equality_for_unique_items():
    assert validate(web(expose=[80, "80", 81])) == []
    assert paths(validate(web(expose=[80, 80.0]))) == [("services", "web", "expose", 1)]
    assert paths(validate(web(ports=[{"target": 80}, {"target": 80}]))) == [
        ("services", "web", "ports", 1)]


def test_integral_floats_are_integers_and_booleans_are_not_numbers():
    assert validate(web(scale=2.0)) == []
    assert paths(validate(web(scale=True))) == [("services", "web", "scale")]
    assert paths(validate(web(cpus=False))) == [("services", "web", "cpus")]


def test_explicit_nulls_only_where_the_specification_allows_them():
    assert validate({"services": {"web": {"image": "a", "command": None, "pid": None,
                                          "deploy": None, "networks": {"n": None}}},
                     "networks": {"n": None}, "volumes": {"v": None}}) == []
    found = validate({"services": {"web": {"image": None, "build": None}}, "secrets": {"s": None}})
    assert paths(found) == [("services", "web", "image"), ("services", "web", "build"),
                            ("secrets", "s")]


def test_violation_is_frozen_and_hashable():
    violation = Violation(("a",), "m", False)
    assert {violation: 1}[Violation(("a",), "m", False)] == 1
    with pytest.raises(AttributeError):
        violation.message = "other"  # type: ignore[misc]


# --- speed and imports -------------------------------------------------------------

def big_document(services: int = 200) -> dict:
    def service(i: int) -> dict:
        return {
            "image": f"app{i}:latest", "build": {"context": ".", "args": {"A": "1"}},
            "command": ["run", "--port", "80"], "environment": {"A": "1", "B": 2, "C": None},
            "ports": ["8080:80", {"target": 443, "published": "8443"}],
            "volumes": ["data:/data", {"type": "bind", "source": ".", "target": "/src"}],
            "depends_on": {f"s{(i + 1) % services}": {"condition": "service_healthy"}},
            "networks": {"front": {"aliases": ["a"]}, "back": None},
            "healthcheck": {"test": ["CMD", "true"], "interval": "5s"},
            "labels": ["a=b"], "restart": "always", "user": "1000", "working_dir": "/app",
            "deploy": {"resources": {"limits": {"cpus": "0.5", "memory": "64m"}}},
            "logging": {"driver": "local", "options": {"max-size": "1m"}},
            "ulimits": {"nofile": {"soft": 1, "hard": 2}}, "cap_add": ["NET_ADMIN"],
            "env_file": [".env"], "extra_hosts": ["h:1.2.3.4"], "x-meta": {"a": 1},
        }
    return {"services": {f"s{i}": service(i) for i in range(services)},
            "networks": {"front": {}, "back": {}}, "volumes": {"data": None}}


def test_a_200_service_document_validates_in_milliseconds():
    document = big_document()
    assert validate(document) == []
    best = min(_timed(validate, document) for _ in range(15))
    assert best < 0.05, f"validate() took {best * 1000:.1f} ms for 200 services"


def _timed(function, argument) -> float:
    start = time.perf_counter()
    function(argument)
    return time.perf_counter() - start


def test_validate_imports_neither_pydantic_nor_the_models_nor_jsonschema():
    code = ("import sys; from orchestrator.config.validate import validate; "
            "validate({'services': {'a': {'image': 'x'}}}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pydantic', 'jsonschema') or m.startswith('orchestrator.config.model')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, check=True)
    assert result.stdout.strip() == "[]"


# --- the models --------------------------------------------------------------------

def test_the_models_read_a_document_and_keep_extensions():
    from orchestrator.config.model import ComposeFile

    compose = ComposeFile.model_validate({
        "x-top": 1,
        "services": {"web": {"image": "nginx", "x-s": 2, "ports": [80, "81:81", {"target": 82}],
                             "environment": {"A": None}, "command": None, "scale": 2.0}},
        "networks": {"n": None},
    })
    service = compose.services["web"]
    assert compose.model_extra == {"x-top": 1}
    assert service.model_extra == {"x-s": 2}
    assert service.ports[2].target == 82 and service.scale == 2
    assert compose.networks == {"n": None}


@pytest.mark.parametrize("document", [
    {"services": {"web": {"imag": "nginx"}}},
    {"services": {"web": {"ports": [True]}}},
    {"services": {"web": {"cap_add": ["A", "A"]}}},
    {"services": {"bad name": {}}},
    {"services": {"web": {"depends_on": {"db": {}}}}},
    {"services": {"web": {"blkio_config": {"x-no": 1}}}},
])
def test_the_models_refuse_what_the_schema_refuses(document):
    from pydantic import ValidationError

    from orchestrator.config.model import ComposeFile

    with pytest.raises(ValidationError):
        ComposeFile.model_validate(document)
    assert validate(document) != []

"""The project as Docker Compose v2 prints it (Go struct shapes), JSON against
YAML, and the config hash. Expected values marked "binary" were observed with
the Docker Compose v2.40.3 binary (`config --format json|yaml`)."""
from __future__ import annotations

import pytest
import yaml

from orchestrator import naming
from orchestrator.config import shape
from orchestrator.config.load import load_project
from orchestrator.config.sources import Options


def model(services: str, **sections) -> dict:
    document = {"name": "p", "services": yaml.safe_load(services)}
    document.update({k: yaml.safe_load(v) for k, v in sections.items()})
    return document


def service(fmt: str, body: str) -> dict:
    return shape.render(model(f"{{a: {body}}}"), fmt)["services"]["a"]


# (service body, JSON, YAML) — every row: binary
SERVICE_SHAPES = {
    "command and entrypoint are null in JSON only": (
        "{image: x}",
        "{command: null, entrypoint: null, image: x}",
        "{image: x}"),
    "empty command stays an empty list": (
        "{image: x, command: [], entrypoint: []}",
        "{command: [], entrypoint: [], image: x}",
        "{command: [], entrypoint: [], image: x}"),
    "command string split like a shell": (
        "{command: 'echo \"hello world\"'}",
        "{command: [echo, hello world], entrypoint: null}",
        "{command: [echo, hello world]}"),
    "x- keys only in YAML": (
        "{image: x, x-note: hi}",
        "{command: null, entrypoint: null, image: x}",
        "{image: x, x-note: hi}"),
    "byte sizes are decimal strings, zero omitted": (
        "{shm_size: 64m, mem_limit: 0, memswap_limit: 1g}",
        "{command: null, entrypoint: null, memswap_limit: '1073741824', shm_size: '67108864'}",
        "{memswap_limit: '1073741824', shm_size: '67108864'}"),
    "durations in Go's format": (
        "{stop_grace_period: 90s, healthcheck: {test: curl x, interval: 1m30s, timeout: 1500ms, retries: 0}}",
        "{command: null, entrypoint: null, stop_grace_period: 1m30s,"
        " healthcheck: {test: [CMD-SHELL, curl x], timeout: 1.5s, interval: 1m30s, retries: 0}}",
        "{stop_grace_period: 1m30s,"
        " healthcheck: {test: [CMD-SHELL, curl x], timeout: 1.5s, interval: 1m30s, retries: 0}}"),
    "file modes in octal": (
        "{secrets: [{source: t, target: /run/secrets/t, mode: 288}, {source: u, mode: '0400'}]}",
        "{command: null, entrypoint: null,"
        " secrets: [{source: t, target: /run/secrets/t, mode: '0440'}, {source: u, mode: '0400'}]}",
        "{secrets: [{source: t, target: /run/secrets/t, mode: '0440'}, {source: u, mode: '0400'}]}"),
    "ulimits: a number, or soft/hard (zeros kept in YAML only)": (
        "{ulimits: {nproc: 65535, nofile: {soft: 1024, hard: 2048}, core: {soft: 0, hard: 0}}}",
        "{command: null, entrypoint: null,"
        " ulimits: {core: {}, nofile: {soft: 1024, hard: 2048}, nproc: 65535}}",
        "{ulimits: {core: {soft: 0, hard: 0}, nofile: {soft: 1024, hard: 2048}, nproc: 65535}}"),
    "env_file: a path when required, else a mapping (format in JSON only)": (
        "{env_file: [{path: /p/a.env, required: true}, {path: /p/b.env, required: false, format: raw}]}",
        "{command: null, entrypoint: null, env_file: [/p/a.env, {path: /p/b.env, required: false, format: raw}]}",
        "{env_file: [/p/a.env, {path: /p/b.env, required: false}]}"),
    "environment and labels as sorted strings": (
        "{labels: {b: null, a: 1}, environment: {Z: null, A: 1.5}, cpus: '0.5'}",
        "{cpus: 0.5, command: null, entrypoint: null, environment: {A: '1.5', Z: null}, labels: {a: '1', b: ''}}",
        "{cpus: 0.5, environment: {A: '1.5', Z: null}, labels: {a: '1', b: ''}}"),
    "extra_hosts as sorted host=ip": (
        "{extra_hosts: ['h:1.1.1.1', 'a=2.2.2.2'], tmpfs: /run}",
        "{command: null, entrypoint: null, extra_hosts: [a=2.2.2.2, h=1.1.1.1], tmpfs: [/run]}",
        "{extra_hosts: [a=2.2.2.2, h=1.1.1.1], tmpfs: [/run]}"),
    "deploy value structs are printed in JSON": (
        "{deploy: {replicas: 2}}",
        "{command: null, entrypoint: null, deploy: {replicas: 2, resources: {}, placement: {}}}",
        "{deploy: {replicas: 2}}"),
}


@pytest.mark.parametrize("body, as_json, as_yaml", SERVICE_SHAPES.values(), ids=SERVICE_SHAPES.keys())
def test_service_shapes(body, as_json, as_yaml):
    assert service(shape.JSON, body) == yaml.safe_load(as_json)
    assert service(shape.YAML, body) == yaml.safe_load(as_yaml)


def test_service_fields_in_struct_order():
    body = "{volumes: [{type: volume, source: v, target: /v}], image: x, cpus: 1, ports: [{target: 80}]}"
    assert list(service(shape.YAML, body)) == ["cpus", "image", "ports", "volumes"]
    assert list(service(shape.JSON, body)) == ["cpus", "command", "entrypoint", "image", "ports", "volumes"]


def test_dependency_extensions_in_yaml():
    body = "{depends_on: {b: {condition: service_started, required: true, x-y: 1}}}"
    # binary: depends_on: {b: {condition: service_started, required: true, x-y: 1}}
    assert service(shape.YAML, body)["depends_on"] == {
        "b": {"condition": "service_started", "required": True, "x-y": 1}}


def test_dependency_extensions_not_in_json():
    body = "{depends_on: {b: {condition: service_started, required: true, x-y: 1}}}"
    assert service(shape.JSON, body)["depends_on"] == {"b": {"condition": "service_started", "required": True}}


def test_document_json_vs_yaml():
    document = model("{a: {image: x}}",
                     networks="{n: {name: p_n}, e: {name: ext, external: true}}",
                     volumes="{v: {name: p_v, labels: {}}}",
                     models="{m: {model: ai/x}}",
                     **{"x-top": "1"})
    as_json, as_yaml = shape.render(document, shape.JSON), shape.render(document, shape.YAML)
    # JSON: keys sorted, ipam {} on every network, no models (binary)
    assert list(as_json) == ["name", "networks", "services", "volumes", "x-top"]
    assert as_json["networks"] == {"e": {"name": "ext", "ipam": {}, "external": True}, "n": {"name": "p_n", "ipam": {}}}
    assert "models" not in as_json
    # YAML: name, services, then the resources
    assert list(as_yaml) == ["name", "services", "networks", "volumes", "models", "x-top"]
    assert as_yaml["networks"] == {"e": {"name": "ext", "external": True}, "n": {"name": "p_n"}}
    assert as_yaml["volumes"] == as_json["volumes"] == {"v": {"name": "p_v"}}
    assert as_yaml["models"] == {"m": {"model": "ai/x"}}


def test_content_from_the_environment_is_not_printed():
    # the model holds the value of `environment:`; compose prints only the variable's name (binary)
    document = model("{}", secrets="{s: {name: p_s, environment: SECRET, content: hunter2}}",
                     configs="{c: {name: p_c, content: x}, d: {name: p_d, environment: SECRET, content: hunter2}}")
    rendered = shape.render(document, shape.JSON)
    assert rendered["secrets"] == {"s": {"name": "p_s", "environment": "SECRET"}}
    assert rendered["configs"] == {"c": {"name": "p_c", "content": "x"},
                                   "d": {"name": "p_d", "environment": "SECRET"}}


@pytest.mark.parametrize("value, escaped", [
    ("a$b", "a$$b"),
    ({"k$": ["$x", 1, None]}, {"k$$": ["$$x", 1, None]}),
])
def test_escape_dollars(value, escaped):
    assert shape.escape_dollars(value) == escaped


# -- config hash ---------------------------------------------------------------

BASE = {"image": "nginx", "command": None, "entrypoint": None, "networks": {"default": None}}


def test_config_hash_is_stable():
    assert naming.config_hash(dict(BASE)) == naming.config_hash(dict(BASE))
    assert len(naming.config_hash(BASE)) == 64


@pytest.mark.parametrize("extra", [
    {"build": {"context": "."}},
    {"pull_policy": "always"},
    {"scale": 3},
    {"depends_on": {"db": {"condition": "service_started", "required": True}}},
    {"profiles": ["debug"]},
])
def test_config_hash_ignores(extra):
    assert naming.config_hash({**BASE, **extra}) == naming.config_hash(BASE)


def test_config_hash_ignores_replicas_only():
    with_replicas = {**BASE, "deploy": {"replicas": 3, "resources": {}, "placement": {}}}
    without = {**BASE, "deploy": {"resources": {}, "placement": {}}}
    assert naming.config_hash(with_replicas) == naming.config_hash(without)
    assert with_replicas["deploy"]["replicas"] == 3  # the input is not modified
    assert naming.config_hash(without) != naming.config_hash(BASE)


@pytest.mark.parametrize("change", [{"image": "nginx:2"}, {"environment": {"A": "1"}}, {"command": ["run"]}])
def test_config_hash_changes(change):
    assert naming.config_hash({**BASE, **change}) != naming.config_hash(BASE)


def test_go_json_escapes_like_go():
    assert naming.go_json({"c": "a && b <x> é", "n": None}) == '{"c":"a \\u0026\\u0026 b \\u003cx\\u003e é","n":null}'


# Expected hashes: `docker-compose config --hash '*'` (Docker Compose v2.40.3)
# run once on these files when this test was written.
HASHED = {
    "two services": ("""\
name: hashdemo
services:
  web:
    image: nginx:1.25
    command: ["nginx", "-g", "daemon off;"]
    ports:
      - "8080:80"
    environment:
      MODE: prod
    depends_on: [db]
    pull_policy: always
    profiles: []
  db:
    image: postgres:16
    build: .
    deploy:
      replicas: 2
""", {"db": "c52c6988e4ff52602c06b4c7baf768bfd545b096c27f122405029444ee45564d",
      "web": "57160dcee9ced5ae8dc8b5c7c333c53fe9b31cf68868b0456a680060c6f9502f"}),
    "characters Go escapes": ("""\
name: hashdemo
services:
  app:
    image: busybox
    command: ["sh", "-c", "true && echo <ok> é"]
    labels:
      a: "1"
    environment:
      X: null
""", {"app": "ec018669b83e00133dabbee8cefe9b534ba59d3d81d2e6617b7c06a7c6cbd8cf"}),
    "a literal dollar": ("""\
name: hashdemo
services:
  app:
    image: busybox
    command: echo $$HOME
""", {"app": "64377c980e2432134ce584f741be5927ff071f0697a22ac0da8745fa50b4388b"}),
}


@pytest.mark.parametrize("text, hashes", HASHED.values(), ids=HASHED.keys())
def test_config_hash_matches_the_reference(tmp_path, text, hashes):
    (tmp_path / "compose.yaml").write_text(text)
    project = load_project(Options(cwd=str(tmp_path), environ={}))
    rendered = shape.render(project.model, shape.JSON)["services"]
    assert {name: naming.config_hash(rendered[name]) for name in rendered} == hashes

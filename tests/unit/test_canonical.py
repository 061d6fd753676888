"""Short syntax to long syntax (compose-go's transform), one rule per row:
each case is a YAML input and the YAML it must become."""
from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.config.canonical import canonical
from orchestrator.config.errors import SchemaError

# (input, expected) — a bare service body is wrapped in services: {s: ...}
SERVICE_RULES = {
    "ports": ("""
        ports: ["80", "8080:80", "127.0.0.1:53:53/udp", 9000, {target: 443, published: 8443}]
        """, """
        ports:
          - {mode: ingress, target: 80, protocol: tcp}
          - {mode: ingress, target: 80, published: "8080", protocol: tcp}
          - {mode: ingress, host_ip: 127.0.0.1, target: 53, published: "53", protocol: udp}
          - {mode: ingress, target: 9000, protocol: tcp}
          - {target: 443, published: "8443"}
        """),
    "port range": ("""
        ports: ["8000-8001:80-81"]
        """, """
        ports:
          - {mode: ingress, target: 80, published: "8000", protocol: tcp}
          - {mode: ingress, target: 81, published: "8001", protocol: tcp}
        """),
    "volumes": ("""
        volumes: ["data:/data/", "./src:/app:ro", "/anon", {type: tmpfs, target: /t}]
        """, """
        volumes:
          - {type: volume, source: data, target: /data, volume: {}}
          - {type: bind, source: ./src, target: /app, read_only: true, bind: {create_host_path: true}}
          - {type: volume, target: /anon, volume: {}}
          - {type: tmpfs, target: /t}
        """),
    "depends_on list": ("""
        depends_on: [db, cache]
        """, """
        depends_on:
          db: {condition: service_started, required: true}
          cache: {condition: service_started, required: true}
        """),
    # Long-syntax entries keep what was written: an override file may complete
    # them, so their defaults come after the merge (test below).
    "depends_on map kept as written": ("""
        depends_on: {db: {condition: service_healthy}, cache: {required: false}, q: {restart: true}}
        """, """
        depends_on: {db: {condition: service_healthy}, cache: {required: false}, q: {restart: true}}
        """),
    "env_file string": ("""
        env_file: .env
        """, """
        env_file: [{path: .env, required: true}]
        """),
    "env_file list and long": ("""
        env_file: [a.env, {path: b.env, required: false}, {path: c.env, format: raw}]
        """, """
        env_file:
          - {path: a.env, required: true}
          - {path: b.env, required: false}
          - {path: c.env, format: raw, required: true}
        """),
    "environment list": ("""
        environment: [A=1, B, C=, D=x=y]
        """, """
        environment: {A: "1", B: null, C: "", D: x=y}
        """),
    "environment map kept": ("""
        environment: {A: 1, B: null}
        """, """
        environment: {A: 1, B: null}
        """),
    "labels list": ("""
        labels: [a=1, b]
        """, """
        labels: {a: "1", b: ""}
        """),
    "annotations and sysctls lists": ("""
        annotations: [a=b]
        sysctls: [net.core.somaxconn=1024]
        """, """
        annotations: {a: b}
        sysctls: {net.core.somaxconn: "1024"}
        """),
    "deploy labels list": ("""
        deploy: {labels: [x=1, y]}
        """, """
        deploy: {labels: {x: "1", y: ""}}
        """),
    "networks list": ("""
        networks: [front, back]
        """, """
        networks: {front: null, back: null}
        """),
    "models list": ("""
        models: [llm]
        """, """
        models: {llm: null}
        """),
    "build string": ("""
        build: ./dir
        """, """
        build: {context: ./dir}
        """),
    "build long": ("""
        build:
          context: .
          ssh: [default, key=/path]
          additional_contexts: [base=../base]
          args: [X=1, Y]
          labels: [z]
          secrets: [s, {source: t, target: u}]
          provenance: true
          sbom: false
        """, """
        build:
          context: .
          ssh: {default: null, key: /path}
          additional_contexts: {base: ../base}
          args: {X: "1", Y: null}
          labels: {z: ""}
          secrets: [{source: s}, {source: t, target: u}]
          provenance: "true"
          sbom: "false"
        """),
    "extends string": ("""
        extends: base
        """, """
        extends: {service: base}
        """),
    "secrets and configs short": ("""
        secrets: [token, {source: key, target: /k}]
        configs: [conf]
        """, """
        secrets: [{source: token}, {source: key, target: /k}]
        configs: [{source: conf}]
        """),
    "devices short": ("""
        devices: [/dev/a, "/dev/b:/dev/c", "/dev/d:/dev/e:r", "/dev/f::rw", {source: /dev/g, target: /dev/g}]
        """, """
        devices:
          - {source: /dev/a, target: /dev/a, permissions: rwm}
          - {source: /dev/b, target: /dev/c, permissions: rwm}
          - {source: /dev/d, target: /dev/e, permissions: r}
          - {source: /dev/f, target: /dev/f, permissions: rw}
          - {source: /dev/g, target: /dev/g}
        """),
    "dns string": ("""
        dns: 8.8.8.8
        """, """
        dns: [8.8.8.8]
        """),
    "label_file string": ("""
        label_file: labels.txt
        """, """
        label_file: [labels.txt]
        """),
    "gpus all": ("""
        gpus: all
        """, """
        gpus: [{count: all}]
        """),
    "gpus list kept": ("""
        gpus: [{driver: nvidia, count: 1}]
        """, """
        gpus: [{driver: nvidia, count: 1}]
        """),
    "develop watch ignore/include": ("""
        develop: {watch: [{path: ., action: sync, ignore: node_modules, include: [src]}]}
        """, """
        develop: {watch: [{path: ., action: sync, ignore: [node_modules], include: [src]}]}
        """),
    "untouched keys": ("""
        image: nginx
        command: echo hi
        tmpfs: /run
        """, """
        image: nginx
        command: echo hi
        tmpfs: /run
        """),
}


def service_doc(body: str) -> dict:
    return {"services": {"s": yaml.safe_load(body)}}


@pytest.mark.parametrize("source, expected", SERVICE_RULES.values(), ids=SERVICE_RULES.keys())
def test_service_rules(source, expected):
    assert canonical(service_doc(source)) == service_doc(expected)


DOCUMENT_RULES = {
    "external name": ("""
        networks: {n: {external: {name: real}}}
        volumes: {v: {external: true}}
        secrets: {s: {external: {name: sec}, name: sec}}
        configs: {c: {external: {}}}
        """, """
        networks: {n: {external: true, name: real}}
        volumes: {v: {external: true}}
        secrets: {s: {external: true, name: sec}}
        configs: {c: {external: true}}
        """),
    "resource labels": ("""
        networks: {n: {labels: [a=1, b]}}
        volumes: {v: {labels: [c=2]}, w: null}
        """, """
        networks: {n: {labels: {a: "1", b: ""}}}
        volumes: {v: {labels: {c: "2"}}, w: null}
        """),
    "include short": ("""
        include: [a.yaml, {path: [b.yaml, c.yaml], project_directory: ..}]
        """, """
        include: [{path: a.yaml}, {path: [b.yaml, c.yaml], project_directory: ..}]
        """),
}


@pytest.mark.parametrize("source, expected", DOCUMENT_RULES.values(), ids=DOCUMENT_RULES.keys())
def test_document_rules(source, expected):
    assert canonical(yaml.safe_load(source)) == yaml.safe_load(expected)


def test_lenient_keeps_values_that_do_not_parse_yet():
    source = service_doc("""
        ports: ["${P}:80", "8080:80"]
        volumes: ["data:/data", ":${X}:/y"]
        environment: [A=1, B]
        labels: [x]
        depends_on: [db]
        """)
    expected = service_doc("""
        ports: ["${P}:80", "8080:80"]
        volumes: [{type: volume, source: data, target: /data, volume: {}}, ":${X}:/y"]
        environment: [A=1, B]
        labels: [x]
        depends_on: {db: {condition: service_started, required: true}}
        """)
    assert canonical(source, lenient=True) == expected


ERRORS = [
    ("ports: ['80800']", ("services", "s", "ports", 0), "80800"),
    ("ports: ['80', '8000-8001:80-82']", ("services", "s", "ports", 1), "8000-8001"),
    ("volumes: ['data:/d', ':/x']", ("services", "s", "volumes", 1), "empty section"),
    ("environment: ['A =1']", ("services", "s", "environment", 0), "trailing space"),
    ("devices: ['a:b:c:d']", ("services", "s", "devices", 0), "long syntax"),
    ("build: {ssh: [x]}", ("services", "s", "build", "ssh", 0), "ssh"),
    ("build: {additional_contexts: [x]}", ("services", "s", "build", "additional_contexts", 0), "key=value"),
]


@pytest.mark.parametrize("body, path, words", ERRORS)
def test_errors_name_the_key_path(body, path, words):
    with pytest.raises(SchemaError) as caught:
        canonical(service_doc(body))
    assert caught.value.location.path == path
    assert words in caught.value.message


def test_external_name_conflict():
    with pytest.raises(SchemaError) as caught:
        canonical(yaml.safe_load("networks: {n: {name: a, external: {name: b}}}"))
    assert caught.value.location.path == ("networks", "n", "external")
    assert "conflict" in caught.value.message


# -- idempotence -----------------------------------------------------------

names = st.sampled_from(["db", "web", "cache", "front", "data"])
port_numbers = st.integers(min_value=1, max_value=65535)
short_ports = st.one_of(
    port_numbers.map(str),
    st.tuples(port_numbers, port_numbers).map(lambda p: f"{p[0]}:{p[1]}"),
    st.tuples(port_numbers, st.sampled_from(["tcp", "udp"])).map(lambda p: f"{p[0]}/{p[1]}"),
    st.integers(min_value=1, max_value=60000).map(lambda p: f"{p}-{p + 2}"),
)
short_volumes = st.one_of(
    st.tuples(names, st.sampled_from(["/data", "/var/lib/x/"])).map(":".join),
    st.sampled_from(["./src:/app", "/host:/c:ro", "~/x:/x:rw,z", "/anon", "vol:/v:nocopy"]),
)
key_values = st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(["=1", "=", ""]))
                      .map("".join), max_size=3)
SERVICE_KEYS = {
    "ports": st.lists(short_ports, max_size=3),
    "volumes": st.lists(short_volumes, max_size=3),
    "depends_on": st.one_of(st.lists(names, max_size=2, unique=True),
                            st.dictionaries(names, st.just({"condition": "service_healthy"}), max_size=2)),
    "env_file": st.one_of(st.just(".env"), st.lists(st.sampled_from(["a.env", "b.env"]), max_size=2)),
    "environment": st.one_of(key_values, st.dictionaries(st.sampled_from(["A", "B"]), st.none())),
    "labels": key_values,
    "networks": st.lists(names, max_size=2, unique=True),
    "build": st.sampled_from([".", "./app"]),
    "extends": names,
    "secrets": st.lists(names, max_size=2),
    "configs": st.lists(names, max_size=2),
    "devices": st.lists(st.sampled_from(["/dev/a", "/dev/b:/dev/c", "/dev/d:/dev/e:r"]), max_size=2),
    "dns": st.one_of(st.just("8.8.8.8"), st.lists(st.just("1.1.1.1"), max_size=1)),
    "gpus": st.just("all"),
}
services = st.fixed_dictionaries({}, optional=SERVICE_KEYS)
documents = st.builds(
    lambda svcs, net: {"services": svcs, "networks": net},
    st.dictionaries(names, services, min_size=1, max_size=2),
    st.dictionaries(names, st.sampled_from([{"external": {"name": "x"}}, {"labels": ["a=b"]}, {}]), max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(documents)
def test_canonical_is_idempotent(document):
    once = canonical(copy.deepcopy(document))
    assert canonical(copy.deepcopy(once)) == once


def test_depends_on_defaults_come_after_the_merge():
    from orchestrator.config.normalize import apply_defaults
    model = {"services": {"web": {"depends_on": {
        "db": {"condition": "service_healthy"}, "cache": {"required": False}, "q": {"restart": True}}}}}
    apply_defaults(model)
    assert model["services"]["web"]["depends_on"] == {
        "db": {"condition": "service_healthy", "required": True},
        "cache": {"condition": "service_started", "required": False},
        "q": {"condition": "service_started", "required": True, "restart": True}}

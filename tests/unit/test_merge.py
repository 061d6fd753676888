"""Merging canonical documents (override files, extends): per-key rules and
unicity as tables of YAML base, YAML override and the YAML they merge into.
Every row's behaviour was checked against the Docker Compose v2.40.3 binary
with a compose.yaml + compose.override.yaml pair."""
from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.config import merge, yamlsrc


def merged(base: str, override: str, **options) -> dict:
    return merge.merge_documents(yaml.safe_load(base), yaml.safe_load(override), **options)


# (base, override, expected): service bodies of services.a
SERVICE_CASES = {
    "mappings merge key by key": (
        "{image: x, hostname: h, build: {context: ., args: {A: '1'}}}",
        "{image: y, user: u, build: {dockerfile: D}}",
        "{image: y, hostname: h, user: u, build: {context: ., dockerfile: D, args: {A: '1'}}}"),
    "command and entrypoint replace": (
        "{command: [a, b], entrypoint: [sh, -c]}",
        "{command: [c], entrypoint: [bash]}",
        "{command: [c], entrypoint: [bash]}"),
    "healthcheck.test replaces, the rest merges": (
        "{healthcheck: {test: [CMD, a], interval: 5s, retries: 3}}",
        "{healthcheck: {test: [CMD, z]}}",
        "{healthcheck: {test: [CMD, z], interval: 5s, retries: 3}}"),
    "lists append": (
        "{security_opt: [label=a, label=b], group_add: [g1]}",
        "{security_opt: [label=c], group_add: [g2]}",
        "{security_opt: [label=a, label=b, label=c], group_add: [g1, g2]}"),
    "environment: later wins, even null": (
        "{environment: {A: '1', B: '2'}}",
        "{environment: {B: null, C: '3'}}",
        "{environment: {A: '1', B: null, C: '3'}}"),
    "labels and build.args: later wins": (
        "{labels: {l1: a}, build: {args: {A: '1', B: '2'}}}",
        "{labels: {l1: b, l2: c}, build: {args: {B: null, C: '3'}}}",
        "{labels: {l1: b, l2: c}, build: {args: {A: '1', B: null, C: '3'}}}"),
    "dns, dns_search and tmpfs append without repeats": (
        "{dns: [1.1.1.1], dns_search: [a], tmpfs: /a}",
        "{dns: [2.2.2.2, 1.1.1.1], dns_search: [b], tmpfs: [/b, /a]}",
        "{dns: [1.1.1.1, 2.2.2.2], dns_search: [a, b], tmpfs: [/a, /b]}"),
    "env_file: one entry per path, the later in place": (
        "{env_file: [{path: a.env, required: true}]}",
        "{env_file: [{path: b.env, required: true}, {path: a.env, required: false}]}",
        "{env_file: [{path: a.env, required: false}, {path: b.env, required: true}]}"),
    "extra_hosts drop exact repeats only": (
        "{extra_hosts: ['h:1.1.1.1', 'g:2.2.2.2']}",
        "{extra_hosts: ['h:1.1.1.1', 'k:3.3.3.3', 'h:9.9.9.9']}",
        "{extra_hosts: ['h:1.1.1.1', 'g:2.2.2.2', 'k:3.3.3.3', 'h:9.9.9.9']}"),
    "logging, same driver: options merge": (
        "{logging: {driver: json-file, options: {max-size: 1m, max-file: '3'}}}",
        "{logging: {driver: json-file, options: {max-size: 2m}}}",
        "{logging: {driver: json-file, options: {max-size: 2m, max-file: '3'}}}"),
    "logging, different driver: replaced": (
        "{logging: {driver: json-file, options: {max-size: 1m}}}",
        "{logging: {driver: syslog, options: {tag: x}}}",
        "{logging: {driver: syslog, options: {tag: x}}}"),
    "logging, base without driver: options merge": (
        "{logging: {options: {a: '1'}}}",
        "{logging: {driver: syslog, options: {b: '2'}}}",
        "{logging: {driver: syslog, options: {a: '1', b: '2'}}}"),
    "ulimits: each limit replaced whole": (
        "{ulimits: {nofile: {soft: 1, hard: 2}, nproc: 5}}",
        "{ulimits: {nofile: {soft: 3}}}",
        "{ulimits: {nofile: {soft: 3}, nproc: 5}}"),
    "networks and depends_on merge per entry": (
        "{networks: {n1: null, n2: {aliases: [x, y]}}, depends_on: {b: {condition: service_healthy, required: true}}}",
        "{networks: {n1: {aliases: [z]}, n2: {aliases: [y, w]}}, depends_on: {b: {restart: true}}}",
        "{networks: {n1: {aliases: [z]}, n2: {aliases: [x, y, w]}},"
        " depends_on: {b: {condition: service_healthy, required: true, restart: true}}}"),
    "ports: one per ip:published:target/proto, the later in place": (
        "{ports: [{target: 80, published: '8080', protocol: tcp}, {target: 90, published: '9090', protocol: tcp}]}",
        "{ports: [{target: 90, published: '9090', protocol: tcp, mode: host}, {target: 81, published: '8081'}]}",
        "{ports: [{target: 80, published: '8080', protocol: tcp},"
        " {target: 90, published: '9090', protocol: tcp, mode: host}, {target: 81, published: '8081'}]}"),
    "ports differing by protocol or ip both stay": (
        "{ports: [{target: 53, published: '53', protocol: tcp}]}",
        "{ports: [{target: 53, published: '53', protocol: udp}, {target: 53, published: '53', host_ip: 127.0.0.1}]}",
        "{ports: [{target: 53, published: '53', protocol: tcp}, {target: 53, published: '53', protocol: udp},"
        " {target: 53, published: '53', host_ip: 127.0.0.1}]}"),
    "volumes: one per target": (
        "{volumes: [{type: volume, source: data, target: /data}, {type: volume, source: logs, target: /logs}]}",
        "{volumes: [{type: volume, source: other, target: /data}]}",
        "{volumes: [{type: volume, source: other, target: /data}, {type: volume, source: logs, target: /logs}]}"),
    "secrets: one per target, /run/secrets/<source> by default": (
        "{secrets: [{source: s1}, {source: s2, target: t}]}",
        "{secrets: [{source: s1, mode: 256}, {source: s3}, {source: s4, target: t}]}",
        "{secrets: [{source: s1, mode: 256}, {source: s4, target: t}, {source: s3}]}"),
    "configs: one per target, /<source> by default": (
        "{configs: [{source: c1}, {source: c2, target: /etc/c2}]}",
        "{configs: [{source: c3, target: /c1}, {source: c2, target: /etc/c2, mode: 292}]}",
        "{configs: [{source: c3, target: /c1}, {source: c2, target: /etc/c2, mode: 292}]}"),
    "devices: one per target": (
        "{devices: [{source: /dev/a, target: /dev/a}, {source: /dev/b, target: /dev/x}]}",
        "{devices: [{source: /dev/c, target: /dev/x}]}",
        "{devices: [{source: /dev/a, target: /dev/a}, {source: /dev/c, target: /dev/x}]}"),
    "cap_add, expose, profiles: no repeats": (
        "{cap_add: [A, B], expose: ['80', '81'], profiles: [p]}",
        "{cap_add: [B, C], expose: ['81', '82'], profiles: [p, q]}",
        "{cap_add: [A, B, C], expose: ['80', '81', '82'], profiles: [p, q]}"),
}


@pytest.mark.parametrize("base, override, expected", SERVICE_CASES.values(), ids=SERVICE_CASES.keys())
def test_service_rules(base, override, expected):
    wrap = "{{services: {{a: {}}}}}".format
    assert merged(wrap(base), wrap(override)) == yaml.safe_load(wrap(expected))


DOCUMENT_CASES = {
    "new services and resources are added": (
        "{services: {a: {image: x}}, volumes: {v: {}}}",
        "{services: {b: {image: y}}, volumes: {w: {driver: local}}}",
        "{services: {a: {image: x}, b: {image: y}}, volumes: {v: {}, w: {driver: local}}}"),
    "ipam.config: same subnet merges": (
        "{networks: {n: {ipam: {config: [{subnet: 10.0.0.0/24, gateway: 10.0.0.1}]}}}}",
        "{networks: {n: {ipam: {config: [{subnet: 10.0.0.0/24, ip_range: 10.0.0.0/25}]}}}}",
        "{networks: {n: {ipam: {config: [{subnet: 10.0.0.0/24, gateway: 10.0.0.1, ip_range: 10.0.0.0/25}]}}}}"),
    "ipam.config: another subnet replaces": (
        "{networks: {n: {ipam: {driver: default, config: [{subnet: 10.0.0.0/24}]}}}}",
        "{networks: {n: {ipam: {config: [{subnet: 10.1.0.0/24}]}}}}",
        "{networks: {n: {ipam: {driver: default, config: [{subnet: 10.1.0.0/24}]}}}}"),
    "network labels: later wins": (
        "{networks: {n: {labels: {a: '1', b: '2'}}}}",
        "{networks: {n: {labels: {b: '3'}}}}",
        "{networks: {n: {labels: {a: '1', b: '3'}}}}"),
    "x- keys merge like mappings": (
        "{x-common: {a: 1, list: [1]}}",
        "{x-common: {b: 2, list: [2]}}",
        "{x-common: {a: 1, b: 2, list: [1, 2]}}"),
}


@pytest.mark.parametrize("base, override, expected", DOCUMENT_CASES.values(), ids=DOCUMENT_CASES.keys())
def test_document_rules(base, override, expected):
    assert merged(base, override) == yaml.safe_load(expected)


def test_raw_model_merges_environment_as_sequences():
    # binary, `config --no-interpolate`: environment: [A=1, B, C=3]
    base = "{services: {a: {environment: {A: '1', B: '2'}}}}"
    override = "{services: {a: {environment: {B: null, C: '3'}}}}"
    assert merged(base, override, raw=True) == {"services": {"a": {"environment": ["A=1", "B", "C=3"]}}}


@pytest.mark.parametrize("path, base, other, expected", [
    (("services", "a", "command"), ["a"], ["b"], ["b"]),
    (("services", "a", "entrypoint"), "sh", ["bash"], ["bash"]),
    (("services", "a", "ulimits", "nofile"), {"soft": 1, "hard": 2}, {"soft": 3}, {"soft": 3}),
    (("services", "a", "environment"), {"A": "1"}, {"A": None}, {"A": None}),
    (("services", "a", "image"), "x", None, "x"),
    (("services", "a", "volumes"), [1], [2], [1, 2]),
    (("x-other",), {"a": [1]}, {"a": [2]}, {"a": [1, 2]}),
])
def test_merge_values_by_path(path, base, other, expected):
    snapshot = copy.deepcopy((base, other))
    assert merge.merge_values(base, other, path) == expected
    assert (base, other) == snapshot  # neither input is modified


@pytest.mark.parametrize("service, expected", [
    ({"cap_add": ["A", "B", "A"]}, {"cap_add": ["A", "B"]}),
    ({"dns": ["1.1.1.1", "1.1.1.1"]}, {"dns": ["1.1.1.1"]}),
    ({"ports": [{"target": 80, "published": "1"}, {"target": 80, "published": "1", "mode": "host"}]},
     {"ports": [{"target": 80, "published": "1", "mode": "host"}]}),
    ({"volumes": [{"target": "/d", "source": "a"}, {"target": "/e"}, {"target": "/d", "source": "b"}]},
     {"volumes": [{"target": "/d", "source": "b"}, {"target": "/e"}]}),
    ({"secrets": [{"source": "s"}, {"source": "t", "target": "/run/secrets/s"}]},
     {"secrets": [{"source": "t", "target": "/run/secrets/s"}]}),
    ({"build": {"tags": ["a:1", "a:1"]}}, {"build": {"tags": ["a:1"]}}),
    ({"networks": {"n": {"aliases": ["x", "y", "x"]}, "m": None}},
     {"networks": {"n": {"aliases": ["x", "y"]}, "m": None}}),
    ({"security_opt": ["a", "a"]}, {"security_opt": ["a", "a"]}),  # not a unique key
])
def test_enforce_unicity(service, expected):
    assert merge.enforce_unicity(service) == expected


# -- !reset and !override --------------------------------------------------

BASE = """
services:
  a:
    image: x
    ports: [{target: 80}]
    command: [run]
    cap_add: [A, B]
    labels: {keep: '1', drop: '2'}
    environment: {A: '1'}
"""
TAG_CASES = {
    "reset removes the key": (
        "services:\n  a:\n    ports: !reset []\n    command: !reset null\n",
        "{image: x, cap_add: [A, B], labels: {keep: '1', drop: '2'}, environment: {A: '1'}}"),
    "reset a single entry": (
        "services:\n  a:\n    labels:\n      drop: !reset x\n",
        "{image: x, ports: [{target: 80}], command: [run], cap_add: [A, B],"
        " labels: {keep: '1'}, environment: {A: '1'}}"),
    "override replaces instead of merging": (
        "services:\n  a:\n    cap_add: !override [C]\n    environment: !override {B: '2'}\n",
        "{image: x, ports: [{target: 80}], command: [run], cap_add: [C],"
        " labels: {keep: '1', drop: '2'}, environment: {B: '2'}}"),
    "reset of a key the base lacks": (
        "services:\n  a:\n    volumes: !reset []\n",
        "{image: x, ports: [{target: 80}], command: [run], cap_add: [A, B],"
        " labels: {keep: '1', drop: '2'}, environment: {A: '1'}}"),
}


@pytest.mark.parametrize("override, expected", TAG_CASES.values(), ids=TAG_CASES.keys())
def test_reset_and_override(override, expected):
    base = yaml.safe_load(BASE)
    document = yamlsrc.load(override)
    merge.apply_tags(base, document.data, document.tags)
    result = merge.merge_documents(base, document.data)
    assert result == {"services": {"a": yaml.safe_load(expected)}}


def test_reset_a_whole_service():
    base = yaml.safe_load("{services: {a: {image: x}, b: {image: y}}}")
    document = yamlsrc.load("services:\n  b: !reset {}\n")
    merge.apply_tags(base, document.data, document.tags)
    assert merge.merge_documents(base, document.data) == {"services": {"a": {"image": "x"}}}


# -- merging with nothing changes nothing ----------------------------------

names = st.sampled_from(["a", "b", "c"])
canonical_services = st.fixed_dictionaries({}, optional={
    "image": st.sampled_from(["x", "y"]),
    "command": st.lists(st.sampled_from(["run", "-v"]), max_size=2),
    "environment": st.dictionaries(names, st.one_of(st.none(), st.just("1"))),
    "labels": st.dictionaries(names, st.just("")),
    "ports": st.lists(st.builds(lambda t, p: {"mode": "ingress", "target": t, "published": p, "protocol": "tcp"},
                                st.integers(1, 3), st.sampled_from(["80", "81"])), max_size=3),
    "volumes": st.lists(st.builds(lambda s, t: {"type": "volume", "source": s, "target": t},
                                  names, st.sampled_from(["/a", "/b"])), max_size=3),
    "secrets": st.lists(st.builds(lambda s: {"source": s}, names), max_size=3),
    "cap_add": st.lists(st.sampled_from(["NET_ADMIN", "SYS_TIME"]), max_size=3),
    "dns": st.lists(st.sampled_from(["1.1.1.1", "8.8.8.8"]), max_size=3),
    "env_file": st.lists(st.builds(lambda p: {"path": p, "required": True}, names), max_size=2),
    "extra_hosts": st.lists(st.sampled_from(["h:1.1.1.1", "g:2.2.2.2"]), max_size=2, unique=True),
    "depends_on": st.dictionaries(names, st.just({"condition": "service_started", "required": True})),
    "logging": st.just({"driver": "json-file", "options": {"max-size": "1m"}}),
    "ulimits": st.dictionaries(st.sampled_from(["nofile", "nproc"]), st.integers(1, 9)),
})
canonical_documents = st.fixed_dictionaries({"services": st.dictionaries(names, canonical_services, max_size=3)},
                                            optional={"volumes": st.dictionaries(names, st.just({}))})


@settings(max_examples=150, deadline=None)
@given(canonical_documents)
def test_merging_with_an_empty_file_changes_nothing(document):
    expected = copy.deepcopy(document)
    for service in expected["services"].values():
        merge.enforce_unicity(service)
    assert merge.merge_documents(copy.deepcopy(document), {}) == expected
    assert merge.merge_documents({}, copy.deepcopy(document)) == expected

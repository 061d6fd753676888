"""Our schema validation agrees with the official compose schema.

For every document — the YAML corpus (tests/corpus/**, minus ``sem-*`` files,
whose errors are semantic), the cases below, and random documents shaped
after the schema — the official schema (jsonschema, Draft 7) and our
``validate()`` agree: both accept, or both reject, and every place the
official schema complains about is one we report at (or above, or below).
The checked-in generated schema, run through jsonschema, agrees as well, and
the pydantic models read every document the validator accepts.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

jsonschema = pytest.importorskip("jsonschema")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from orchestrator.config import yamlsrc  # noqa: E402
from orchestrator.config.model import ComposeFile  # noqa: E402
from orchestrator.config.validate import SCHEMA_PATH, validate  # noqa: E402

# Where compose-go v2.9.1's schema (what Docker Compose v2.40.3 enforces)
# differs from the official one, keyed by JSON pointer into the official
# schema. We follow the official schema.
# The one place the official schema and compose-go v2.9.1's (the one Docker
# Compose v2.40.3 embeds) differ, and what we do: at
# /definitions/service/properties/models/oneOf/1/patternProperties, compose-go
# also accepts null for a model a service uses (`models: {llm: }`); the
# official schema requires a mapping, so we reject null and ask for `{}` or the
# list form (test_a_null_model_reference_follows_the_official_schema).

REPO = Path(__file__).resolve().parents[2]
OFFICIAL_PATH = REPO.parent / "shared" / "compose-spec" / "compose-spec.json"
CORPUS = REPO / "tests" / "corpus"

# CI and every developer machine have shared/ beside the clone; a missing
# schema must fail loudly rather than skip the agreement.
assert OFFICIAL_PATH.exists(), f"the official compose schema is missing: {OFFICIAL_PATH}"
OFFICIAL = json.loads(OFFICIAL_PATH.read_text())
OFFICIAL_VALIDATOR = jsonschema.Draft7Validator(OFFICIAL)
GENERATED_VALIDATOR = jsonschema.Draft7Validator(json.loads(SCHEMA_PATH.read_text()))


def related(a: tuple, b: tuple) -> bool:
    """One path is a prefix of the other."""
    return a[:len(b)] == b[:len(a)]


def assert_agrees(document) -> None:
    official = [(tuple(e.absolute_path), e.message) for e in OFFICIAL_VALIDATOR.iter_errors(document)]
    ours = validate(document)
    shown = f"\ndocument: {document!r}\nofficial: {official}\nours: {ours}"
    if not official:
        assert ours == [], "we reject what the official schema accepts" + shown
    else:
        assert ours, "we accept what the official schema rejects" + shown
        for path, _ in official:
            assert any(related(path, v.path) for v in ours), f"nothing reported near {path}" + shown
    assert GENERATED_VALIDATOR.is_valid(document) == (not official), \
        "the generated schema disagrees under jsonschema" + shown
    if not ours and isinstance(document, dict):
        ComposeFile.model_validate(document)  # the typed view reads what validates


# --- the corpus ------------------------------------------------------------------

def corpus_files() -> list[Path]:
    """Files whose problem, if any, is the schema's business: not semantic
    (sem-*) and not broken YAML (yaml-*, which the differential test covers)."""
    return sorted(p for p in CORPUS.glob("**/*.yaml")
                  if not p.name.startswith(("sem-", "yaml-")) or p.parent.name == "valid")


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_file_agrees(path: Path):
    document = yamlsrc.load(path.read_text(), str(path)).data
    assert_agrees(document)
    if path.parent.name == "invalid":
        assert validate(document), "a file of the invalid corpus passed validation"


# --- cases --------------------------------------------------------------------------

def web(**keys) -> dict:
    return {"services": {"web": {"image": "nginx", **keys}}}


HOOK = {"command": ["touch", "/ready"], "user": "root", "privileged": False,
        "working_dir": "/", "environment": {"A": "1"}}

VALID = {
    "minimal": web(),
    "empty": {},
    "build-short": {"services": {"web": {"build": "."}}},
    "build-long": web(build={
        "context": ".", "dockerfile": "Dockerfile", "dockerfile_inline": "FROM x",
        "entitlements": ["network.host"], "args": {"A": 1, "B": None}, "ssh": ["default"],
        "labels": ["a=b"], "cache_from": ["x"], "cache_to": ["y"], "no_cache": True,
        "additional_contexts": {"base": "docker-image://x"}, "network": "host",
        "provenance": "mode=max", "sbom": True, "pull": "true", "target": "prod", "shm_size": "2g",
        "extra_hosts": ["h:1.2.3.4"], "isolation": "default", "privileged": False,
        "secrets": ["s", {"source": "t", "target": "/run/t"}], "tags": ["x:1"],
        "ulimits": {"nofile": 1024}, "platforms": ["linux/amd64"], "x-build": 1}),
    "develop": web(develop={"watch": [
        {"path": "./src", "action": "sync", "target": "/src", "ignore": "node_modules",
         "include": ["*.py"], "initial_sync": True},
        {"path": "./x", "action": "sync+exec", "exec": HOOK, "x-w": 1}]}),
    "develop-null-deploy-null": web(develop=None, deploy=None),
    "deploy": web(deploy={
        "mode": "replicated", "endpoint_mode": "vip", "replicas": 2, "labels": {"a": "b"},
        "rollback_config": {"parallelism": 1, "delay": "1s", "failure_action": "pause",
                            "monitor": "1s", "max_failure_ratio": 0.1, "order": "stop-first"},
        "update_config": {"parallelism": "2", "order": "start-first", "max_failure_ratio": "0"},
        "resources": {"limits": {"cpus": 0.5, "memory": "50M", "pids": 10},
                      "reservations": {"cpus": "0.25", "memory": "20M",
                                       "generic_resources": [{"discrete_resource_spec": {
                                           "kind": "gpu", "value": 2}}],
                                       "devices": [{"capabilities": ["gpu"], "count": "all",
                                                    "device_ids": ["0"], "driver": "nvidia",
                                                    "options": {"a": 1}}]}},
        "restart_policy": {"condition": "on-failure", "delay": "5s", "max_attempts": 3,
                           "window": "1m"},
        "placement": {"constraints": ["node.role==manager"], "preferences": [{"spread": "x"}],
                      "max_replicas_per_node": 1}}),
    "annotations-attach": web(annotations={"a": "b"}, attach=False),
    "annotations-list": web(annotations=["a=b"], attach="false"),
    "blkio": web(blkio_config={
        "device_read_bps": [{"path": "/dev/sda", "rate": "12mb"}],
        "device_read_iops": [{"path": "/dev/sda", "rate": 120}],
        "device_write_bps": [{"path": "/dev/sda", "rate": 1024}],
        "device_write_iops": [{"path": "/dev/sda", "rate": "30"}],
        "weight": 300, "weight_device": [{"path": "/dev/sda", "weight": 400}]}),
    "capabilities-cgroup": web(cap_add=["ALL"], cap_drop=["NET_ADMIN"], cgroup="host",
                               cgroup_parent="m"),
    "command-forms": {"services": {
        "a": {"image": "x", "command": None, "entrypoint": None},
        "b": {"image": "x", "command": "echo hi", "entrypoint": "/bin/sh -c"},
        "c": {"image": "x", "command": ["echo", "hi"], "entrypoint": ["/bin/sh", "-c"]}}},
    "configs-secrets-service": {
        "services": {"web": {"image": "x", "configs": ["c", {"source": "c", "target": "/c",
                                                             "uid": "1", "gid": "1", "mode": 0o440}],
                             "secrets": ["s", {"source": "s", "mode": "0400"}]}},
        "configs": {"c": {"file": "./c"}}, "secrets": {"s": {"file": "./s"}}},
    "container-and-cpus": web(container_name="my-web_1", cpu_count=2, cpu_percent=50,
                              cpu_shares=512, cpu_quota="50000", cpu_period=100000,
                              cpu_rt_period="1400us", cpu_rt_runtime=400, cpus=1.5, cpuset="0-3"),
    "cpu-strings": web(cpu_count="${N}", cpu_percent="${P}", oom_score_adj="${O}"),
    "credential-spec": web(credential_spec={"config": "c", "file": "f", "registry": "r"}),
    "depends-on-list": web(depends_on=["db", "cache"]),
    "depends-on-map": web(depends_on={
        "db": {"condition": "service_healthy", "restart": True, "required": False},
        "init": {"condition": "service_completed_successfully"},
        "cache": {"condition": "service_started", "restart": "true"}}),
    "devices": web(device_cgroup_rules=["c 1:3 mr"],
                   devices=["/dev/ttyUSB0:/dev/ttyUSB0", {"source": "/dev/sda", "target": "/dev/xvda",
                                                         "permissions": "rwm"}]),
    "dns-forms": web(dns="8.8.8.8", dns_opt=["use-vc"], dns_search="example.com",
                     domainname="foo.com"),
    "dns-lists": web(dns=["8.8.8.8", "9.9.9.9"], dns_search=["a.com", "b.com"]),
    "env-file-forms": {"services": {
        "a": {"image": "x", "env_file": ".env", "label_file": "labels"},
        "b": {"image": "x", "env_file": [".env", {"path": "b.env", "required": False,
                                                   "format": "raw"}],
              "label_file": ["a", "b"]}}},
    "environment-forms": {"services": {
        "a": {"image": "x", "environment": ["A=1", "B"]},
        "b": {"image": "x", "environment": {"A": "1", "B": 2, "C": 1.5, "D": True, "E": None}}}},
    "expose-extends": {"services": {
        "base": {"image": "x", "expose": [80, "8080-8085/tcp"]},
        "a": {"extends": "base"},
        "b": {"extends": {"service": "base", "file": "other.yaml"}}}},
    "provider": web(provider={"type": "model", "options": {"model": "ai/x", "n": 1, "on": True,
                                                           "list": ["a", 1, False]}}),
    "links-hosts": web(external_links=["redis_1", "project_db:mysql"],
                       extra_hosts=["somehost:162.242.195.82", "other=1.2.3.4"], links=["db:d"]),
    "extra-hosts-map": web(extra_hosts={"somehost": "1.2.3.4", "multi": ["1.2.3.4", "::1"]}),
    "gpus": {"services": {"a": {"image": "x", "gpus": "all"},
                          "b": {"image": "x", "gpus": [{"driver": "nvidia", "count": 1,
                                                        "capabilities": ["gpu"],
                                                        "device_ids": ["0"], "options": ["a=b"],
                                                        "anything": "goes"}]}}},
    "groups-healthcheck": web(group_add=["mail", 42], healthcheck={
        "test": ["CMD", "curl", "-f", "http://localhost"], "interval": "1m30s", "timeout": "10s",
        "retries": 3, "start_period": "40s", "start_interval": "5s", "disable": False}),
    "healthcheck-string-and-disable": {"services": {
        "a": {"image": "x", "healthcheck": {"test": "curl -f http://localhost", "retries": "3"}},
        "b": {"image": "x", "healthcheck": {"disable": True}}}},
    "identity": web(hostname="h", init=True, ipc="shareable", isolation="default",
                    labels={"a": "b", "n": 1}, mac_address="02:42:ac:11:65:43"),
    "logging": web(logging={"driver": "syslog", "options": {"syslog-address": "tcp://x",
                                                            "max-file": 3, "empty": None}}),
    "memory": web(mem_limit="1g", mem_reservation=1024, mem_swappiness=60, memswap_limit=-1,
                  oom_kill_disable=True, oom_score_adj=-500, pids_limit=100, shm_size="64m"),
    "network-mode": web(network_mode="service:db", pid="host"),
    "models": {"services": {"a": {"image": "x", "models": ["llm"]},
                            "b": {"image": "x", "models": {"llm": {"endpoint_var": "URL",
                                                                   "model_var": "NAME"}}}},
               "models": {"llm": {"model": "ai/smollm2", "name": "n", "context_size": 1024,
                                  "runtime_flags": ["--a"]},
                          "weird name!": "not checked by the official schema"}},
    "networks-service-list": {"services": {"web": {"image": "x", "networks": ["front", "back"]}},
                              "networks": {"front": {}, "back": None}},
    "networks-service-map": {"services": {"web": {"image": "x", "networks": {
        "front": None, "back": {"aliases": ["db"], "interface_name": "eth1",
                                "ipv4_address": "172.16.238.10", "ipv6_address": "::10",
                                "link_local_ips": ["57.123.22.11"], "mac_address": "02:42:ac:11:65:43",
                                "driver_opts": {"a": "b", "n": 1}, "priority": 1000,
                                "gw_priority": 1.5}}}},
        "networks": {"front": None, "back": None}},
    "pid-null-platform": web(pid=None, platform="linux/amd64"),
    "ports": web(ports=[3000, "3000-3005", "8000:8000", "127.0.0.1:8001:8001/udp",
                        {"name": "web", "target": 80, "host_ip": "127.0.0.1", "published": "8080",
                         "protocol": "tcp", "app_protocol": "http", "mode": "host"},
                        {"target": "${PORT}", "published": 8081}]),
    "hooks": web(post_start=[HOOK, {"command": "echo up"}], pre_stop=[{"command": None}]),
    "policies": web(privileged=True, profiles=["debug"], pull_policy="always",
                    pull_refresh_after="1h", read_only="${RO}", restart="unless-stopped",
                    runtime="runc", scale=3),
    "pull-policies": {"services": {name: {"image": "x", "pull_policy": name}
                                   for name in ("never", "missing", "build", "if_not_present",
                                                "daily", "weekly", "every_12h", "refresh")}},
    "security-sysctls": web(security_opt=["label:user:USER"], sysctls={"net.core.somaxconn": 1024},
                            stdin_open=True, stop_grace_period="1m30s", stop_signal="SIGUSR1",
                            storage_opt={"size": "1G", "nested": {"any": ["thing"]}}),
    "sysctls-list-tmpfs": web(sysctls=["net.ipv4.ip_forward=1"], tmpfs="/run", tty=True),
    "tmpfs-list-ulimits": web(tmpfs=["/run", "/tmp:size=64m"], ulimits={
        "nproc": 65535, "nofile": {"soft": 20000, "hard": "40000"}, "NOFILE": "not checked"}),
    "users": web(use_api_socket=True, user="1000:1000", uts="host", userns_mode="host",
                 working_dir="/app", volumes_from=["other:ro", "container:c"]),
    "volumes-short": web(volumes=["data:/data", "./src:/src:ro", "/var/run/docker.sock:/s"]),
    "volumes-long": web(volumes=[
        {"type": "bind", "source": ".", "target": "/a", "read_only": True, "consistency": "cached",
         "bind": {"propagation": "rshared", "create_host_path": True, "recursive": "readonly",
                  "selinux": "z"}},
        {"type": "volume", "source": "data", "target": "/b",
         "volume": {"nocopy": True, "subpath": "sub", "labels": {"a": "b"}}},
        {"type": "tmpfs", "target": "/c", "tmpfs": {"size": 1024, "mode": 0o1777}},
        {"type": "tmpfs", "target": "/d", "tmpfs": {"size": "1g", "mode": "1777"}},
        {"type": "image", "source": "alpine", "target": "/e", "image": {"subpath": "etc"}},
        {"type": "npipe", "source": "\\\\.\\pipe\\x", "target": "\\\\.\\pipe\\y"},
        {"type": "cluster", "source": "c", "target": "/f"}]),
    "top-level-scalars": {"version": "3.8", "name": "proj", "services": {}},
    "include": {"include": ["a.yaml", {"path": "b.yaml", "env_file": ".env",
                                       "project_directory": ".."},
                            {"path": ["c.yaml", "d.yaml"], "env_file": ["x.env"]}]},
    "networks-top": {"networks": {
        "a": {"name": "n", "driver": "bridge", "driver_opts": {"com.docker.x": "1", "mtu": 1500},
              "ipam": {"driver": "default", "config": [{"subnet": "172.28.0.0/16",
                                                         "ip_range": "172.28.5.0/24",
                                                         "gateway": "172.28.5.254",
                                                         "aux_addresses": {"host1": "172.28.1.5"}}],
                       "options": {"foo": "bar"}},
              "internal": True, "enable_ipv4": True, "enable_ipv6": "false", "attachable": True,
              "labels": ["a=b"]},
        "b": {"external": True}, "c": {"external": {"name": "legacy"}}, "d": None,
        "odd name!": 42}},
    "volumes-top": {"volumes": {
        "a": {"name": "v", "driver": "local", "driver_opts": {"type": "nfs", "o": "addr=1"},
              "labels": {"a": "b"}},
        "b": {"external": True}, "c": {"external": {"name": "legacy", "x-e": 1}}, "d": None,
        "e": {"external": "true"}}},
    "secrets-top": {"secrets": {
        "a": {"file": "./a", "name": "n", "labels": ["a=b"], "template_driver": "golang"},
        "b": {"environment": "TOKEN"}, "c": {"external": True},
        "d": {"external": {"name": "x", "other": "open"}, "driver": "d",
              "driver_opts": {"a": 1}}}},
    "configs-top": {"configs": {
        "a": {"file": "./a", "name": "n", "labels": {"a": "b"}, "template_driver": "golang"},
        "b": {"content": "hello"}, "c": {"environment": "CONF"},
        "d": {"external": {"name": "x", "other": "open"}}, "e": {"external": "yes"}}},
    "extensions": {"x-top": {"any": ["thing"]}, "services": {"web": {
        "image": "x", "x-svc": 1, "logging": {"x-l": 1}, "credential_spec": {"x-c": 1},
        "provider": {"type": "t", "x-p": 1}, "ports": [{"target": 1, "x-port": 1}],
        "devices": [{"source": "/dev/a", "x-d": 1}], "healthcheck": {"x-h": 1}}},
        "networks": {"n": {"x-n": 1}}, "volumes": {"v": {"x-v": 1}},
        "secrets": {"s": {"x-s": 1}}, "configs": {"c": {"x-c": 1}},
        "models": {"m": {"model": "m", "x-m": 1}}},
    "service-named-like-an-extension": {"services": {"x-web": {"image": "x"}}},
}

INVALID = {
    "unknown-top-level": {"servies": {}},
    "unknown-service-key": web(enviroment=["A=1"]),
    "services-list": {"services": [{"image": "x"}]},
    "service-null": {"services": {"web": None}},
    "service-name": {"services": {"my web": {"image": "x"}}},
    "image-int": web(image=5),
    "build-int": {"services": {"web": {"build": 5}}},
    "build-unknown": web(build={"context": ".", "dockerfil": "D"}),
    "build-args-nested": web(build={"args": {"A": {"B": 1}}}),
    "watch-missing-action": web(develop={"watch": [{"path": "."}]}),
    "watch-bad-action": web(develop={"watch": [{"path": ".", "action": "reload"}]}),
    "deploy-unknown": web(deploy={"replica": 2}),
    "deploy-memory-int": web(deploy={"resources": {"limits": {"memory": 1024}}}),
    "deploy-order": web(deploy={"update_config": {"order": "random"}}),
    "deploy-devices-no-capabilities": web(deploy={"resources": {"reservations": {
        "devices": [{"count": 1}]}}}),
    "blkio-extension": web(blkio_config={"x-no": 1}),
    "blkio-limit-unknown": web(blkio_config={"device_read_bps": [{"path": "a", "bps": 1}]}),
    "cap-add-duplicates": web(cap_add=["A", "A"]),
    "cgroup-enum": web(cgroup="shared"),
    "command-int-item": web(command=["echo", 1]),
    "command-mapping": web(entrypoint={"a": 1}),
    "container-name": web(container_name="-"),
    "cpu-count-negative": web(cpu_count=-1),
    "cpu-percent-high": web(cpu_percent=101),
    "oom-score-range": web(oom_score_adj=1001),
    "depends-on-no-condition": web(depends_on={"db": {"restart": True}}),
    "depends-on-bad-condition": web(depends_on={"db": {"condition": "service_ready"}}),
    "depends-on-duplicates": web(depends_on=["db", "db"]),
    "depends-on-required-string": web(depends_on={"db": {"condition": "service_started",
                                                         "required": "false"}}),
    "devices-no-source": web(devices=[{"target": "/dev/a"}]),
    "dns-int": web(dns=8),
    "env-file-no-path": web(env_file=[{"required": False}]),
    "env-file-extension": web(env_file=[{"path": "a", "x-no": 1}]),
    "environment-nested": web(environment={"A": {"B": "C"}}),
    "environment-string": web(environment="A=1"),
    "environment-list-duplicates": web(environment=["A=1", "A=1"]),
    "environment-empty-key": web(environment={"": "x"}),
    "expose-bool": web(expose=[True]),
    "extends-no-service": web(extends={"file": "a.yaml"}),
    "extends-extension": web(extends={"service": "a", "x-no": 1}),
    "provider-no-type": web(provider={"options": {}}),
    "provider-options-nested": web(provider={"type": "t", "options": {"a": {"b": 1}}}),
    "extra-hosts-int": web(extra_hosts={"h": 1}),
    "gpus-string": web(gpus="some"),
    "gpus-strings": web(gpus=["all"]),
    "group-add-bool": web(group_add=[True]),
    "healthcheck-retries-bool": web(healthcheck={"retries": True}),
    "healthcheck-test-int": web(healthcheck={"test": 1}),
    "healthcheck-interval-int": web(healthcheck={"interval": 10}),
    "logging-options-list": web(logging={"options": {"a": ["b"]}}),
    "logging-unknown": web(logging={"drivers": "x"}),
    "models-unknown-key": web(models={"llm": {"endpoint": "x"}}),
    "model-missing": {"models": {"m": {"name": "x"}}},
    "model-null-in-service": {"services": {"web": {"image": "x", "models": {"m": None}}},
                              "models": {"m": {"model": "ai/x"}}},
    "networks-service-name": web(networks={"bad name": None}),
    "networks-service-string": web(networks={"front": "x"}),
    "networks-service-priority-string": web(networks={"front": {"priority": "1"}}),
    "pid-int": web(pid=1),
    "ports-bool": web(ports=[True]),
    "ports-unknown": web(ports=[{"target": 80, "host": "1.2.3.4"}]),
    "ports-duplicates": web(ports=["80:80", "80:80"]),
    "ports-long-duplicates": web(ports=[{"target": 80}, {"target": 80}]),
    "ports-string": web(ports="80:80"),
    "hook-no-command": web(post_start=[{"user": "root"}]),
    "pull-policy": web(pull_policy="sometimes"),
    "secrets-int": web(secrets=[1]),
    "secrets-unknown": web(secrets=[{"source": "s", "path": "/p"}]),
    "ulimits-soft-only": web(ulimits={"nofile": {"soft": 1}}),
    "ulimits-list": web(ulimits={"nofile": [1, 2]}),
    "use-api-socket-string": web(use_api_socket="true"),
    "volumes-no-type": web(volumes=[{"source": "a", "target": "/a"}]),
    "volumes-bad-type": web(volumes=[{"type": "nfs", "target": "/a"}]),
    "volumes-recursive": web(volumes=[{"type": "bind", "target": "/a", "bind": {"recursive": "yes"}}]),
    "volumes-selinux": web(volumes=[{"type": "bind", "target": "/a", "bind": {"selinux": "x"}}]),
    "volumes-tmpfs-size": web(volumes=[{"type": "tmpfs", "target": "/a", "tmpfs": {"size": -1}}]),
    "volumes-volume-unknown": web(volumes=[{"type": "volume", "target": "/a",
                                            "volume": {"nocopy": True, "sub": "x"}}]),
    "volumes-item-int": web(volumes=[1]),
    "storage-opt-list": web(storage_opt=["size=1G"]),
    "sysctls-nested": web(sysctls={"a": {"b": 1}}),
    "label-file-int": web(label_file=1),
    "tmpfs-int": web(tmpfs=1),
    "network-top-unknown": {"networks": {"n": {"drivers": "x"}}},
    "network-ipam-config-unknown": {"networks": {"n": {"ipam": {"config": [{"subnets": "x"}]}}}},
    "network-ipam-options-int": {"networks": {"n": {"ipam": {"options": {"a": 1}}}}},
    "network-external-unknown": {"networks": {"n": {"external": {"name": "x", "id": 1}}}},
    "network-driver-opts-nested": {"networks": {"n": {"driver_opts": {"a": {"b": 1}}}}},
    "networks-top-list": {"networks": ["a"]},
    "volume-name-pattern": {"volumes": {"bad name": {}}},
    "volume-external-int": {"volumes": {"v": {"external": 1}}},
    "secret-unknown": {"secrets": {"s": {"path": "x"}}},
    "secret-null": {"secrets": {"s": None}},
    "config-unknown": {"configs": {"c": {"contents": "x"}}},
    "include-int": {"include": [1]},
    "include-unknown": {"include": [{"path": "a", "env": "x"}]},
    "include-path-int": {"include": [{"path": 1}]},
    "include-string": {"include": "a.yaml"},
    "version-int": {"version": 3},
    "name-int": {"name": 1},
    "document-list": [{"services": {}}],
    "many-errors": {"services": {"a": {"image": 1, "bogus": 2, "ports": [True]},
                                 "b": {"restart": ["no"]}}, "volumes": {"v": {"driver": 1}},
                    "bogus": 1},
}


@pytest.mark.parametrize("document", VALID.values(), ids=VALID.keys())
def test_valid_case_agrees(document):
    assert OFFICIAL_VALIDATOR.is_valid(document), "the case is meant to be valid"
    assert_agrees(document)


@pytest.mark.parametrize("document", INVALID.values(), ids=INVALID.keys())
def test_invalid_case_agrees(document):
    assert not OFFICIAL_VALIDATOR.is_valid(document), "the case is meant to be invalid"
    assert_agrees(document)


def _keys_used(documents, where: str) -> set[str]:
    found: set[str] = set()
    for document in documents:
        for entry in (document.get(where) or {}).values() if isinstance(document, dict) else ():
            if isinstance(entry, dict):
                found.update(entry)
    return found


@pytest.mark.parametrize("section, definition", [
    ("services", "service"), ("networks", "network"), ("volumes", "volume"),
    ("secrets", "secret"), ("configs", "config"), ("models", "model")])
def test_valid_cases_use_every_key_of_the_specification(section, definition):
    every = set(OFFICIAL["definitions"][definition]["properties"])
    assert every - _keys_used(VALID.values(), section) == set()


def test_cases_use_every_top_level_key():
    used = {key for document in VALID.values() for key in document}
    assert set(OFFICIAL["properties"]) <= used


# --- where the official schema and compose-go's differ -----------------------------

def test_a_null_model_reference_follows_the_official_schema():
    document = INVALID["model-null-in-service"]
    [violation] = validate(document)
    assert violation.path == ("services", "web", "models", "m")


# --- random documents shaped after the schema ----------------------------------------

JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.5, 2.0, -1.5]),
    st.sampled_from(["", "a", "80:80", "x-y", "true", "${VAR}"]),
    st.just([]), st.just({}), st.just(["a"]), st.just({"a": 1}))

SAMPLE_KEYS = {
    "^x-": ["x-a", "x-b"],
    "^[a-zA-Z0-9._-]+$": ["web", "db", "a.b", "x-web", "bad name", "w@b"],
    "^[a-z]+$": ["nofile", "nproc", "NOFILE"],
    ".+": ["A", "B_C", ""], "^.+$": ["a", "b.c", ""],
}
ODD_KEYS = ["x-extra", "bogus", "imag", "Image", "condition", "type", ""]
STRINGS = ["", "a", "always", "every_2h", "-x", "host", "all", "sync", "${X}", "0.5"]


def resolve(node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target = OFFICIAL
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


@st.composite
def instances(draw, node, depth: int = 0):
    """Mostly well-shaped values for ``node``, sometimes not."""
    node = resolve(node)
    if node in (True, {}) or depth > 6 or draw(st.integers(0, 11)) == 0:
        return draw(JUNK)
    options = node.get("oneOf") or node.get("anyOf")
    if options:
        return draw(instances(draw(st.sampled_from(options)), depth))
    declared = node.get("type", "object")
    kind = draw(st.sampled_from([declared] if isinstance(declared, str) else declared))
    if kind == "object":
        return draw(mappings(node, depth))
    if kind == "array":
        return draw(arrays(node, depth))
    return draw(scalars(node, kind))


@st.composite
def mappings(draw, node, depth: int):
    properties = node.get("properties", {})
    chosen = draw(st.lists(st.sampled_from(sorted(properties)), max_size=3, unique=True)) \
        if properties else []
    if draw(st.integers(0, 4)):
        chosen = list(dict.fromkeys(list(node.get("required", ())) + chosen))
    value = {key: draw(instances(properties[key], depth + 1)) for key in chosen}
    for pattern, sub in node.get("patternProperties", {}).items():
        for key in draw(st.lists(st.sampled_from(SAMPLE_KEYS[pattern]), max_size=2, unique=True)):
            value[key] = draw(instances(sub, depth + 1))
    if draw(st.integers(0, 9)) == 0:
        value[draw(st.sampled_from(ODD_KEYS))] = draw(JUNK)
    return value


@st.composite
def arrays(draw, node, depth: int):
    items = [draw(instances(node.get("items", {}), depth + 1))
             for _ in range(draw(st.integers(0, 3)))]
    if items and draw(st.integers(0, 7)) == 0:
        items.append(items[0])  # exercise uniqueItems
    return items


@st.composite
def scalars(draw, node, kind: str):
    if "enum" in node and draw(st.integers(0, 3)):
        return draw(st.sampled_from(node["enum"]))
    if kind == "string":
        return draw(st.sampled_from(STRINGS))
    if kind == "integer":
        return draw(st.one_of(st.integers(-1100, 1100), st.sampled_from([-1001, -1, 0, 100, 101])))
    if kind == "number":
        return draw(st.one_of(st.integers(-5, 5), st.sampled_from([0.5, 2.0, 1e3])))
    if kind == "boolean":
        return draw(st.booleans())
    return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(OFFICIAL))
def test_random_documents_agree(document):
    assert_agrees(document)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["web", "db"]),
                       instances(OFFICIAL["definitions"]["service"], 1), min_size=1, max_size=2))
def test_random_services_agree(services):
    assert_agrees({"services": services})

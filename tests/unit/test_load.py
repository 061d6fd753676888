"""The whole loader on small projects under tmp_path: errors with file, line,
column and key path, references, cycles, extends, include, profiles, env
files and interpolation, and the JSON compose prints. Expected values marked
"binary" were observed with the Docker Compose v2.40.3 binary
(`docker-compose config --format json`) on the same files."""
from __future__ import annotations

import pytest

from orchestrator.config.errors import ConfigError, ConfigErrors, CycleError, ReferenceError_, SchemaError
from orchestrator.config.load import load_project
from orchestrator.config.sources import Options


def write(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def load(root, files: dict[str, str], environ=None, **options):
    write(root, files)
    services = options.pop("services", ())
    return load_project(Options(cwd=str(root), environ=environ or {}, **options), services=services)


def failure(root, files: dict[str, str], **options) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(root, files, **options)
    return caught.value


def json_services(project) -> dict:
    return project.render("json")["services"]


# -- errors carry file:line:col and the key path ----------------------------------

BAD_PORT = """\
services:
  ok:
    image: nginx
  broken:
    image: nginx
    ports:
      - "80800:80"
"""


def test_bad_port_is_located(tmp_path):
    error = failure(tmp_path, {"compose.yaml": BAD_PORT})
    assert isinstance(error, SchemaError)
    assert str(error).startswith("compose.yaml:7:9: services.broken.ports[0]: ")
    assert "80800" in str(error)


def test_error_in_override_file_names_that_file(tmp_path):
    error = failure(tmp_path, {"compose.yaml": "services:\n  a:\n    image: x\n",
                               "compose.override.yaml": "services:\n  a:\n    ports:\n      - 1-2:3-5\n"})
    assert str(error).startswith("compose.override.yaml:4:9: services.a.ports[0]: ")


SCHEMA_ERRORS = """\
services:
  web:
    image: nginx
    restrat: always
    ports: 80
  db:
    image: [5]
"""


def test_all_schema_errors_of_a_file_together(tmp_path):
    error = failure(tmp_path, {"compose.yaml": SCHEMA_ERRORS})
    assert isinstance(error, ConfigErrors)
    located = [str(e).split(": ")[:2] for e in error.errors]
    assert located == [["compose.yaml:4:5", "services.web.restrat"],
                       ["compose.yaml:5:12", "services.web.ports"],
                       ["compose.yaml:7:12", "services.db.image"]]
    assert 'did you mean "restart"' in str(error.errors[0])


def test_unknown_top_level_key_suggests(tmp_path):
    error = failure(tmp_path, {"compose.yaml": "servics:\n  a:\n    image: x\n"})
    assert str(error).startswith("compose.yaml:1:1: servics: ")
    assert 'did you mean "services"' in str(error)


BAD_YAML = {"compose.yaml": "services:\n  a:\n    image: [x\n"}


def test_yaml_syntax_error_is_located(tmp_path):
    error = failure(tmp_path, dict(BAD_YAML))
    assert (error.location.line, error.location.column) == (4, 1)
    assert error.location.file.endswith("compose.yaml")


def test_yaml_syntax_error_names_the_file_relative_to_cwd(tmp_path):
    assert str(failure(tmp_path, dict(BAD_YAML))).startswith("compose.yaml:4:1: ")


@pytest.mark.parametrize("text, kind, words", [
    ("", ConfigError, "empty compose file"),
    ("---\n", SchemaError, "top-level object must be a mapping"),  # binary, both
])
def test_empty_files(tmp_path, text, kind, words):
    error = failure(tmp_path, {"compose.yaml": text})
    assert isinstance(error, kind)
    assert words in str(error)


# -- references and cycles ---------------------------------------------------

@pytest.mark.parametrize("key, value, kind, position", [
    ("networks", "[front]", "network \"front\"", "compose.yaml:4:15: services.web.networks.front: "),
    ("volumes", "[data:/data]", "volume \"data\"", "compose.yaml:4:15: services.web.volumes[0]: "),
    ("secrets", "[token]", "secret \"token\"", "compose.yaml:4:15: services.web.secrets[0]: "),
    ("configs", "[conf]", "config \"conf\"", "compose.yaml:4:15: services.web.configs[0]: "),
    ("depends_on", "[db]", "service \"db\"", "compose.yaml:4:17: services.web.depends_on: "),
])
def test_undefined_references(tmp_path, key, value, kind, position):
    text = f"services:\n  web:\n    image: nginx\n    {key}: {value}\n"
    error = failure(tmp_path, {"compose.yaml": text})
    assert isinstance(error, ReferenceError_)
    assert str(error).startswith(position)
    assert 'service "web"' in str(error)
    assert kind in str(error)


CYCLE = """\
services:
  a: {image: x, depends_on: [b]}
  b: {image: x, depends_on: [c]}
  c: {image: x, depends_on: [a]}
"""


def test_dependency_cycle(tmp_path):
    error = failure(tmp_path, {"compose.yaml": CYCLE})
    assert isinstance(error, CycleError)
    assert "dependency cycle: a -> b -> c -> a" in str(error)


# -- extends ---------------------------------------------------------------

EXTENDS = """\
services:
  base:
    image: base
    environment: {A: "1"}
  mid:
    extends: base
    environment: {B: "2"}
  web:
    extends: {service: mid}
    command: run
  other:
    extends: {file: lib/common.yaml, service: tmpl}
"""
COMMON = "services:\n  tmpl:\n    image: tmpl\n    volumes: [./data:/data]\n"


def test_extends(tmp_path):
    services = json_services(load(tmp_path, {"compose.yaml": EXTENDS, "lib/common.yaml": COMMON}))
    # binary: the chain carries environment through; paths are the other file's
    assert services["mid"]["environment"] == {"A": "1", "B": "2"}
    assert services["web"]["environment"] == {"A": "1", "B": "2"}
    assert services["web"]["command"] == ["run"]
    assert services["web"]["image"] == "base"
    assert "extends" not in services["web"]
    assert services["other"]["image"] == "tmpl"
    assert services["other"]["volumes"][0]["source"] == str(tmp_path / "lib" / "data")


def test_extends_cycle(tmp_path):
    text = "services:\n  a:\n    image: x\n    extends: b\n  b:\n    image: x\n    extends: a\n"
    error = failure(tmp_path, {"compose.yaml": text})
    assert isinstance(error, CycleError)
    assert str(error).startswith("compose.yaml:4:14: services.a.extends")
    assert "circular reference" in str(error).lower()


def test_extends_unknown_service(tmp_path):
    error = failure(tmp_path, {"compose.yaml": "services:\n  a:\n    image: x\n    extends: nope\n"})
    # binary: cannot extend service "a" in .../compose.yaml: service "nope" not found
    assert 'cannot extend service "a"' in str(error)
    assert 'service "nope" not found' in str(error)


# -- include -----------------------------------------------------------------

def test_include(tmp_path):
    project = load(tmp_path, {
        "compose.yaml": "include: [lib/db.yaml]\nservices:\n  web:\n    image: web\n    depends_on: [db]\n",
        "lib/db.yaml": "services:\n  db:\n    image: postgres\n    volumes: [./data:/data]\n"})
    services = json_services(project)
    assert sorted(services) == ["db", "web"]
    assert services["db"]["volumes"][0]["source"] == str(tmp_path / "lib" / "data")  # binary


def test_include_conflict(tmp_path):
    error = failure(tmp_path, {"compose.yaml": "include: [other.yaml]\nservices:\n  db:\n    image: mine\n",
                               "other.yaml": "services:\n  db:\n    image: theirs\n"})
    # binary: services.db conflicts with imported resource
    assert str(error).startswith("compose.yaml:4:5: services.db: services.db conflicts with imported resource")


CYCLIC_INCLUDE = {"compose.yaml": "include: [b.yaml]\nservices:\n  a:\n    image: a\n",
                  "b.yaml": "include: [compose.yaml]\nservices:\n  b:\n    image: b\n"}


def test_include_cycle(tmp_path):
    error = failure(tmp_path, dict(CYCLIC_INCLUDE))
    assert isinstance(error, CycleError)
    assert "include cycle detected" in str(error)


def test_include_cycle_chain(tmp_path):
    error = failure(tmp_path, dict(CYCLIC_INCLUDE))
    # binary: include cycle detected:\n<root>/compose.yaml\n include <root>/b.yaml\n include <root>/compose.yaml
    assert error.message == (f"include cycle detected:\n{tmp_path}/compose.yaml\n"
                             f" include {tmp_path}/b.yaml\n include {tmp_path}/compose.yaml")


# -- merging files -----------------------------------------------------------

def test_override_may_complete_depends_on(tmp_path):
    project = load(tmp_path, {
        "compose.yaml": "services:\n  a:\n    image: x\n    depends_on:\n      b:\n"
                        "        condition: service_healthy\n  b:\n    image: y\n",
        "compose.override.yaml": "services:\n  a:\n    depends_on:\n      b:\n        restart: true\n"})
    # binary: {"b": {"condition": "service_healthy", "restart": true, "required": true}}
    assert json_services(project)["a"]["depends_on"] == {
        "b": {"condition": "service_healthy", "restart": True, "required": True}}


# -- profiles, env files, interpolation -----------------------------------------------

PROFILES = """\
name: ${PN:-myproj}
services:
  always:
    image: a
    environment:
      - FOO
      - BAR
      - PROJ=${COMPOSE_PROJECT_NAME}
    env_file:
      - path: missing.env
        required: false
      - path: real.env
  dbg:
    image: d
    profiles: [debug]
  tools:
    image: t
    profiles: [tools, debug]
"""


@pytest.mark.parametrize("environ, options, enabled", [
    ({}, {}, ["always"]),
    ({}, {"profiles": ("debug",)}, ["always", "dbg", "tools"]),
    ({}, {"profiles": ("tools",)}, ["always", "tools"]),
    ({}, {"profiles": ("*",)}, ["always", "dbg", "tools"]),
    ({"COMPOSE_PROFILES": "tools"}, {}, ["always", "tools"]),
    ({}, {"services": ("dbg",)}, ["dbg"]),  # naming a service enables its profiles
])
def test_profiles(tmp_path, environ, options, enabled):
    project = load(tmp_path, {"compose.yaml": PROFILES, "real.env": "R=1\n"}, environ, **options)
    assert sorted(json_services(project)) == enabled  # binary, every row


def test_environment_env_file_and_project_name(tmp_path):
    project = load(tmp_path, {"compose.yaml": PROFILES, "real.env": "R=1\n"}, {"FOO": "foo"})
    always = json_services(project)["always"]
    # binary: {'BAR': None, 'FOO': 'foo', 'PROJ': 'myproj', 'R': '1'}; env_file is resolved away
    assert always["environment"] == {"BAR": None, "FOO": "foo", "PROJ": "myproj", "R": "1"}
    assert "env_file" not in always
    assert project.name == "myproj"


@pytest.mark.parametrize("environ, options, name", [
    ({"PN": "Other"}, {}, "other"),        # binary: name: interpolated, then normalized
    ({}, {"project_name": "given"}, "given"),
    ({"COMPOSE_PROJECT_NAME": "fromenv"}, {}, "fromenv"),
])
def test_compose_project_name_is_interpolated(tmp_path, environ, options, name):
    project = load(tmp_path, {"compose.yaml": PROFILES, "real.env": ""}, environ, **options)
    assert project.name == name
    assert json_services(project)["always"]["environment"]["PROJ"] == name


def test_project_name_from_directory(tmp_path):
    project = load(tmp_path / "My.App", {"compose.yaml": "services:\n  a:\n    image: x\n"})
    assert project.name == "myapp"
    assert project.render("json")["networks"] == {"default": {"name": "myapp_default", "ipam": {}}}


def test_required_env_file_missing(tmp_path):
    error = failure(tmp_path, {"compose.yaml": "services:\n  a:\n    image: x\n    env_file: nope.env\n"})
    assert "nope.env" in str(error)


# -- what `config --format json` prints ------------------------------------

SHAPES = """\
name: shapes
services:
  web:
    image: nginx
    command: echo "hello world"
    ports: ["127.0.0.1:8080:80", "9000-9001:9000-9001/udp"]
    environment: [A=1, B, PROJ=$COMPOSE_PROJECT_NAME]
    healthcheck: {test: curl -f localhost, interval: 90s}
    deploy: {resources: {limits: {memory: 512m, cpus: "0.5"}}}
    volumes: [data:/data, ./src:/src:ro]
    depends_on: [db]
    extra_hosts: ["h:1.1.1.1"]
    shm_size: 1g
    stop_grace_period: 1m
  db:
    image: postgres
    x-custom: 1
volumes:
  data: {}
"""


def test_render_json_like_the_binary(tmp_path):
    document = load(tmp_path, {"compose.yaml": SHAPES}).render("json")
    web, db = document["services"]["web"], document["services"]["db"]
    # all values below: binary
    assert list(document) == ["name", "networks", "services", "volumes"]
    assert document["networks"] == {"default": {"name": "shapes_default", "ipam": {}}}
    assert document["volumes"] == {"data": {"name": "shapes_data"}}
    assert db == {"command": None, "entrypoint": None, "image": "postgres", "networks": {"default": None}}
    assert web["command"] == ["echo", "hello world"]
    assert web["entrypoint"] is None
    assert web["ports"] == [
        {"mode": "ingress", "host_ip": "127.0.0.1", "target": 80, "published": "8080", "protocol": "tcp"},
        {"mode": "ingress", "target": 9000, "published": "9000", "protocol": "udp"},
        {"mode": "ingress", "target": 9001, "published": "9001", "protocol": "udp"}]
    assert web["environment"] == {"A": "1", "B": None, "PROJ": "shapes"}
    assert web["healthcheck"] == {"test": ["CMD-SHELL", "curl -f localhost"], "interval": "1m30s"}
    assert web["deploy"] == {"resources": {"limits": {"cpus": 0.5, "memory": "536870912"}}, "placement": {}}
    assert web["depends_on"] == {"db": {"condition": "service_started", "required": True}}
    assert web["extra_hosts"] == ["h=1.1.1.1"]
    assert web["shm_size"] == "1073741824"
    assert web["stop_grace_period"] == "1m0s"
    assert web["volumes"] == [
        {"type": "volume", "source": "data", "target": "/data", "volume": {}},
        {"type": "bind", "source": str(tmp_path / "src"), "target": "/src", "read_only": True,
         "bind": {"create_host_path": True}}]

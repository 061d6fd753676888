"""Where a project comes from: file discovery, -f, COMPOSE_FILE, the project
directory, env files and the environment, profiles and the project name.
Each test builds a small tree under tmp_path and passes environ and cwd in.
Rows marked "binary" were checked against the Docker Compose v2.40.3 binary."""
from __future__ import annotations

import os

import pytest

from orchestrator.config.errors import ConfigError
from orchestrator.config.sources import Options, normalize_project_name, resolve

SERVICE = "services:\n  a:\n    image: x\n"


def tree(root, files: dict[str, str]):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def sources(cwd, environ=None, **options):
    return resolve(Options(cwd=str(cwd), environ=environ or {}, **options))


def names(resolved, root) -> list[str]:
    return [os.path.relpath(f.filename, root) for f in resolved.files]


# -- discovery ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"])
def test_default_file_names(tmp_path, name):
    tree(tmp_path, {name: SERVICE})
    resolved = sources(tmp_path)
    assert names(resolved, tmp_path) == [name]
    assert resolved.files[0].content == SERVICE
    assert resolved.working_dir == str(tmp_path)


@pytest.mark.parametrize("present, chosen", [
    (["docker-compose.yml", "compose.yaml"], "compose.yaml"),
    (["docker-compose.yaml", "compose.yml"], "compose.yml"),
    (["docker-compose.yaml", "docker-compose.yml"], "docker-compose.yml"),
])
def test_default_file_preference(tmp_path, present, chosen):
    tree(tmp_path, {name: SERVICE for name in present})
    assert names(sources(tmp_path), tmp_path) == [chosen]


@pytest.mark.parametrize("present, override", [
    (["compose.override.yaml"], "compose.override.yaml"),
    (["docker-compose.override.yml"], "docker-compose.override.yml"),
    (["compose.override.yaml", "compose.override.yml"], "compose.override.yml"),
])
def test_override_file_beside_the_main_one(tmp_path, present, override):
    tree(tmp_path, {"compose.yaml": SERVICE, **{name: SERVICE for name in present}})
    assert names(sources(tmp_path), tmp_path) == ["compose.yaml", override]


def test_discovery_walks_up_to_the_parents(tmp_path):
    # binary: run from sub/deeper, the project is the parent's
    tree(tmp_path, {"compose.yaml": SERVICE, "compose.override.yaml": SERVICE, "sub/deeper/x.txt": ""})
    resolved = sources(tmp_path / "sub" / "deeper")
    assert names(resolved, tmp_path) == ["compose.yaml", "compose.override.yaml"]
    assert resolved.working_dir == str(tmp_path)


def test_nearest_directory_wins(tmp_path):
    tree(tmp_path, {"compose.yaml": SERVICE, "sub/docker-compose.yml": SERVICE, "compose.override.yaml": ""})
    resolved = sources(tmp_path / "sub")
    assert names(resolved, tmp_path) == ["sub/docker-compose.yml"]  # the parent's override is not used
    assert resolved.working_dir == str(tmp_path / "sub")


def test_no_configuration_file(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError) as caught:
        sources(tmp_path / "empty")
    assert "no configuration file provided" in str(caught.value)


# -- -f and COMPOSE_FILE -----------------------------------------------------

def test_several_files(tmp_path):
    tree(tmp_path, {"compose.yaml": SERVICE, "conf/base.yml": SERVICE, "conf/prod.yml": "x-p: 1\n"})
    resolved = sources(tmp_path, files=("conf/base.yml", "conf/prod.yml"))
    assert names(resolved, tmp_path) == ["conf/base.yml", "conf/prod.yml"]
    assert resolved.files[1].content == "x-p: 1\n"
    assert resolved.working_dir == str(tmp_path / "conf")  # the first file's directory


def test_file_from_stdin(tmp_path):
    resolved = sources(tmp_path, files=("-",), read_stdin=lambda: SERVICE)
    assert [(f.filename, f.content) for f in resolved.files] == [("-", SERVICE)]
    assert resolved.working_dir == str(tmp_path)


def test_stdin_file_without_stdin(tmp_path):
    with pytest.raises(ConfigError) as caught:
        sources(tmp_path, files=("-",))
    assert "standard input" in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        sources(tmp_path, files=("nope.yaml",))
    assert "nope.yaml" in str(caught.value)
    assert "not found" in str(caught.value)


@pytest.mark.parametrize("value, separator", [
    ("one.yaml:two.yaml", None),
    ("one.yaml;two.yaml", ";"),
    ("one.yaml,two.yaml", ","),
])
def test_compose_file_variable(tmp_path, value, separator):
    tree(tmp_path, {"one.yaml": SERVICE, "two.yaml": SERVICE, "compose.yaml": SERVICE})
    environ = {"COMPOSE_FILE": value}
    if separator:
        environ["COMPOSE_PATH_SEPARATOR"] = separator
    assert names(sources(tmp_path, environ), tmp_path) == ["one.yaml", "two.yaml"]


def test_compose_file_from_dotenv(tmp_path):
    tree(tmp_path, {".env": "COMPOSE_FILE=other.yaml\n", "other.yaml": SERVICE, "compose.yaml": SERVICE})
    assert names(sources(tmp_path), tmp_path) == ["other.yaml"]


def test_files_option_wins_over_compose_file(tmp_path):
    tree(tmp_path, {"one.yaml": SERVICE, "two.yaml": SERVICE})
    assert names(sources(tmp_path, {"COMPOSE_FILE": "one.yaml"}, files=("two.yaml",)), tmp_path) == ["two.yaml"]


# -- project directory and environment ------------------------------------------

def test_project_directory(tmp_path):
    tree(tmp_path, {"proj/compose.yaml": SERVICE, "proj/.env": "A=proj\n", ".env": "A=cwd\n"})
    resolved = sources(tmp_path, project_directory="proj")
    assert names(resolved, tmp_path) == ["proj/compose.yaml"]
    assert resolved.working_dir == str(tmp_path / "proj")
    assert resolved.environment["A"] == "proj"
    assert resolved.env_files == [str(tmp_path / "proj" / ".env")]


def test_project_directory_with_files(tmp_path):
    tree(tmp_path, {"files/compose.yaml": SERVICE, "proj/.env": "A=proj\n"})
    resolved = sources(tmp_path, files=("files/compose.yaml",), project_directory="proj")
    assert resolved.working_dir == str(tmp_path / "proj")
    assert resolved.environment["A"] == "proj"


def test_dotenv_in_project_directory(tmp_path):
    tree(tmp_path, {"compose.yaml": SERVICE, ".env": "IMG=dotenv\nCOMPOSE_PROFILES=p, q\n"})
    resolved = sources(tmp_path)
    assert resolved.environment["IMG"] == "dotenv"
    assert resolved.profiles == ["p", "q"]


def test_environment_wins_over_dotenv(tmp_path):
    # binary: IMG=envwins docker compose config -> image: envwins
    tree(tmp_path, {"compose.yaml": SERVICE, ".env": "IMG=dotenv\nOTHER=${IMG}\n"})
    environment = sources(tmp_path, {"IMG": "envwins"}).environment
    assert environment["IMG"] == "envwins"
    assert environment["OTHER"] == "envwins"


def test_several_env_files(tmp_path):
    # binary: --env-file one.env --env-file two.env -> IMG=e2, B=1
    tree(tmp_path, {"compose.yaml": SERVICE, ".env": "IGNORED=1\n",
                    "other/one.env": "IMG=e1\nA=1\n", "other/two.env": "IMG=e2\nB=${A}\n"})
    resolved = sources(tmp_path, env_files=("other/one.env", "other/two.env"))
    assert {k: resolved.environment.get(k) for k in ("IMG", "A", "B", "IGNORED")} == {
        "IMG": "e2", "A": "1", "B": "1", "IGNORED": None}
    assert resolved.env_files == [str(tmp_path / "other" / "one.env"), str(tmp_path / "other" / "two.env")]


def test_missing_env_file(tmp_path):
    tree(tmp_path, {"compose.yaml": SERVICE})
    with pytest.raises(ConfigError) as caught:
        sources(tmp_path, env_files=("missing.env",))
    assert "missing.env" in str(caught.value)


@pytest.mark.parametrize("value, loaded", [("1", False), ("true", False), ("0", True), ("", True)])
def test_disable_env_file(tmp_path, value, loaded):
    tree(tmp_path, {"compose.yaml": SERVICE, ".env": "A=1\n"})
    environment = sources(tmp_path, {"COMPOSE_DISABLE_ENV_FILE": value}).environment
    assert ("A" in environment) is loaded


def test_pwd_defaults_to_cwd(tmp_path):
    tree(tmp_path, {"compose.yaml": SERVICE})
    assert sources(tmp_path).environment["PWD"] == str(tmp_path)
    assert sources(tmp_path, {"PWD": "/else"}).environment["PWD"] == "/else"


@pytest.mark.parametrize("environ, options, profiles", [
    ({}, {}, []),
    ({"COMPOSE_PROFILES": "debug"}, {}, ["debug"]),
    ({"COMPOSE_PROFILES": " a , b,,"}, {}, ["a", "b"]),
    ({"COMPOSE_PROFILES": "debug"}, {"profiles": ("tools",)}, ["tools"]),
    ({}, {"profiles": ("*",)}, ["*"]),
])
def test_profiles(tmp_path, environ, options, profiles):
    tree(tmp_path, {"compose.yaml": SERVICE})
    assert sources(tmp_path, environ, **options).profiles == profiles


# -- project name ------------------------------------------------------------

@pytest.mark.parametrize("environ, options, files, name", [
    ({}, {}, {}, None),
    ({}, {"project_name": "given"}, {}, "given"),
    ({"COMPOSE_PROJECT_NAME": "fromenv"}, {}, {}, "fromenv"),
    ({"COMPOSE_PROJECT_NAME": "fromenv"}, {"project_name": "given"}, {}, "given"),
    ({}, {}, {".env": "COMPOSE_PROJECT_NAME=fromdotenv\n"}, "fromdotenv"),   # binary
    ({"COMPOSE_PROJECT_NAME": "fromenv"}, {}, {".env": "COMPOSE_PROJECT_NAME=fromdotenv\n"}, "fromenv"),
    ({}, {"project_name": "a-b_1"}, {}, "a-b_1"),
])
def test_explicit_project_name(tmp_path, environ, options, files, name):
    tree(tmp_path, {"compose.yaml": SERVICE, **files})
    assert sources(tmp_path, environ, **options).explicit_name == name


@pytest.mark.parametrize("environ, options, files, named, origin", [
    ({}, {"project_name": "My_App"}, {}, "My_App", "-p"),
    ({}, {"project_name": "-x"}, {}, "-x", "-p"),
    ({"COMPOSE_PROJECT_NAME": "My_App"}, {}, {}, "My_App", "COMPOSE_PROJECT_NAME"),
    ({}, {}, {".env": "COMPOSE_PROJECT_NAME=Bad Name\n"}, "Bad Name", "COMPOSE_PROJECT_NAME"),
])
def test_invalid_project_name(tmp_path, environ, options, files, named, origin):
    # binary: invalid project name "My_App": must consist only of lowercase alphanumeric ...
    tree(tmp_path, {"compose.yaml": SERVICE, **files})
    with pytest.raises(ConfigError) as caught:
        sources(tmp_path, environ, **options)
    message = str(caught.value)
    assert named in message
    assert origin in message
    assert "lowercase alphanumeric" in message


@pytest.mark.parametrize("name, normalized", [
    ("myapp", "myapp"), ("My_App", "my_app"), ("UPPER", "upper"), ("ok-1_2", "ok-1_2"),
    ("-x_y", "x_y"), ("__a", "a"), ("a.b c", "abc"), ("__", ""), ("é", ""), ("a-", "a-"),
])
def test_normalize_project_name(name, normalized):
    assert normalize_project_name(name) == normalized

"""The pure formatting of ``dockyard image`` and ``dockyard volume``: docker's
template subset, tables, sizes and ages (expected texts are the docker CLI's)."""
from __future__ import annotations

import pytest

from orchestrator.cli.formats import (
    DaemonError,
    format_rows,
    go_json,
    go_value,
    human_duration,
    human_size,
    render,
    tabulate,
)
from orchestrator.cli.image import image_rows, split_reference
from orchestrator.cli.volume import VOLUME_HEADERS, VOLUME_TABLE, pairs, volume_row

BUSYBOX = {"Id": "sha256:3cf49418e0c1b07f929037c81dd06e690289c3ec65027181373980103a1d6958",
           "RepoTags": ["busybox:latest"], "Created": 1_000_000, "Size": 1982432, "Labels": {"a": "b"}}


@pytest.mark.parametrize(("size", "precision", "text"), [
    (0, 3, "0B"), (999, 3, "999B"), (35_700, 3, "35.7kB"), (1_982_432, 3, "1.98MB"), (1_982_432, 4, "1.982MB"),
    (2_018_000, 4, "2.018MB"), (5_000_000_000, 3, "5GB"), (999_900, 3, "1e+03kB")])
def test_sizes_are_go_units_decimal_sizes(size, precision, text):
    assert human_size(size, precision) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (0.5, "Less than a second"), (1, "1 second"), (59, "59 seconds"), (60, "About a minute"),
    (119, "About a minute"), (120, "2 minutes"), (3599, "59 minutes"), (3600, "About an hour"),
    (5399, "About an hour"), (5400, "2 hours"), (47 * 3600, "47 hours"), (48 * 3600, "2 days"),
    (14 * 86400, "2 weeks"), (60 * 86400, "2 months"), (800 * 86400, "2 years")])
def test_ages_are_go_units_durations(seconds, text):
    assert human_duration(seconds) == text


def test_go_json_escapes_as_go_does():
    assert go_json({"Digest": "<none>", "a": "&"}) == '{"Digest":"\\u003cnone\\u003e","a":"\\u0026"}'
    assert go_json([{"b": 1, "a": None}], indent=4, sort_keys=True) == (
        '[\n    {\n        "a": null,\n        "b": 1\n    }\n]')


def test_values_print_as_text_template_prints_them():
    assert go_value(None) == "<no value>"
    assert go_value(["sh", "-c"]) == "[sh -c]"
    assert go_value({"b": 1, "a": True}) == "map[a:true b:1]"


def test_templates_fields_functions_methods_and_pipelines():
    data = {"Id": "sha256:x", "Config": {"Cmd": ["sh"], "Env": None}, "Tags": ["a", "b"],
            "Label": lambda key: {"k": "v"}.get(key, "")}
    assert render("{{.Id}} {{ .Config.Cmd }} {{.Config.Env}}", data) == "sha256:x [sh] <no value>"
    assert render('{{json .Tags}} {{join .Tags ","}} {{upper .Id}} {{index .Tags 1}}', data) == '["a","b"] a,b SHA256:X b'
    assert render('{{.Label "k"}}|{{.Label "none"}}|{{.Id | json}}', data) == 'v||"sha256:x"'
    assert render("{{json .}}", {"a": [1]}) == '{"a":[1]}'


def test_a_missing_key_fails_as_docker_says_in_inspect():
    with pytest.raises(DaemonError, match=r'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"'):
        render("{{.Nope}}", {"Id": "x"}, strict=True)
    assert render("{{.Nope}}", {"Id": "x"}) == "<no value>"


def test_tables_align_as_docker_tabwriter():
    assert tabulate(["DRIVER\tVOLUME NAME", "local\tdata"]) == ["DRIVER    VOLUME NAME", "local     data"]
    assert tabulate(["REPOSITORY\tTAG", "example/copy\tlatest"]) == ["REPOSITORY     TAG", "example/copy   latest"]


def test_image_rows_one_per_tag_and_dangling_as_none():
    rows = image_rows(dict(BUSYBOX, RepoTags=["busybox:latest", "localhost:5000/b:1"]), now=1_000_000 + 7200)
    assert [(row["Repository"], row["Tag"]) for row in rows] == [("busybox", "latest"), ("localhost:5000/b", "1")]
    assert rows[0]["ID"] == "3cf49418e0c1" and rows[0]["Size"] == "1.98MB" and rows[0]["VirtualSize"] == "1.982MB"
    assert rows[0]["CreatedSince"] == "2 hours ago" and rows[0]["Label"]("a") == "b"
    dangling = image_rows(dict(BUSYBOX, RepoTags=[]), no_trunc=True)[0]
    assert (dangling["Repository"], dangling["Tag"], dangling["ID"]) == ("<none>", "<none>", BUSYBOX["Id"])
    assert split_reference("localhost:5000/b") == ("localhost:5000/b", "<none>")


def test_format_rows_table_json_and_plain_templates():
    row = image_rows(BUSYBOX, now=1_000_000)[0]
    headers = {"Repository": "REPOSITORY", "Size": "SIZE"}
    assert format_rows("table {{.Repository}}\\t{{.Size}}", [row], headers) == [
        "REPOSITORY   SIZE", "busybox      1.98MB"]
    assert format_rows("{{.Repository}}:{{.Tag}}", [row], headers) == ["busybox:latest"]
    line = format_rows("json", [row], headers)[0]
    assert line.startswith('{"Containers":"N/A","CreatedAt":') and '"Digest":"\\u003cnone\\u003e"' in line


def test_volume_rows_and_options():
    volume = {"Name": "data", "Driver": "local", "Labels": {"tier": "db", "team": "a"}, "Mountpoint": "/m",
              "Scope": "local"}
    row = volume_row(volume)
    assert row["Labels"] == "team=a,tier=db" and row["Label"]("tier") == "db"
    assert format_rows(VOLUME_TABLE, [row], VOLUME_HEADERS) == ["DRIVER    VOLUME NAME", "local     data"]
    assert pairs(["a=b", "c="], "opt") == {"a": "b", "c": ""}

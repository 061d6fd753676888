"""Compose's small value languages: ports, volumes, sizes, durations, shell
words, host lists and Go's number printing. Rows marked "binary" were checked
against the Docker Compose v2.40.3 binary (`config --format json`)."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.config import syntax


def port(target, published=None, protocol="tcp", host_ip=None):
    entry = {"mode": "ingress", "target": target, "protocol": protocol}
    if published is not None:
        entry["published"] = published
    if host_ip is not None:
        entry["host_ip"] = host_ip
    return entry


PORTS = [
    ("80", [port(80)]),
    ("8080:80", [port(80, "8080")]),
    (":86", [port(86)]),
    ("0:84", [port(84, "0")]),
    ("127.0.0.1:8080:80", [port(80, "8080", host_ip="127.0.0.1")]),
    ("127.0.0.1::82", [port(82, host_ip="127.0.0.1")]),
    ("[::1]:8080:80", [port(80, "8080", host_ip="::1")]),
    ("::1:8081:81", [port(81, "8081", host_ip="::1")]),
    ("[fe80::1]:53:53/udp", [port(53, "53", "udp", "fe80::1")]),
    ("80/udp", [port(80, protocol="udp")]),
    ("8080:85/UDP", [port(85, "8080", "udp")]),
    ("9090-9091:8080-8081/sctp", [port(8080, "9090", "sctp"), port(8081, "9091", "sctp")]),
    ("8000-8002:80-82", [port(80, "8000"), port(81, "8001"), port(82, "8002")]),
    # a host range for one container port stays a range (binary)
    ("8000-8002:83", [port(83, "8000-8002")]),
    ("7-9:9", [port(9, "7-9")]),
    ("80-80", [port(80)]),
    # compose sorts one spec's ports by their "PORT/PROTO" text (binary)
    ("8-10", [port(10), port(8), port(9)]),
    ("1098-1101:98-101", [port(100, "1100"), port(101, "1101"), port(98, "1098"), port(99, "1099")]),
]


@pytest.mark.parametrize("spec, expected", PORTS)
def test_parse_port(spec, expected):
    assert syntax.parse_port(spec) == expected


PORT_ERRORS = [
    ("80800", "80800"),            # binary: invalid containerPort: 80800
    ("80800:80", "80800"),         # binary: invalid hostPort: 80800
    ("65536:80", "65536"),
    ("8000-8001:80-82", "8000-8001"),  # binary: invalid ranges specified ...
    ("8:80-81", "80-81"),
    ("x:80", "'x'"),
    ("80/foo", "foo"),             # binary: invalid proto: foo
    ("82-80", "82-80"),
    ("1.2.3.4.5:80:80", "1.2.3.4.5"),  # binary: invalid IP address: 1.2.3.4.5
    ("8080:", "container port"),
    ("8080:/tcp", "container port"),
]


@pytest.mark.parametrize("spec, mentioned", PORT_ERRORS)
def test_parse_port_errors(spec, mentioned):
    with pytest.raises(ValueError) as caught:
        syntax.parse_port(spec)
    assert mentioned.strip("'") in str(caught.value)


def bind(source, target, **extra):
    options = extra.pop("bind", {})
    return {"type": "bind", "source": source, "target": target, **extra,
            "bind": {**options, "create_host_path": True}}


def volume(target, source=None, **extra):
    out = {"type": "volume", "target": target, "volume": extra.pop("volume", {}), **extra}
    if source is not None:
        out["source"] = source
    return out


VOLUMES = [
    ("data:/data", volume("/data", "data")),
    ("/anon", volume("/anon")),
    ("ab", volume("ab")),                # one or two characters: a target
    ("x:", volume("x:")),
    ("data:/data:nocopy", volume("/data", "data", volume={"nocopy": True})),
    ("data:/d:ro", volume("/d", "data", read_only=True)),
    ("data:/d:ro,rw", volume("/d", "data")),
    ("data:/d:ro,slave", volume("/d", "data", read_only=True, bind={"propagation": "slave"})),
    ("data:/e:bogus", volume("/e", "data")),     # unknown options are ignored (binary)
    ("./src:/app", bind("./src", "/app")),
    (".:/src", bind(".", "/src")),
    ("../up:/u", bind("../up", "/u")),
    ("~/x:/x", bind("~/x", "/x")),
    ("/host:/c", bind("/host", "/c")),
    ("/host:/c:ro", bind("/host", "/c", read_only=True)),
    ("/h2:/c2:ro,rw", bind("/h2", "/c2")),
    ("./a:/b:z", bind("./a", "/b", bind={"selinux": "z"})),
    ("./a:/b:Z", bind("./a", "/b", bind={"selinux": "Z"})),
    ("/host:/c:ro,z", bind("/host", "/c", read_only=True, bind={"selinux": "z"})),
    ("./a:/b:ro,rshared", bind("./a", "/b", read_only=True, bind={"propagation": "rshared"})),
    ("C:\\foo:/bar", bind("C:\\foo", "/bar")),         # a Windows drive is a path
    ("a:/a", volume("a:/a")),                          # ... even one letter (binary)
    ("\\\\srv\\share:/x", bind("\\\\srv\\share", "/x")),
    ("${HOME}:/h", volume("/h", "${HOME}")),           # ':' inside ${...} does not split
    ("${A:-x}:/h", volume("/h", "${A:-x}")),
]


@pytest.mark.parametrize("spec, expected", VOLUMES)
def test_parse_volume(spec, expected):
    assert syntax.parse_volume(spec) == expected


def test_parse_volume_bind_nocopy():
    # binary: ./a:/b:nocopy -> {type: bind, bind: {create_host_path: true}, volume: {nocopy: true}}
    assert syntax.parse_volume("./a:/b:nocopy") == {
        "type": "bind", "source": "./a", "target": "/b",
        "bind": {"create_host_path": True}, "volume": {"nocopy": True}}


@pytest.mark.parametrize("spec, words", [
    ("", "empty"),
    (":/x", "empty section"),
    ("data::/x", "empty section"),
    ("abc:", "empty section"),
    ("/a:/b:ro:x", "too many colons"),
])
def test_parse_volume_errors(spec, words):
    with pytest.raises(ValueError) as caught:
        syntax.parse_volume(spec)
    assert words in str(caught.value)


# -- sizes and durations ---------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("512m", 512 << 20), ("64M", 64 << 20), ("1.5g", 3 << 29), ("1024", 1024), ("0", 0),
    ("1k", 1024), ("1kb", 1024), ("1KiB", 1024), ("2 MB", 2 << 20), ("1gb", 1 << 30),
    ("1p", 1 << 50), ("1.5", 1), (100, 100), (2.0, 2),
])
def test_parse_bytes(value, expected):
    assert syntax.parse_bytes(value) == expected


@pytest.mark.parametrize("value", ["abc", "1x", "-1", "1.2.3k", "", True])
def test_parse_bytes_errors(value):
    with pytest.raises(ValueError):
        syntax.parse_bytes(value)


DURATIONS = [
    # (written, nanoseconds, Go's Duration.String())
    ("0", 0, "0s"), ("0s", 0, "0s"),
    ("10ns", 10, "10ns"), ("1us", 1_000, "1µs"), ("1µs", 1_000, "1µs"),
    ("1500ns", 1_500, "1.5µs"), ("500ms", 500_000_000, "500ms"), (".5s", 500_000_000, "500ms"),
    ("1.5s", 1_500_000_000, "1.5s"), ("1500ms", 1_500_000_000, "1.5s"),
    ("90s", 90_000_000_000, "1m30s"), ("1m30s", 90_000_000_000, "1m30s"),
    ("1m", 60_000_000_000, "1m0s"), ("1h", 3_600_000_000_000, "1h0m0s"),
    ("2h", 7_200_000_000_000, "2h0m0s"), ("1.5h", 5_400_000_000_000, "1h30m0s"),
    ("3601s", 3_601_000_000_000, "1h0m1s"), ("5m0.5s", 300_500_000_000, "5m0.5s"),
    ("1h1m1.001s", 3_661_001_000_000, "1h1m1.001s"),
    ("3d", 259_200_000_000_000, "72h0m0s"), ("1w", 604_800_000_000_000, "168h0m0s"),
    ("+2s", 2_000_000_000, "2s"), ("-1s", -1_000_000_000, "-1s"),
    ("1000000001ns", 1_000_000_001, "1.000000001s"),
]


@pytest.mark.parametrize("text, ns, printed", DURATIONS)
def test_parse_and_format_duration(text, ns, printed):
    assert syntax.parse_duration(text) == ns
    assert syntax.format_duration(ns) == printed


@pytest.mark.parametrize("text", ["abc", "1", "", "1h30", "s", "1x", "1s ", "1.5.5s"])
def test_parse_duration_errors(text):
    with pytest.raises(ValueError):
        syntax.parse_duration(text)


@given(st.integers(min_value=-(2**62), max_value=2**62))
def test_format_duration_round_trips(ns):
    printed = syntax.format_duration(ns)
    assert syntax.format_duration(syntax.parse_duration(printed)) == printed


# -- commands and hosts ----------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("echo hello", ["echo", "hello"]),
    ('sh -c "echo $$HOME"', ["sh", "-c", "echo $$HOME"]),
    ("a 'b c' d", ["a", "b c", "d"]),
    ("a\\ b", ["a b"]),
    ("  x   y ", ["x", "y"]),
    ("a#b #c", ["a#b", "#c"]),
    ("", []),
])
def test_shell_words(text, words):
    assert syntax.shell_words(text) == words


@pytest.mark.parametrize("text", ['a "b', "it's"])
def test_shell_words_unbalanced_quotes(text):
    with pytest.raises(ValueError):
        syntax.shell_words(text)


@pytest.mark.parametrize("entries, expected", [
    (["a:1.2.3.4"], {"a": ["1.2.3.4"]}),
    (["a=1.2.3.4"], {"a": ["1.2.3.4"]}),
    (["a:1.2.3.4", "a:5.6.7.8"], {"a": ["1.2.3.4", "5.6.7.8"]}),
    (["a:1.1.1.1,2.2.2.2"], {"a": ["1.1.1.1", "2.2.2.2"]}),
    (["a=::1"], {"a": ["::1"]}),
    (["a:::1"], {"a": ["::1"]}),
    (["a=[::1]"], {"a": ["::1"]}),
    (["host.docker.internal:host-gateway"], {"host.docker.internal": ["host-gateway"]}),
    ({"a": "1.2.3.4", "b": ["1.1.1.1", "2.2.2.2"]}, {"a": ["1.2.3.4"], "b": ["1.1.1.1", "2.2.2.2"]}),
])
def test_parse_hosts(entries, expected):
    assert syntax.parse_hosts(entries) == expected


@pytest.mark.parametrize("entries", [["noip"], [":1.2.3.4"], {"": "1.2.3.4"}])
def test_parse_hosts_errors(entries):
    with pytest.raises(ValueError):
        syntax.parse_hosts(entries)


# -- Go's %v ---------------------------------------------------------------

@pytest.mark.parametrize("value, printed", [
    (1e6, "1e+06"), (100000.0, "100000"), (123456.0, "123456"), (1234567.0, "1.234567e+06"),
    (1e-05, "1e-05"), (1.5e-05, "1.5e-05"), (0.0001, "0.0001"), (2.5e-7, "2.5e-07"),
    (1e21, "1e+21"), (0.1, "0.1"), (1.5, "1.5"), (100.0, "100"), (1 / 3, "0.3333333333333333"),
    (0.0, "0"), (-0.0, "-0"), (-2.5, "-2.5"),
    (math.inf, "+Inf"), (-math.inf, "-Inf"), (math.nan, "NaN"),
])
def test_go_float(value, printed):
    assert syntax.go_float(value) == printed


@pytest.mark.parametrize("value, printed", [
    (None, ""), (True, "true"), (False, "false"), (10, "10"), (-3, "-3"), ("x", "x"),
    (1.0, "1"), (1e6, "1e+06"), (0.00001, "1e-05"), (math.inf, "+Inf"),
])
def test_go_string(value, printed):
    assert syntax.go_string(value) == printed

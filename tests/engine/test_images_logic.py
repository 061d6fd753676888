"""Pure logic of the image store, no root: references, --change, layer policy."""
from __future__ import annotations

import tarfile

import pytest

from engine.images.changes import apply_changes, parse_duration
from engine.images.errors import InvalidChange, InvalidReference, UnsafeLayerEntry
from engine.images.layers import Entry, classify, clean_path, compression_of
from engine.images.reference import id_prefix, not_found_name, parse_reference, short_id
from engine.images.removal import single_reference
from engine.images.views import history_view, unix_time

HEX = "a" * 64


@pytest.mark.parametrize("text, full, familiar", [
    ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("index.docker.io/library/busybox:x", "docker.io/library/busybox:x", "busybox:x"),
    ("user/app", "docker.io/user/app:latest", "user/app:latest"),
    ("docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"),
    ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
    ("localhost:5000/x/y:tag", "localhost:5000/x/y:tag", "localhost:5000/x/y:tag"),
    ("registry.example.com/team/app:v1.2-rc_3", "registry.example.com/team/app:v1.2-rc_3",
     "registry.example.com/team/app:v1.2-rc_3"),
    ("Registry.Example.com/app", "Registry.Example.com/app:latest", "Registry.Example.com/app:latest"),
    ("[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000/app:latest"),
    ("user/a__b.c-d---e", "docker.io/user/a__b.c-d---e:latest", "user/a__b.c-d---e:latest"),
    (f"busybox@sha256:{HEX}", f"docker.io/library/busybox@sha256:{HEX}", f"busybox@sha256:{HEX}"),
    (f"localhost:5000/x@sha256:{HEX}", f"localhost:5000/x@sha256:{HEX}",
     f"localhost:5000/x@sha256:{HEX}"),
    (f"busybox:1@sha256:{HEX}", f"docker.io/library/busybox@sha256:{HEX}",
     f"busybox@sha256:{HEX}"),
])
def test_reference_normalization(text, full, familiar):
    ref = parse_reference(text).lookup_key()
    assert str(ref) == full
    assert ref.familiar == familiar


@pytest.mark.parametrize("text, message", [
    ("", "repository name must have at least one component"),
    ("Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"),
    ("user/App:tag", "invalid reference format: repository name (user/App) must be lowercase"),
    ("busybox:", "invalid reference format"),
    ("busybox:-tag", "invalid reference format"),
    ("busy box", "invalid reference format"),
    ("a/-b", "invalid reference format"),
    ("a//b", "invalid reference format"),
    ("busybox:" + "t" * 129, "invalid reference format"),
    ("busybox@sha256:abc", "invalid reference format"),
    (f"busybox@sha256:{'A' * 64}", "invalid checksum digest format"),
    (f"busybox@md5:{'a' * 32}", "unsupported digest algorithm"),
    (f"busybox@sha256:{'a' * 63}0a", "invalid checksum digest length"),
    (HEX, f"invalid repository name ({HEX}), cannot specify 64-byte hexadecimal strings"),
    ("a/" + "b" * 260, "repository name must not be more than 255 characters"),
])
def test_reference_errors(text, message):
    with pytest.raises(InvalidReference) as caught:
        parse_reference(text)
    assert str(caught.value) == message


def test_ids_and_not_found_wording():
    assert id_prefix("3f57d9401f8d") == "3f57d9401f8d"
    assert id_prefix(f"sha256:{HEX}") == HEX
    assert id_prefix("busybox") is None
    assert short_id(f"sha256:{HEX}") == "a" * 12
    assert not_found_name("nosuch") == "nosuch:latest"
    assert not_found_name("localhost:5000/x") == "localhost:5000/x:latest"
    assert not_found_name(HEX) == f"sha256:{HEX}"
    assert not_found_name("Bad Name") == "Bad Name"


def test_single_reference_rule():
    tag = parse_reference("a:1")
    digest = parse_reference(f"a@sha256:{HEX}")
    assert single_reference([tag])
    assert single_reference([tag, digest])
    assert not single_reference([])
    assert not single_reference([tag, parse_reference("a:2")])
    assert not single_reference([tag, parse_reference(f"b@sha256:{HEX}")])


# --------------------------------------------------------------- --change

@pytest.mark.parametrize("changes, expected", [
    (['CMD ["sh"]'], {"Cmd": ["sh"]}),
    (["CMD echo hi"], {"Cmd": ["/bin/sh", "-c", "echo hi"]}),
    (['ENTRYPOINT ["/bin/app", "-v"]'], {"Entrypoint": ["/bin/app", "-v"], "Cmd": None}),
    (['CMD ["x"]', "ENTRYPOINT run"], {"Cmd": ["x"], "Entrypoint": ["/bin/sh", "-c", "run"]}),
    (["ENV A=b", 'ENV C="d e" F=g', "ENV A=z"], {"Env": ["A=z", "C=d e", "F=g"]}),
    (["ENV LEGACY some value"], {"Env": ["LEGACY=some value"]}),
    (["WORKDIR /x", "WORKDIR y/z"], {"WorkingDir": "/x/y/z"}),
    (["USER app:extra"], {"User": "app:extra"}),
    (["EXPOSE 80 53/udp 8000-8001"],
     {"ExposedPorts": {"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}}}),
    (['LABEL a=b "c d"="e f"'], {"Labels": {"a": "b", "c d": "e f"}}),
    (['VOLUME ["/data", "/logs"]'], {"Volumes": {"/data": {}, "/logs": {}}}),
    (["VOLUME /data /cache"], {"Volumes": {"/data": {}, "/cache": {}}}),
    (["STOPSIGNAL SIGTERM"], {"StopSignal": "SIGTERM"}),
    (["ONBUILD RUN echo"], {"OnBuild": ["RUN echo"]}),
    (["cmd [\"lower\"]"], {"Cmd": ["lower"]}),
    (["HEALTHCHECK NONE"], {"Healthcheck": {"Test": ["NONE"]}}),
    (["HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost"],
     {"Healthcheck": {"Interval": 5_000_000_000, "Retries": 3,
                      "Test": ["CMD-SHELL", "wget -q localhost"]}}),
    (['HEALTHCHECK --timeout=1m30s CMD ["true"]'],
     {"Healthcheck": {"Timeout": 90_000_000_000, "Test": ["CMD", "true"]}}),
])
def test_changes(changes, expected):
    assert apply_changes({}, changes) == expected


@pytest.mark.parametrize("change, message", [
    ("RUN echo", "run is not a valid change command"),
    ("FROM busybox", "from is not a valid change command"),
    ("ENV", "ENV requires at least one argument"),
    ("ENV =x", "ENV names can not be blank"),
    ("EXPOSE http", "Invalid containerPort: http"),
    ("VOLUME", "VOLUME specified can not be an empty string"),
    ("WORKDIR", "WORKDIR requires exactly one argument"),
    ("HEALTHCHECK --bogus=1 CMD x", "Unknown flag: bogus"),
    ("HEALTHCHECK --interval=5 CMD x", 'time: invalid duration "5"'),
])
def test_change_errors(change, message):
    with pytest.raises(InvalidChange) as caught:
        apply_changes({}, [change])
    assert str(caught.value) == message


def test_changes_do_not_mutate_the_input():
    base = {"Env": ["A=1"]}
    assert apply_changes(base, ["ENV B=2"]) == {"Env": ["A=1", "B=2"]}
    assert base == {"Env": ["A=1"]}


def test_durations():
    assert parse_duration("1h2m3.5s") == 3_723_500_000_000
    assert parse_duration("250ms") == 250_000_000
    assert parse_duration("0") == 0


# --------------------------------------------------------------- layer policy

def member(name, kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info


@pytest.mark.parametrize("name, expected", [
    ("a/b", "a/b"), ("./a/./b/", "a/b"), ("a//b", "a/b"), (".", ""), ("./", ""),
])
def test_clean_path(name, expected):
    assert clean_path(name) == expected


@pytest.mark.parametrize("info, expected", [
    (member("etc/passwd"), Entry("file", "etc/passwd")),
    (member("./", tarfile.DIRTYPE), Entry("root", "")),
    (member("usr/", tarfile.DIRTYPE), Entry("dir", "usr")),
    (member("etc/.wh.hosts"), Entry("whiteout", "etc/hosts")),
    (member(".wh.gone"), Entry("whiteout", "gone")),
    (member("var/cache/.wh..wh..opq"), Entry("opaque", "var/cache")),
    (member(".wh..wh..opq"), Entry("opaque", "")),
    (member("x/.wh..wh.plnk"), Entry("skip", "x/.wh..wh.plnk")),
    (member("lib", tarfile.SYMTYPE, "/usr/lib"), Entry("symlink", "lib", "/usr/lib")),
    (member("up", tarfile.SYMTYPE, "../../.."), Entry("symlink", "up", "../../..")),
    (member("b", tarfile.LNKTYPE, "./a"), Entry("hardlink", "b", "a")),
    (member("p", tarfile.FIFOTYPE), Entry("fifo", "p")),
])
def test_classify_accepts(info, expected):
    assert classify(info, set(), "sha256:layer") == expected


@pytest.mark.parametrize("info, symlinks, reason", [
    (member("/etc/passwd"), set(), "absolute path"),
    (member("../escape"), set(), "'..'"),
    (member("a/../../escape"), set(), "'..'"),
    (member("evil/passwd"), {"evil"}, "parent 'evil' is a symlink"),
    (member("a/evil/deeper/x"), {"a/evil"}, "parent 'a/evil' is a symlink"),
    (member("a/evil/.wh.x"), {"a/evil"}, "is a symlink"),
    (member("link", tarfile.LNKTYPE, "/etc/passwd"), set(), "absolute path"),
    (member("link", tarfile.LNKTYPE, "../etc/passwd"), set(), "'..'"),
    (member("link", tarfile.LNKTYPE, "evil/passwd"), {"evil"}, "under a symlink"),
    (member("dev/sda", tarfile.BLKTYPE), set(), "device files"),
    (member("dev/null", tarfile.CHRTYPE), set(), "device files"),
])
def test_classify_refuses(info, symlinks, reason):
    with pytest.raises(UnsafeLayerEntry) as caught:
        classify(info, symlinks, "sha256:bad")
    assert reason in str(caught.value)
    assert "sha256:bad" in str(caught.value) and repr(info.name) in str(caught.value)


def test_compression_detection():
    assert compression_of(b"\x1f\x8b\x08\x00") == "gzip"
    assert compression_of(b"\x28\xb5\x2f\xfd\x00") == "zstd"
    assert compression_of(b"BZh91") == "bzip2"
    assert compression_of(b"\xfd7zXZ\x00") == "xz"
    assert compression_of(b"etc/\x00") == "none"


def test_times_and_history_shape():
    assert unix_time("2024-01-02T03:04:05.123456789Z") == 1704164645
    assert unix_time(None) == 0
    record = {"id": "sha256:" + HEX, "layers": [{"diff_id": "sha256:1"}]}
    config = {"history": [{"created": "2024-01-02T03:04:05Z", "created_by": "ADD x"},
                          {"created": "2024-01-02T03:04:06Z", "empty_layer": True,
                           "created_by": "CMD"}]}
    items = history_view(record, config, [parse_reference("a:1")], {"sha256:1": 42})
    assert [(i["Id"], i["CreatedBy"], i["Size"], i["Tags"]) for i in items] == [
        ("sha256:" + HEX, "CMD", 0, ["a:1"]), ("<missing>", "ADD x", 42, None)]

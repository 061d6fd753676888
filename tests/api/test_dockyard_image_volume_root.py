"""``dockyard image ...`` and ``dockyard volume ...`` against a real daemon on
temporary roots (busybox imported), compared with the real docker CLI where
both print the same thing."""
from __future__ import annotations

import json
import re
import subprocess
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[2]
DOCKYARD = REPO / ".venv" / "bin" / "dockyard"
AGE = re.compile(r"(\d+ \w+|Less than a second|About an? \w+) ago")


def dockyard(daemon, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    env = dict(daemon.env, DOCKYARD_HOST=f"unix://{daemon.socket}")
    return subprocess.run([str(DOCKYARD), *args], env=env, input=input, capture_output=True, timeout=60, check=False)


def ok(daemon, *args: str, input: bytes | None = None) -> str:
    done = dockyard(daemon, *args, input=input)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def same_as_docker(daemon, *commands: tuple[str, ...]) -> None:
    """Each read-only command prints the same lines as docker's (which orders
    the tags of one image as a Go map does: at random); all run at once."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        ours = list(pool.map(lambda args: dockyard(daemon, *args), commands))
        theirs = list(pool.map(lambda args: daemon.docker(*args), commands))
    for args, mine, docker in zip(commands, ours, theirs, strict=True):
        assert mine.returncode == docker.returncode == 0, (args, mine.stderr.decode())
        assert cells(mine.stdout) == cells(docker.stdout), args


def cells(output: bytes) -> list[list[str]]:
    """The lines as sorted cells, ages made equal (the two ran a moment apart)."""
    text = AGE.sub("AGE", output.decode())
    return sorted(re.split(r"\s{2,}", line) for line in text.splitlines())


def rootfs_tar(path: Path) -> Path:
    content = path.parent / "hello.txt"
    content.write_text("hello\n")
    with tarfile.open(path, "w") as archive:
        archive.add(content, arcname="hello.txt")
    return path


def test_image_listing_and_inspecting_print_what_docker_prints(daemon):
    assert ok(daemon, "image", "tag", "busybox", "example/copy:1") == ""
    same_as_docker(daemon, ("image", "ls"), ("image", "ls", "--no-trunc"), ("image", "ls", "-q"),
                   ("image", "ls", "--format", "json"), ("image", "ls", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"),
                   ("image", "ls", "--format", "table {{.Repository}}\t{{.Size}}\t{{.CreatedAt}}"),
                   ("image", "ls", "--filter", "reference=example/*", "--format", "{{.Repository}}"),
                   ("image", "inspect", "-f", "{{.Id}} {{.Config.Cmd}} {{json .RepoTags}}", "busybox"),
                   ("image", "inspect", "busybox", "example/copy:1"))
    assert sorted(json.loads(ok(daemon, "image", "inspect", "-f", "{{json .}}", "busybox"))["RepoTags"]) == [
        "busybox:latest", "example/copy:1"]
    errors_are_the_daemons_in_dockers_words(daemon)


def errors_are_the_daemons_in_dockers_words(daemon):
    commands = (("image", "inspect", "nope"), ("image", "tag", "nope", "x:1"), ("image", "rm", "nope"),
                ("image", "save", "-o", str(daemon.run / "saved.tar"), "nope"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        ours = list(pool.map(lambda args: dockyard(daemon, *args), commands))
        theirs = list(pool.map(lambda args: daemon.docker(*args), commands))
    for args, done, docker in zip(commands, ours, theirs, strict=True):
        assert done.returncode == docker.returncode == 1, args
        assert done.stderr.decode() == docker.stderr.decode() == "Error response from daemon: No such image: nope:latest\n"
    found = dockyard(daemon, "image", "inspect", "busybox", "nope")
    assert found.returncode == 1 and "busybox:latest" in json.loads(found.stdout)[0]["RepoTags"]
    forced = dockyard(daemon, "image", "rm", "-f", "nope")
    assert forced.returncode == 0 and b"No such image" in forced.stderr
    bad = dockyard(daemon, "image", "inspect", "-f", "{{.Nope}}", "busybox")
    assert bad.returncode == 1 and b'map has no entry for key "Nope"' in bad.stderr


def test_tag_rm_save_load_round_trip(daemon, tmp_path):
    ok(daemon, "image", "tag", "busybox", "again:2")
    assert ok(daemon, "image", "rm", "again:2") == "Untagged: again:2\n"
    archive = tmp_path / "busybox.tar"
    assert ok(daemon, "image", "save", "-o", str(archive), "busybox") == ""
    streamed = dockyard(daemon, "image", "save", "busybox")
    assert streamed.returncode == 0 and streamed.stdout == archive.read_bytes()
    removed = ok(daemon, "image", "rm", "busybox").splitlines()
    assert removed[0] == "Untagged: busybox:latest" and removed[1].startswith("Deleted: sha256:")
    assert ok(daemon, "image", "load", "-i", str(archive)) == "Loaded image: busybox:latest\n"
    assert ok(daemon, "image", "load", input=archive.read_bytes()) == "Loaded image: busybox:latest\n"
    assert ok(daemon, "image", "ls", "-q") == daemon.docker("image", "ls", "-q").stdout.decode()
    save_refuses_a_terminal(daemon)


def save_refuses_a_terminal(daemon):
    done = subprocess.run(["script", "-qec", f"{DOCKYARD} image save busybox", "/dev/null"],
                          env=dict(daemon.env, DOCKYARD_HOST=f"unix://{daemon.socket}"), capture_output=True, check=False,
                          timeout=60)
    assert b"cowardly refusing to save to a terminal. Use the -o flag or redirect" in done.stdout
    assert done.returncode == 1


def test_import_with_changes_and_message_then_prune(daemon, tmp_path):
    tar = rootfs_tar(tmp_path / "rootfs.tar")
    image_id = ok(daemon, "image", "import", "-c", 'CMD ["/hello"]', "-c", "ENV A=b", "-m", "made here",
                  str(tar), "imported:1").strip()
    assert image_id.startswith("sha256:")
    assert ok(daemon, "image", "inspect", "-f", "{{.Id}}|{{.Comment}}|{{.Config.Cmd}}|{{.Config.Env}}",
              "imported:1") == f"{image_id}|made here|[/hello]|[A=b]\n"
    dangling = ok(daemon, "image", "import", "-", input=tar.read_bytes()).strip()
    declined = ok(daemon, "image", "prune", input=b"n\n")
    assert declined == ("WARNING! This will remove all dangling images.\n"
                        "Are you sure you want to continue? [y/N] ")
    assert dangling[7:19] in ok(daemon, "image", "ls", "-q")
    pruned = ok(daemon, "image", "prune", "-f")
    assert pruned == f"Deleted Images:\ndeleted: {dangling}\n\nTotal reclaimed space: 0B\n"
    everything = ok(daemon, "image", "prune", "-a", input=b"y\n")
    assert "untagged: imported:1" in everything and "untagged: busybox:latest" in everything
    assert everything.rstrip().splitlines()[-1].startswith("Total reclaimed space: ")
    assert ok(daemon, "image", "ls", "-q") == ""
    missing = dockyard(daemon, "image", "import", str(tmp_path / "nope.tar"))
    assert missing.returncode == 1 and b"no such file or directory" in missing.stderr


def test_volume_commands(daemon):
    assert ok(daemon, "volume", "create", "--label", "team=a", "--label", "tier=db", "-d", "local", "data") == "data\n"
    anonymous = ok(daemon, "volume", "create").strip()
    assert len(anonymous) == 64
    same_as_docker(daemon, ("volume", "ls"), ("volume", "ls", "-q"), ("volume", "ls", "--format", "json"),
                   ("volume", "ls", "--filter", "label=team=a", "--format", '{{.Name}} {{.Label "tier"}}'),
                   ("volume", "ls", "--format", "table {{.Name}}\t{{.Driver}}\t{{.Scope}}"),
                   ("volume", "inspect", "data"), ("volume", "inspect", "-f", "{{.Name}} {{json .Labels}}", "data"))
    # docker prints {{.Labels}} in Go's random map order; ours is sorted
    assert ok(daemon, "volume", "ls", "--filter", "label=team=a", "--format", "{{.Labels}}") == "team=a,tier=db\n"
    missing = dockyard(daemon, "volume", "inspect", "nope")
    assert missing.returncode == 1 and missing.stderr == b"Error response from daemon: get nope: no such volume\n"
    bad = dockyard(daemon, "volume", "create", "-o", "type=tmpfs", "bad")
    assert bad.returncode == 1 and bad.stderr.startswith(b"Error response from daemon: ")
    assert ok(daemon, "volume", "prune", input=b"n\n").endswith("Are you sure you want to continue? [y/N] ")
    assert ok(daemon, "volume", "prune", "-f") == f"Deleted Volumes:\n{anonymous}\n\nTotal reclaimed space: 0B\n"
    ok(daemon, "volume", "create", "other")
    removed = dockyard(daemon, "volume", "rm", "other", "nope")
    assert removed.returncode == 1 and removed.stdout == b"other\n"
    assert removed.stderr == b"Error response from daemon: get nope: no such volume\n"
    assert dockyard(daemon, "volume", "rm", "-f", "nope").returncode == 0
    assert ok(daemon, "volume", "prune", "-a", "-f") == "Deleted Volumes:\ndata\n\nTotal reclaimed space: 0B\n"
    assert ok(daemon, "volume", "ls", "-q") == ""

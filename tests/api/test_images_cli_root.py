"""The real docker CLI's image commands against our daemon: ls and its
filters, inspect, history, tag, rm, prune, save and load, import; errors in
docker's words, and a pull refused in words the CLI prints."""
from __future__ import annotations

import json
import re
import time

import pytest

from tests.fixtures.images import CACHE_DIR, busybox_rootfs_tar

pytestmark = pytest.mark.root

ROW = "{{.Repository}}:{{.Tag}} {{.ID}}"
NOT_FOUND = "No such image: nosuch:latest"


def ok(done) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def failed(done, code: int = 1) -> str:
    assert done.returncode == code, (done.stdout, done.stderr)
    return done.stderr.decode()


def image_id(daemon, name: str) -> str:
    return ok(daemon.docker("image", "inspect", "-f", "{{.Id}}", name)).strip()


def rows(daemon, *args: str) -> set[str]:
    return set(ok(daemon.docker("image", "ls", "--format", ROW, *args)).splitlines())


def imported(daemon, *options: str, name: str = "") -> str:
    """``docker import`` of the busybox rootfs file; the id it prints."""
    out = ok(daemon.docker("import", *options, str(busybox_rootfs_tar(CACHE_DIR)), *([name] if name else [])))
    assert re.fullmatch(r"sha256:[0-9a-f]{64}\n", out)
    return out.strip()


def ran(daemon, *image_and_command: str) -> str:
    """The output of a container run from an image. Not ``run --rm``: its
    removal can beat the CLI's wait (a race in the containers API)."""
    out = ok(daemon.docker("run", "--name", "probe", *image_and_command))
    ok(daemon.docker("rm", "probe"))
    return out


def image_events(daemon) -> list[str]:
    """The image events so far: action, actor id, name attribute."""
    return ok(daemon.docker("events", "--since", "0", "--until", f"{time.time():.3f}", "--filter", "type=image",
                            "--format", '{{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "name"}}')).splitlines()


def test_ls_tag_inspect_and_history(daemon):
    full = image_id(daemon, "busybox")
    short = full[7:19]
    assert ok(daemon.docker("tag", "busybox", "example.com/team/app:1")) == ""
    assert rows(daemon) == {f"busybox:latest {short}", f"example.com/team/app:1 {short}"}
    assert ok(daemon.docker("images", "-q")).split() == [short, short]
    assert ok(daemon.docker("images", "-a", "-q")).split() == [short, short]
    inspected = json.loads(ok(daemon.docker("image", "inspect", "busybox")))[0]
    assert inspected["Id"] == full and inspected["RepoTags"] == ["busybox:latest", "example.com/team/app:1"]
    assert inspected["Config"]["Cmd"] == ["sh"]
    history = ok(daemon.docker("image", "history", "--no-trunc", "--format", "{{.ID}}|{{.Comment}}", "busybox"))
    assert history == f"{full}|Imported from -\n"


def test_ls_filters(daemon):
    busybox = image_id(daemon, "busybox")[7:19]
    daemon.docker("tag", "busybox", "team/app:1")
    dangling = imported(daemon, "--change", "LABEL tier=base")[7:19]
    assert rows(daemon, "--filter", "dangling=true") == {f"<none>:<none> {dangling}"}
    assert rows(daemon, "--filter", "dangling=false") == {f"busybox:latest {busybox}", f"team/app:1 {busybox}"}
    assert rows(daemon, "--filter", "label=tier") == {f"<none>:<none> {dangling}"}
    assert rows(daemon, "--filter", "label=tier=base") == {f"<none>:<none> {dangling}"}
    assert rows(daemon, "--filter", "label=tier=other") == set()
    # docker lists only the names a reference filter matches
    assert rows(daemon, "--filter", "reference=busybox") == {f"busybox:latest {busybox}"}
    assert rows(daemon, "--filter", "reference=team/*") == {f"team/app:1 {busybox}"}
    assert rows(daemon, "--filter", "reference=*:1") == set()  # '*' stops at '/', as Go's path.Match
    assert rows(daemon, "team/app") == {f"team/app:1 {busybox}"}
    assert rows(daemon, "--filter", "before=busybox") == set()  # strictly older: none
    assert rows(daemon, "--filter", f"since={dangling}") == set()  # strictly newer: none
    assert "invalid filter 'colour'" in failed(daemon.docker("images", "--filter", "colour=red"))
    assert "invalid filter 'dangling=[maybe]'" in failed(daemon.docker("images", "--filter", "dangling=maybe"))


def test_rm_untags_then_deletes(daemon):
    full = image_id(daemon, "busybox")
    daemon.docker("tag", "busybox", "other:1")
    assert ok(daemon.docker("image", "rm", "other:1")) == "Untagged: other:1\n"
    daemon.docker("tag", "busybox", "other:1")
    refused = failed(daemon.docker("image", "rm", full[7:19]))
    assert (f"conflict: unable to delete {full[7:19]} (must be forced) - "
            "image is referenced in multiple repositories") in refused
    out = ok(daemon.docker("image", "rm", "-f", full[7:19])).splitlines()
    assert out[:3] == ["Untagged: busybox:latest", "Untagged: other:1", f"Deleted: {full}"]
    assert rows(daemon) == set()
    assert image_events(daemon) == [f"tag {full} other:1", f"untag {full} {full}", f"tag {full} other:1",
                                    f"untag {full} {full}", f"untag {full} {full}", f"delete {full} {full}"]


def test_rm_of_an_image_a_container_uses_is_refused(daemon):
    full = image_id(daemon, "busybox")
    container = ok(daemon.docker("create", "--name", "user", "busybox", "true")).strip()
    refused = failed(daemon.docker("rmi", "busybox"))
    assert (f'conflict: unable to remove repository reference "busybox" (must force) - '
            f"container {container[:12]} is using its referenced image {full[7:19]}") in refused
    refused = failed(daemon.docker("rmi", full[7:19]))
    assert (f"conflict: unable to delete {full[7:19]} (must be forced) - "
            f"image is being used by stopped container {container[:12]}") in refused
    assert image_id(daemon, "busybox") == full
    ok(daemon.docker("rm", "user"))
    assert f"Deleted: {full}" in ok(daemon.docker("rmi", "busybox"))


def test_rm_force_of_an_image_a_running_container_uses_is_refused(daemon):
    full = image_id(daemon, "busybox")
    container = ok(daemon.docker("run", "-d", "--name", "busy", "busybox", "sleep", "30")).strip()
    refused = failed(daemon.docker("rmi", "-f", full[7:19]))
    assert (f"conflict: unable to delete {full[7:19]} (cannot be forced) - "
            f"image is being used by running container {container[:12]}") in refused
    assert ok(daemon.docker("rmi", "-f", "busybox")) == "Untagged: busybox:latest\n"  # as docker: untag only
    assert ok(daemon.docker("image", "inspect", "-f", "{{.Id}}", full)).strip() == full


def test_prune_dangling_then_all_unused(daemon):
    busybox = image_id(daemon, "busybox")
    dangling = imported(daemon)
    imported(daemon, "--change", 'CMD ["true"]', name="unused:1")
    daemon.docker("create", "--name", "user", "busybox", "true")
    out = ok(daemon.docker("image", "prune", "-f"))
    assert f"deleted: {dangling}" in out and "untagged" not in out
    assert {row.split()[0] for row in rows(daemon)} == {"busybox:latest", "unused:1"}
    out = ok(daemon.docker("image", "prune", "-a", "-f"))
    assert "untagged: unused:1" in out and "busybox" not in out and "Total reclaimed space" in out
    assert image_id(daemon, "busybox") == busybox  # in use: kept
    assert [line.split()[0] for line in image_events(daemon)] == [
        "import", "import", "delete", "prune", "untag", "delete", "prune"]
    assert "not supported yet" in failed(daemon.docker("image", "prune", "-f", "--filter", "until=1h"))


def test_save_rm_load_round_trip(daemon, tmp_path):
    full = image_id(daemon, "busybox")
    archive = tmp_path / "busybox.tar"
    assert ok(daemon.docker("save", "-o", str(archive), "busybox")) == ""
    streamed = daemon.docker("save", "busybox")  # to stdout (a pipe here)
    assert streamed.returncode == 0 and streamed.stdout == archive.read_bytes()
    ok(daemon.docker("image", "rm", "busybox"))
    assert ok(daemon.docker("load", "-i", str(archive))) == "Loaded image: busybox:latest\n"
    assert image_id(daemon, "busybox") == full
    ok(daemon.docker("image", "rm", "busybox"))
    assert ok(daemon.docker("load", input=archive.read_bytes())) == "Loaded image: busybox:latest\n"
    assert ok(daemon.docker("load", "-q", input=archive.read_bytes())) == "Loaded image: busybox:latest\n"
    assert image_id(daemon, "busybox") == full
    assert [line.split()[:2] for line in image_events(daemon)] == [
        ["save", full], ["save", full], ["untag", full], ["delete", full], ["load", full],
        ["untag", full], ["delete", full], ["load", full], ["load", full]]
    assert ran(daemon, "busybox", "echo", "loaded") == "loaded\n"


def test_import_from_a_file_and_from_stdin_with_changes(daemon):
    rootfs = busybox_rootfs_tar(CACHE_DIR)
    from_file = imported(daemon, name="imported:file")
    assert image_id(daemon, "imported:file") == from_file
    assert ok(daemon.docker("image", "inspect", "-f", "{{.Comment}}", from_file)) == "Imported from -\n"
    done = daemon.docker("import", "--change", 'CMD ["echo", "hi"]', "--change", "ENV A=1", "-m", "a note",
                         "-", "imported:stdin", input=rootfs.read_bytes())
    from_stdin = ok(done).strip()
    inspected = json.loads(ok(daemon.docker("image", "inspect", "imported:stdin")))[0]
    assert inspected["Id"] == from_stdin and inspected["Comment"] == "a note"
    assert inspected["Config"]["Cmd"] == ["echo", "hi"] and inspected["Config"]["Env"] == ["A=1"]
    assert ran(daemon, "imported:stdin") == "hi\n"
    refused = daemon.docker("import", "--change", "RUN true", "-", "bad:1", input=rootfs.read_bytes())
    assert "run is not a valid change command" in failed(refused)


def test_errors_in_dockers_words_and_pulls_refused(daemon, tmp_path):
    for command in (("image", "inspect"), ("image", "history"), ("image", "rm")):
        assert NOT_FOUND in failed(daemon.docker(*command, "nosuch"))
    assert NOT_FOUND in failed(daemon.docker("tag", "nosuch", "other:1"))
    target = tmp_path / "nothing.tar"
    assert NOT_FOUND in failed(daemon.docker("save", "-o", str(target), "nosuch"))
    assert not target.exists()
    answer = daemon.raw(b"GET /v1.45/images/nosuch/get HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 404")
    failed(daemon.docker("load", input=b"not a tarball at all" * 100))
    assert "registry pulls are not supported yet" in failed(daemon.docker("pull", "alpine:3.20"))
    stderr = failed(daemon.docker("run", "--rm", "nosuch", "true"), 125)
    assert "Unable to find image 'nosuch:latest' locally" in stderr
    assert "registry pulls are not supported yet" in stderr
    answer = daemon.raw(b"POST /v1.45/images/create?fromImage=alpine&tag=3.20 HTTP/1.1\r\nHost: d\r\n"
                        b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 500")  # what docker answers when no registry can be reached
    assert rows(daemon) == {f"busybox:latest {image_id(daemon, 'busybox')[7:19]}"}


def test_names_with_a_registry_and_a_path_route(daemon):
    assert daemon.docker("tag", "busybox", "localhost:5000/team/app:v1").returncode == 0
    done = daemon.docker("image", "inspect", "-f", "{{json .RepoTags}}", "localhost:5000/team/app:v1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["busybox:latest", "localhost:5000/team/app:v1"]  # lexical, as docker
    assert daemon.docker("image", "history", "localhost:5000/team/app:v1").returncode == 0
    done = daemon.docker("rmi", "localhost:5000/team/app:v1")
    assert done.returncode == 0 and b"Untagged: localhost:5000/team/app:v1" in done.stdout

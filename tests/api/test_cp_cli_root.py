"""``docker cp`` (the real docker CLI, 28.x) against our daemon, both ways:
out of and into running, exited and created containers; docker's error
words; the stat header; and no way out of the container's root through its
symlinks or the entries of an uploaded tar (and the extraction rules alone)."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import stat
import tarfile
import uuid
from pathlib import Path

import pytest

from engine.runtime.archive import Failed, extract, go_mode

pytestmark = pytest.mark.root


def _ok(done) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_out_of_and_into_a_running_then_exited_container(daemon, tmp_path):
    _ok(daemon.docker("run", "-d", "--name", "c1", "busybox", "sh", "-c",
                      "mkdir -p /d/sub && echo hi > /d/sub/f && echo one > /f1 && exec sleep 300"))
    _ok(daemon.docker("exec", "c1", "test", "-f", "/f1"))  # the command has run
    _ok(daemon.docker("cp", "c1:/f1", str(tmp_path / "f1")))
    assert (tmp_path / "f1").read_text() == "one\n"
    _ok(daemon.docker("cp", "c1:/d", str(tmp_path / "d")))
    assert (tmp_path / "d" / "sub" / "f").read_text() == "hi\n"
    (tmp_path / "in.txt").write_text("into a running one\n")
    _ok(daemon.docker("cp", str(tmp_path / "in.txt"), "c1:/tmp/"))
    assert _ok(daemon.docker("exec", "c1", "cat", "/tmp/in.txt")) == "into a running one\n"
    done = daemon.docker("cp", "c1:/nope", str(tmp_path / "nope"))
    assert done.returncode == 1
    assert b"Could not find the file /nope in container c1" in done.stderr

    _ok(daemon.docker("kill", "c1"))
    _ok(daemon.docker("wait", "c1"))
    _ok(daemon.docker("cp", "c1:/tmp/in.txt", str(tmp_path / "back.txt")))
    assert (tmp_path / "back.txt").read_text() == "into a running one\n"
    _ok(daemon.docker("cp", "c1:/d", str(tmp_path / "d2")))
    assert (tmp_path / "d2" / "sub" / "f").read_text() == "hi\n"
    _ok(daemon.docker("cp", str(tmp_path / "in.txt"), "c1:/d/sub/again.txt"))  # into an exited one
    _ok(daemon.docker("cp", "c1:/d/sub/again.txt", str(tmp_path / "again.txt")))
    assert (tmp_path / "again.txt").read_text() == "into a running one\n"
    done = daemon.docker("cp", "c1:/nope", str(tmp_path / "nope"))
    assert done.returncode == 1
    assert b"Could not find the file /nope in container c1" in done.stderr
    _ok(daemon.docker("rm", "c1"))


def test_into_a_created_container_then_started(daemon, tmp_path):
    _ok(daemon.docker("create", "--name", "c2", "busybox", "sh", "-c", "cat /hello.txt /conf/app.conf"))
    (tmp_path / "hello.txt").write_text("hello\n")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "app.conf").write_text("key=value\n")
    _ok(daemon.docker("cp", str(tmp_path / "hello.txt"), "c2:/hello.txt"))
    _ok(daemon.docker("cp", str(tmp_path / "conf"), "c2:/conf"))
    done = daemon.docker("cp", str(tmp_path / "hello.txt"), "c2:/etc/passwd/x")
    assert done.returncode == 1  # a file is no directory to extract into
    assert _ok(daemon.docker("start", "-a", "c2")) == "hello\nkey=value\n"
    _ok(daemon.docker("rm", "c2"))


def test_the_volumes_of_an_exited_container(daemon, tmp_path):
    _ok(daemon.docker("run", "--name", "c5", "-v", "data:/data", "busybox", "sh", "-c", "echo v > /data/x"))
    _ok(daemon.docker("cp", "c5:/data/x", str(tmp_path / "x")))
    assert (tmp_path / "x").read_text() == "v\n"
    (tmp_path / "y").write_text("into the volume\n")
    _ok(daemon.docker("cp", str(tmp_path / "y"), "c5:/data/"))
    assert _ok(daemon.docker("run", "--rm", "-v", "data:/data", "busybox", "cat", "/data/y")) == "into the volume\n"
    _ok(daemon.docker("rm", "-v", "c5"))
    _ok(daemon.docker("volume", "rm", "data"))


def _planted(daemon, name: str, *run: str) -> None:
    """A container whose root holds links to / and to /etc/passwd."""
    _ok(daemon.docker(*run, "--name", name, "busybox", "sh", "-c",
                      "ln -s / /hostroot && ln -s /etc /etclink && ln -s /etc/passwd /pw && "
                      "ln -s ../../../../../../.. /up && exec sleep 300"))


def _evil_tar(marker: str) -> bytes:
    """Entries that would leave the destination, or write through a link to /."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as archive:
        link = tarfile.TarInfo("root")
        link.type, link.linkname = tarfile.SYMTYPE, "/"
        archive.addfile(link)
        for name in (f"root/tmp/{marker}", f"../../../../../../../tmp/{marker}"):
            content = b"escaped\n"
            entry = tarfile.TarInfo(name)
            entry.size = len(content)
            archive.addfile(entry, io.BytesIO(content))
    return data.getvalue()


def test_symlinks_and_tar_entries_stay_in_the_container(daemon, tmp_path):
    host_passwd = _digest("/etc/passwd")
    _planted(daemon, "c3", "run", "-d")
    _ok(daemon.docker("exec", "c3", "test", "-L", "/up"))
    theirs = _ok(daemon.docker("exec", "c3", "cat", "/etc/passwd"))
    assert theirs != Path("/etc/passwd").read_text()
    theirs = _confined(daemon, tmp_path, theirs, "running")
    _ok(daemon.docker("kill", "c3"))
    _ok(daemon.docker("wait", "c3"))
    _confined(daemon, tmp_path, theirs, "exited")
    assert _digest("/etc/passwd") == host_passwd
    _ok(daemon.docker("rm", "c3"))


def _confined(daemon, tmp_path: Path, theirs: str, phase: str) -> str:
    """What comes out is the container's, what goes in stays in it; its new /etc/passwd."""
    for source in ("c3:/hostroot/etc/passwd", "c3:/up/etc/passwd", "-L c3:/pw"):
        target = tmp_path / uuid.uuid4().hex
        _ok(daemon.docker("cp", *source.split(), str(target)))  # -L: the CLI follows the link target
        assert target.read_text() == theirs, (phase, source)
    ours = f"owned-{phase}:x:0:0::/:/bin/sh\n"
    (tmp_path / "passwd").write_text(ours)
    for destination in ("c3:/etclink/", "c3:/up/etc/"):
        _ok(daemon.docker("cp", str(tmp_path / "passwd"), destination))
    marker = f"dockyard-cp-{uuid.uuid4().hex}"
    done = daemon.docker("cp", "-", "c3:/up/tmp", input=_evil_tar(marker))
    assert done.returncode == 1 and b"would leave" in done.stderr, (phase, done.stderr)
    assert not Path("/tmp", marker).exists()
    target = tmp_path / uuid.uuid4().hex
    _ok(daemon.docker("cp", "c3:/etc/passwd", str(target)))
    assert target.read_text() == ours, phase
    return ours


def test_the_stat_header_as_docker_sends_it_and_a_read_only_root(daemon, tmp_path):
    _ok(daemon.docker("create", "--read-only", "--name", "c4", "busybox", "true"))
    answer = daemon.raw(b"HEAD /v1.45/containers/c4/archive?path=/etc HTTP/1.1\r\nHost: x\r\n"
                        b"Connection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body == b""
    [line] = [v for v in head.split(b"\r\n") if v.lower().startswith(b"x-docker-container-path-stat:")]
    found = json.loads(base64.b64decode(line.split(b":", 1)[1].strip()))
    assert found["name"] == "etc" and found["linkTarget"] == ""
    assert found["mode"] == (1 << 31) | 0o755 and found["mtime"].endswith("Z")
    answer = daemon.raw(b"GET /v1.45/containers/c4/archive?path=/nope HTTP/1.1\r\nHost: x\r\n"
                        b"Connection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 404") and b"Could not find the file /nope in container c4" in answer
    (tmp_path / "f").write_text("f\n")
    done = daemon.docker("cp", str(tmp_path / "f"), "c4:/tmp/")
    assert done.returncode == 1 and b"container rootfs is marked read-only" in done.stderr
    _ok(daemon.docker("rm", "c4"))


def _tar(*entries: tarfile.TarInfo) -> io.BytesIO:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as archive:
        for entry in entries:
            archive.addfile(entry, io.BytesIO(b"x" * entry.size) if entry.isreg() else None)
    data.seek(0)
    return data


def _entry(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, link: str = "") -> tarfile.TarInfo:
    entry = tarfile.TarInfo(name)
    entry.type, entry.size, entry.linkname, entry.uid, entry.gid = kind, size, link, 1000, 1000
    return entry


def test_extraction_rules_without_a_container(tmp_path):
    """The archive process's rules on a plain directory (no namespace): entries
    that leave the destination are refused, an existing link is replaced, not
    written through, owners are replaced with copyUIDGID's, directories are
    not overwritten by files when asked."""
    destination = tmp_path / "dest"
    destination.mkdir()
    outside = tmp_path / "outside"
    outside.write_text("keep\n")
    (destination / "link").symlink_to(outside)
    extract(str(destination), _tar(_entry("link", size=3), _entry("./sub", tarfile.DIRTYPE),
                                   _entry("sub/f", size=2)), "c", owner=[7, 8], no_overwrite_dir_non_dir=False)
    assert outside.read_text() == "keep\n" and (destination / "link").read_text() == "xxx"
    assert (os.stat(destination / "sub" / "f").st_uid, os.stat(destination / "sub" / "f").st_gid) == (7, 8)
    for evil in (_entry("../escaped", size=1), _entry("h", tarfile.LNKTYPE, link="../../outside")):
        with pytest.raises(Failed, match="would leave"):
            extract(str(destination), _tar(evil), "c", owner=None, no_overwrite_dir_non_dir=False)
    assert not (tmp_path / "escaped").exists()
    with pytest.raises(Failed, match="cannot overwrite directory"):
        extract(str(destination), _tar(_entry("sub", size=1)), "c", owner=None, no_overwrite_dir_non_dir=True)
    with pytest.raises(Failed, match="not a directory"):
        extract(str(destination / "link"), _tar(), "c", owner=None, no_overwrite_dir_non_dir=False)
    assert go_mode(os.lstat(destination / "sub").st_mode) == (1 << 31) | stat.S_IMODE(
        os.lstat(destination / "sub").st_mode)

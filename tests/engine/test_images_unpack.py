"""Layers unpacked as overlayfs lowerdirs: whiteouts, preserved metadata, and
hostile tarballs refused. Root: chown, mknod, trusted.* xattrs, mount."""
from __future__ import annotations

import io
import os
import stat
import subprocess
import uuid

import pytest

from engine.images.errors import DigestMismatch, UnsafeLayerEntry
from tests.fixtures.images import (
    chardev,
    directory,
    docker_save,
    fifo,
    file,
    hardlink,
    image,
    layer,
    sha256,
    symlink,
)

pytestmark = pytest.mark.root


def load(service, *layers, tag="test:1"):
    built = image(list(layers))
    service.load(io.BytesIO(docker_save([(built, [tag])])))
    return built


def test_whiteouts_become_overlay_whiteouts(images):
    load(images,
         layer(directory("a"), file("a/file", "lower"), file("a/keep", "kept"),
               directory("d"), file("d/old", "old")),
         layer(directory("a"), file("a/.wh.file"), directory("d"), file("d/.wh..wh..opq"),
               file("d/new", "new")))
    top, bottom = images.layers("test:1")
    whiteout = os.lstat(top / "a" / "file")
    assert stat.S_ISCHR(whiteout.st_mode) and whiteout.st_rdev == os.makedev(0, 0)
    assert (whiteout.st_uid, whiteout.st_gid) == (0, 0)
    assert os.getxattr(top / "d", "trusted.overlay.opaque") == b"y"
    assert not (top / "d" / ".wh..wh..opq").exists() and not (top / "a" / ".wh.file").exists()
    assert (bottom / "a" / "file").read_text() == "lower"


def test_overlayfs_of_the_layers_hides_what_the_whiteouts_delete(images, tmp_path):
    load(images,
         layer(directory("a"), file("a/file", "lower"), file("a/keep", "kept"),
               directory("d"), file("d/old", "old")),
         layer(directory("a"), file("a/.wh.file"), directory("d"), file("d/.wh..wh..opq"),
               file("d/new", "new")))
    merged = tmp_path / "merged"
    merged.mkdir()
    lower = ":".join(str(path) for path in images.layers("test:1"))
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lower}", str(merged)],
                   check=True)
    try:
        assert sorted(os.listdir(merged / "a")) == ["keep"]
        assert sorted(os.listdir(merged / "d")) == ["new"]
        assert (merged / "a" / "keep").read_text() == "kept"
    finally:
        subprocess.run(["umount", str(merged)], check=True)


def test_metadata_is_preserved(images):
    load(images, layer(
        directory("srv", mode=0o1777, uid=1000, gid=2000, mtime=1_600_000_000),
        file("srv/tool", "#!/bin/sh\n", mode=0o4755, uid=1000, gid=2000, mtime=1_500_000_000,
             xattrs={"user.origin": "test", "security.capability": "\x01\x00\x00\x02" + "\x00" * 16}),
        hardlink("srv/tool-again", "srv/tool"),
        symlink("srv/link", "/srv/tool", uid=1000, gid=1000, mtime=1_400_000_000),
        symlink("srv/up", "../../../.."),
        fifo("srv/pipe", mode=0o640),
    ))
    root = images.layers("test:1")[0]
    tool = os.lstat(root / "srv" / "tool")
    assert (stat.S_IMODE(tool.st_mode), tool.st_uid, tool.st_gid) == (0o4755, 1000, 2000)
    assert tool.st_mtime == 1_500_000_000
    assert os.getxattr(root / "srv" / "tool", "user.origin") == b"test"
    assert os.lstat(root / "srv" / "tool-again").st_ino == tool.st_ino
    link = os.lstat(root / "srv" / "link")
    assert os.readlink(root / "srv" / "link") == "/srv/tool"
    assert (link.st_uid, link.st_mtime) == (1000, 1_400_000_000)
    assert os.readlink(root / "srv" / "up") == "../../../.."
    srv = os.lstat(root / "srv")
    assert (stat.S_IMODE(srv.st_mode), srv.st_uid, srv.st_mtime) == (0o1777, 1000, 1_600_000_000)
    assert stat.S_ISFIFO(os.lstat(root / "srv" / "pipe").st_mode)
    assert stat.S_IMODE(os.lstat(root).st_mode) == 0o755


def _assert_refused(images, blob, entry, outside=None):
    with pytest.raises(UnsafeLayerEntry) as caught:
        load(images, blob)
    message = str(caught.value)
    assert sha256(blob) in message, message          # names the layer ...
    assert repr(entry) in message, message            # ... and the entry
    if outside is not None:
        assert not os.path.lexists(outside)
    # A refused load leaves nothing: no image, no layer, no blob.
    assert images.list() == []
    assert not any((images.store.layers).glob("*")) if images.store.layers.exists() else True
    assert not any(images.store.blobs.glob("*")) if images.store.blobs.exists() else True


@pytest.fixture
def outside(tmp_path):
    path = tmp_path / f"outside-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    return path


def test_absolute_path_is_refused(images, outside):
    target = str(outside / "abs")
    _assert_refused(images, layer(file(target, "x")), target, outside / "abs")


def test_dotdot_escape_is_refused(images, outside):
    name = "a/../../../../../../../../" + str(outside).lstrip("/") + "/dotdot"
    _assert_refused(images, layer(directory("a"), file(name, "x")), name, outside / "dotdot")


def test_write_through_an_escaping_symlink_is_refused(images, outside):
    _assert_refused(images, layer(symlink("evil", str(outside)), file("evil/pwned", "x")),
                    "evil/pwned", outside / "pwned")


def test_write_through_a_relative_escaping_symlink_is_refused(images, outside):
    up = "../" * 40 + str(outside).lstrip("/")
    _assert_refused(images, layer(symlink("evil", up), directory("evil/sub")), "evil/sub",
                    outside / "sub")


def test_entries_under_a_symlinked_parent_are_refused_even_inside(images):
    _assert_refused(images, layer(directory("real"), symlink("alias", "real"),
                                  file("alias/f", "x")), "alias/f")


def test_hardlink_to_etc_passwd_is_refused(images):
    before = os.stat("/etc/passwd")
    _assert_refused(images, layer(hardlink("passwd", "/etc/passwd")), "passwd")
    assert os.stat("/etc/passwd").st_nlink == before.st_nlink


def test_hardlink_to_a_file_outside_the_layer_is_refused(images):
    _assert_refused(images, layer(hardlink("passwd", "etc/passwd")), "passwd")


def test_hardlink_through_a_symlink_is_refused(images, outside):
    (outside / "secret").write_text("s")
    _assert_refused(images, layer(symlink("evil", str(outside)),
                                  hardlink("stolen", "evil/secret")), "stolen")


def test_device_nodes_are_refused(images):
    _assert_refused(images, layer(directory("dev"), chardev("dev/mem", 1, 1)), "dev/mem")


def test_a_later_entry_replaces_a_symlink_instead_of_following_it(images, outside):
    (outside / "target").write_text("original")
    load(images, layer(symlink("f", str(outside / "target")), file("f", "replaced")))
    root = images.layers("test:1")[0]
    assert (root / "f").read_text() == "replaced" and not (root / "f").is_symlink()
    assert (outside / "target").read_text() == "original"


def test_a_corrupted_layer_is_refused_naming_it(images):
    blob = layer(file("a", "data" * 100), compression="gzip")
    built = image([blob])
    archive = bytearray(docker_save([(built, ["test:1"])], layout="blobs"))
    archive[archive.index(blob) + len(blob) // 2] ^= 0xFF
    with pytest.raises(DigestMismatch) as caught:
        images.load(io.BytesIO(bytes(archive)))
    assert sha256(blob) in str(caught.value)
    assert images.list() == []

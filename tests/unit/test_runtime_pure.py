"""The runtime's logic without root: symlink-safe joins, the order of mounts
(on the recording fake), and the spec's round trip."""
from __future__ import annotations

import os

import pytest

from engine.runtime import rootfs
from engine.runtime import sys as s
from engine.runtime.fake import FakeSyscalls
from engine.runtime.spec import MASKED_PATHS, Mount, Spec


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "data").mkdir()
    os.symlink("/etc", root / "abs-link")          # absolute: stays inside
    os.symlink("../../../../outside", root / "escape")
    os.symlink("data", root / "rel-link")
    os.symlink("loop2", root / "loop1")
    os.symlink("loop1", root / "loop2")
    return root


@pytest.mark.parametrize("path, expected", [
    ("/etc/hosts", "etc/hosts"),
    ("/abs-link/hosts", "etc/hosts"),
    ("/escape/x", "outside/x"),
    ("/../../etc", "etc"),
    ("/rel-link/file", "data/file"),
    ("/data/../etc/./hosts", "etc/hosts"),
])
def test_secure_join_never_leaves_the_root(tree, path, expected):
    assert rootfs.secure_join(str(tree), path) == os.path.join(str(tree), expected)


def test_secure_join_refuses_symlink_loops(tree):
    with pytest.raises(Exception, match="too many symlinks"):
        rootfs.secure_join(str(tree), "/loop1/x")


def _spec(tmp_path, **overrides):
    merged = tmp_path / "merged"
    merged.mkdir(exist_ok=True)
    values = dict(id="c", rootfs_lower=["/l2", "/l1"], rootfs_upper="/u", rootfs_work="/w",
                  rootfs_merged=str(merged), args=["sh"], env=[], masked_paths=[], readonly_paths=[])
    values.update(overrides)
    return Spec(**values)


def test_setup_mounts_in_docker_order(tmp_path, monkeypatch):
    fake = FakeSyscalls()
    spec = _spec(tmp_path, mounts=[Mount("/data", "tmpfs", options=["size=1m"])], read_only=True)
    monkeypatch.chdir(tmp_path)
    rootfs.setup(fake, spec)
    mounts = [args for name, args in fake.calls if name == "mount"]
    assert mounts[0] == (None, "/", None, s.MS_REC | s.MS_PRIVATE, None)
    assert mounts[1] == ("overlay", spec.rootfs_merged, "overlay", 0,
                         "lowerdir=/l2:/l1,upperdir=/u,workdir=/w")
    kinds = [m[2] for m in mounts if m[2]]
    assert kinds[:8] == ["overlay", "proc", "tmpfs", "devpts", "tmpfs", "mqueue", "sysfs", "tmpfs"]
    names = [name for name, _ in fake.calls]
    pivot = names.index("pivot_root")
    assert names[pivot + 1] == "umount"  # the old root goes right after pivot_root
    assert mounts[-1] == (None, "/", None, s.MS_BIND | s.MS_REMOUNT | s.MS_RDONLY, None)
    devices = sorted(os.path.basename(args[0]) for name, args in fake.calls if name == "mknod")
    assert devices == ["full", "null", "random", "tty", "urandom", "zero"]


def test_host_network_binds_sysfs_instead_of_mounting_it(tmp_path, monkeypatch):
    fake = FakeSyscalls()
    monkeypatch.chdir(tmp_path)
    rootfs.setup(fake, _spec(tmp_path, namespaces=["mnt", "uts", "ipc", "pid"]))
    mounts = [args for name, args in fake.calls if name == "mount"]
    assert not any(m[2] == "sysfs" for m in mounts)
    assert any(m[0] == "/sys" and m[3] & s.MS_BIND for m in mounts)


def test_spec_round_trips_through_json():
    spec = Spec(id="c", rootfs_lower=["/a"], rootfs_upper="/u", rootfs_work="/w", rootfs_merged="/m",
                args=["sh"], env=["A=1"], mounts=[Mount("/x", "bind", "/h", True)],
                rlimits={"nofile": (10, 20)}, masked_paths=MASKED_PATHS)
    assert Spec.from_json(spec.to_json()) == spec

"""Loading and saving: docker-save tarballs (legacy and docker 25+ layouts),
OCI layouts, digests verified, round trips, layers shared and unpacked once,
concurrent loads. Root: unpacking sets owners and makes whiteout devices."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import multiprocessing
import os
import tarfile
import threading

import pytest

from engine.images.errors import DigestMismatch, InvalidArchive, UnsupportedCompression
from engine.images.service import ImageService
from tests.fixtures.images import (
    copy_tree_files,
    directory,
    docker_save,
    file,
    image,
    layer,
    oci_layout,
    sha256,
    symlink,
    tar_of,
)

pytestmark = pytest.mark.root

BASE = layer(directory("etc"), file("etc/os-release", "ID=test\n"), directory("bin"),
             file("bin/tool", "#!/bin/sh\n", mode=0o755))
APP = layer(directory("app"), file("app/main", "print('hi')\n"))
OTHER = layer(directory("srv"), file("srv/data", "other"), compression="gzip")


def layer_dirs(service) -> list[str]:
    return sorted(os.listdir(service.store.layers)) if service.store.layers.exists() else []


def blob_files(service) -> list[str]:
    return sorted(os.listdir(service.store.blobs)) if service.store.blobs.exists() else []


@pytest.mark.parametrize("layout", ["legacy", "blobs"])
def test_docker_save_tarball_loads(images, layout):
    one = image([BASE, APP], cmd=["/app/main"])
    two = image([BASE, OTHER, APP])           # APP again: stored once, symlinked in legacy
    loaded = images.load(io.BytesIO(docker_save([(one, ["app:1", "localhost:5000/x/app:v1"]),
                                                 (two, ["other:latest"])], layout)))
    assert [(item.id, item.tags) for item in loaded] == [
        (one.id, ["app:1", "localhost:5000/x/app:v1"]), (two.id, ["other:latest"])]
    assert loaded[0].messages == ["Loaded image: app:1", "Loaded image: localhost:5000/x/app:v1"]
    info = images.inspect("app:1")
    assert info["Id"] == one.id == sha256(one.config)
    assert info["RepoTags"] == ["app:1", "localhost:5000/x/app:v1"]
    assert info["RootFS"] == {"Type": "layers", "Layers": one.diff_ids}
    assert info["Config"]["Cmd"] == ["/app/main"]
    assert images.resolve("localhost:5000/x/app:v1") == one.id
    assert images.resolve("other") == two.id
    assert layer_dirs(images) == sorted(d.split(":")[1] for d in set(one.diff_ids + two.diff_ids))
    assert (images.layers("other")[1] / "srv" / "data").read_text() == "other"


def test_an_untagged_image_loads_by_id(images):
    built = image([BASE])
    loaded = images.load(io.BytesIO(docker_save([(built, [])])))
    assert loaded[0].messages == [f"Loaded image ID: {built.id}"]
    assert images.inspect(built.id[7:19])["RepoTags"] == []


@pytest.mark.parametrize("as_directory", [False, True])
def test_oci_layout_loads_with_nested_indexes(images, tmp_path, as_directory):
    one = image([BASE, OTHER])
    foreign = image([APP], extra={"architecture": "s390x"})
    files = oci_layout([(one, "registry.test/team/one:2.0")], nested=True, other_platform=foreign)
    source = copy_tree_files(files, tmp_path / "layout") if as_directory \
        else io.BytesIO(tar_of(files))
    loaded = images.load(source)
    assert [(item.id, item.tags) for item in loaded] == [(one.id, ["registry.test/team/one:2.0"])]
    info = images.inspect("registry.test/team/one:2.0")
    manifest_digest = info["RepoDigests"][0].split("@")[1]
    assert info["RepoDigests"] == [f"registry.test/team/one@{manifest_digest}"]
    assert images.resolve(f"registry.test/team/one@{manifest_digest}") == one.id
    assert images.store.read_blob(manifest_digest) == files["blobs/sha256/" + manifest_digest[7:]]
    assert sha256(foreign.config)[7:] not in blob_files(images)      # the other platform


def test_oci_layout_without_names_loads_untagged(images):
    one = image([BASE])
    loaded = images.load(io.BytesIO(tar_of(oci_layout([(one, None)]))))
    assert loaded[0].tags == [] and images.inspect(one.id)["RepoTags"] == []


def test_no_manifest_for_this_platform(images):
    files = oci_layout([(image([BASE], extra={"architecture": "s390x"}), None)], nested=True)
    index = json.loads(files["index.json"])
    nested = json.loads(files["blobs/sha256/" + index["manifests"][0]["digest"][7:]])
    assert len(nested["manifests"]) == 1
    nested["manifests"][0]["platform"]["architecture"] = "mips64"
    data = json.dumps(nested).encode()
    files["blobs/sha256/" + hashlib.sha256(data).hexdigest()] = data
    index["manifests"][0].update(digest=sha256(data), size=len(data))
    files["index.json"] = json.dumps(index).encode()
    with pytest.raises(InvalidArchive, match="no matching manifest for linux/"):
        images.load(io.BytesIO(tar_of(files)))


def test_a_compressed_archive_and_a_stream_load(images):
    built = image([BASE])
    data = gzip.compress(docker_save([(built, ["zipped:1"])]), mtime=0)
    read, write = os.pipe()
    threading.Thread(target=lambda: (os.write(write, data), os.close(write)), daemon=True).start()
    with os.fdopen(read, "rb", buffering=0) as stream:
        assert images.load(stream)[0].id == built.id


def test_a_corrupted_oci_blob_is_refused_naming_it(images):
    one = image([BASE, OTHER])
    files = oci_layout([(one, "x:1")])
    name = "blobs/sha256/" + sha256(OTHER)[7:]
    files[name] = files[name][:-8] + b"garbage!"
    with pytest.raises(DigestMismatch) as caught:
        images.load(io.BytesIO(tar_of(files)))
    assert sha256(OTHER) in str(caught.value)
    assert images.list() == [] and layer_dirs(images) == [] and blob_files(images) == []


def test_a_corrupted_legacy_layer_is_refused_naming_its_diff_id(images):
    one = image([BASE])
    archive = bytearray(docker_save([(one, ["x:1"])]))
    position = archive.index(b"ID=test")
    archive[position:position + 7] = b"ID=evil"
    with pytest.raises(DigestMismatch) as caught:
        images.load(io.BytesIO(bytes(archive)))
    assert one.diff_ids[0] in str(caught.value)


def test_a_corrupted_config_is_refused(images):
    one = image([BASE])
    archive = bytearray(docker_save([(one, ["x:1"])]))
    position = archive.index(b'"os": "linux"')
    archive[position:position + 13] = b'"os": "Linux"'
    with pytest.raises(DigestMismatch, match=f"config {one.id}"):
        images.load(io.BytesIO(bytes(archive)))


def test_layer_count_mismatch_is_refused(images):
    one = image([BASE])
    config = json.loads(one.config)
    config["rootfs"]["diff_ids"].append(one.diff_ids[0])
    one.config = json.dumps(config).encode()
    with pytest.raises(InvalidArchive, match="layers length mismatch"):
        images.load(io.BytesIO(docker_save([(one, ["x:1"])])))


def test_not_an_image_archive(images):
    with pytest.raises(InvalidArchive, match="neither manifest.json"):
        images.load(io.BytesIO(tar_of({"hello": b"world"})))
    with pytest.raises(InvalidArchive, match="invalid tar archive"):
        images.load(io.BytesIO(b"not a tarball at all" * 100))


def test_zstd_layers_load_or_fail_clearly(images):
    zstd_blob = b"\x28\xb5\x2f\xfd" + b"\x00" * 60
    try:
        import zstandard
    except ImportError:
        zstandard = None
    if zstandard is not None:
        zstd_blob = zstandard.ZstdCompressor().compress(layer(file("z", "zstd")))
    one = image([BASE])
    one.layers, one.diff_ids = [zstd_blob], [sha256(layer(file("z", "zstd")))]
    config = json.loads(one.config)
    config["rootfs"]["diff_ids"] = one.diff_ids
    config["history"] = config["history"][:1]
    one.config = json.dumps(config).encode()
    source = io.BytesIO(tar_of(oci_layout([(one, "z:1")])))
    if zstandard is None:
        with pytest.raises(UnsupportedCompression, match="install it to load zstd layers"):
            images.load(source)
    else:
        images.load(source)
        assert (images.layers("z:1")[0] / "z").read_text() == "zstd"


def test_save_then_load_gives_the_same_image(images, make_images):
    one = image([BASE, OTHER, APP])
    images.load(io.BytesIO(docker_save([(one, ["round:trip", "round:again"])])))
    out = io.BytesIO()
    images.save(["round"], out)                       # a repository: all its tags
    saved = tarfile.open(fileobj=io.BytesIO(out.getvalue()))
    manifest = json.loads(saved.extractfile("manifest.json").read())
    assert manifest == [{"Config": f"blobs/sha256/{one.id[7:]}",
                         "RepoTags": ["round:again", "round:trip"],
                         "Layers": [f"blobs/sha256/{d[7:]}" for d in one.diff_ids]}]
    assert json.loads(saved.extractfile("repositories").read()) == {
        "round": {"again": one.diff_ids[-1][7:], "trip": one.diff_ids[-1][7:]}}
    assert json.loads(saved.extractfile("oci-layout").read()) == {"imageLayoutVersion": "1.0.0"}
    for member in saved.getmembers():
        if member.isfile() and member.name.startswith("blobs/sha256/"):
            assert sha256(saved.extractfile(member).read())[7:] == member.name.rsplit("/", 1)[1]
    again = make_images("second")
    loaded = again.load(io.BytesIO(out.getvalue()))
    assert [(item.id, item.tags) for item in loaded] == [(one.id, ["round:again", "round:trip"])]
    assert again.inspect("round:trip")["RootFS"]["Layers"] == one.diff_ids
    by_oci = make_images("third")         # the same tarball as an OCI layout
    archive = tarfile.open(fileobj=io.BytesIO(out.getvalue()))
    files = {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}
    del files["manifest.json"]
    assert by_oci.load(io.BytesIO(tar_of(files)))[0].id == one.id
    for service in (again, by_oci):
        for name in ("round:trip", "round:again"):
            service.remove(name)


def test_save_by_id_has_no_tags_and_save_is_deterministic(images):
    one = image([BASE])
    images.load(io.BytesIO(docker_save([(one, ["d:1"])])))
    first, second = io.BytesIO(), io.BytesIO()
    images.save([one.id[7:19]], first)
    images.save([one.id], second)
    assert first.getvalue() == second.getvalue()
    manifest = json.loads(tarfile.open(fileobj=io.BytesIO(first.getvalue()))
                          .extractfile("manifest.json").read())
    assert manifest[0]["RepoTags"] is None


def test_busybox_round_trip(image_service, busybox_image, make_images):
    out = io.BytesIO()
    image_service.save(["busybox:latest"], out)
    other = make_images("other")
    assert other.load(io.BytesIO(out.getvalue()))[0].id == busybox_image
    assert other.inspect("busybox")["RootFS"] == image_service.inspect("busybox")["RootFS"]
    assert os.path.samefile(other.layers("busybox")[0] / "bin" / "sh",
                            other.layers("busybox")[0] / "bin" / "busybox")
    other.remove("busybox")
    assert layer_dirs(other) == [] and blob_files(other) == []


def test_a_common_base_layer_is_unpacked_once_and_kept_while_used(images):
    one, two = image([BASE, APP]), image([BASE, OTHER])
    images.load(io.BytesIO(docker_save([(one, ["one:1"])])))
    base = images.layers("one:1")[1]
    before = os.stat(base / "etc" / "os-release")
    images.load(io.BytesIO(docker_save([(two, ["two:1"])], layout="blobs")))
    assert images.layers("two:1")[1] == base
    assert os.stat(base / "etc" / "os-release").st_ino == before.st_ino
    assert len(layer_dirs(images)) == 3
    removed = images.remove("one:1")
    assert removed[:2] == [{"Untagged": "one:1"}, {"Deleted": one.id}]
    assert {"Deleted": one.diff_ids[1]} in removed and {"Deleted": one.diff_ids[0]} not in removed
    assert base.is_dir() and len(layer_dirs(images)) == 2
    images.remove("two:1")
    assert layer_dirs(images) == [] and blob_files(images) == []
    assert list(images.store.records.records("images")) == []


def _load_in_child(root: str, data: bytes) -> None:
    ImageService(root).load(io.BytesIO(data))


def _assert_one_consistent_image(service, built):
    assert [item["Id"] for item in service.list()] == [built.id]
    assert service.inspect("race:1")["RepoTags"] == ["race:1"]
    assert layer_dirs(service) == sorted(d[7:] for d in built.diff_ids)
    assert set(blob_files(service)) >= {sha256(blob)[7:] for blob in built.layers + [built.config]}


def test_concurrent_loads_from_threads_end_with_one_image(images):
    built = image([BASE, OTHER, APP, layer(symlink("link", "app/main"))])
    data = docker_save([(built, ["race:1"])])
    errors = []

    def load():
        try:
            ImageService(images.store.root).load(io.BytesIO(data))
        except Exception as error:        # reported below, with the others
            errors.append(error)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _assert_one_consistent_image(images, built)


def test_concurrent_loads_from_processes_end_with_one_image(images):
    built = image([BASE, OTHER, APP])
    data = docker_save([(built, ["race:1"])])
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=_load_in_child, args=(str(images.store.root), data))
                for _ in range(4)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [child.exitcode for child in children] == [0, 0, 0, 0]
    _assert_one_consistent_image(images, built)


def test_a_layer_listed_twice_is_one_lowerdir_at_its_top_place(images):
    built = image([BASE, APP, BASE])
    images.load(io.BytesIO(docker_save([(built, ["twice:1"])])))
    assert [path.name for path in images.layers("twice:1")] == [
        built.diff_ids[0][7:], built.diff_ids[1][7:]]
    assert images.inspect("twice:1")["RootFS"]["Layers"] == built.diff_ids

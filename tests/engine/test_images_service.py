"""The image service as the daemon uses it: the busybox image, import with
--change, inspect/list/history shapes, tag, remove (untag vs delete, conflicts
in docker's words), prune, and what is freed when. Root: unpacking."""
from __future__ import annotations

import io
import json
import os

import pytest

from engine.images.errors import (
    ImageConflict,
    ImageNotFound,
    InvalidChange,
    InvalidReference,
)
from tests.fixtures.images import (
    directory,
    docker_save,
    file,
    image,
    layer,
    sha256,
    tar_bytes,
)

pytestmark = pytest.mark.root

ROOTFS = layer(directory("bin"), file("bin/app", "#!/bin/sh\n", mode=0o755),
               directory("etc"), file("etc/passwd", "root:x:0:0::/:/bin/sh\n"))


def load(service, *tags, layers=(ROOTFS,), cmd=None):
    built = image(list(layers), cmd=cmd)
    service.load(io.BytesIO(docker_save([(built, list(tags))])))
    return built.id


def leftover_data(service) -> list[str]:
    store = service.store
    return [str(path) for base in (store.layers, store.blobs) if base.exists()
            for path in base.iterdir()]


# ------------------------------------------------------------ the busybox image

def test_busybox_image_is_tagged_and_runs_sh(image_service, busybox_image):
    info = image_service.inspect("busybox")
    assert info["Id"] == busybox_image
    assert info["Id"] == sha256(image_service.store.read_blob(busybox_image))
    assert info["RepoTags"] == ["busybox:latest"] and info["RepoDigests"] == []
    assert info["Config"]["Cmd"] == ["sh"]
    assert info["Os"] == "linux" and info["Architecture"]
    assert info["Comment"] == "Imported from -"
    assert len(info["RootFS"]["Layers"]) == 1 and info["Size"] > 1_000_000
    assert info["GraphDriver"]["Data"]["UpperDir"] == str(image_service.layers("busybox")[0])
    assert image_service.config("busybox")["config"]["Cmd"] == ["sh"]


@pytest.mark.parametrize("name", ["busybox", "busybox:latest", "library/busybox",
                                  "docker.io/library/busybox:latest"])
def test_busybox_resolves_by_name(image_service, busybox_image, name):
    assert image_service.resolve(name) == busybox_image


def test_busybox_resolves_by_id(image_service, busybox_image):
    for name in (busybox_image, busybox_image[7:], busybox_image[7:19], "sha256:" + busybox_image[7:19]):
        assert image_service.resolve(name) == busybox_image


def test_busybox_rootfs(image_service, busybox_image):
    (root,) = image_service.layers(busybox_image)
    assert os.readlink(root / "bin" / "sh") == "busybox"
    assert os.readlink(root / "usr" / "bin" / "env") == "../../bin/busybox"
    assert (root / "bin" / "busybox").stat().st_mode & 0o111
    assert "app:x:1000:1000" in (root / "etc" / "passwd").read_text()
    assert "extra:x:2000:app" in (root / "etc" / "group").read_text()
    assert oct((root / "tmp").stat().st_mode & 0o7777) == "0o1777"
    assert (root / "home" / "app").stat().st_uid == 1000


def test_busybox_list_and_history(image_service, busybox_image):
    (summary,) = [s for s in image_service.list() if s["Id"] == busybox_image]
    assert summary["RepoTags"] == ["busybox:latest"] and summary["Containers"] == -1
    assert set(summary) == {"Id", "ParentId", "RepoTags", "RepoDigests", "Created", "Size",
                            "SharedSize", "Labels", "Containers"}
    (entry,) = image_service.history("busybox")
    assert entry["Id"] == busybox_image and entry["Tags"] == ["busybox:latest"]
    assert entry["Comment"] == "Imported from -" and entry["Size"] == summary["Size"]


def test_missing_images_are_named_as_docker_does(image_service):
    with pytest.raises(ImageNotFound, match="^No such image: nosuch:latest$"):
        image_service.inspect("nosuch")
    with pytest.raises(ImageNotFound, match="^No such image: sha256:0{64}$"):
        image_service.resolve("0" * 64)
    with pytest.raises(InvalidReference, match="must be lowercase"):
        image_service.resolve("NoSuch")


# ------------------------------------------------------------ import

def test_import_applies_changes(images):
    changes = ['CMD ["sh"]', "ENV A=b", "WORKDIR /x", 'ENTRYPOINT ["/bin/app"]',
               "USER app", "EXPOSE 8080/tcp", "LABEL org.test=yes", "STOPSIGNAL SIGINT"]
    image_id = images.import_image(io.BytesIO(tar_bytes([file("bin/app", "x", mode=0o755)])),
                                   "localhost:5000/team/app:v2", changes=changes, message="hello")
    info = images.inspect("localhost:5000/team/app:v2")
    assert info["Id"] == image_id and info["Comment"] == "hello"
    assert {key: info["Config"][key] for key in
            ("Cmd", "Env", "WorkingDir", "Entrypoint", "User", "ExposedPorts", "Labels", "StopSignal")
            } == {"Cmd": ["sh"], "Env": ["A=b"], "WorkingDir": "/x", "Entrypoint": ["/bin/app"],
                  "User": "app", "ExposedPorts": {"8080/tcp": {}}, "Labels": {"org.test": "yes"},
                  "StopSignal": "SIGINT"}
    assert images.list(label="org.test=yes")[0]["Id"] == image_id
    assert images.list(reference="localhost:5000/team/*")[0]["Id"] == image_id


def test_import_of_a_gzipped_tarball_from_a_path(images, tmp_path):
    import gzip
    path = tmp_path / "rootfs.tar.gz"
    path.write_bytes(gzip.compress(tar_bytes([file("hello", "world")])))
    image_id = images.import_image(path)
    assert (images.layers(image_id)[0] / "hello").read_text() == "world"
    assert images.inspect(image_id)["RepoTags"] == []


def test_a_bad_change_is_refused_before_anything_is_stored(images):
    with pytest.raises(InvalidChange, match="^run is not a valid change command$"):
        images.import_image(io.BytesIO(ROOTFS), "x:1", changes=["RUN rm -rf /"])
    assert images.list() == [] and leftover_data(images) == []


# ------------------------------------------------------------ tag and remove

def test_tag_untag_and_delete(images):
    image_id = load(images, "app:1")
    assert images.tag("app:1", "mirror.test/app", "2") == "mirror.test/app:2"
    assert images.tag(image_id[7:19], "app:edge") == "app:edge"
    assert images.inspect(image_id)["RepoTags"] == ["app:1", "app:edge", "mirror.test/app:2"]
    assert images.inspect(image_id)["Metadata"]["LastTagTime"].startswith("20")
    assert images.remove("app:edge") == [{"Untagged": "app:edge"}]
    assert images.remove("mirror.test/app:2") == [{"Untagged": "mirror.test/app:2"}]
    assert images.inspect("app:1")["Id"] == image_id
    removed = images.remove("app:1")
    assert removed[:2] == [{"Untagged": "app:1"}, {"Deleted": image_id}]
    assert removed[2:] == [{"Deleted": d} for d in images_diff_ids(removed)]
    assert images.list() == [] and leftover_data(images) == []
    with pytest.raises(ImageNotFound):
        images.inspect(image_id)


def images_diff_ids(removed):
    return [item["Deleted"] for item in removed[2:]]


def test_tag_refuses_digests_and_bad_names(images):
    load(images, "app:1")
    with pytest.raises(InvalidReference, match="refusing to create a tag with a digest reference"):
        images.tag("app:1", f"app@sha256:{'a' * 64}")
    with pytest.raises(InvalidReference, match="invalid tag format"):
        images.tag("app:1", "app", "-bad")
    with pytest.raises(ImageNotFound):
        images.tag("ghost", "app:2")


def test_remove_by_id_of_an_image_in_several_repositories_must_be_forced(images):
    image_id = load(images, "one:1", "two:1")
    short = image_id[7:19]
    with pytest.raises(ImageConflict) as caught:
        images.remove(short)
    assert str(caught.value) == (f"conflict: unable to delete {short} (must be forced) - "
                                 "image is referenced in multiple repositories")
    removed = images.remove(short, force=True)
    assert removed[:3] == [{"Untagged": "one:1"}, {"Untagged": "two:1"}, {"Deleted": image_id}]
    assert leftover_data(images) == []


def test_remove_by_id_with_a_single_tag_untags_and_deletes(images):
    image_id = load(images, "one:1")
    assert images.remove(image_id)[:2] == [{"Untagged": "one:1"}, {"Deleted": image_id}]
    assert images.list() == [] and leftover_data(images) == []


# ------------------------------------------------------------ in use

def user_table(table):
    return lambda image_id: table.get(image_id, [])


def test_images_in_use_are_not_deleted(make_images):
    table = {}
    service = make_images(in_use=user_table(table))
    image_id = load(service, "busy:1")
    short = image_id[7:19]
    container = "c" * 64
    table[image_id] = [container]                             # a stopped container
    with pytest.raises(ImageConflict) as caught:
        service.remove(image_id)
    assert str(caught.value) == (f"conflict: unable to delete {short} (must be forced) - "
                                 f"image is being used by stopped container {'c' * 12}")
    with pytest.raises(ImageConflict) as caught:
        service.remove("busy:1")
    assert str(caught.value) == (f'conflict: unable to remove repository reference "busy:1" '
                                 f"(must force) - container {'c' * 12} is using its referenced "
                                 f"image {short}")
    table[image_id] = [(container, True)]                     # now running
    with pytest.raises(ImageConflict) as caught:
        service.remove(image_id, force=True)
    assert str(caught.value) == (f"conflict: unable to delete {short} (cannot be forced) - "
                                 f"image is being used by running container {'c' * 12}")
    assert service.prune(all=True)["ImagesDeleted"] is None
    table[image_id] = [container]                             # stopped again: force works
    lower = service.layers(image_id)
    assert service.remove(image_id, force=True) == [{"Untagged": "busy:1"}, {"Deleted": image_id}]
    assert service.list() == []
    with pytest.raises(ImageNotFound):
        service.inspect(image_id)
    assert service.layers(image_id) == lower                  # the container still needs them
    assert service.config(image_id)["config"]["Cmd"] == ["sh"]
    assert all(path.is_dir() for path in lower)
    table.clear()                                             # the container is gone
    assert service.gc() == [d for d in image_diff_ids(lower)]
    assert leftover_data(service) == []


def image_diff_ids(paths):
    return ["sha256:" + path.name for path in sorted(paths)]


# ------------------------------------------------------------ prune

def test_retag_makes_a_dangling_image_that_prune_removes(images):
    old = load(images, "app:latest")
    new = load(images, "app:latest", layers=(ROOTFS, layer(file("new", "v2"))))
    assert images.inspect(old)["RepoTags"] == []
    assert [s["Id"] for s in images.list(dangling=True)] == [old]
    result = images.prune()
    assert result["ImagesDeleted"][0] == {"Deleted": old}
    assert result["SpaceReclaimed"] == 0                     # its only layer is still used
    assert [s["Id"] for s in images.list()] == [new]
    everything = images.prune(all=True)
    assert {"Untagged": "app:latest"} in everything["ImagesDeleted"]
    assert everything["SpaceReclaimed"] > 0
    assert images.list() == [] and leftover_data(images) == []


def test_list_is_newest_first_and_filters(images):
    first = load(images, "a:1", cmd=["a"])
    built = image([ROOTFS], created="2030-01-01T00:00:00Z")
    images.load(io.BytesIO(docker_save([(built, ["b:1"])])))
    assert [s["Id"] for s in images.list()] == [built.id, first]
    assert [s["Id"] for s in images.list(reference="b")] == [built.id]
    assert images.list(dangling=True) == []
    assert json.dumps(images.list())  # plain JSON, ready for the API


def test_a_crash_leftover_lock_and_staging_are_swept(images):
    base = images.store.base
    (base / "tmp" / "half-unpacked" / "etc").mkdir(parents=True)
    (base / "tmp" / "blob").write_bytes(b"partial")
    (base / ".lock").write_text("")                 # its holder died: flock is free
    load(images, "after:crash")
    assert not (base / "tmp").exists() and not (base / ".lock").exists()

"""Shared fixtures of the engine tests (root tier).

- Tests marked ``@pytest.mark.root`` are skipped when not run as root.
- ``leftovers(root)`` lists what a test must not leave under a state root:
  the image store's lock and staging files, the state store's temporaries,
  mounts. ``images`` (a fresh ImageService per test) and ``make_images`` (a
  factory of them) assert that at teardown.
- Session-scoped: ``image_root``, ``image_service`` and ``busybox_image``
  (the busybox rootfs from tests/fixtures/images.py, imported through
  ``ImageService.import_image`` with ``CMD ["sh"]`` as ``busybox:latest``).
"""
from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.images.service import ImageService
from tests.fixtures.images import CACHE_DIR, busybox_rootfs_tar
from tests.fixtures.leaks import assert_nothing_left


@pytest.fixture(autouse=True)
def _root_only(request):
    if request.node.get_closest_marker("root") and os.geteuid() != 0:
        pytest.skip("needs root")


def _mounts_under(root: Path) -> list[str]:
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            point = line.split()[4].replace("\\040", " ")
            if point == str(root) or point.startswith(str(root) + "/"):
                found.append(point)
    return found


def leftovers(root: Path) -> list[str]:
    """Locks, staging dirs, half-written records and mounts left under ``root``
    (any image store below it: tests may make several)."""
    root = Path(root)
    found = _mounts_under(root)
    for directory, subdirs, files in os.walk(root):
        if os.path.basename(directory) == "images":
            found += [os.path.join(directory, name) for name in (".lock",) if name in files]
            found += [os.path.join(directory, name) for name in ("tmp",) if name in subdirs]
            subdirs[:] = [d for d in subdirs if d not in ("layers", "blobs")]  # image content
        found += [os.path.join(directory, name) for name in files
                  if name.startswith(".") and name.endswith(".tmp")]
    return found


@pytest.fixture
def make_images(tmp_path):
    """ImageService factory on temporary roots; no leftovers allowed at teardown."""
    def make(name: str = "state", in_use=None) -> ImageService:
        return ImageService(tmp_path / name, in_use=in_use)
    yield make
    assert leftovers(tmp_path) == []


@pytest.fixture
def images(make_images):
    """A fresh image service on a temporary state root, checked for leaks."""
    return make_images()


@pytest.fixture(scope="session")
def image_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("image-root")


@pytest.fixture(scope="session")
def image_service(image_root):
    service = ImageService(image_root)
    yield service
    assert leftovers(image_root) == []


@pytest.fixture(scope="session")
def busybox_tar() -> Path:
    return busybox_rootfs_tar(CACHE_DIR)


@pytest.fixture(scope="session")
def busybox_image(image_service, busybox_tar) -> str:
    """The id of ``busybox:latest`` in ``image_service``."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    return image_service.import_image(busybox_tar, "busybox:latest", changes=['CMD ["sh"]'])


# ------------------------------------------------------------ the Debian image
# ``debian_image``: a Debian rootfs with python3 (tests/fixtures/debian_image.py,
# made with mmdebstrap from the machine's apt sources and cached), imported as
# ``dockyard-test/debian-python:latest``. A failed build fails the tests that
# use it: they are not skipped.

from tests.fixtures.debian_image import debian_python_rootfs_tar

DEBIAN_IMAGE = "dockyard-test/debian-python:latest"


@pytest.fixture(scope="session")
def debian_tar() -> Path:
    if os.geteuid() != 0:
        pytest.skip("needs root (apt-get, mmdebstrap)")
    return debian_python_rootfs_tar(CACHE_DIR)


@pytest.fixture(scope="session")
def debian_image(image_service, debian_tar) -> str:
    """The id of ``dockyard-test/debian-python:latest`` in ``image_service``."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    return image_service.import_image(debian_tar, DEBIAN_IMAGE, changes=[
        'CMD ["python3"]',
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ])


# -- a container engine per test, with the leak check every root test ends with ----

@pytest.fixture
def engine(tmp_path, image_service, busybox_image):
    """A ContainerService (with volumes) on temp roots and a cgroup parent of
    its own; afterwards: no container, supervisor, mount, cgroup or record left."""
    from engine.containers.service import ContainerService
    from engine.runtime import cgroups
    from engine.volumes.service import VolumeService
    parent = f"dockyard-test-{uuid.uuid4().hex[:8]}"
    driver = cgroups.detect(parent=parent)
    service = ContainerService(tmp_path / "root", tmp_path / "run", image_service, driver)
    service.volumes = VolumeService(tmp_path / "root", in_use=service.volume_users)
    yield service
    for container in service.list(all=True):
        service.remove(container["Id"], force=True)
    service.shutdown()
    assert_nothing_left(tmp_path, driver)

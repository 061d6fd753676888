"""Container names: unique, looked up like docker's, kept in an index that
a crash cannot leave wrong for long (reconcile repairs it, and sweeps the
runtime records of containers that are gone)."""
from __future__ import annotations

import pytest

from engine.containers.errors import Conflict, InvalidRequest, NotFound

pytestmark = pytest.mark.root


def _create(engine, name=None):
    return engine.create({"Image": "busybox", "Cmd": ["true"], "HostConfig": {}}, name=name)


def test_a_name_is_unique_until_its_container_is_removed(engine):
    first = _create(engine, "web")
    with pytest.raises(Conflict, match=rf'name "/web" is already in use by container "{first}"'):
        _create(engine, "/web")
    assert [c["Id"] for c in engine.list(all=True)] == [first]  # nothing half-made is left
    engine.remove("web")
    second = _create(engine, "web")
    assert engine.inspect("/web")["Id"] == second != first


def test_lookup_is_id_then_name_then_unique_prefix(engine):
    a = _create(engine, "alpha")
    b = _create(engine)
    assert engine.inspect(a)["Id"] == a
    assert engine.inspect("alpha")["Id"] == a and engine.inspect("/alpha")["Id"] == a
    shared = len([1 for i in range(1, 64) if a[:i] == b[:i]]) + 1
    assert engine.inspect(b[:shared])["Id"] == b
    # a name that looks like a prefix of another container's id: the name wins
    named_like_b = _create(engine, b[:12])
    assert engine.inspect(b[:12])["Id"] == named_like_b
    with pytest.raises(NotFound):
        engine.inspect("no-such-container")


@pytest.mark.parametrize("name", ["-web", "a", "web/1", "we b", ".hidden"])
def test_invalid_names_are_refused_with_docker_words(engine, name):
    with pytest.raises(InvalidRequest, match=r"Invalid container name .*only \[a-zA-Z0-9\]"):
        _create(engine, name)
    assert engine.list(all=True) == []


def test_a_stale_name_whose_container_is_gone_is_taken_over(engine):
    engine.store.write("names", "orphan", {"id": "0" * 64})
    cid = _create(engine, "orphan")
    assert engine.inspect("orphan")["Id"] == cid


def test_reconcile_repairs_the_names_index(engine):
    kept = _create(engine, "kept")
    lost_claim = _create(engine, "lost")
    engine.store.delete("names", "lost")                # crash before the claim
    twin = _create(engine, "twin")
    half = dict(engine.store.read("containers", twin), id="f" * 64, created=1e12)
    engine.store.write("containers", half["id"], half)  # a second record claiming "twin"
    engine.store.write("names", "stale", {"id": "e" * 64})
    engine.store.write("runs", "d" * 64, {"pid": 1})
    engine.store.write("exits", "d" * 64, {"pid": 1, "exit_code": 0})
    removed = engine.reconcile()
    assert f"container {'f' * 64} (its name is another's)" in removed and "name stale" in removed
    assert f"runs record {'d' * 64}" in removed and f"exits record {'d' * 64}" in removed
    assert engine.store.keys("runs") == engine.store.keys("exits") == []
    assert engine.inspect("lost")["Id"] == lost_claim
    assert engine.inspect("twin")["Id"] == twin and engine.inspect("kept")["Id"] == kept
    assert sorted(engine.store.keys("names")) == ["kept", "lost", "twin"]

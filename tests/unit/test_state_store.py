"""The state store: atomic JSON records, fsynced or volatile (no root needed)."""
from __future__ import annotations

import os
import threading

import pytest

from engine.state import store as store_module
from engine.state.store import StateStore


@pytest.fixture
def store(tmp_path):
    return StateStore(tmp_path / "state")


def test_write_read_keys_delete(store):
    assert store.read("containers", "a") is None and store.keys("containers") == []
    store.write("containers", "b", {"n": 2})
    store.write("containers", "a", {"n": 1})
    assert store.read("containers", "a") == {"n": 1}
    assert store.keys("containers") == ["a", "b"]
    assert dict(store.records("containers")) == {"a": {"n": 1}, "b": {"n": 2}}
    assert store.delete("containers", "a") and not store.delete("containers", "a")
    assert store.keys("containers") == ["b"]


@pytest.mark.parametrize("key", ["", "a/b", ".hidden", "../up"])
def test_invalid_keys_are_refused(store, key):
    with pytest.raises(ValueError, match="invalid record key"):
        store.write("containers", key, {})


def test_a_failed_write_keeps_the_old_record_and_leaves_no_temporary(store, monkeypatch):
    store.write("containers", "a", {"version": 1})

    def crash(*_):
        raise OSError("disk gone")
    monkeypatch.setattr(store_module.os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        store.write("containers", "a", {"version": 2})
    monkeypatch.undo()
    assert store.read("containers", "a") == {"version": 1}
    assert os.listdir(store.root / "containers") == ["a.json"]


def test_only_durable_kinds_are_synced_before_the_rename(store, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(store_module.os, "fsync", lambda fd: events.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(store_module.os, "replace",
                        lambda a, b: events.append("replace") or real_replace(a, b))
    store.write("exits", "a", {"code": 0})
    store.delete("exits", "a")
    assert events == ["replace"]
    events.clear()
    store.write("containers", "a", {})
    assert events == ["fsync", "replace"]


def test_an_unreadable_volatile_record_reads_as_absent_a_durable_one_raises(store):
    for kind in ("exits", "containers"):
        (store.root / kind).mkdir(parents=True)
        (store.root / kind / "torn.json").write_bytes(b"")  # what a power loss may leave
    assert store.read("exits", "torn") is None
    with pytest.raises(ValueError):
        store.read("containers", "torn")


def test_concurrent_writers_of_one_key_never_collide(store):
    errors = []

    def writer(n):
        try:
            for i in range(50):
                store.write("containers", "same", {"writer": n, "i": i})
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.read("containers", "same")["i"] == 49
    assert os.listdir(store.root / "containers") == ["same.json"]


def test_sweep_removes_what_a_crash_left_mid_write(store):
    store.write("containers", "a", {})
    left = store.root / "containers" / ".a.123.0.tmp"
    left.write_text("{half")
    assert store.sweep_temporaries() == [left]
    assert store.keys("containers") == ["a"] and not left.exists()

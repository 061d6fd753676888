"""Fifty clients at once, each on its own connection (docker-py), creating,
starting, waiting for and removing containers while others list them: no
lost or duplicated container, no error, nothing leaked."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

docker = pytest.importorskip("docker")

pytestmark = pytest.mark.root

CLIENTS = 50


def _client(daemon, timeout: float = 20) -> docker.APIClient:
    return docker.APIClient(base_url="unix://" + str(daemon.socket), version="1.45", timeout=timeout)


def _one_life(daemon, n: int) -> tuple[str, int, bytes]:
    client = _client(daemon)
    try:
        command = ["true"] if n % 2 else ["echo", f"client {n}"]
        cid = client.create_container("busybox", command, name=f"c{n}", labels={"swarm": "yes"})["Id"]
        client.start(cid)
        code = client.wait(cid, timeout=20)["StatusCode"]
        output = client.logs(cid)
        client.remove_container(cid)
        return cid, code, output
    finally:
        client.close()


def _lister(daemon, stop: threading.Event, seen: list, errors: list) -> None:
    client = _client(daemon)
    try:
        while not stop.is_set():
            ids = [c["Id"] for c in client.containers(all=True, filters={"label": "swarm=yes"})]
            assert len(ids) == len(set(ids)), ids
            seen.append(len(ids))
    except Exception as error:  # noqa: BLE001 - reported by the test
        errors.append(error)
    finally:
        client.close()


def _create_inspect_remove(daemon, n: int) -> tuple[str, str]:
    client = _client(daemon)
    try:
        cid = client.create_container("busybox", ["true"], name=f"c{n}", labels={"swarm": "yes"})["Id"]
        name = client.inspect_container(cid)["Name"]
        client.remove_container(cid)
        return cid, name
    finally:
        client.close()


def _all_at_once(daemon, life) -> tuple[list, list[int], float]:
    """``life(daemon, n)`` for every client at once while a lister lists:
    (results, the list lengths seen, wall seconds); no listing may fail."""
    stop, seen, list_errors = threading.Event(), [], []
    started = time.monotonic()
    listing = threading.Thread(target=_lister, args=(daemon, stop, seen, list_errors))
    listing.start()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(lambda n: life(daemon, n), range(CLIENTS)))
    finally:
        stop.set()
        listing.join(30)
    assert list_errors == []
    return results, seen, time.monotonic() - started


def test_fifty_clients_create_and_remove_while_others_list(daemon):
    results, seen, wall = _all_at_once(daemon, _create_inspect_remove)
    print(f"\n{CLIENTS} clients create/inspect/remove: {wall:.2f} s wall, {len(seen)} listings meanwhile")
    assert len({cid for cid, _ in results}) == CLIENTS
    assert [name for _, name in results] == [f"/c{n}" for n in range(CLIENTS)]
    client = _client(daemon)
    assert client.containers(all=True) == []
    client.close()


def test_fifty_clients_create_start_wait_remove(daemon):
    results, seen, wall = _all_at_once(daemon, _one_life)
    print(f"\n{CLIENTS} clients: {wall:.2f} s wall, {len(seen)} listings meanwhile (max {max(seen, default=0)})")
    ids = [cid for cid, _, _ in results]
    assert len(set(ids)) == CLIENTS
    assert all(code == 0 for _, code, _ in results)
    for n, (_, _, output) in enumerate(results):
        assert output == (b"" if n % 2 else f"client {n}\n".encode())
    client = _client(daemon)
    assert client.containers(all=True) == []
    client.close()

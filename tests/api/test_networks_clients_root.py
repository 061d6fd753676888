"""``client.networks.*`` of our client (engine.client) and of docker-py,
against the daemon: the calls the orchestrator and integration tests make."""
from __future__ import annotations

import docker
import pytest

from engine.client import APIError, DockerClient, NotFound

pytestmark = pytest.mark.root


@pytest.fixture(params=["engine.client", "docker-py"])
def client(daemon, request):
    made = DockerClient(base_url=f"unix://{daemon.socket}", timeout=20) if request.param == "engine.client" \
        else docker.DockerClient(base_url=f"unix://{daemon.socket}", timeout=20)
    yield made
    made.close()


def _errors(client):
    return (NotFound, APIError) if isinstance(client, DockerClient) else (docker.errors.NotFound,
                                                                         docker.errors.APIError)


def test_networks_through_the_clients(client):
    not_found, api_error = _errors(client)
    ipam = {"Driver": "default", "Config": [{"Subnet": "10.98.0.0/24", "Gateway": "10.98.0.1"}]}
    if isinstance(client, DockerClient):
        net = client.networks.create("backend", driver="bridge", labels={"app": "t"}, ipam=ipam)
    else:
        net = client.networks.create("backend", driver="bridge", labels={"app": "t"},
                                     ipam=docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(
                                         subnet="10.98.0.0/24", gateway="10.98.0.1")]))
    assert net.name == "backend" and client.networks.get(net.id[:12]).id == net.id
    assert [n.name for n in client.networks.list(filters={"label": "app=t"})] == ["backend"]
    assert {n.name for n in client.networks.list()} == {"backend", "bridge", "host", "none"}
    box = client.containers.run("busybox", ["sleep", "600"], detach=True, name="member", network="backend")
    net.reload()
    assert [c.name for c in net.containers] == ["member"]
    other = client.networks.create("side")
    other.connect(box, aliases=["helper"], ipv4_address=None)
    box.reload()
    assert set(box.attrs["NetworkSettings"]["Networks"]) == {"backend", "side"}
    assert box.attrs["NetworkSettings"]["Networks"]["side"]["Aliases"] == ["helper"]
    code, out = box.exec_run(["ip", "-o", "-4", "addr"])
    assert code == 0 and b"10.98.0.2/24" in out and b"eth1" in out
    other.disconnect(box)
    with pytest.raises(api_error):
        net.remove()  # active endpoints
    box.remove(force=True)
    assert client.networks.prune()["NetworksDeleted"] is not None
    assert {n.name for n in client.networks.list()} == {"bridge", "host", "none"}
    with pytest.raises(not_found):
        client.networks.get("backend")

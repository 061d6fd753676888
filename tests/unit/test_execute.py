"""The executor (orchestrator/execute.py) over a small in-memory fake of the
client's surface: order, health gates, failure propagation, events."""
from __future__ import annotations

import itertools
import threading
import time

import anyio

from orchestrator import execute, plan
from orchestrator.plan import Existing, ServicePlan


class FakeAPI:
    """The low-level client calls the executor makes, in memory. A
    container's health follows ``health[name]``: a list of states, one per
    inspect once it runs."""

    def __init__(self, health=None, exits=None) -> None:
        self.calls: list[tuple] = []
        self.containers: dict[str, dict] = {}
        self.health = {k: list(v) for k, v in (health or {}).items()}
        self.exits = exits or {}
        self.ids = itertools.count(1)
        self.lock = threading.Lock()

    def _log(self, *call) -> None:
        with self.lock:
            self.calls.append(call)

    def create_network(self, name, **_):
        self._log("network", name)

    def create_volume(self, name, **_):
        self._log("volume", name)

    def create_container_from_config(self, body, name):
        cid = f"id{next(self.ids)}"
        self.containers[cid] = {"name": name, "state": "created", "health": body.get("health")}
        self._log("create", name)
        return {"Id": cid}

    def start(self, cid):
        self.containers[cid]["state"] = "running"
        self._log("start", self.containers[cid]["name"])

    def restart(self, cid, timeout=10):
        self._log("restart", self.containers[cid]["name"])

    def stop(self, cid, timeout=None):
        self._log("stop", cid)

    def remove_container(self, cid, force=False):
        self._log("remove", cid)

    def logs(self, cid, tail=None):
        return b"the last words\n"

    def inspect_container(self, cid):
        found = self.containers[cid]
        name = found["name"]
        state = {"Status": found["state"], "Running": found["state"] == "running", "ExitCode": 0}
        if name in self.exits and found["state"] == "running":
            state.update(Status="exited", Running=False, ExitCode=self.exits[name])
        if name in self.health:
            steps = self.health[name]
            status = steps.pop(0) if len(steps) > 1 else steps[0]
            state["Health"] = {"Status": status, "Log": [{"Output": "probe said no"}]}
        return {"Name": f"/{name}", "State": state}


class FakeClient:
    def __init__(self, api: FakeAPI) -> None:
        self.api = api


def _plan(*services: str) -> plan.Plan:
    made = plan.Plan(networks=[("default", "p_default")])
    for name in services:
        made.services[name] = ServicePlan(name, create=[1])
    return made


def _run(api: FakeAPI, made: plan.Plan, dependencies: dict) -> tuple[dict, list]:
    events = []
    runner = execute.Up(FakeClient(api), made, lambda s, n: (f"p-{s}-{n}", {}), dependencies,
                        {"p_default": {}}, {}, events.append)
    return anyio.run(runner.run), events


def test_networks_first_then_each_service_after_its_dependencies_condition():
    api = FakeAPI(health={"p-db-1": ["starting", "starting", "healthy"]})
    errors, events = _run(api, _plan("db", "web"), {"web": {"db": {"condition": "service_healthy"}}})
    assert errors == {}
    order = [c for c in api.calls if c[0] in ("network", "start")]
    assert order == [("network", "p_default"), ("start", "p-db-1"), ("start", "p-web-1")]
    statuses = [(e.name, e.status) for e in events if e.name == "p-db-1"]
    assert statuses[-2:] == [("p-db-1", "Waiting"), ("p-db-1", "Healthy")]


def test_an_unhealthy_dependency_stops_its_dependents_with_the_reason():
    api = FakeAPI(health={"p-db-1": ["starting", "unhealthy"]})
    errors, _ = _run(api, _plan("db", "web", "worker"), {"web": {"db": {"condition": "service_healthy"}},
                                                          "worker": {"web": {"condition": "service_started"}}})
    assert "container p-db-1 is unhealthy (last check: probe said no)" in errors["web"]
    assert "the last words" in errors["web"]
    assert errors["worker"].startswith("dependency web failed to start")
    assert ("start", "p-web-1") not in api.calls and ("start", "p-worker-1") not in api.calls


def test_an_optional_dependency_may_fail():
    api = FakeAPI(exits={"p-job-1": 2})
    errors, _ = _run(api, _plan("job", "app"), {"app": {"job": {"condition": "service_completed_successfully",
                                                               "required": False}}})
    assert errors == {} and ("start", "p-app-1") in api.calls
    errors, _ = _run(FakeAPI(exits={"p-job-1": 2}), _plan("job", "app"),
                     {"app": {"job": {"condition": "service_completed_successfully"}}})
    assert errors["app"].startswith("service job didn't complete successfully: exit 2")


def test_independent_services_start_at_the_same_time():
    api = FakeAPI()
    slow = api.start

    def start(cid):
        time.sleep(0.2)
        slow(cid)
    api.start = start
    began = time.monotonic()
    errors, _ = _run(api, _plan("a", "b", "c", "d"), {})
    assert errors == {} and time.monotonic() - began < 0.6


def test_scaled_down_and_recreated_containers_go_before_new_ones_come():
    api = FakeAPI()
    made = plan.Plan()
    old = Existing("old-1", "p-web-1", "web", 1, "h", "running")
    extra = Existing("old-2", "p-web-2", "web", 2, "h", "running")
    made.services["web"] = ServicePlan("web", recreate=[old], remove=[extra])
    errors, _ = _run(api, made, {})
    kinds = [c[0] for c in api.calls]
    assert errors == {} and kinds.index("remove") < kinds.index("create")
    assert ("create", "p-web-1") in api.calls  # the same number again

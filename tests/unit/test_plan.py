"""The planner (orchestrator/plan.py): a pure function of the project, a
snapshot and the options."""
from __future__ import annotations

from orchestrator import naming, plan
from orchestrator.plan import Existing, Snapshot, UpOptions

WEB = {"image": "busybox", "command": ["httpd"]}
DB = {"image": "busybox", "command": ["sleep", "1d"]}
SERVICES = {"db": DB, "web": WEB}
ORDER = ["db", "web"]
NETWORKS = {"default": {"name": "app_default"}}
VOLUMES = {"data": {"name": "app_data"}, "outside": {"name": "shared", "external": True}}


def _up(snapshot=Snapshot(), services=SERVICES, restarts=None, **options):
    return plan.up("app", services, ORDER, restarts or {}, NETWORKS, VOLUMES, snapshot, UpOptions(**options))


def _existing(service, number=1, state="running", config=None, code=0, oneoff=False):
    config_hash = naming.config_hash(config if config is not None else SERVICES.get(service, {}))
    return Existing(f"id-{service}-{number}", f"app-{service}-{number}", service, number, config_hash, state, code,
                    oneoff)


def test_a_first_up_creates_everything_in_order():
    made = _up()
    assert made.networks == [("default", "app_default")] and made.volumes == [("data", "app_data")]
    assert list(made.services) == ORDER
    assert [(s.name, s.create) for s in made.services.values()] == [("db", [1]), ("web", [1])]
    assert not made.empty


def test_a_second_up_with_nothing_changed_does_nothing():
    snapshot = Snapshot((_existing("db"), _existing("web")), frozenset({"app_default"}), frozenset({"app_data"}))
    assert _up(snapshot).empty


def test_a_changed_service_is_recreated_and_its_restart_dependents_restarted():
    changed = {"db": {**DB, "environment": {"A": "1"}}, "web": WEB}
    snapshot = Snapshot((_existing("db"), _existing("web")), frozenset({"app_default"}), frozenset({"app_data"}))
    made = _up(snapshot, services=changed, restarts={"db": {"web"}})
    assert [c.name for c in made.services["db"].recreate] == ["app-db-1"]
    assert [c.name for c in made.services["web"].restart] == ["app-web-1"]
    plain = _up(snapshot, services=changed)
    assert plain.services["web"].keep and not plain.services["web"].restart
    assert not _up(snapshot, services=changed, no_recreate=True).services["db"].recreate
    assert [c.name for c in _up(snapshot, force_recreate=True).services["web"].recreate] == ["app-web-1"]


def test_stopped_containers_start_but_a_completed_one_shot_stays_done():
    snapshot = Snapshot((_existing("db", state="exited", code=0), _existing("web", state="exited", code=2)))
    made = _up(snapshot, one_shots=frozenset({"db", "web"}))
    assert made.services["db"].keep and not made.services["db"].start
    assert [c.name for c in made.services["web"].start] == ["app-web-1"]  # it failed: again
    stopped = _up(snapshot)  # no one waits for db to complete: a stopped service, started again
    assert [c.name for c in stopped.services["db"].start] == ["app-db-1"]


def test_scale_up_and_down_number_like_compose():
    snapshot = Snapshot((_existing("web", 1), _existing("web", 3)))
    made = _up(snapshot, scale=(("web", 4),))
    assert made.services["web"].create == [2, 4]
    down = _up(Snapshot(tuple(_existing("web", n) for n in (1, 2, 3))), scale=(("web", 1),))
    assert [c.number for c in down.services["web"].remove] == [3, 2]
    replicated = _up(services={"db": {**DB, "deploy": {"replicas": 3}}, "web": WEB})
    assert replicated.services["db"].create == [1, 2, 3]


def test_orphans_and_one_off_containers():
    snapshot = Snapshot((_existing("old"), _existing("web", oneoff=True)))
    assert [c.name for c in _up(snapshot).orphans] == ["app-old-1"]
    assert [c.name for c in _up(snapshot, remove_orphans=True).orphans] == ["app-old-1"]  # one-offs: down's


def test_down_stops_dependents_first_and_orphans_with_remove_orphans():
    snapshot = Snapshot((_existing("db"), _existing("web"), _existing("old"), _existing("web", 9, oneoff=True)))
    made = plan.down([["db"], ["web"]], snapshot, ["app_default"], [], remove_orphans=False)
    assert [[c.name for c in level] for level in made.stop_levels] == [["app-web-1"], ["app-db-1"]]
    made = plan.down([["db"], ["web"]], snapshot, [], [], remove_orphans=True)
    assert [c.name for c in made.stop_levels[0]] == ["app-old-1", "app-web-9"]
    assert plan.down([["db"]], Snapshot(), [], [], False).empty

"""orchestrator.graph: edges by key, reference errors, cycles, orders."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from orchestrator.config.errors import ConfigErrors, CycleError, ReferenceError_
from orchestrator.graph import Dependency, build, check

STARTED, HEALTHY, DONE = "service_started", "service_healthy", "service_completed_successfully"
# compose's loader adds these depends_on entries for links / service:X / volumes_from
IMPLIED = {"condition": STARTED, "required": True, "restart": True}
IMPLIED_VF = {"condition": STARTED, "required": True}


def dep(*names, condition=STARTED, required=True, **more):
    """A canonical depends_on mapping."""
    return {n: {"condition": condition, "required": required, **more} for n in names}


def chain(*names):
    """names[0] depends on names[1] depends on ... (canonical depends_on)."""
    services = {n: {"image": "x", "depends_on": dep(d)} for n, d in zip(names, names[1:])}
    return {**services, names[-1]: {"image": "x"}}


# --- edges, one per key -------------------------------------------------------

EDGES = [
    # web's keys, the Dependency expected on web -> db
    ({"depends_on": dep("db")}, Dependency("db", ("depends_on",))),
    ({"depends_on": dep("db", condition=HEALTHY, restart=True)},
     Dependency("db", ("depends_on",), HEALTHY, True, True)),
    ({"depends_on": dep("db", condition=DONE, required=False)},
     Dependency("db", ("depends_on",), DONE, False, False)),
    ({"depends_on": ["db"]}, Dependency("db", ("depends_on",))),  # short syntax tolerated
    ({"links": ["db"]}, Dependency("db", ("links",), restart=True)),
    ({"links": ["db:database"]}, Dependency("db", ("links",), restart=True)),
    ({"network_mode": "service:db"}, Dependency("db", ("network_mode",), restart=True)),
    ({"volumes_from": ["db:ro", "container:abc"]}, Dependency("db", ("volumes_from",))),
    ({"volumes_from": ["db"]}, Dependency("db", ("volumes_from",))),
    ({"ipc": "service:db"}, Dependency("db", ("ipc",), restart=True)),
    ({"pid": "service:db"}, Dependency("db", ("pid",), restart=True)),
    ({"uts": "service:db"}, Dependency("db", ("uts",), restart=True)),
    # canonical input: the implied depends_on entry is not a key of its own
    ({"links": ["db"], "depends_on": {"db": IMPLIED}}, Dependency("db", ("links",), restart=True)),
    ({"volumes_from": ["db"], "depends_on": {"db": IMPLIED_VF}},
     Dependency("db", ("volumes_from",))),
    # several keys on one pair: all kept, depends_on's entry says how to wait
    ({"links": ["db"], "depends_on": dep("db", condition=HEALTHY)},
     Dependency("db", ("depends_on", "links"), HEALTHY)),
    ({"links": ["db"], "network_mode": "service:db", "depends_on": {"db": IMPLIED}},
     Dependency("db", ("links", "network_mode"), restart=True)),
    ({"volumes_from": ["db"], "ipc": "service:db"},
     Dependency("db", ("volumes_from", "ipc"), restart=True)),
]


@pytest.mark.parametrize("keys, expected", EDGES)
def test_each_key_makes_an_edge_with_its_kinds(keys, expected):
    graph = build({"web": {"image": "x", **keys}, "db": {"image": "x"}})
    assert graph.dependencies("web") == {"db": expected}
    data = graph.digraph.edges["web", "db"]
    assert (data["kind"], data["kinds"]) == (expected.kinds[0], expected.kinds)
    assert (data["condition"], data["required"], data["restart"]) == (
        expected.condition, expected.required, expected.restart)
    assert graph.dependencies("db") == {}


@pytest.mark.parametrize("keys", [
    {"network_mode": "host"}, {"network_mode": "bridge"}, {"network_mode": "container:abc"},
    {"ipc": "shareable"}, {"pid": "host"}, {"volumes_from": ["container:abc:ro"]},
    {"links": []}, {"depends_on": {}},
])
def test_keys_that_name_no_service_make_no_edge(keys):
    graph = build({"web": {"image": "x", **keys}, "db": {"image": "x"}})
    assert graph.dependencies("web") == {}


# --- cycles -------------------------------------------------------------------

CYCLES = [
    # services as {name: {key: value}}, message, location path
    ({"a": {"depends_on": dep("b")}, "b": {"depends_on": dep("a")}},
     "a -> b -> a (depends_on)", ("services", "a", "depends_on")),
    ({"alpha": {"depends_on": dep("beta")}, "beta": {"depends_on": dep("gamma")},
      "gamma": {"depends_on": dep("alpha")}},
     "alpha -> beta -> gamma -> alpha (depends_on)", ("services", "alpha", "depends_on")),
    # the cycle is told from its smallest name, whatever the input order
    ({"c": {"depends_on": dep("a")}, "b": {"depends_on": dep("c")}, "a": {"depends_on": dep("b")}},
     "a -> b -> c -> a (depends_on)", ("services", "a", "depends_on")),
    ({"a": {"depends_on": dep("a")}}, "a -> a (depends_on)", ("services", "a", "depends_on")),
    ({"a": {"network_mode": "service:a"}}, "a -> a (network_mode)",
     ("services", "a", "network_mode")),
    ({"a": {"depends_on": dep("b")}, "b": {"links": ["a"]}},
     "a -> b (depends_on), b -> a (links)", ("services", "a", "depends_on")),
    ({"a": {"depends_on": dep("b")}, "b": {"links": ["a:x"], "depends_on": {"a": IMPLIED}}},
     "a -> b (depends_on), b -> a (links)", ("services", "a", "depends_on")),
    ({"a": {"volumes_from": ["b"]}, "b": {"ipc": "service:c"}, "c": {"pid": "service:a"}},
     "a -> b (volumes_from), b -> c (ipc), c -> a (pid)", ("services", "a", "volumes_from")),
    ({"a": {"links": ["b"]}, "b": {"depends_on": dep("a", condition=HEALTHY), "links": ["a"]}},
     "a -> b (links), b -> a (depends_on, links)", ("services", "a", "links")),
    # the shortest cycle through the smallest name
    ({"a": {"depends_on": dep("c", "b")}, "b": {"depends_on": dep("a")},
      "c": {"depends_on": dep("d")}, "d": {"depends_on": dep("a")}},
     "a -> b -> a (depends_on)", ("services", "a", "depends_on")),
    # a service outside every cycle does not pick the cycle
    ({"a": {"depends_on": dep("c")}, "c": {"depends_on": dep("d")}, "d": {"depends_on": dep("c")},
      "x": {"depends_on": dep("y")}, "y": {"depends_on": dep("x")}},
     "c -> d -> c (depends_on)", ("services", "c", "depends_on")),
]


@pytest.mark.parametrize("services, message, path", CYCLES)
def test_cycles_name_their_path_and_keys(services, message, path):
    with pytest.raises(CycleError) as caught:
        build(services)
    assert caught.value.message == f"dependency cycle: {message}"
    assert caught.value.location.path == path


def test_cycle_error_renders_with_its_key_path():
    with pytest.raises(CycleError) as caught:
        build({"web": {"depends_on": dep("web")}})
    assert str(caught.value) == (
        "services.web.depends_on: dependency cycle: web -> web (depends_on)")


# --- undefined and disabled dependencies --------------------------------------

UNDEFINED = [
    ({"depends_on": dep("db")}, "depends_on"),
    ({"depends_on": ["db"]}, "depends_on"),
    ({"links": ["db:database"]}, "links"),
    ({"network_mode": "service:db"}, "network_mode"),
    ({"volumes_from": ["db:ro"]}, "volumes_from"),
    ({"ipc": "service:db"}, "ipc"),
    ({"pid": "service:db"}, "pid"),
    # canonical: the implied depends_on entry; the error names the key written
    ({"links": ["db"], "depends_on": {"db": IMPLIED}}, "links"),
    # required: false does not excuse the other key
    ({"links": ["db"], "depends_on": dep("db", required=False)}, "links"),
]


@pytest.mark.parametrize("keys, key", UNDEFINED)
def test_undefined_dependency_is_an_error_at_its_key(keys, key):
    with pytest.raises(ReferenceError_) as caught:
        build({"web": {"image": "x", **keys}})
    assert caught.value.message == 'service "web" depends on undefined service "db"'
    assert caught.value.location.path == ("services", "web", key)


def test_undefined_dependency_suggests_a_close_name():
    with pytest.raises(ReferenceError_) as caught:
        build({"web": {"depends_on": dep("dbb")}, "db": {}})
    assert str(caught.value) == ('services.web.depends_on: service "web" depends on undefined '
                                 'service "dbb" (did you mean "db"?)')


def test_every_undefined_dependency_is_reported():
    with pytest.raises(ConfigErrors) as caught:
        build({"web": {"depends_on": dep("db")}, "api": {"links": ["cache"]}})
    assert [e.message for e in caught.value.errors] == [
        'service "api" depends on undefined service "cache"',
        'service "web" depends on undefined service "db"']


DISABLED = [
    # db's profiles, message after 'service "web" depends on service "db", which is disabled'
    (["debug"], ' by profile(s) "debug"; enable it with --profile debug'),
    (["debug", "dev"],
     ' by profile(s) "debug", "dev"; enable it with --profile debug or --profile dev'),
    ([], ""),
]


@pytest.mark.parametrize("profiles, tail", DISABLED)
@pytest.mark.parametrize("keys, key", [({"depends_on": dep("db")}, "depends_on"),
                                       ({"links": ["db"]}, "links"),
                                       ({"network_mode": "service:db"}, "network_mode")])
def test_dependency_disabled_by_profile_says_how_to_enable_it(profiles, tail, keys, key):
    disabled = {"db": {"image": "x", "profiles": profiles}}
    with pytest.raises(ReferenceError_) as caught:
        build({"web": {"image": "x", **keys}}, disabled)
    expected = f'service "web" depends on service "db", which is disabled{tail}'
    assert caught.value.message == expected
    assert caught.value.location.path == ("services", "web", key)
    assert caught.value.hint is None


def test_optional_dependency_on_an_undefined_service_is_still_an_error():
    # Docker Compose v2 excuses `required: false` only for profile-disabled services.
    with pytest.raises(ReferenceError_, match='undefined service "db"'):
        build({"web": {"depends_on": dep("db", required=False)}})


@pytest.mark.parametrize("disabled, warning", [
    ({"db": {"profiles": ["debug"]}},
     'service "web" depends on service "db", which is disabled by profile(s) "debug"; '
     "ignored because it is not required (required: false)"),
])
def test_optional_missing_dependency_is_dropped_with_a_warning(disabled, warning):
    graph = build({"web": {"depends_on": dep("db", "api", required=False)}, "api": {}}, disabled)
    assert graph.warnings == [warning]
    assert list(graph.dependencies("web")) == ["api"]
    assert graph.levels() == [["api"], ["web"]]


# --- orders -------------------------------------------------------------------

DIAMOND = {"web": {"depends_on": dep("api", "worker")}, "api": {"links": ["db"]},
           "worker": {"depends_on": dep("db", "cache")}, "db": {}, "cache": {}, "lone": {}}

LEVELS = [
    ({}, []),
    ({"a": {}}, [["a"]]),
    ({"b": {}, "a": {}}, [["a", "b"]]),
    (chain("web", "api", "db"), [["db"], ["api"], ["web"]]),
    (DIAMOND, [["cache", "db", "lone"], ["api", "worker"], ["web"]]),
    # a service starts right after its last dependency, not later
    ({"a": {"depends_on": dep("b", "c")}, "b": {"depends_on": dep("c")}, "c": {},
      "d": {"depends_on": dep("c")}},
     [["c"], ["b", "d"], ["a"]]),
]


@pytest.mark.parametrize("services, levels", LEVELS)
def test_levels_and_orders(services, levels):
    graph = build(services)
    assert graph.levels() == levels
    assert graph.start_order() == [n for level in levels for n in level]
    assert graph.stop_order() == graph.start_order()[::-1]


@pytest.mark.parametrize("names, closure", [
    ([], set()),
    (["lone"], {"lone"}),
    (["web"], {"web", "api", "worker", "db", "cache"}),
    (["api", "cache"], {"api", "db", "cache"}),
    (["worker", "worker"], {"worker", "db", "cache"}),
])
def test_closure(names, closure):
    assert build(DIAMOND).closure(names) == closure


@pytest.mark.parametrize("name, dependents", [
    ("db", {"api", "worker", "web"}), ("cache", {"worker", "web"}),
    ("web", set()), ("lone", set()),
])
def test_dependents(name, dependents):
    assert build(DIAMOND).dependents(name) == dependents


def test_dependents_to_restart_follow_restart_edges_only():
    graph = build({"web": {"depends_on": dep("api", restart=True)},
                   "api": {"depends_on": dep("db", restart=True)},
                   "admin": {"depends_on": dep("db")}, "side": {"links": ["db"]}, "db": {}})
    assert graph.dependents("db", restart_only=True) == {"api", "web", "side"}
    assert graph.dependents("db") == {"api", "web", "side", "admin"}


def test_subgraph_of_a_closure_keeps_edge_data():
    graph = build(DIAMOND)
    sub = graph.subgraph(graph.closure(["api"]))
    assert sub.levels() == [["db"], ["api"]]
    assert sub.dependencies("api") == {"db": Dependency("db", ("links",), restart=True)}
    assert list(sub) == ["api", "db"] and "web" not in sub and len(sub) == 2


@pytest.mark.parametrize("call", [
    lambda g: g.closure(["web", "nope"]), lambda g: g.dependents("nope"),
    lambda g: g.dependencies("nope"), lambda g: g.subgraph(["nope"]),
])
def test_unknown_service_names_are_errors(call):
    with pytest.raises(ReferenceError_, match="^no such service: nope$"):
        call(build(DIAMOND))


# --- properties ---------------------------------------------------------------

LISTS = {"links": "{}:alias", "volumes_from": "{}:ro"}
SINGLE = {"network_mode", "ipc", "pid"}  # keys that name one service at most


def services_from(names, edges):
    """Service dicts from (dependent, dependency, kind) triples."""
    services = {n: {"image": "x"} for n in names}
    for src, dst, kind in edges:
        keys = services[src]
        if kind in LISTS:
            keys[kind] = [*keys.get(kind, ()), LISTS[kind].format(dst)]
        elif kind in SINGLE and kind not in keys:
            keys[kind] = f"service:{dst}"
        else:
            keys["depends_on"] = {**keys.get("depends_on", {}), **dep(dst)}
    return services


def reaches(edges, start, goal):
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo += [d for s, d, _ in edges if s == node]
    return False


@st.composite
def dags(draw):
    names = draw(st.lists(st.from_regex(r"[a-z]{1,4}", fullmatch=True),
                          min_size=1, max_size=10, unique=True))
    # position in `names` is the topological rank: a service depends only on earlier ones
    pairs = [(names[i], names[j]) for i in range(len(names)) for j in range(i)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True) if pairs else st.just([]))
    kinds = st.sampled_from(["depends_on", "links", "volumes_from", *sorted(SINGLE)])
    return names, [(a, b, draw(kinds)) for a, b in chosen]


@given(dags())
def test_levels_and_start_order_respect_every_edge(dag):
    names, edges = dag
    graph = build(services_from(names, edges))
    level = {n: i for i, names_ in enumerate(graph.levels()) for n in names_}
    order = {n: i for i, n in enumerate(graph.start_order())}
    assert sorted(order) == sorted(names) == sorted(level)
    for src, dst, _ in edges:
        assert level[dst] < level[src]
        assert order[dst] < order[src]
        assert dst in graph.closure([src]) and src in graph.dependents(dst)
    for n, i in level.items():  # as early as possible
        assert i == 0 or any(level[d] == i - 1 for d in graph.dependencies(n))
    assert graph.stop_order() == graph.start_order()[::-1]


@given(dags(), st.randoms())
def test_input_order_does_not_change_the_result(dag, rnd):
    names, edges = dag
    services = services_from(names, edges)
    shuffled = list(services.items())
    rnd.shuffle(shuffled)
    a, b = build(services), build(dict(shuffled))
    assert (a.levels(), a.start_order()) == (b.levels(), b.start_order())


@given(dags(), st.data())
def test_a_cycle_is_reported_iff_there_is_one_and_is_real(dag, data):
    names, edges = dag
    src, dst = data.draw(st.sampled_from(names)), data.draw(st.sampled_from(names))
    kind = data.draw(st.sampled_from(["depends_on", "links", "pid"]))
    edges = [*edges, (src, dst, kind)]  # may close a cycle, or be a self-dependency
    cyclic = reaches(edges, dst, src)
    try:
        build(services_from(names, edges))
    except CycleError as error:
        assert cyclic
        steps = re.findall(r"(\w+) -> (?=(\w+))", error.message)
        assert steps[0][0] == min(s for s, _ in steps)  # told from its smallest name
        assert steps[-1][1] == steps[0][0]
        assert all(a[1] == b[0] for a, b in zip(steps, steps[1:]))
        assert all(step in {(s, d) for s, d, _ in edges} for step in steps)
    else:
        assert not cyclic


# --- the checks the loader runs, without networkx -------------------------------

def test_check_reports_what_build_reports_without_importing_networkx():
    import subprocess
    import sys
    code = ("import sys\nfrom orchestrator import graph\n"
            "services = {'a': {'depends_on': {'b': {}}}, 'b': {'links': ['a']}}\n"
            "try:\n    graph.check(services)\nexcept Exception as e:\n    print(type(e).__name__, e)\n"
            "print(graph.closure({'a': {'depends_on': {'b': {}}}, 'b': {}, 'c': {}}, ['a']) == {'a', 'b'})\n"
            "print('networkx' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    cycle, closed, imported = result.stdout.splitlines()
    assert cycle.startswith("CycleError") and "a -> b (depends_on), b -> a (links)" in cycle
    assert closed == "True"
    assert imported == "False"


def test_check_returns_the_warnings_of_build():
    services = {"web": {"depends_on": dep("db", required=False)}}
    disabled = {"db": {"profiles": ["debug"]}}
    assert check(services, disabled) == build(services, disabled).warnings

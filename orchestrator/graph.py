"""The dependency graph of a project's services.

Owns: turning canonical service dicts (the shape ``docker compose config
--format json`` prints) into a graph with an edge
dependent -> dependency for every key that makes one (depends_on, links,
network_mode/ipc/pid/uts ``service:X``, volumes_from), the errors that graph
can reveal (undefined or profile-disabled dependencies, cycles), and the
orders derived from it: start levels, start/stop order, closure, dependents.

Must not import: anything from ``engine``, or from ``orchestrator.config``
other than ``errors``. networkx costs 160-330 ms to import, a third of what
``dockyard down`` took: the walks are plain Python, and networkx is
imported only for ``ServiceGraph.digraph``, a view for other analyses.
"""
from __future__ import annotations

import difflib
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Mapping

from orchestrator.config.errors import (
    ConfigError, CycleError, ReferenceError_, raise_all)

STARTED = "service_started"
SERVICE_PREFIX = "service:"
CONTAINER_PREFIX = "container:"


def _depends_on(value) -> Iterator[tuple[str, dict]]:
    if isinstance(value, list):  # short syntax, should the input not be canonical
        value = {name: {} for name in value}
    for name, entry in (value or {}).items():
        yield name, entry or {}


def _links(value) -> Iterator[tuple[str, dict]]:
    for link in value or ():
        yield link.split(":", 1)[0], {}


def _service_mode(value) -> Iterator[tuple[str, dict]]:
    if isinstance(value, str) and value.startswith(SERVICE_PREFIX):
        yield value[len(SERVICE_PREFIX):], {}


def _volumes_from(value) -> Iterator[tuple[str, dict]]:
    for source in value or ():
        if not source.startswith(CONTAINER_PREFIX):
            yield source.split(":", 1)[0], {}


# key -> (how to read its references, the `restart` compose's loader gives the
# depends_on entry it adds for that key). The order is the order of kinds in
# messages and in Dependency.kinds.
KINDS: dict[str, tuple[Callable, bool]] = {
    "depends_on": (_depends_on, False),
    "links": (_links, True),
    "network_mode": (_service_mode, True),
    "volumes_from": (_volumes_from, False),
    "ipc": (_service_mode, True),
    "pid": (_service_mode, True),
    "uts": (_service_mode, True),
}


@dataclass(frozen=True)
class Dependency:
    """One edge: the service depended on, the keys that made it, and how to wait."""

    service: str
    kinds: tuple[str, ...]
    condition: str = STARTED
    required: bool = True
    restart: bool = False

    @property
    def kind(self) -> str:
        return self.kinds[0]

    def blocking_kind(self) -> str:
        """The first key that makes this dependency mandatory."""
        return next((k for k in self.kinds if k != "depends_on" or self.required), self.kind)


def _merge(target: str, found: dict[str, dict]) -> Dependency:
    """One Dependency from every key of a service that names ``target``.

    compose's loader adds to depends_on an entry for each links / service:X /
    volumes_from reference; an entry exactly like the one it would add does
    not count as a key of its own, so messages name what the user wrote.
    """
    others = [k for k in KINDS if k in found and k != "depends_on"]
    entry = found.get("depends_on")
    if entry is None:
        restart = any(KINDS[k][1] for k in others)
        return Dependency(target, tuple(others), STARTED, True, restart)
    implied = [{"condition": STARTED, "required": True, "restart": KINDS[k][1]}
               for k in others]
    actual = {"condition": entry.get("condition", STARTED),
              "required": bool(entry.get("required", True)),
              "restart": bool(entry.get("restart", False))}
    kinds = others if actual in implied else ["depends_on", *others]
    return Dependency(target, tuple(kinds), **actual)


def references(service: Mapping) -> dict[str, Dependency]:
    """Every service ``service`` refers to, by name, with the keys that do."""
    found: dict[str, dict[str, dict]] = {}
    for key, (read, _) in KINDS.items():
        for target, entry in read(service.get(key)):
            found.setdefault(target, {}).setdefault(key, entry)
    return {target: _merge(target, keys) for target, keys in sorted(found.items())}


def _profiles_text(profiles: list[str]) -> tuple[str, str]:
    quoted = ", ".join(f'"{p}"' for p in profiles)
    flags = " or ".join(f"--profile {p}" for p in profiles)
    return quoted, flags


def _missing(name: str, dep: Dependency, services: Mapping,
             disabled: Mapping) -> ConfigError | str:
    """The error (or, if not required, the warning) for a dependency not in the graph."""
    if dep.service in disabled:
        profiles = list(disabled[dep.service].get("profiles") or ())
        quoted, flags = _profiles_text(profiles)
        what = f'service "{name}" depends on service "{dep.service}", which is disabled'
        what += f" by profile(s) {quoted}" if profiles else ""
        fix = f"; enable it with {flags}" if profiles else ""
    else:
        what = f'service "{name}" depends on undefined service "{dep.service}"'
        fix = ""
    # As in Docker Compose v2, `required: false` excuses a dependency that
    # profiles disabled, not one that is not defined at all.
    if (dep.service in disabled and not dep.required
            and not any(k != "depends_on" for k in dep.kinds)):
        return f"{what}; ignored because it is not required (required: false)"
    close = difflib.get_close_matches(dep.service, sorted(services), n=1)
    hint = f'did you mean "{close[0]}"?' if close and not fix else None
    error = ReferenceError_(what + fix, hint=hint)
    return error.at(path=("services", name, dep.blocking_kind()))


Edges = dict  # dependent -> {dependency: Dependency}


def _edges(services: Mapping[str, Mapping], disabled: Mapping) -> tuple[Edges, list[str]]:
    """The dependency edges of ``services``; raises ReferenceError_(s)."""
    edges: Edges = {name: {} for name in sorted(services)}
    errors: list[ConfigError] = []
    warnings: list[str] = []
    for name in sorted(services):
        for target, dep in references(services[name]).items():
            if target in services:
                edges[name][target] = dep
                continue
            problem = _missing(name, dep, services, disabled)
            if isinstance(problem, str):
                warnings.append(problem)
            else:
                errors.append(problem)
    raise_all(errors)
    return edges, warnings


def check(services: Mapping[str, Mapping], disabled: Mapping[str, Mapping] | None = None) -> list[str]:
    """What ``build`` checks, without networkx (the loader runs this on every
    ``config``): raises ReferenceError_(s) or CycleError, returns warnings."""
    edges, warnings = _edges(services, disabled or {})
    _check_cycles(edges)
    return warnings


def closure(services: Mapping[str, Mapping], names: Iterable[str]) -> set[str]:
    """``names`` and every service they depend on, transitively (no networkx)."""
    edges, _ = _edges(services, {})
    out: set[str] = set()
    stack = [n for n in names]
    while stack:
        name = stack.pop()
        if name not in out:
            out.add(name)
            stack.extend(edges.get(name, ()))
    return out


def build(services: Mapping[str, Mapping],
          disabled: Mapping[str, Mapping] | None = None) -> "ServiceGraph":
    """The graph of ``services``; raises ReferenceError_(s) or CycleError."""
    edges, warnings = _edges(services, disabled or {})
    _check_cycles(edges)
    return ServiceGraph(edges, warnings)


def _strongly_connected(edges: Edges) -> list[set[str]]:
    """Tarjan's strongly connected components, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(edges[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def _shortest_cycle(edges: Edges, start: str, within: set[str]) -> list[str]:
    """The shortest path start -> ... -> start, first by name among equals."""
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(edges[node]):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if nxt in within and nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start}")  # callers pass a cyclic component


def find_cycle(edges: Edges) -> list[str] | None:
    """A cycle as [a, b, ..., a], through the smallest name on any cycle; None if acyclic."""
    cyclic = [c for c in _strongly_connected(edges)
              if len(c) > 1 or any(n in edges[n] for n in c)]
    if not cyclic:
        return None
    component = min(cyclic, key=min)
    return _shortest_cycle(edges, min(component), component)


def describe_cycle(edges: Edges, cycle: list[str]) -> str:
    """``a -> b -> a (depends_on)``, or per edge when the keys differ."""
    steps = list(zip(cycle, cycle[1:]))
    kinds = [", ".join(edges[u][v].kinds) for u, v in steps]
    if len(set(kinds)) == 1:
        return f"{' -> '.join(cycle)} ({kinds[0]})"
    return ", ".join(f"{u} -> {v} ({k})" for (u, v), k in zip(steps, kinds))


def _check_cycles(edges: Edges) -> None:
    cycle = find_cycle(edges)
    if cycle is None:
        return
    error = CycleError(f"dependency cycle: {describe_cycle(edges, cycle)}")
    raise error.at(path=("services", cycle[0], edges[cycle[0]][cycle[1]].kind))


class ServiceGraph:
    """Services and their dependencies; edges point from dependent to dependency.

    Plain Python over the edges (every command that changes things walks
    this graph, and importing networkx costs 160-330 ms); ``digraph`` is
    the networkx view, made on first use, each edge carrying
    ``dependency`` (a Dependency) and its fields flat: ``kind``, ``kinds``,
    ``condition``, ``required``, ``restart``. ``warnings`` holds the
    optional dependencies that were dropped.
    """

    def __init__(self, edges: Edges, warnings: list[str] | None = None) -> None:
        self.edges = edges  # dependent -> {dependency: Dependency}
        self.warnings = list(warnings or ())
        self._digraph = None

    @property
    def digraph(self):
        if self._digraph is None:
            import networkx as nx
            graph = nx.DiGraph()
            graph.add_nodes_from(self.edges)
            for name, targets in self.edges.items():
                for target, dep in targets.items():
                    graph.add_edge(name, target, dependency=dep, kind=dep.kind, kinds=dep.kinds,
                                   condition=dep.condition, required=dep.required, restart=dep.restart)
            self._digraph = graph
        return self._digraph

    def __contains__(self, name: object) -> bool:
        return name in self.edges

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.edges))

    def __len__(self) -> int:
        return len(self.edges)

    def _known(self, names: Iterable[str]) -> list[str]:
        names = list(names)
        unknown = sorted(set(names) - set(self.edges))
        if unknown:
            raise ReferenceError_(f"no such service: {', '.join(unknown)}")
        return names

    def dependencies(self, name: str) -> dict[str, Dependency]:
        """The services ``name`` depends on directly, by name."""
        self._known([name])
        return dict(sorted(self.edges[name].items()))

    def dependents(self, name: str, *, restart_only: bool = False) -> set[str]:
        """Services that depend on ``name``, directly or transitively.

        With ``restart_only``, follow only edges with ``restart: true``: the
        services compose restarts when ``name`` is restarted.
        """
        self._known([name])
        found: set[str] = set()
        todo = deque([name])
        while todo:
            target = todo.popleft()
            for dependent, targets in self.edges.items():
                dep = targets.get(target)
                if dep is not None and (dep.restart or not restart_only) and dependent not in found:
                    found.add(dependent)
                    todo.append(dependent)
        return found

    def closure(self, names: Iterable[str]) -> set[str]:
        """``names`` and everything they depend on, transitively."""
        out: set[str] = set()
        todo = deque(self._known(names))
        while todo:
            name = todo.popleft()
            if name not in out:
                out.add(name)
                todo.extend(self.edges[name])
        return out

    def subgraph(self, names: Iterable[str]) -> "ServiceGraph":
        """The graph restricted to ``names`` (e.g. a closure), same edge data."""
        keep = set(self._known(names))
        return ServiceGraph({n: {t: d for t, d in self.edges[n].items() if t in keep} for n in keep},
                            self.warnings)

    def levels(self) -> list[list[str]]:
        """Start levels: each service comes one level after its last dependency."""
        waiting = {name: set(targets) for name, targets in self.edges.items()}
        levels = []
        while waiting:
            ready = sorted(name for name, targets in waiting.items() if not targets)
            levels.append(ready)  # never empty: build refused cycles
            for name in ready:
                del waiting[name]
            for targets in waiting.values():
                targets.difference_update(ready)
        return levels

    def start_order(self) -> list[str]:
        return [name for level in self.levels() for name in level]

    def stop_order(self) -> list[str]:
        return list(reversed(self.start_order()))

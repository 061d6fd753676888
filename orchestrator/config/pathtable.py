"""Per-key rules as tables keyed by path pattern (compose-go's tree.Path).

A pattern is dotted: ``services.*.ports.[].target``; ``*`` matches any
mapping key, ``[]`` any list index. A table compiles its patterns into a trie
so that a stage walking a document asks only the branch it is in, instead of
trying every pattern at every node.

Standard library only.
"""
from __future__ import annotations

from typing import Generic, Iterator, Mapping, TypeVar

V = TypeVar("V")
ANY_KEY = "*"
ANY_INDEX = "[]"


class Node(Generic[V]):
    __slots__ = ("children", "value", "has_value")

    def __init__(self) -> None:
        self.children: dict[str, Node[V]] = {}
        self.value: V | None = None
        self.has_value = False

    def child(self, key: str | int) -> "Node[V] | None":
        """The branch for ``key`` (exact names win over wildcards)."""
        if isinstance(key, int):
            return self.children.get(ANY_INDEX)
        found = self.children.get(key)
        return found if found is not None else self.children.get(ANY_KEY)


class PathTable(Generic[V]):
    def __init__(self, entries: Mapping[str, V]) -> None:
        self.root: Node[V] = Node()
        for pattern, value in entries.items():
            node = self.root
            for part in pattern.split("."):
                node = node.children.setdefault(part, Node())
            node.value = value
            node.has_value = True

    def lookup(self, path: tuple) -> V | None:
        node: Node[V] | None = self.root
        for part in path:
            node = node.child(part)
            if node is None:
                return None
        return node.value if node.has_value else None


def matches(pattern: str, path: tuple) -> bool:
    """Whether one pattern matches a concrete path (for code that has one rule)."""
    parts = pattern.split(".")
    if len(parts) != len(path):
        return False
    for want, got in zip(parts, path):
        if want == ANY_INDEX:
            if not isinstance(got, int):
                return False
        elif want != ANY_KEY and want != got:
            return False
    return True


def walk(data, path: tuple = ()) -> Iterator[tuple[tuple, object]]:
    """Every (path, value) of a document, parents before children."""
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from walk(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from walk(value, path + (index,))

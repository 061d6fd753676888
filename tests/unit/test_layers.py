"""The layering rules of DESIGN.md, enforced on the source tree (AST, no imports).

- orchestrator imports no engine module other than engine.client;
- engine never imports orchestrator;
- ctypes is imported only under engine/runtime (and the netlink module).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CTYPES_ALLOWED = ("engine/runtime/", "engine/networks/netlink.py")


def _modules(package: str):
    return sorted((ROOT / package).rglob("*.py"))


def imported_names(path: Path, root: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.append((node.lineno, module))
            names.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return names


def _rule_broken(relative: str, name: str) -> str | None:
    top = name.split(".")[0]
    if relative.startswith("orchestrator/") and top == "engine" and not (
            name == "engine" or name == "engine.client" or name.startswith("engine.client.")):
        return "orchestrator may only use engine.client"
    if relative.startswith("engine/") and top == "orchestrator":
        return "engine must not import orchestrator"
    if top == "ctypes" and not relative.startswith(CTYPES_ALLOWED):
        return "ctypes only in engine/runtime and the netlink module"
    return None


def violations(path: Path, root: Path = ROOT) -> list[str]:
    """One message per (line, broken rule), naming the first offending import."""
    relative = path.relative_to(root).as_posix()
    found: dict[tuple[int, str], str] = {}
    for line, name in imported_names(path, root):
        rule = _rule_broken(relative, name)
        if rule:
            found.setdefault((line, rule), f"{relative}:{line}: imports {name} ({rule})")
    return list(found.values())


@pytest.mark.parametrize("path", _modules("orchestrator") + _modules("engine"),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_layering(path):
    assert violations(path) == []


@pytest.mark.parametrize("relative, source, problem", [
    ("orchestrator/x.py", "import engine.containers", "engine.client"),
    ("orchestrator/x.py", "from engine.images import store", "engine.client"),
    ("orchestrator/cli/x.py", "from ...engine import runtime", "engine.client"),
    ("engine/api/x.py", "from orchestrator.config import load", "must not import orchestrator"),
    ("engine/images/x.py", "import ctypes", "ctypes only"),
    ("orchestrator/x.py", "from ctypes import CDLL", "ctypes only"),
])
def test_the_check_catches_violations(tmp_path, relative, source, problem):
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    path.write_text(source + "\n")
    found = violations(path, tmp_path)
    assert len(found) == 1 and problem in found[0]


@pytest.mark.parametrize("relative, source", [
    ("orchestrator/x.py", "from engine.client import DockerClient"),
    ("orchestrator/x.py", "import engine.client.api"),
    ("engine/runtime/sys.py", "import ctypes"),
    ("engine/networks/netlink.py", "import ctypes"),
])
def test_allowed_imports_pass(tmp_path, relative, source):
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    path.write_text(source + "\n")
    assert violations(path, tmp_path) == []

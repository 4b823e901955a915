"""The core's modules form layers: no module imports, even for type checking only, one that
imports it back, directly or through others."""

from __future__ import annotations

import ast
from pathlib import Path

import jobs_core

PACKAGE = Path(jobs_core.__file__).parent


def _imports(path: Path) -> set[str]:
    """Return the sibling modules `path` imports (``from .x import``, ``from . import x``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module is None:
                found.update(alias.name for alias in node.names)
            else:
                found.add(node.module.split(".")[0])
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import cycle of `graph` as the modules along it, or None when there is none."""
    done: set[str] = set()
    for root in sorted(graph):
        stack: list[tuple[str, list[str]]] = [(root, [root])]
        while stack:
            module, path = stack.pop()
            for imported in sorted(graph.get(module, set())):
                if imported == root:
                    return [*path, root]
                if imported not in path and imported not in done:
                    stack.append((imported, [*path, imported]))
        done.add(root)
    return None


def test_no_module_of_the_core_imports_itself_back() -> None:
    graph = {path.stem: _imports(path) for path in PACKAGE.glob("_*.py")}
    assert "_errors" in graph
    assert _cycle(graph) is None


def test_the_check_finds_a_cycle() -> None:
    assert _cycle({"_a": {"_b"}, "_b": {"_c"}, "_c": {"_a"}}) == ["_a", "_b", "_c", "_a"]
    assert _cycle({"_a": {"_b"}, "_b": set()}) is None

"""The packages' layering, read from the source (lazy imports inside functions included):
no import circle between modules, no import from a lower layer to a higher one, and no gRPC
below the service layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Bottom to top: a module may import its own layer and those below, never one above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("splitvlm.errors", "splitvlm.stages", "splitvlm.checkpoints", "splitvlm.limits"),
    ("splitvlm.wire", "splitvlm.data", "splitvlm.v1"),
    ("splitvlm.cache", "splitvlm.plan", "splitvlm.model", "splitvlm.evaluate"),
    ("splitvlm.runtime", "splitvlm.engine", "splitvlm.training"),
    ("splitvlm.executor", "splitvlm.profiling", "splitvlm.evaluation_cli", "splitvlm.hf_cli"),
    ("splitvlm.config", "splitvlm.trust", "splitvlm.service"),
    ("splitvlm.sdk", "splitvlm.statusview", "edge", "fog", "cloud"),
    ("splitvlm.embedded", "splitvlm.processes", "splitvlm.demo", "splitvlm.testbed",
     "splitvlm.bench", "splitvlm.cli"),
)
NO_GRPC = ("splitvlm.model", "splitvlm.plan", "splitvlm.runtime", "splitvlm.wire",
           "splitvlm.executor", "splitvlm.engine")


def _modules() -> dict[str, Path]:
    out = {}
    for top in ("splitvlm", "edge", "fog", "cloud"):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """Every module `name` imports, anywhere in its file (absolute names)."""
    tree = ast.parse(MODULES[name].read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{a.name}" for a in node.names} & MODULES.keys()
            found.update(submodules)  # `from pkg import module` needs the module, not pkg
            if len(submodules) < len(node.names):
                found.add(node.module)
    return found


def _ours(imported: set[str]) -> set[str]:
    return {m for m in imported if m in MODULES}


def _layer(name: str) -> int | None:
    for i, layer in enumerate(LAYERS):
        if any(name == p or name.startswith(p + ".") for p in layer):
            return i
    return None


def test_every_module_has_a_layer() -> None:
    unplaced = sorted(m for m in MODULES if m != "splitvlm" and _layer(m) is None)
    assert unplaced == []


def test_no_module_imports_a_higher_layer() -> None:
    upward = []
    for name in MODULES:
        here = _layer(name)
        for other in _ours(_imports(name)):
            there = _layer(other)
            if here is not None and there is not None and there > here:
                upward.append(f"{name} -> {other}")
    assert upward == []


def test_no_import_circle() -> None:
    graph = {name: _ours(_imports(name)) - {name, "splitvlm"} for name in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    assert circles == []


@pytest.mark.parametrize("package", NO_GRPC)
def test_no_grpc_below_the_service_layer(package: str) -> None:
    offenders = sorted(name for name in MODULES if name.startswith(package)
                       and any(m == "grpc" or m.startswith(("grpc.", "grpc_", "splitvlm.v1"))
                               for m in _imports(name)))
    assert offenders == []

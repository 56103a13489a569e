"""Data walks one way: connectors < sheets_addin < scenarios < sync, and no import cycle anywhere —
not even one hidden behind an import inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("connectors", "sheets_addin", "scenarios", "sync")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in LAYERS:
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = "encours." + ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path, known: set[str]) -> list[tuple[int, str]]:
    """Every encours module ``path`` imports, at module level or inside a function (line, module)."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            found = [name for name in submodules if name in known]
            # ``from package import submodule`` depends on the submodule; anything else on the module
            names = found if len(found) == len(submodules) else [node.module, *found]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        out.extend((node.lineno, name) for name in names if name in known)
    return out


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[1])


def test_no_module_imports_from_a_later_layer() -> None:
    modules = _modules()
    backwards = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for name, path in modules.items()
        for line, target in _imports(path, set(modules))
        if _layer(target) > _layer(name)
    ]
    assert not backwards, "\n".join(backwards)


def test_no_import_cycle_even_through_local_imports() -> None:
    modules = _modules()
    graph = {name: {t for _, t in _imports(path, set(modules)) if t != name} for name, path in modules.items()}
    cycles: list[list[str]] = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    assert not cycles, "import cycles: " + "; ".join(" ↔ ".join(c) for c in cycles)

"""The house's plan, held against the code: the package's folders are layers whose imports run one way, there is
no import loop (imports inside functions count too, so none can hide one), no function is longer than a
reader can hold (60 lines), and the linter (ruff) and the type checker (mypy) find nothing.

These read the source, not the running model: they fail when a change adds an arrow that runs back up, a loop, or
a long function, and say which.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "workforce_sim"
PACKAGE = "workforce_sim"
# the layers, lowest first: a module may import from its own layer and those before it, never from those after
LAYERS = ["version", "scenario", "model", "analysis", "runs", "studies", "outputs", "api", "app", "cli", "__main__"]
LONGEST = 60  # lines in one function, its signature and docstring included


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The package modules a ``from ... import ...`` reads (a name imported from a package may be a module)."""
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith(PACKAGE):
        return []
    return [target] + [f"{target}.{a.name}" for a in node.names]


def import_graph() -> dict[str, set[str]]:
    """Every module of the package and the package modules it imports, wherever in the file the import is."""
    files = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                targets.update(_resolve(module, path.name == "__init__.py", node))
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith(PACKAGE))
        graph[module] = {t for t in targets if t in files and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import loops of ``graph`` (one path around each strongly connected group of modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_the_import_graph_has_no_loop():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_loop():
    """The check above could pass by never finding anything: it finds a loop hidden in a function."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    tree = ast.parse("def f():\n    from .plots import chart\n")
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom))
    assert _resolve("workforce_sim.outputs.words", False, node)[0] == "workforce_sim.outputs.plots"


def test_imports_run_down_the_layers():
    """scenario <- model <- analysis <- runs <- studies <- outputs <- api <- cli: no arrow runs back up."""
    graph = import_graph()
    up = sorted(f"{m} imports {t}" for m, ts in graph.items() for t in ts
                if _layer(m) is not None and _layer(t) is not None and _layer(t) > _layer(m))
    assert up == [], "imports that run up the layers:\n" + "\n".join(up)
    unplaced = sorted(m for m in graph if m != PACKAGE and _layer(m) is None)
    assert unplaced == [], f"modules in no layer (add them to a folder, or to LAYERS): {unplaced}"


def test_only_the_package_face_imports_the_package_itself():
    graph = import_graph()
    assert sorted(m for m, ts in graph.items() if PACKAGE in ts) == []


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            yield node.name, first, node.end_lineno - first + 1


@pytest.mark.parametrize("folder", ["", "scenario", "model", "analysis", "runs", "studies", "outputs", "app"])
def test_no_function_is_over_60_lines(folder):
    long = []
    for path in sorted((SRC / folder).glob("*.py")):
        for name, line, n in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            if n > LONGEST:
                long.append(f"{path.relative_to(SRC)}:{line} {name} ({n} lines)")
    assert long == [], "functions over 60 lines:\n" + "\n".join(long)


def _tool(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_ruff_finds_nothing():
    """The linter's rules (pyproject.toml, [tool.ruff]) hold in src/, tests/ and benchmarks/."""
    done = _tool("ruff", "check", "--no-cache", "src", "tests", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_type_checker_finds_nothing():
    """mypy (pyproject.toml, [tool.mypy]) finds no error in src/ and benchmarks/ (the scripts that carry the
    speed figures, run by hand)."""
    done = _tool("mypy", "--no-incremental", "src/workforce_sim", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr

"""The package's shape, checked from its source with `ast`: no import cycle inside
multi_model, no module over 400 lines, and every import inside a function a marked,
explained lazy import."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "multi_model"
MAX_LINES = 400
# the PLC0415 noqa marker, then a reason on the same line (or a comment line just above)
_NOQA = re.compile(r"#\s*noqa:[\w\s,]*\bPLC0415\b(?P<rest>.*)$")


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    found = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import that runs (not under `if TYPE_CHECKING:`), with whether it is inside a
    function."""

    def walk(
        node: ast.AST, in_function: bool
    ) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, in_function
            return
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            children: list[ast.AST] = list(node.orelse)
        else:
            children = list(ast.iter_child_nodes(node))
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in children:
            yield from walk(child, inner)

    yield from walk(tree, False)


def targets(
    module: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]
) -> set[str]:
    """The package's modules that `node`, written in `module`, imports (relative resolved)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            anchor = module.split(".") if is_package else module.split(".")[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        # `from pkg import name`: the submodule pkg.name when there is one, else pkg itself
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
    found = set()
    for name in names:
        while name and name not in known:  # `import pkg.mod.attr` style: its nearest module
            name = name.rpartition(".")[0]
        if name:
            found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node, _ in runtime_imports(tree):
            graph[name] |= targets(name, is_package, node, known) - {name}
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components of more than one module, each sorted, in sorted order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def a_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One shortest cycle through the component's first module (breadth-first)."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def test_no_import_cycles() -> None:
    graph = import_graph()
    cycles = [" -> ".join(a_cycle(graph, c)) for c in strongly_connected(graph)]
    assert not cycles, "import cycles inside the package:\n" + "\n".join(cycles)


def test_modules_at_most_400_lines() -> None:
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()
    }
    over = [f"{name}: {n} lines" for name, n in sorted(sizes.items()) if n > MAX_LINES]
    assert not over, f"modules over {MAX_LINES} lines:\n" + "\n".join(over)


def _explained(lines: list[str], node: ast.Import | ast.ImportFrom) -> bool:
    span = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
    for line in span:
        match = _NOQA.search(line)
        if match:
            above = lines[node.lineno - 2].strip() if node.lineno >= 2 else ""
            return bool(match.group("rest").strip(" -—:()")) or above.startswith("#")
    return False


def test_function_level_imports_are_marked_and_explained() -> None:
    bad = []
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node, in_function in runtime_imports(ast.parse(text, filename=str(path))):
            if in_function and not _explained(lines, node):
                bad.append(f"{name}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert not bad, (
        "imports inside functions need `# noqa: PLC0415` and a reason (lazy for start-up time "
        "or an optional dependency); a cycle is fixed by layering instead:\n" + "\n".join(bad)
    )


def test_graph_sees_relative_and_function_level_imports() -> None:
    known = {"multi_model", "multi_model.a", "multi_model.sub", "multi_model.sub.b"}
    tree = ast.parse(
        "from . import a\n"
        "def f():\n    from ..sub.b import x\n"
        "if TYPE_CHECKING:\n    import multi_model.sub\n"
        "else:\n    import multi_model.a.thing\n"
    )
    found = [(targets("multi_model.sub.c", False, n, known), f) for n, f in runtime_imports(tree)]
    assert found == [
        ({"multi_model.sub"}, False),
        ({"multi_model.sub.b"}, True),
        ({"multi_model.a"}, False),
    ]
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert a_cycle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]

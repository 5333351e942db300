#!/usr/bin/env python3
"""Import structure of the project (casework/ and workflows/): import cycles (imports inside
functions count too), imports inside functions, and ``__import__`` calls.

    python3 tools/import_structure.py [ROOT]   # summary and each cycle; exit 1 on any cycle

``tests/test_import_structure.py`` runs ``analyse()``: no cycle, no ``__import__``, fewer than 10
imports inside functions and each with a comment saying why.
"""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("casework", "workflows")
MAX_INNER_IMPORTS = 10  # fewer than this many imports inside functions, each with its reason


@dataclass(frozen=True)
class InnerImport:
    path: str
    line: int
    explained: bool  # a comment on its line or just above it (among the imports it belongs to)


@dataclass
class Report:
    cycles: list[list[str]] = field(default_factory=list)
    inner: list[InnerImport] = field(default_factory=list)
    dunder: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"cycles={len(self.cycles)} inner_imports={len(self.inner)} dunder_imports={len(self.dunder)}"


def _modules(root: Path) -> dict[Path, str]:
    found = {}
    for path in (p for d in PACKAGES for p in (root / d).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[path] = ".".join(parts)
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _explained(lines: list[str], node: ast.stmt) -> bool:
    if "#" in lines[node.lineno - 1]:
        return True
    index = node.lineno - 2
    while index >= 0:
        text = lines[index].strip()
        if text.startswith("#"):
            return True
        if not text.startswith(("from ", "import ")) and not text.startswith(")") and text:
            return False
        index -= 1
    return False


def analyse(root: Path) -> Report:
    modules = _modules(root)
    known = set(modules.values())
    graph: dict[str, set[str]] = {m: set() for m in known}
    report = Report()

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    for path, module in modules.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        where = str(path.relative_to(root))

        def targets(node) -> list[str]:
            if isinstance(node, ast.Import):
                return [alias.name for alias in node.names]
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            return [f"{base}.{alias.name}" for alias in node.names] + [base]

        def walk(node, in_function: bool) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and _is_type_checking(child):
                    continue
                inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    hits = {resolve(t) for t in targets(child)} - {None, module}
                    if in_function and hits:
                        report.inner.append(InnerImport(where, child.lineno, _explained(lines, child)))
                    graph[module] |= hits
                if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id == "__import__":
                    report.dunder.append(f"{where}:{child.lineno}")
                walk(child, inside)

        walk(ast.parse(text, str(path)), False)
    report.cycles = _cycles(graph)
    return report


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def main(argv: list[str]) -> int:
    report = analyse(Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent)
    print(report.summary())
    for cycle in report.cycles:
        print("cycle:", " ".join(cycle))
    for inner in report.inner:
        print(f"inner: {inner.path}:{inner.line}{'' if inner.explained else ' (no comment saying why)'}")
    for call in report.dunder:
        print("__import__:", call)
    return 1 if report.cycles else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

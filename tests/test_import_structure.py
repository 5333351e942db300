"""The project's imports (casework/, workflows/): no cycle, no ``__import__``, fewer than 10
imports inside functions, each with a comment saying why (tools/import_structure.py)."""
from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("import_structure", ROOT / "tools" / "import_structure.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


TOOL = _tool()


@pytest.fixture(scope="module")
def report():
    return TOOL.analyse(ROOT)


def test_no_import_cycle(report):
    assert report.cycles == []


def test_no_hidden_imports(report):
    assert report.dunder == []


def test_few_imports_inside_functions_each_with_its_reason(report):
    assert len(report.inner) < TOOL.MAX_INNER_IMPORTS, [f"{i.path}:{i.line}" for i in report.inner]
    assert [f"{i.path}:{i.line}" for i in report.inner if not i.explained] == []


def test_workflows_import_nothing_from_casework():
    for path in (ROOT / "workflows").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not [n for n in names if n.split(".")[0] == "casework"], path


def test_the_checker_finds_a_cycle_an_inner_import_and_a_hidden_import(tmp_path):
    package = tmp_path / "casework"
    package.mkdir()
    (tmp_path / "workflows").mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from casework.b import x\n")
    (package / "b.py").write_text("def x():\n    from casework.a import y\n    return __import__('casework.a')\n")
    found = TOOL.analyse(tmp_path)
    assert found.cycles == [["casework.a", "casework.b"]]
    assert [(i.path, i.line, i.explained) for i in found.inner] == [("casework/b.py", 2, False)]
    assert found.dunder == ["casework/b.py:3"]

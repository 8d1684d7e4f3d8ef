"""The package's layout: a small ground floor, one sub-package per concept, no import circles."""

from __future__ import annotations

import ast
from pathlib import Path

import journey

PACKAGE = Path(journey.__file__).resolve().parent


def module_name(path: Path) -> str:
    """Dotted module name of a file of the package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path, known: set[str]) -> set[str]:
    """journey modules imported at module top (not inside functions), resolved to known module names."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("journey"):
            # `from package import module` depends on that module; `from module import name` on the module
            names = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module
                     for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → the journey modules it imports at module top."""
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: top_level_imports(path, set(files)) - {name} for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import circles, each as the path of modules that leads back to its start (depth-first search)."""
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                found.append([*stack[stack.index(target):], target])
            elif target not in state:
                visit(target, [*stack, target])
        state[node] = "done"

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return found


def test_the_ground_floor_holds_only_settings_contracts_errors_and_front_doors():
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert top == ["__init__", "cli", "config", "dag_ids", "demo", "errors", "lake", "schemas"]


def test_every_sub_package_names_its_public_face():
    faceless = [p.parent.name for p in PACKAGE.glob("*/__init__.py") if not ast.get_docstring(ast.parse(p.read_text()))]
    assert faceless == []


def test_no_import_circles():
    assert cycles(import_graph()) == []


def test_the_circle_finder_sees_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_test_files_have_unique_names():
    """pytest (rootdir import mode) refuses to collect two test modules with the same file name."""
    tests = Path(__file__).resolve().parents[1]
    names = [path.name for path in tests.rglob("test_*.py")]
    assert sorted({name for name in names if names.count(name) > 1}) == []

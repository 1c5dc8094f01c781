"""The floors of docs/architecture.md, checked on the source: every import of a
`gjenganger` module (top-level, inside functions, relative) walked with `ast`.

Floors, top to bottom: CLI -> flows (wiring, steps, evaluation) -> store (all I/O)
-> analytics / maps -> data_schema / sql. `gjenganger.errors` is a leaf every floor
may use; `gjenganger.synth` (the generator) is a side part the nightly path never
imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: package -> folder, as in pyproject.toml's package-dir
FOLDERS = {
    "gjenganger.flows": "flows",
    "gjenganger.store": "store",
    "gjenganger.analytics": "analytics",
    "gjenganger.maps": "maps",
    "gjenganger.synth": "synth",
    "gjenganger.data_schema": "data_schema",
    "gjenganger.sql": "sql",
    "gjenganger": "gjenganger",
}
#: which parts each part may import (itself always)
MAY_IMPORT = {
    "cli": {"flows", "store", "analytics", "maps", "schema", "synth", "errors"},
    "flows": {"store", "analytics", "maps", "schema", "synth", "errors"},
    "store": {"analytics", "maps", "schema", "errors"},
    "maps": {"analytics", "schema", "errors"},
    "analytics": {"schema", "errors"},
    "synth": {"schema", "errors"},
    "schema": {"errors"},
    "errors": set(),
}
#: modules on the nightly path: none of them may import the generator
NIGHTLY = (
    "gjenganger.flows.nightly",
    "gjenganger.flows.tasks",
    "gjenganger.flows.runners",
    "gjenganger.flows.run_report",
    "gjenganger.flows.steps",
    "gjenganger.store",
)


def part(module: str) -> str:
    """The floor a module belongs to."""
    if module == "gjenganger.errors":
        return "errors"
    for prefix, name in (
        ("gjenganger.flows", "flows"),
        ("gjenganger.store", "store"),
        ("gjenganger.analytics", "analytics"),
        ("gjenganger.maps", "maps"),
        ("gjenganger.synth", "synth"),
        ("gjenganger.data_schema", "schema"),
        ("gjenganger.sql", "schema"),
    ):
        if module == prefix or module.startswith(prefix + "."):
            return name
    return "cli"


def folder(module: str) -> str:
    """The top-level repository folder that holds a module."""
    for package, path in FOLDERS.items():
        if module == package or module.startswith(package + "."):
            return path
    raise AssertionError(module)


def source_modules() -> dict[str, Path]:
    """Every module of the installed namespace, by dotted name."""
    out = {}
    for package, path in FOLDERS.items():
        base = ROOT / path
        for f in base.rglob("*.py"):
            rel = f.relative_to(base).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([package, *parts])
            if (
                package == "gjenganger"
                and parts
                and (ROOT / parts[0]).is_dir()
                and (f"gjenganger.{parts[0]}" in FOLDERS)
            ):
                continue
            out[name] = f
    return out


def imports_of(name: str, path: Path) -> list[tuple[str, int]]:
    """The `gjenganger` modules one file imports, with line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.append((mod, node.lineno))
            # `from gjenganger import errors` names a module too
            found += [(f"{mod}.{a.name}", node.lineno) for a in node.names]
    modules = source_modules()
    out = []
    for mod, line in found:
        if mod == "gjenganger" or not mod.startswith("gjenganger."):
            continue
        while mod not in modules and "." in mod:
            mod = mod.rsplit(".", 1)[0]
        if mod in modules:
            out.append((mod, line))
    return out


def test_no_import_runs_up_a_floor():
    bad = []
    for name, path in source_modules().items():
        mine = part(name)
        for mod, line in imports_of(name, path):
            theirs = part(mod)
            if theirs != mine and theirs not in MAY_IMPORT[mine]:
                bad.append(f"{path.relative_to(ROOT)}:{line} ({mine}) imports {mod}")
    assert not bad, "\n".join(bad)


def test_the_nightly_path_never_imports_the_generator():
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {mod}"
        for name, path in source_modules().items()
        if name.startswith(NIGHTLY)
        for mod, line in imports_of(name, path)
        if part(mod) == "synth"
    ]
    assert not bad, "\n".join(bad)


def test_no_cycle_between_top_level_folders():
    edges: dict[str, set[str]] = {}
    for name, path in source_modules().items():
        for mod, _ in imports_of(name, path):
            if folder(mod) != folder(name) and mod != "gjenganger.errors":
                edges.setdefault(folder(name), set()).add(folder(mod))
    # depth-first search for a back edge
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                pytest.fail("import cycle: " + " -> ".join([*trail, node, nxt]))
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [])


def test_the_floor_rules_catch_an_upward_import(tmp_path):
    """The checker itself: an analytics module importing the store is found."""
    f = tmp_path / "bad.py"
    f.write_text("def f():\n    from gjenganger.store import db\n")
    found = imports_of("gjenganger.analytics.bad", f)
    assert ("gjenganger.store.db", 2) in found
    assert part("gjenganger.store.db") not in MAY_IMPORT["analytics"]

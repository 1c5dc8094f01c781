"""Resume state for expensive deterministic steps, kept in DuckDB.

A step's result is keyed by the sha256 of its inputs (the data version, the as-of
date, its parameters and the step's code version). When a rerun after a failure
finds the same key already finished, the step is skipped. Nothing is pickled:
only the key, a timestamp and the step's small JSON summary are stored, through
`gjenganger.store.steps` (`data_version`, `finished`, `mark_finished`).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import import_module
from pathlib import Path

# the packages whose code decides what a step writes; a change to any of them
# (an upgrade, a new model version) invalidates every stored resume mark
CODE_PACKAGES = (
    "gjenganger.data_schema",
    "gjenganger.sql",
    "gjenganger.analytics",
    "gjenganger.store",
    "gjenganger.flows.steps",
)


@cache
def code_digest(packages: tuple[str, ...]) -> str:
    """sha256 over the source files (.py, .sql) of `packages`, read once per process:
    what a stored result was computed with, so a change to that code recomputes it."""
    h = hashlib.sha256()
    for name in packages:
        root = Path(import_module(name).__file__).parent
        for f in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".sql")):
            h.update(f"{name}/{f.relative_to(root).as_posix()}\0".encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def code_version() -> str:
    """The digest of CODE_PACKAGES, so a night re-run after an upgrade recomputes its
    steps instead of resuming."""
    return code_digest(CODE_PACKAGES)


def input_hash(step: str, **inputs) -> str:
    """sha256 over the step name, code version and inputs (JSON, keys sorted)."""
    doc = json.dumps(
        {"step": step, "code": code_version(), **inputs}, sort_keys=True, default=str
    )
    return hashlib.sha256(doc.encode()).hexdigest()

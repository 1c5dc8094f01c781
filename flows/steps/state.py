"""Resume state for expensive deterministic steps, kept in DuckDB.

A step's result is keyed by the sha256 of its inputs (the data version, the as-of
date, its parameters and the step's code version). When a rerun after a failure
finds the same key already finished, the step is skipped. Nothing is pickled:
only the key, a timestamp and the step's small JSON summary are stored.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
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

DDL = """create table if not exists pipeline_steps (
    step varchar not null,
    input_hash varchar not null,
    finished_at timestamptz not null,
    summary_json varchar,
    primary key (step, input_hash)
)"""


def data_version(con) -> str:
    """Identifies the loaded data: loaded batches and the newest load time."""
    row = con.execute(
        "select count(*), max(finished_at)::varchar from ingest_batches where status = 'loaded'"
    ).fetchone()
    return f"{row[0]}:{row[1]}"


@cache
def code_version() -> str:
    """sha256 over the source files (.py, .sql) of CODE_PACKAGES, read once per process,
    so a night re-run after an upgrade recomputes its steps instead of resuming."""
    h = hashlib.sha256()
    for name in CODE_PACKAGES:
        root = Path(import_module(name).__file__).parent
        for f in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".sql")):
            h.update(f"{name}/{f.relative_to(root).as_posix()}\0".encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def input_hash(step: str, **inputs) -> str:
    """sha256 over the step name, the code version and its inputs (JSON, keys sorted)."""
    doc = json.dumps(
        {"step": step, "code": code_version(), **inputs}, sort_keys=True, default=str
    )
    return hashlib.sha256(doc.encode()).hexdigest()


def finished(con, step: str, key: str) -> dict | None:
    """The stored summary if this step already finished for these inputs."""
    con.execute(DDL)
    row = con.execute(
        "select summary_json from pipeline_steps where step = ? and input_hash = ?",
        [step, key],
    ).fetchone()
    return json.loads(row[0]) if row else None


def mark_finished(con, step: str, key: str, summary: dict) -> None:
    """Record that a step finished for these inputs."""
    con.execute(DDL)
    con.execute(
        "insert or replace into pipeline_steps values (?, ?, ?, ?)",
        [step, key, datetime.now(UTC), json.dumps(summary, default=str)],
    )

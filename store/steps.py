"""Resume marks of the nightly steps, in table `pipeline_steps` (sql/core).

A mark is a step name, the sha256 of its inputs (made by
`gjenganger.flows.steps.state.input_hash`), a timestamp and the step's small JSON
summary: nothing pickled, no pseudonyms.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from gjenganger.sql import runner


def data_version(con) -> str:
    """Identifies the loaded data: loaded batches and the newest load time."""
    row = con.execute(
        "select count(*), max(finished_at)::varchar from ingest_batches"
        " where status = 'loaded'"
    ).fetchone()
    return f"{row[0]}:{row[1]}"


def finished(con, step: str, key: str) -> dict | None:
    """The stored summary if this step already finished for these inputs."""
    runner.declare(con, "pipeline_steps")
    row = con.execute(
        "select summary_json from pipeline_steps where step = ? and input_hash = ?",
        [step, key],
    ).fetchone()
    return json.loads(row[0]) if row else None


def mark_finished(con, step: str, key: str, summary: dict) -> None:
    """Record that a step finished for these inputs (replacing an older mark)."""
    runner.declare(con, "pipeline_steps")
    con.execute(
        "insert or replace into pipeline_steps"
        " (step, input_hash, finished_at, summary_json) values (?, ?, ?, ?)",
        [step, key, datetime.now(UTC), json.dumps(summary, default=str)],
    )

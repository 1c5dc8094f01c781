"""Attribution's tables: hypotheses read and pruned, the state kept between nights.

The hypothesis tables (`attribution_candidates`, `attribution_cases`, `series`,
`series_members`, sql/marts) are written with `frames.replace_rows` per as-of date;
this module reads the newest candidates, exports them as CSV and deletes old
nights. The state tables (`attribution_model`, `attribution_evidence`,
`attribution_fingerprints_persons` / `_cases`) are what
`gjenganger.flows.steps.attribution_state` decides to keep; evidence arrives
through `EvidenceSink` while attribution runs.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import polars as pl

from gjenganger.sql import runner
from gjenganger.store import frames

EVIDENCE = "attribution_evidence"


def latest_candidates(con, as_of: date | None = None) -> pl.DataFrame | None:
    """Candidates (incident_id, person_id, p, rank, as_of) of the newest attribution
    run on or before `as_of` (the newest of all when None); None when there is
    none."""
    frame = con.execute(
        "select incident_id, person_id, p, rank, as_of from attribution_candidates"
        " where as_of = (select max(as_of) from attribution_candidates"
        " where ?::date is null or as_of <= ?::date)",
        [as_of, as_of],
    ).pl()
    return frame if frame.height else None


def write_candidates_csv(con, path: str | Path, as_of: date) -> int:
    """Every candidate of `as_of` as CSV with a leading `label` 'hypotese'; rows."""
    # (incident, rank) is unique within one as-of date: a total order without
    # sorting on every column (which took seconds at national scale)
    n = con.execute(
        "copy (select 'hypotese' as label, * from attribution_candidates"
        " where as_of = ? order by as_of, incident_id, rank, person_id)"
        f" to '{path}' (header, delimiter ',')",
        [as_of],
    ).fetchone()[0]
    return int(n)


def delete_before(con, tables: tuple[str, ...], cutoff: date) -> int:
    """Delete the rows of as-of dates before `cutoff` from `tables`; rows deleted."""
    return sum(
        con.execute(f"delete from {t} where as_of < ?", [cutoff]).fetchone()[0]
        for t in tables
    )


def latest_model(con) -> tuple | None:
    """(as_of, model_version, polars_version, window_days, fitted pickle) of the
    stored pair models, or None."""
    return con.execute(
        "select as_of, model_version, polars_version, window_days, fitted"
        " from attribution_model order by as_of desc limit 1"
    ).fetchone()


def load_state(con) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(person fingerprints, case fingerprints, evidence) of the last night."""
    return (
        con.execute("select * from attribution_fingerprints_persons").pl(),
        con.execute("select * from attribution_fingerprints_cases").pl(),
        con.execute(f"select * from {EVIDENCE}").pl(),
    )


def save_model(
    con, as_of: date, versions: tuple[str, str], window_days: int, fitted: bytes
) -> None:
    """Replace the stored pair models; `versions` = (model, Polars)."""
    con.execute("delete from attribution_model")
    con.execute(
        "insert into attribution_model"
        " (as_of, model_version, polars_version, window_days, fitted)"
        " values (?, ?, ?, ?, ?)",
        [as_of, *versions, window_days, fitted],
    )


def save_fingerprints(con, persons: pl.DataFrame, cases: pl.DataFrame) -> None:
    """Replace the fingerprints the stored evidence was computed from."""
    frames.replace_rows(con, "attribution_fingerprints_persons", persons)
    frames.replace_rows(con, "attribution_fingerprints_cases", cases)


class EvidenceSink:
    """Writes evidence chunks into `attribution_evidence_next` as attribution
    produces them (from its worker threads: one lock around the connection), so
    the rows never sit in memory all at once. `save_evidence` moves them in."""

    TABLE = "attribution_evidence_next"

    def __init__(self, con) -> None:
        self.con = con
        self.lock = threading.Lock()
        self.rows = 0
        self.created = False  # a chunk arrived (even an empty one)
        runner.declare(con, self.TABLE)
        con.execute(f"delete from {self.TABLE}")

    def __call__(self, frame: pl.DataFrame) -> None:
        """Append one chunk of evidence rows."""
        with self.lock:
            frames.insert_rows(self.con, self.TABLE, frame)
            self.created = True
            self.rows += frame.height

    def clear(self) -> None:
        """Empty the table once its rows are stored."""
        self.con.execute(f"delete from {self.TABLE}")


def _update_evidence(con, new: str, persons: set[str], cases: set[str]) -> None:
    """Drop the rows of changed persons and cases (and any row recomputed tonight),
    add tonight's rows."""
    con.register(
        "_dirty_p",
        pl.DataFrame({"id": sorted(persons)}, schema={"id": pl.String}).to_arrow(),
    )
    con.register(
        "_dirty_c",
        pl.DataFrame({"id": sorted(cases)}, schema={"id": pl.String}).to_arrow(),
    )
    try:
        con.execute(
            f"delete from {EVIDENCE} where person_id in (select id from _dirty_p)"
            " or incident_id in (select id from _dirty_c)"
        )
        con.execute(
            f"delete from {EVIDENCE} e using {new} n where"
            " e.incident_id = n.incident_id and e.person_id = n.person_id"
        )
        con.execute(f"insert into {EVIDENCE} by name select * from {new}")
    finally:
        for name in ("_dirty_p", "_dirty_c"):
            con.unregister(name)


def save_evidence(
    con,
    evidence: EvidenceSink | pl.DataFrame,
    dirty: tuple[set[str], set[str]] | None = None,
) -> None:
    """Store tonight's evidence rows (a sink's table or a frame).

    Without `dirty` (a full night) they replace the table; with `dirty` = (changed
    persons, changed cases) the rows of those are dropped and tonight's rows added.
    Rows of cases that closed or candidates that dropped out stay until the next
    full night: they are valid for their unchanged (case, person) and are never
    looked up otherwise. A sink is emptied afterwards.
    """
    if isinstance(evidence, EvidenceSink):
        new = evidence.TABLE
    else:
        new = "_evidence"
        con.register(new, evidence.to_arrow())
    try:
        if dirty is None:
            con.execute(f"delete from {EVIDENCE}")
            con.execute(f"insert into {EVIDENCE} by name select * from {new}")
        else:
            _update_evidence(con, new, *dirty)
    finally:
        if not isinstance(evidence, EvidenceSink):
            con.unregister(new)
    if isinstance(evidence, EvidenceSink):
        evidence.clear()

"""Attribution state kept in DuckDB between nights: the frozen model and evidence.

- `attribution_model`: the newest case-case pair models (a pickle of
  `analytics.attribution.Fitted`: fitted coefficients and trees, no identities) with
  the date they were trained as of, the model version, the Polars version
  (fingerprints and halves are Polars hashes) and the window.
- `attribution_evidence`: the (open case, candidate) rows' evidence, float32, so
  the next night computes only rows whose case or person changed. A night that
  reuses rows deletes those of changed persons and cases and adds what it
  computed; a full night (new pair models) rewrites the table.
- `attribution_fingerprints_persons` / `_cases`: what those rows were computed from.

`load_previous` decides whether a night may reuse them: only with the same model
version, Polars version and window, and pair models at most `RETRAIN_DAYS` old;
otherwise the night trains new pair models and computes every row. The stage-1
model and calibrator are trained every night on the links known that night, so a
retracted link leaves the training set, the evidence and the top list at once.
"""

from __future__ import annotations

import datetime as dt
import pickle
import threading

import polars as pl

from gjenganger.analytics import attribution as at
from gjenganger.analytics import attribution_reuse as ar
from gjenganger.store.db import table_exists

RETRAIN_DAYS = 7
MODEL_DDL = """create table if not exists attribution_model (
    as_of date not null,             -- the model was trained on cases known on this day
    model_version varchar not null,
    polars_version varchar not null,
    window_days integer not null,
    fitted blob not null             -- pickle of analytics.attribution.Fitted
)"""


def _polars_version() -> str:
    return pl.__version__


def load_previous(
    con, as_of: dt.date, window_days: int
) -> tuple[at.Previous | None, str]:
    """Last night's state if tonight may reuse it, and why (or why not)."""
    names = (
        "attribution_model",
        "attribution_evidence",
        "attribution_fingerprints_persons",
        "attribution_fingerprints_cases",
    )
    if not all(table_exists(con, n) for n in names):
        return None, "no stored pair models"
    row = con.execute(
        "select as_of, model_version, polars_version, window_days, fitted "
        "from attribution_model order by as_of desc limit 1"
    ).fetchone()
    if row is None:
        return None, "no stored pair models"
    trained, version, pl_version, window, blob = row
    if version != at.MODEL_VERSION or pl_version != _polars_version():
        return None, "model or Polars version changed"
    if window != window_days:
        return None, "window changed"
    if not (0 <= (as_of - trained).days < RETRAIN_DAYS):
        return None, f"pair models older than {RETRAIN_DAYS} days"
    fitted = pickle.loads(blob)  # noqa: S301 - our own table, written below
    fps = ar.Fingerprints(
        con.execute("select * from attribution_fingerprints_persons").pl(),
        con.execute("select * from attribution_fingerprints_cases").pl(),
    )
    evidence = con.execute("select * from attribution_evidence").pl()
    return at.Previous(fitted, evidence, fps), f"pair models of {trained}"


def _replace_table(con, name: str, frame: pl.DataFrame) -> None:
    con.register("_state", frame.to_arrow())
    try:
        con.execute(f"create or replace table {name} as select * from _state")
    finally:
        con.unregister("_state")


class EvidenceSink:
    """Writes evidence chunks into `attribution_evidence_next` as attribution
    produces them (from its worker threads: one lock around the connection), so
    the rows never sit in memory all at once. `save` swaps them in."""

    TABLE = "attribution_evidence_next"

    def __init__(self, con) -> None:
        self.con = con
        self.lock = threading.Lock()
        self.rows = 0
        self.created = (
            False  # the table exists (made from the first chunk, even an empty one)
        )
        con.execute(f"drop table if exists {self.TABLE}")

    def __call__(self, frame: pl.DataFrame) -> None:
        with self.lock:
            self.con.register("_chunk", frame.to_arrow())
            try:
                verb = (
                    f"insert into {self.TABLE} by name"
                    if self.created
                    else f"create table {self.TABLE} as"
                )
                self.con.execute(f"{verb} select * from _chunk")
            finally:
                self.con.unregister("_chunk")
            self.created = True
            self.rows += frame.height


def _update_evidence(con, run: at.AttributionRun, new: str) -> None:
    """Drop the rows of changed persons and cases (and any row recomputed tonight),
    add tonight's rows. Rows of cases that closed or candidates that dropped out
    stay until the next full night rewrites the table: they are valid for their
    unchanged (case, person) and are never looked up otherwise."""
    persons, cases = run.dirty or (set(), set())
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
            "delete from attribution_evidence where person_id in (select id from _dirty_p)"
            " or incident_id in (select id from _dirty_c)"
        )
        con.execute(
            f"delete from attribution_evidence e using {new} n where"
            " e.incident_id = n.incident_id and e.person_id = n.person_id"
        )
        con.execute(f"insert into attribution_evidence by name select * from {new}")
    finally:
        for name in ("_dirty_p", "_dirty_c"):
            con.unregister(name)


def save(con, run: at.AttributionRun, sink: EvidenceSink | None = None) -> None:
    """Store tonight's evidence, fingerprints and (when trained tonight) the pair
    models. Runs inside the caller's transaction. The evidence is in `sink`'s
    table when one was used, else in `run.evidence`."""
    if run.fingerprints is None or run.fitted is None:
        return
    if sink is not None:
        if not sink.created:  # no chunk at all (no open case): nothing to store
            return
        new = sink.TABLE
    elif run.evidence is not None:
        con.register("_evidence", run.evidence.to_arrow())
        new = "_evidence"
    else:
        return
    try:
        if run.mode == "full" or not table_exists(con, "attribution_evidence"):
            con.execute(
                f"create or replace table attribution_evidence as select * from {new}"
            )
        else:
            _update_evidence(con, run, new)
    finally:
        if sink is not None:
            con.execute(f"drop table if exists {sink.TABLE}")
        else:
            con.unregister("_evidence")
    _replace_table(con, "attribution_fingerprints_persons", run.fingerprints.persons)
    _replace_table(con, "attribution_fingerprints_cases", run.fingerprints.cases)
    if run.mode == "full":
        con.execute(MODEL_DDL)
        con.execute("delete from attribution_model")
        con.execute(
            "insert into attribution_model values (?, ?, ?, ?, ?)",
            [
                run.fitted.as_of,
                at.MODEL_VERSION,
                _polars_version(),
                run.fitted.window_days,
                pickle.dumps(run.fitted),
            ],
        )

"""Attribution state kept in DuckDB between nights: the frozen model and evidence.

- `attribution_model`: the newest case-case pair models (a pickle of
  `analytics.attribution.Fitted`: fitted coefficients and trees, no identities) with
  the date they were trained as of, the model version, the Polars version
  (fingerprints and halves are Polars hashes) and the window.
- `attribution_evidence`: every (open case, candidate) row's evidence of the last
  run, float32, so the next night computes only rows whose case or person changed.
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

import polars as pl

from analytics import attribution as at
from analytics import attribution_reuse as ar
from gjenganger.db import table_exists

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


def load_previous(con, as_of: dt.date, window_days: int) -> tuple[at.Previous | None, str]:
    """Last night's state if tonight may reuse it, and why (or why not)."""
    names = ("attribution_model", "attribution_evidence",
             "attribution_fingerprints_persons", "attribution_fingerprints_cases")  # fmt: skip
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


def save(con, run: at.AttributionRun) -> None:
    """Store tonight's evidence, fingerprints and (when trained tonight) the model.

    Runs inside the caller's transaction.
    """
    if run.evidence is None or run.fingerprints is None or run.fitted is None:
        return
    _replace_table(con, "attribution_evidence", run.evidence)
    _replace_table(con, "attribution_fingerprints_persons", run.fingerprints.persons)
    _replace_table(con, "attribution_fingerprints_cases", run.fingerprints.cases)
    if run.mode == "full":
        con.execute(MODEL_DDL)
        con.execute("delete from attribution_model")
        con.execute(
            "insert into attribution_model values (?, ?, ?, ?, ?)",
            [run.fitted.as_of, at.MODEL_VERSION, _polars_version(),
             run.fitted.window_days, pickle.dumps(run.fitted)],
        )  # fmt: skip

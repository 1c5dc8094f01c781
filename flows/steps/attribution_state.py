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

The tables are declared in sql/marts/ and read and written by
`gjenganger.store.attribution`; this module decides what to keep.

`load_previous` decides whether a night may reuse them: only with the same model
version, Polars version and window, and pair models at most `RETRAIN_DAYS` old;
otherwise the night trains new pair models and computes every row. The stage-1
model and calibrator are kept with the pair models (`Fitted.stage1`) and trained
again with them, or on the first night a link that labelled one of their training
cases is no longer known, so a retracted link leaves the training set, the
evidence and the top list at once; that night stores them anew.
"""

from __future__ import annotations

import datetime as dt
import pickle

import polars as pl

from gjenganger.analytics import attribution as at
from gjenganger.analytics import attribution_reuse as ar
from gjenganger.store import attribution as store
from gjenganger.store.attribution import EvidenceSink

RETRAIN_DAYS = 7


def _polars_version() -> str:
    return pl.__version__


def load_previous(
    con, as_of: dt.date, window_days: int
) -> tuple[at.Previous | None, str]:
    """Last night's state if tonight may reuse it, and why (or why not)."""
    row = store.latest_model(con)
    if row is None:
        return None, "no stored pair models"
    trained, version, pl_version, window, blob = row
    if version != at.MODEL_VERSION or pl_version != _polars_version():
        return None, "model or Polars version changed"
    if window != window_days:
        return None, "window changed"
    if not (0 <= (as_of - trained).days < RETRAIN_DAYS):
        return None, f"pair models older than {RETRAIN_DAYS} days"
    try:
        fitted = pickle.loads(blob)  # noqa: S301 - our own table, written below
    except (AttributeError, ImportError, pickle.UnpicklingError, EOFError):
        # pickled by an older layout of the code (a class moved): train anew
        return None, "stored pair models unreadable by this release"
    persons, cases, evidence = store.load_state(con)
    fps = ar.Fingerprints(persons, cases)
    return at.Previous(fitted, evidence, fps), f"pair models of {trained}"


def save(con, run: at.AttributionRun, sink: EvidenceSink | None = None) -> None:
    """Store tonight's evidence, fingerprints and (when trained tonight) the pair
    models. Runs inside the caller's transaction. The evidence is in `sink`'s
    table when one was used, else in `run.evidence`. A full night replaces the
    evidence; a night that reused rows replaces those of changed persons and cases
    (`run.dirty`)."""
    if run.fingerprints is None or run.fitted is None:
        return
    if sink is not None:
        if not sink.created:  # no chunk at all (no open case): nothing to store
            return
        evidence = sink
    elif run.evidence is not None:
        evidence = run.evidence
    else:
        return
    dirty = None if run.mode == "full" else (run.dirty or (set(), set()))
    store.save_evidence(con, evidence, dirty)
    store.save_fingerprints(con, run.fingerprints.persons, run.fingerprints.cases)
    if run.mode == "full" or run.stage1_trained:  # new pair or stage-1 models
        store.save_model(
            con,
            run.fitted.as_of,
            (at.MODEL_VERSION, _polars_version()),
            run.fitted.window_days,
            pickle.dumps(run.fitted),
        )

"""Attribution step: open cases -> candidate persons and series, as hypotheses.

Reads incidents, links and custody as known on `as_of` (store), runs
`analytics.attribution.attribute` and `analytics.series.build_series`, and
replaces that as-of date's rows in `attribution_candidates` (top 5 per case),
`attribution_cases` (p_none per case), `series` and `series_members`. Nothing is
ever written to the link tables: every row carries `is_hypothesis = true` and the
hypothesis label. The summary holds counts only (no pseudonyms).

Hypotheses are kept for `HYPOTHESIS_DAYS`: each write deletes the rows of as-of
dates more than that many days before its own from those four tables (at national
scale one night adds about 1.9 million candidate rows; and a hypothesis about a
person should not outlive its use). Nights after tonight's are never touched.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from gjenganger.analytics import attribution as at
from gjenganger.analytics import series as sr
from gjenganger.store import attribution as attribution_store
from gjenganger.store import db, frames

MAX_CANDIDATES = 5
HYPOTHESIS_DAYS = (
    30  # as-of dates kept in the hypothesis tables, counted back from tonight
)
HYPOTHESIS_TABLES = (
    "attribution_candidates",
    "attribution_cases",
    "series",
    "series_members",
)


def compute_attribution(
    con,
    as_of: dt.date | None = None,
    *,
    window_days: int = 365,
    baselines: bool = False,
    seed: int = 0,
    progress=None,
) -> at.AttributionRun:
    """Run attribution on the frames as known on `as_of` (no writes), with the
    stored back-test's recalibration of the same model when there is one;
    `progress(message)`, if given, hears of each stage (for the CLI)."""
    from gjenganger.flows.steps.attribution_backtest import recalibration_for

    day = frames.resolve_as_of(con, as_of)
    return at.attribute(
        *frames.known_on(con, day),
        day,
        window_days=window_days,
        baselines=baselines,
        seed=seed,
        recalibration=recalibration_for(con, day),
        progress=progress,
    )


def _candidate_rows(run: at.AttributionRun) -> pl.DataFrame:
    model = run.model
    cand = model.candidates.filter(pl.col("rank") <= MAX_CANDIDATES)
    cand = cand.join(model.cases.select("incident_id", "p_none"), on="incident_id")
    if "matching_modus" in cand.columns:
        cand = cand.with_columns(pl.col("matching_modus").list.join(","))
    return cand.with_columns(
        pl.lit(run.ctx.as_of, pl.Date).alias("as_of"),
        pl.lit(at.MODEL_VERSION).alias("model_version"),
        pl.col("rank").cast(pl.Int32),
        pl.lit(True).alias("is_hypothesis"),
        pl.lit(at.HYPOTHESIS).alias("label"),
    )


def _write_run(con, run: at.AttributionRun, state, sink, rows: dict) -> None:
    """Tonight's state for the next night (with `state`) and the `rows` of the
    hypothesis tables, replacing that as-of date's (inside the caller's
    transaction)."""
    if state is not None:
        state.save(con, run, sink)
    for table, frame in rows.items():
        frames.replace_rows(con, table, frame, as_of=run.ctx.as_of)


def write_attribution(
    con, run: at.AttributionRun, state=None, sink=None, keep_days: int = HYPOTHESIS_DAYS
) -> dict:
    """Write the run's candidates, cases and series (replacing that as-of date) and
    drop nights older than `keep_days`; with `state` (the `attribution_state`
    module), also the state for the next night."""
    day = run.ctx.as_of
    model = run.model
    cand = _candidate_rows(run)
    cases = model.cases.with_columns(
        pl.lit(day, pl.Date).alias("as_of"),
        pl.lit(at.MODEL_VERSION).alias("model_version"),
        pl.col("n_candidates").cast(pl.Int32),
        pl.lit(True).alias("is_hypothesis"),
        pl.lit(at.HYPOTHESIS).alias("label"),
    )
    with db.transaction(con):
        # the database stores tonight's state, candidates and cases while the
        # series are built (pair scoring and clustering): one waits less on the other
        with ThreadPoolExecutor(max_workers=1) as pool:
            written = pool.submit(
                _write_run,
                con,
                run,
                state,
                sink,
                {HYPOTHESIS_TABLES[0]: cand, HYPOTHESIS_TABLES[1]: cases},
            )
            t0 = time.perf_counter()
            summary, members = sr.build_series(
                model.candidates,
                run.ctx.open_idx,
                run.ctx.cases,
                run.ctx.incidents,
                run.pair_logit,
            )
            series_s = time.perf_counter() - t0
            written.result()
        tag = [
            pl.lit(day, pl.Date).alias("as_of"),
            pl.lit(at.MODEL_VERSION).alias("model_version"),
        ]
        summary = summary.with_columns(
            *tag,
            pl.col("n_cases").cast(pl.Int32),
            pl.lit(True).alias("is_hypothesis"),
            pl.lit(at.HYPOTHESIS).alias("label"),
        )
        members_rows = members.select("series_id", "incident_id", "p").with_columns(
            *tag
        )
        for table, frame in zip(
            HYPOTHESIS_TABLES[2:], (summary, members_rows), strict=True
        ):
            frames.replace_rows(con, table, frame, as_of=day)
        cutoff = day - dt.timedelta(days=keep_days)
        old_rows = attribution_store.delete_before(con, HYPOTHESIS_TABLES, cutoff)
    return {
        "as_of": day.isoformat(),
        "model_version": at.MODEL_VERSION,
        "open_cases": cases.height,
        "candidate_rows": cand.height,
        "attributed_p_ge_0_5": int((model.candidates["p"] >= 0.5).sum()),
        "series_person": int((summary["kind"] == "person").sum()),
        "series_linked": int((summary["kind"] == "linked").sum()),
        "seconds": {k: round(v, 2) for k, v in run.timings.items()}
        | {"series_s": round(series_s, 2)},
        "mode": run.mode,
        "old_hypothesis_rows_deleted": old_rows,
    }


def build_attribution(
    con,
    as_of: dt.date | None = None,
    *,
    window_days: int = 365,
    seed: int = 0,
    reuse: bool = True,
    keep_days: int = HYPOTHESIS_DAYS,
    progress=None,
) -> dict:
    """The nightly step: attribute open cases and write the hypothesis tables.

    With `reuse`, the stored pair models and unchanged evidence rows are reused
    when `attribution_state.load_previous` allows (else, and every RETRAIN_DAYS,
    they are trained and computed again); the state for the next night is stored
    with the results. p is recalibrated by the back-test stored on or before
    `as_of` for this model (`attribution_backtest.recalibration_for`; the nightly
    flow runs that step first); the summary says how. On a first of the month
    the raw scoring of the back-test's sample is recorded for the back-tests
    90 and 180 days on (`attribution_backtest.record_scoring`).
    """
    from gjenganger.analytics import attribution_backtest as bt
    from gjenganger.flows.steps import attribution_state as state
    from gjenganger.flows.steps.attribution_backtest import (
        recalibration_for,
        record_scoring,
    )

    day = frames.resolve_as_of(con, as_of)
    previous, why = (
        state.load_previous(con, day, window_days) if reuse else (None, "reuse off")
    )
    inputs = frames.known_on(con, day)
    kw = {
        "window_days": window_days,
        "seed": seed,
        "keep_evidence": True,
        "keep_ranks": MAX_CANDIDATES,
    }
    sink = attribution_store.EvidenceSink(con)
    recal = recalibration_for(con, day)
    run = at.attribute(
        *inputs,
        day,
        previous=previous,
        evidence_sink=sink,
        progress=progress,
        recalibration=recal,
        record_sample=bt.MAX_OPEN_CASES if bt.is_past_date(day) else None,
        **kw,
    )
    if progress is not None:
        progress("building series and writing the hypothesis tables")
    summary = write_attribution(con, run, state, sink, keep_days)
    recorded = record_scoring(con, run)
    if recorded is not None:
        summary["backtest_recorded"] = recorded
    summary["calibration"] = (
        recal.to_dict() if recal is not None else {"status": "no back-test"}
    )
    summary["pair_models"] = (
        f"reused: {why}" if run.mode == "reuse" else f"trained tonight ({why})"
    )
    return summary

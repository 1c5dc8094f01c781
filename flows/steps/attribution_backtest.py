"""The nightly back-test step and its page: how attribution did on cases solved since.

`build_backtest` scores the open cases as they stood on each back-test date (the
first of the month at or before as-of minus 90 and minus 180 days) with the data
known then (`analytics.attribution_backtest.score_past`), or takes that scoring
from the cache (`store.backtest`, keyed by past date, model key and data
fingerprint), checks it against tonight's links, fits stage 2 on the confirmed
outcomes and stores figures, bands and the recalibration the attribution step
applies tonight. The summary (the run report's) holds counts and figures only.

The night of a first of the month records its own raw scoring of the sample
(`record_scoring`, from the attribution step), so the nights whose back-test
date moves to it read what that night said; the first night of a model scores
ahead the past dates no later night can record (`_score_ahead`).

`write_backtest_page` renders the stored figures as `backtest.html` of the analyst
bundle (`maps.backtest_page`).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import polars as pl

from gjenganger.analytics import attribution as at
from gjenganger.analytics import attribution_backtest as bt
from gjenganger.analytics.attribution_calibration import Recalibration
from gjenganger.flows.steps.state import code_digest
from gjenganger.store import backtest as store
from gjenganger.store import frames, publish
from gjenganger.store.db import transaction

FIGURE_COLUMNS = (
    "cases_scored",
    "cases_confirmed",
    "cases_confirmed_person_among_candidates",
    "hit_at_1",
    "hit_at_5",
    "hit_at_1_unweighted",
    "ece",
    "hypotheses",
    "hypotheses_p_ge_0_5",
    "precision_p_ge_0_5",
    "brier_rank1",
    "brier_skill_rank1",
)


def model_key() -> str:
    """The attribution model version and a digest of the analytics code: a past
    scoring is reused only while the model that made it is tonight's."""
    return f"{at.MODEL_VERSION}+{code_digest(('gjenganger.analytics',))[:12]}"


def record_scoring(con, run: at.AttributionRun) -> dict | None:
    """Store tonight's raw scoring of the back-test's sample of open cases
    (`run.record`) as the scoring of tonight's date, which a back-test checks 90
    and 180 days on: the p the night gave, not a scoring made again later; None
    when the run recorded nothing."""
    if run.record is None:
        return None
    day = run.ctx.as_of
    cases, cand = bt.scoring_frames(run.ctx.incidents, run.record, day)
    with transaction(con):
        fp = store.data_fingerprint(con, day)
        store.save_scoring(con, day, model_key(), fp, cases, cand)
    return {"past_date": day.isoformat(), "cases": cases.height}


def _past_scoring(con, past: dt.date, window_days: int, seed: int, progress):
    """(cases, candidates, cached?, seconds) of the scoring on `past`: the
    stored one (recorded on that night, or scored on an earlier night) when it
    is of tonight's model and of the data as known then, else scored now."""
    t0 = time.perf_counter()
    fp = store.data_fingerprint(con, past)
    hit = store.load_scoring(con, past, model_key(), fp)
    if hit is not None:
        return (*hit, True, round(time.perf_counter() - t0, 2))
    if progress is not None:
        progress(f"scoring the open cases as they stood on {past}")
    cases, cand = bt.score_past(
        *frames.known_on(con, past),
        past,
        window_days=window_days,
        seed=seed,
    )
    with transaction(con):  # cases and candidates cached together or not at all
        store.save_scoring(con, past, model_key(), fp, cases, cand)
    return cases, cand, False, round(time.perf_counter() - t0, 2)


def _figure_row(summary: dict, **key) -> dict:
    blank = {"past_date": None, "cached": None, "score_seconds": None}
    return {**blank, **key, **{c: summary.get(c) for c in FIGURE_COLUMNS}}


def _band_rows(bands: pl.DataFrame, horizon: int | None, kind: str) -> pl.DataFrame:
    return bands.with_columns(
        pl.lit(horizon, pl.Int32).alias("horizon_days"), pl.lit(kind).alias("kind")
    )


def build_backtest(
    con,
    as_of: dt.date | None = None,
    *,
    window_days: int = 365,
    seed: int = 0,
    horizons: tuple[int, ...] = bt.HORIZONS,
    progress=None,
) -> dict:
    """The nightly step: back-test on each horizon, recalibration, stored; the
    run report's summary (counts and figures, no pseudonyms)."""
    day = frames.resolve_as_of(con, as_of)
    first, _ = frames.data_date_range(con)
    links_now = frames.load_links(con, day)
    tests, rows, bands, report = [], [], [], {"as_of": day.isoformat()}
    for horizon, past, inside in bt.backtest_dates(day, first, horizons):
        if not inside:
            report[f"{horizon}d"] = {
                "past_date": past.isoformat(),
                "skipped": "no data",
            }
            continue
        cases, cand, cached, seconds = _past_scoring(
            con, past, window_days, seed, progress
        )
        test = bt.evaluate(past, cases, cand, links_now)
        tests.append(test)
        key = {"horizon_days": horizon, "past_date": past, "kind": "raw"}
        rows.append(
            _figure_row(test.summary, **key, cached=cached, score_seconds=seconds)
        )
        bands.append(_band_rows(test.bands, horizon, "raw"))
        report[f"{horizon}d"] = {**test.summary, "cached": cached, "seconds": seconds}
    ahead = _score_ahead(con, day, first, window_days, seed, horizons, progress)
    if ahead:
        report["ahead"] = ahead
    recal, raw, calibrated = bt.summarise(tests)
    for kind, result in (("raw", raw), ("calibrated", calibrated)):
        if result is not None:
            summary, kind_bands = result
            summary["cases_scored"] = sum(t.summary["cases_scored"] for t in tests)
            rows.append(_figure_row(summary, horizon_days=None, kind=kind))
            bands.append(_band_rows(kind_bands, None, kind))
            report[f"pooled_{kind}"] = summary
    report["recalibration"] = recal.to_dict()
    figures = (
        pl.DataFrame(
            rows,
            schema_overrides={"horizon_days": pl.Int32, "past_date": pl.Date},
            infer_schema_length=None,
        )
        if rows
        else pl.DataFrame()
    )
    with transaction(con):
        cutoff = min(bt.past_date(day, h) for h in horizons) if horizons else day
        store.drop_scorings_before(con, cutoff)
        store.save_results(
            con,
            day,
            figures.with_columns(pl.lit(day).alias("as_of")) if rows else figures,
            pl.concat(bands, how="diagonal_relaxed").with_columns(
                pl.lit(day).alias("as_of")
            )
            if bands
            else pl.DataFrame(),
            {"model_key": model_key(), **recal.to_dict()},
        )
    return report


def _score_ahead(con, day, first, window_days, seed, horizons, progress) -> dict:
    """On the first night of a model (no back-test of it stored before tonight:
    a new database or a new release), score the past dates later nights will
    move to that no later night can record (`bt.upcoming_dates`), so those
    nights read them; seconds per date. Other nights: nothing."""
    before = store.latest_recalibration(con, day - dt.timedelta(days=1))
    if before is not None and before["model_key"] == model_key():
        return {}
    out = {}
    for past in bt.upcoming_dates(day, first, horizons):
        *_, cached, seconds = _past_scoring(con, past, window_days, seed, progress)
        out[past.isoformat()] = {"cached": cached, "seconds": seconds}
    return out


def recalibration_for(con, as_of: dt.date) -> Recalibration | None:
    """The recalibration the back-test stored on or before `as_of` for tonight's
    model, or None (no back-test, or one of another model)."""
    stored = store.latest_recalibration(con, as_of)
    if stored is None or stored["model_key"] != model_key():
        return None
    return Recalibration.from_dict(stored)


def write_backtest_page(con, out_dir, as_of: dt.date, lang: str = "nb") -> dict:
    """Write the analyst bundle's `backtest.html` from the stored back-test; its
    size and whether there was a back-test."""
    from gjenganger.maps.backtest_page import render_backtest_page

    results = store.latest_results(con, as_of)
    page = render_backtest_page(results, as_of=as_of, lang=lang)
    path = publish.write_text(Path(out_dir) / "backtest.html", page)
    return {"bytes": path.stat().st_size, "backtest": results is not None}

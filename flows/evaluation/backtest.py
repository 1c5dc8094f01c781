"""How far the nightly back-test's estimate is from the truth, on a generated world.

The nightly back-test (`analytics.attribution_backtest`) can only check the open
cases of a past date against the links made since: cases solved later, weighted
by 1/P(solved) of their stratum. On a generated world the truth of EVERY case
open on that date is known (`truth/offenders.csv`), so the same scoring can be
checked twice:

- the estimate, as the nightly does it: links known tonight, confirmed cases
  only, weighted (and the same unweighted, to see what the weights do);
- the truth: every scored case with its true participants as "links now",
  unweighted, so a case whose true person was not a candidate is a miss, exactly
  as the back-test counts a case solved to a person who was not a candidate.

`backtest_vs_truth` returns the three side by side per horizon and pooled over
the horizons, with the differences (estimate - truth) and, per figure, how much
closer to the truth the weighting brings the estimate. Reads only.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date

import numpy as np
import polars as pl

from gjenganger.analytics import attribution_backtest as bt
from gjenganger.analytics.attribution_targets import BAND_FROM, BAND_MIN_N
from gjenganger.store import frames

#: the figures compared (worst_band_gap: bands of width 0.1 from 0.2 up that
#: hold at least 30 hypotheses, as issue 14 item 3 judges them)
FIGURES = (
    "hit_at_1",
    "hit_at_5",
    "precision_p_ge_0_5",
    "ece",
    "worst_band_gap",
    "brier_skill_rank1",
)
COUNTS = (
    "cases_scored",
    "cases_confirmed",
    "cases_confirmed_person_among_candidates",
    "hypotheses",
    "hypotheses_p_ge_0_5",
)
KINDS = ("estimate", "estimate_unweighted", "truth")


def truth_links(truth: pl.DataFrame, cases: pl.DataFrame) -> pl.DataFrame:
    """ "Links now" from generator truth, in the shape `bt.evaluate` reads
    (incident_id, person_id as strings, one row per true participant): every
    scored case's true persons. No retraction: the truth is not revised."""
    ids = cases["incident_id"].cast(pl.String).implode()
    return (
        truth.select(
            pl.col("incident_id").cast(pl.String), pl.col("person_id").cast(pl.String)
        )
        .filter(pl.col("incident_id").is_in(ids))
        .unique()
        .sort("incident_id", "person_id")
    )


def unweighted(test: bt.Backtest) -> bt.Backtest:
    """`test` with every confirmed case weighted 1 (summary and bands recomputed):
    the back-test without its correction for which cases get solved."""
    cases = test.cases.with_columns(pl.lit(1.0).alias("weight"))
    rows = test.rows.with_columns(pl.lit(1.0).alias("weight"))
    summary, bands = bt.figures(cases, rows)
    summary = {
        "past_date": test.summary.get("past_date"),
        "cases_scored": test.summary.get("cases_scored"),
        **summary,
    }
    return replace(test, summary=summary, bands=bands, rows=rows, cases=cases)


def worst_band(bands: pl.DataFrame) -> tuple[str | None, float | None]:
    """The band (from 0.2 up, at least 30 hypotheses) whose share confirmed is
    farthest from its mean p, and that gap; (None, None) when no band qualifies."""
    if bands.height == 0 or "band_lo" not in bands.columns:
        return None, None
    judged = bands.filter(
        (pl.col("band_lo") >= BAND_FROM - 1e-9) & (pl.col("n") >= BAND_MIN_N)
    ).with_columns((pl.col("share_confirmed") - pl.col("mean_p")).abs().alias("gap"))
    if judged.height == 0:
        return None, None
    top = judged.sort("gap", descending=True).row(0, named=True)
    return f"{top['band_lo']:.1f}-{top['band_hi']:.1f}", round(float(top["gap"]), 4)


def summarise(summary: dict, bands: pl.DataFrame) -> dict:
    """The compared figures and their counts of one evaluation."""
    band, gap = worst_band(bands)
    out = {k: summary.get(k) for k in COUNTS}
    out |= {k: summary.get(k) for k in FIGURES if k != "worst_band_gap"}
    return out | {"worst_band": band, "worst_band_gap": gap}


def _effective(w: np.ndarray) -> float:
    """Kish's effective number of weighted observations: (sum w)^2 / sum w^2."""
    return float(w.sum() ** 2 / (w**2).sum()) if len(w) and (w**2).sum() > 0 else 0.0


def sampling_error(tests: list[bt.Backtest], summary: dict) -> dict:
    """The effective number of confirmed cases behind the weighted figures and
    the binomial standard errors of hit@1, hit@5 (over cases) and precision at
    p >= 0.5 (over those hypotheses): whether a gap from the truth is more than
    the chance of which few cases happened to be solved."""
    w = np.concatenate([t.cases["weight"].to_numpy() for t in tests])
    hi = pl.concat([t.rows for t in tests]).filter(
        (pl.col("rank") <= 5) & (pl.col("p") >= 0.5)
    )
    n_case, n_hi = _effective(w), _effective(hi["weight"].to_numpy())

    def se(key: str, n: float):
        v = summary.get(key)
        return (
            None if v is None or n <= 0 else round(float(np.sqrt(v * (1 - v) / n)), 4)
        )

    return {
        "cases_effective": round(n_case, 1),
        "se": {
            "hit_at_1": se("hit_at_1", n_case),
            "hit_at_5": se("hit_at_5", n_case),
            "precision_p_ge_0_5": se("precision_p_ge_0_5", n_hi),
        },
    }


def _minus(a, b):
    return None if a is None or b is None else round(float(a) - float(b), 4)


def _closer(weighted, plain, truth):
    """How much closer to the truth the weighting brings a figure (|unweighted -
    truth| - |weighted - truth|; above 0: the correction helps)."""
    if weighted is None or plain is None or truth is None:
        return None
    return round(abs(float(plain) - truth) - abs(float(weighted) - truth), 4)


def compare(est: dict, plain: dict, truth: dict) -> dict:
    """Side by side: the estimate, the same unweighted, the truth; per figure the
    differences from the truth and what the weighting gains; the estimate's gap
    in its standard errors where it has one (`sampling_error`)."""
    ses = est.get("se", {})
    return {
        "estimate": est,
        "estimate_unweighted": plain,
        "truth": truth,
        "difference": {k: _minus(est.get(k), truth.get(k)) for k in FIGURES},
        "difference_unweighted": {
            k: _minus(plain.get(k), truth.get(k)) for k in FIGURES
        },
        "correction_gain": {
            k: _closer(est.get(k), plain.get(k), truth.get(k)) for k in FIGURES
        },
        "difference_in_se": {
            k: round(d / ses[k], 2)
            for k in ses
            if ses[k] and (d := _minus(est.get(k), truth.get(k))) is not None
        },
    }


def evaluate_horizon(
    past: date,
    cases: pl.DataFrame,
    candidates: pl.DataFrame,
    links_now: pl.DataFrame,
    truth: pl.DataFrame,
) -> tuple[dict, tuple[bt.Backtest, bt.Backtest, bt.Backtest]]:
    """One past date's scoring evaluated three ways (estimate, unweighted, truth):
    the comparison and the three `Backtest`s (to pool over horizons)."""
    est = bt.evaluate(past, cases, candidates, links_now)
    plain = unweighted(est)
    true_links = truth_links(truth, cases)
    tru = unweighted(bt.evaluate(past, cases, candidates, true_links))
    tests = (est, plain, tru)
    sums = [summarise(t.summary, t.bands) for t in tests]
    sums[0] |= sampling_error([est], sums[0])
    sums[1] |= sampling_error([plain], sums[1])
    report = {
        "past_date": past.isoformat(),
        "cases_without_truth": cases.height - true_links["incident_id"].n_unique(),
        **compare(*sums),
    }
    return report, tests


def pooled(tests: list[tuple[bt.Backtest, bt.Backtest, bt.Backtest]]) -> dict:
    """The comparison over every horizon together (a case open on two dates
    counts twice: two predictions)."""
    sums = []
    for k in range(len(KINDS)):
        result = bt.pooled_figures([t[k] for t in tests])
        if result is None:
            sums.append({"cases_confirmed": 0})
            continue
        summary, bands = result
        summary["cases_scored"] = sum(t[k].summary["cases_scored"] for t in tests)
        one = summarise(summary, bands)
        if KINDS[k] != "truth":
            one |= sampling_error([t[k] for t in tests], one)
        sums.append(one)
    return compare(*sums)


def past_scorings(
    con,
    day: date,
    *,
    horizons: tuple[int, ...] = bt.HORIZONS,
    window_days: int = 365,
    seed: int = 0,
):
    """Per back-test date of `day` (the nightly's dates and rule, `bt.backtest_dates`):
    (horizon, past date, (cases, candidates) scored with the data known then or
    None when the date is not inside the data, seconds). Uncached: evaluations
    score afresh, the nightly step keeps its scorings."""
    first, _ = frames.data_date_range(con)
    for horizon, past, inside in bt.backtest_dates(day, first, horizons):
        if not inside:
            yield horizon, past, None, 0.0
            continue
        t0 = time.perf_counter()
        scored = bt.score_past(
            *frames.known_on(con, past), past, window_days=window_days, seed=seed
        )
        yield horizon, past, scored, round(time.perf_counter() - t0, 2)


def backtest_vs_truth(
    con,
    truth: pl.DataFrame,
    as_of: date | None = None,
    *,
    horizons: tuple[int, ...] = bt.HORIZONS,
    window_days: int = 365,
    seed: int = 0,
) -> dict:
    """How far the nightly back-test's estimate is from the truth on this world.

    Per horizon the open cases as they stood on the back-test date (`bt.past_date`)
    are scored once with the data known then (`bt.score_past`), then evaluated as
    the nightly does (tonight's links, weighted), the same unweighted, and against
    `truth` (incident_id, person_id: `read_truth`) for every scored case. Returns
    per horizon and pooled: the three summaries, estimate - truth per figure, and
    what the weighting gains. A horizon whose date precedes the data is skipped.
    """
    day = frames.resolve_as_of(con, as_of)
    links_now = frames.load_links(con, day)
    report: dict = {"as_of": day.isoformat(), "window_days": window_days}
    tests = []
    for horizon, past, scored, seconds in past_scorings(
        con, day, horizons=horizons, window_days=window_days, seed=seed
    ):
        if scored is None:
            report[f"{horizon}d"] = {
                "past_date": past.isoformat(),
                "skipped": "no data",
            }
            continue
        cases, cand = scored
        one, three = evaluate_horizon(past, cases, cand, links_now, truth)
        report[f"{horizon}d"] = {**one, "score_seconds": seconds}
        tests.append(three)
    if tests:
        report["pooled"] = pooled(tests)
    return report


def _cell(v, sign: str = "", se=None) -> str:
    if v is None:
        return "-"
    return f"{v:{sign}.3f}" + (f" ± {se:.3f}" if se else "")


def comparison_lines(report: dict) -> list[str]:
    """Markdown lines: per horizon (and pooled) each figure as estimated by the
    back-test (± its standard error), unweighted, and true, with estimate - truth;
    then the confirmed cases behind each (effective number in brackets)."""
    lines = [
        "| horizon | figure | estimate | unweighted | truth | estimate - truth |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, part in report.items():
        if not isinstance(part, dict) or "truth" not in part:
            continue
        est, plain, truth = (part[k] for k in KINDS)
        for fig in FIGURES:
            lines.append(
                f"| {key} | {fig} | "
                f"{_cell(est.get(fig), se=est.get('se', {}).get(fig))} | "
                f"{_cell(plain.get(fig))} | {_cell(truth.get(fig))} | "
                f"{_cell(part['difference'][fig], '+')} |"
            )
        lines.append(
            f"| {key} | cases confirmed | {est.get('cases_confirmed')} "
            f"({est.get('cases_effective', '-')}) | {plain.get('cases_confirmed')} | "
            f"{truth.get('cases_confirmed')} | |"
        )
    return lines

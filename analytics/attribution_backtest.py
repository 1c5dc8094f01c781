"""The back-test: how attribution did on cases that were open and were solved since.

On a past date D the model scored the open cases with the data known then
(`score_past`); tonight's links say who did the cases solved since. That is the
only truth a force's own data offers, and this module scores it (`evaluate`):
hit@1, hit@5, a reliability table (p bands against the share confirmed), ECE,
precision at p >= 0.5 and the Brier skill of the rank-1 p, with counts.

Cases solved later are not a random sample of the open ones: a fresh shop theft
is solved far more often than a year-old burglary. Each confirmed case is weighted
by the inverse of the solve probability of its stratum (offence group, area,
case age on D; `solve_weights`), so the figures describe the open cases as a
whole as far as those strata go. What the weights cannot see stays: cases of
persons who are seldom caught are solved less often whatever their stratum.

`recalibration` fits stage 2 on the confirmed outcomes
(`attribution_calibration.fit_recalibration`: the temperature on them, the share of
"none" kept at the model's over every case open then, `population`), and
`summarise` says how the recalibrated p would have done, fitted on one half of the
cases and scored on the other. Pure functions: frames in, frames and dicts out.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from gjenganger.analytics.attribution_calibration import (
    MIN_CONFIRMED,
    Recalibration,
    fit_recalibration,
    log_odds,
)

#: the horizons of the nightly back-test, days before the as-of date
HORIZONS = (90, 180)
#: reliability bands of p (width 0.1)
BANDS = np.round(np.arange(0.0, 1.01, 0.1), 1)
#: strata: a stratum's solve probability is shrunk toward the overall one with
#: this many pseudo-cases, and no weight exceeds `MAX_WEIGHT` times the mean
PSEUDO_CASES = 20.0
MAX_WEIGHT = 10.0
#: case age on the past date (days since reported): band edges
AGE_EDGES = (14, 60)
CASE_COLUMNS = ("incident_id", "p_none", "offence_group", "area", "age_days")
#: a past date scores at most this many open cases, a fixed sample by id
#: (`attribution_context.sample_by_hash`): at national scale (~370,000 open cases)
#: all of them cost 95 s a date; the sample still holds ~350 later-solved cases
MAX_OPEN_CASES = 30_000


def past_date(as_of: date, horizon_days: int) -> date:
    """The back-test date for `horizon_days` before `as_of`: the first of the month
    at or before it, so a month of nights share one scoring (and its cache)."""
    d = as_of - timedelta(days=horizon_days)
    return d.replace(day=1)


def is_past_date(day: date) -> bool:
    """Whether a later back-test scores the open cases as they stood on `day`
    (`past_date` gives firsts of months): the night of that day records its own
    scoring for it."""
    return day.day == 1


def upcoming_dates(
    as_of: date, first_report: date | None, horizons: tuple[int, ...] = HORIZONS
) -> list[date]:
    """The past dates later nights' back-tests will move to that no later night
    can record (they are before `as_of`): every first of a month after the
    earliest of tonight's back-test dates and before `as_of`, less tonight's own
    dates and any on or before the first report day."""
    current = {past_date(as_of, h) for h in horizons}
    out, d = [], min(current)
    while True:
        d = (d + timedelta(days=32)).replace(day=1)
        if d >= as_of:
            return out
        if d not in current and first_report is not None and d > first_report:
            out.append(d)


def backtest_dates(
    as_of: date, first_report: date | None, horizons: tuple[int, ...] = HORIZONS
) -> list[tuple[int, date, bool]]:
    """(horizon, past date, inside the data?) per horizon: a past date on or before
    the first report day has nothing open to score (`first_report` None: no data)."""
    out = []
    for horizon in horizons:
        past = past_date(as_of, horizon)
        out.append((horizon, past, first_report is not None and past > first_report))
    return out


def case_strata(
    incidents: pl.DataFrame, cases: pl.DataFrame, day: date
) -> pl.DataFrame:
    """The scored `cases` (incident_id, p_none) with what their solve probability
    is stratified by: offence group, area (municipality) and age on `day`."""
    end = pl.lit(day + timedelta(days=1)).cast(pl.Datetime("us"))
    info = incidents.select(
        "incident_id",
        pl.col("offence_group").cast(pl.String).fill_null("?"),
        pl.col("municipality_no").cast(pl.String).fill_null("?").alias("area"),
        ((end - pl.col("reported_at")).dt.total_days()).alias("age_days"),
    )
    return cases.select("incident_id", "p_none").join(
        info, on="incident_id", how="left"
    )


def _age_band(age: pl.Expr) -> pl.Expr:
    lo, hi = AGE_EDGES
    return (
        pl.when(age <= lo).then(pl.lit("new")).when(age <= hi).then(pl.lit("mid"))
    ).otherwise(pl.lit("old"))


def solve_weights(cases: pl.DataFrame, confirmed: pl.Series) -> pl.Series:
    """Inverse solve probability per case (`cases` with offence_group, area,
    age_days; `confirmed` marks those linked since), normalised to mean 1 over the
    confirmed cases and clipped at `MAX_WEIGHT`.

    P(solved | stratum) is the stratum's share of confirmed cases, shrunk toward
    the overall share with `PSEUDO_CASES` pseudo-cases; strata are offence group x
    age band, and area within it when that stratum holds enough cases.
    """
    frame = cases.with_columns(
        confirmed.cast(pl.Float64).alias("_y"),
        _age_band(pl.col("age_days")).alias("_age"),
    )
    overall = float(frame["_y"].mean() or 0.0)
    if overall == 0.0:
        return pl.Series("weight", np.ones(cases.height))

    def shrunk(keys: list[str], prior: pl.Expr) -> pl.Expr:
        n = pl.len().over(keys)
        k = pl.col("_y").sum().over(keys)
        return (k + PSEUDO_CASES * prior) / (n + PSEUDO_CASES)

    p_group = shrunk(["offence_group", "_age"], pl.lit(overall))
    frame = frame.with_columns(p_group.alias("_pg"))
    frame = frame.with_columns(
        shrunk(["offence_group", "_age", "area"], pl.col("_pg")).alias("_p")
    )
    w = (1.0 / frame["_p"].clip(1e-6, None)).to_numpy()
    y = frame["_y"].to_numpy() > 0
    w = w / w[y].mean()
    return pl.Series("weight", np.minimum(w, MAX_WEIGHT))


@dataclass
class Backtest:
    """One past date's back-test: figures, reliability bands and the rows behind."""

    past_date: date
    summary: dict  # counts and figures (see `evaluate`)
    bands: pl.DataFrame  # band_lo, band_hi, n, mean_p, share_confirmed
    rows: pl.DataFrame  # every candidate row of the confirmed cases, with y, weight
    cases: pl.DataFrame  # confirmed cases: incident_id, p_none, weight
    # every case scored on the past date, confirmed or not: (log-odds per row,
    # row -> case, cases), what the recalibration keeps the share of "none" over
    population: tuple[np.ndarray, np.ndarray, int] | None = None


def _truth(
    cases: pl.DataFrame, candidates: pl.DataFrame, links_now: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(confirmed cases with weight, their candidate rows with y = linked since)."""
    linked = links_now.select("incident_id", "person_id").unique()
    solved = linked.select("incident_id").unique()
    confirmed = cases["incident_id"].is_in(solved["incident_id"].implode())
    w = solve_weights(cases, confirmed)
    conf = cases.with_columns(w).filter(confirmed)
    rows = (
        candidates.select("incident_id", "person_id", "p", "rank")
        .join(conf.select("incident_id", "p_none", "weight"), on="incident_id")
        .join(
            linked.with_columns(pl.lit(True).alias("y")),
            on=["incident_id", "person_id"],
            how="left",
        )
        .with_columns(pl.col("y").fill_null(False))
        .sort("incident_id", "rank")
    )
    return conf, rows


def reliability(rows: pl.DataFrame, max_rank: int = 5) -> pl.DataFrame:
    """p bands of width 0.1 against the (weighted) share confirmed, over the
    hypotheses (candidate rows up to `max_rank`): band_lo, band_hi, n (rows),
    mean_p, share_confirmed."""
    hyp = rows.filter(pl.col("rank") <= max_rank).with_columns(
        (pl.col("p") * 10).floor().clip(0, 9).cast(pl.Int32).alias("_b")
    )
    out = (
        hyp.group_by("_b")
        .agg(
            pl.len().alias("n"),
            ((pl.col("p") * pl.col("weight")).sum() / pl.col("weight").sum()).alias(
                "mean_p"
            ),
            (
                (pl.col("y").cast(pl.Float64) * pl.col("weight")).sum()
                / pl.col("weight").sum()
            ).alias("share_confirmed"),
            pl.col("weight").sum().alias("_w"),
        )
        .sort("_b")
    )
    return out.select(
        (pl.col("_b") / 10).round(1).alias("band_lo"),
        ((pl.col("_b") + 1) / 10).round(1).alias("band_hi"),
        pl.col("n").cast(pl.Int64),
        "mean_p",
        "share_confirmed",
        "_w",
    )


def figures(conf: pl.DataFrame, rows: pl.DataFrame) -> tuple[dict, pl.DataFrame]:
    """hit@1, hit@5, ECE, precision at p >= 0.5 and Brier skill (all weighted by
    the solve weights), with counts, and the reliability bands."""
    n = conf.height
    bands = reliability(rows)
    if n == 0:
        return {"cases_confirmed": 0}, bands.drop("_w")
    w = conf["weight"].to_numpy()
    top = (
        conf.select("incident_id", "weight")
        .join(
            rows.filter(pl.col("rank") == 1).select("incident_id", "p", "y"),
            on="incident_id",
            how="left",
        )
        .with_columns(pl.col("p").fill_null(0.0), pl.col("y").fill_null(False))
        .sort("incident_id")
    )
    hit5 = (
        rows.filter(pl.col("rank") <= 5).group_by("incident_id").agg(pl.col("y").any())
    )
    hit5 = conf.select("incident_id").join(hit5, on="incident_id", how="left")
    hit5 = hit5.sort("incident_id")["y"].fill_null(False).to_numpy()
    conf_sorted = conf.sort("incident_id")["weight"].to_numpy()
    y1 = top["y"].to_numpy().astype(float)
    p1 = top["p"].to_numpy()
    w1 = top["weight"].to_numpy()
    base = np.average(y1, weights=w1)
    brier = np.average((p1 - y1) ** 2, weights=w1)
    brier_const = np.average((base - y1) ** 2, weights=w1)
    hyp = rows.filter(pl.col("rank") <= 5)
    hi = hyp.filter(pl.col("p") >= 0.5)
    total_w = float(bands["_w"].sum()) or 1.0
    ece = float(
        ((bands["mean_p"] - bands["share_confirmed"]).abs() * bands["_w"]).sum()
        / total_w
    )
    summary = {
        "cases_confirmed": n,
        "cases_confirmed_person_among_candidates": int(
            rows.filter(pl.col("y"))["incident_id"].n_unique()
        ),
        "hit_at_1": round(float(np.average(y1, weights=w1)), 4),
        "hit_at_5": round(float(np.average(hit5, weights=conf_sorted)), 4),
        "hit_at_1_unweighted": round(float(y1.mean()), 4),
        "ece": round(ece, 4),
        "hypotheses": hyp.height,
        "hypotheses_p_ge_0_5": hi.height,
        "precision_p_ge_0_5": (
            round(float(np.average(hi["y"].to_numpy(), weights=hi["weight"])), 4)
            if hi.height
            else None
        ),
        "brier_rank1": round(float(brier), 5),
        "brier_skill_rank1": (
            round(float(1 - brier / brier_const), 4) if brier_const > 0 else None
        ),
        "mean_weight_range": [round(float(w.min()), 3), round(float(w.max()), 3)],
    }
    return summary, bands.drop("_w")


def evaluate(
    past: date,
    cases: pl.DataFrame,
    candidates: pl.DataFrame,
    links_now: pl.DataFrame,
) -> Backtest:
    """Score what the model said on `past` against the links known now.

    `cases`: every case scored on `past` (incident_id, p_none, offence_group, area,
    age_days: `case_strata`); `candidates`: every candidate row then (incident_id,
    person_id, p, rank; all ranks, so the distribution can be recalibrated);
    `links_now`: tonight's links (incident_id, person_id). A case is confirmed when
    it has a link now (it had none on `past`, being open); only confirmed cases
    are the denominator, weighted by `solve_weights`.
    """
    conf, rows = _truth(cases, candidates, links_now)
    summary, bands = figures(conf, rows)
    summary = {
        "past_date": past.isoformat(),
        "cases_scored": cases.height,
        **summary,
    }
    return Backtest(
        past,
        summary,
        bands,
        rows,
        conf.select("incident_id", "p_none", "weight"),
        population(cases, candidates),
    )


def population(
    cases: pl.DataFrame, candidates: pl.DataFrame
) -> tuple[np.ndarray, np.ndarray, int]:
    """(log-odds per candidate row, row -> case, number of cases) of every case
    scored on a past date (`attribution_calibration.log_odds`)."""
    rc, pn = _index(candidates.select("incident_id", "p"), cases)
    ok = rc >= 0
    p = candidates["p"].to_numpy()[ok]
    return log_odds(p, pn, rc[ok]), rc[ok], cases.height


def _pooled_population(tests: list[Backtest]) -> tuple[np.ndarray, np.ndarray, int]:
    """Every back-test's population as one (case numbers offset per date)."""
    zs, rcs, n = [], [], 0
    for t in tests:
        if t.population is None:
            continue
        z, rc, k = t.population
        zs.append(z)
        rcs.append(rc + n)
        n += k
    if not zs:
        return np.zeros(0), np.zeros(0, np.int64), 0
    return np.concatenate(zs), np.concatenate(rcs), n


def _index(rows: pl.DataFrame, conf: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per row the position of its case in `conf` (row_case), and per case its
    p_none."""
    pos = conf.select("incident_id").with_row_index("_c")
    rc = rows.select("incident_id").join(pos, on="incident_id", how="left")["_c"]
    return rc.to_numpy().astype(np.int64), conf["p_none"].to_numpy()


def _pooled(tests: list[Backtest]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every back-test's confirmed cases and rows as one set (a case confirmed at
    two dates counts twice: two predictions)."""
    conf = pl.concat(
        [t.cases.with_columns(pl.lit(i).alias("_t")) for i, t in enumerate(tests)]
    ).with_columns(pl.concat_str("_t", pl.lit(":"), "incident_id").alias("incident_id"))
    rows = pl.concat(
        [t.rows.with_columns(pl.lit(i).alias("_t")) for i, t in enumerate(tests)]
    ).with_columns(pl.concat_str("_t", pl.lit(":"), "incident_id").alias("incident_id"))
    return conf.drop("_t"), rows.drop("_t")


def _fit(
    conf: pl.DataFrame,
    rows: pl.DataFrame,
    min_confirmed: int,
    pop: tuple[np.ndarray, np.ndarray, int] | None = None,
) -> Recalibration:
    rc, pn = _index(rows, conf)
    return fit_recalibration(
        rows["p"].to_numpy(),
        pn,
        rc,
        conf.height,
        rows["y"].to_numpy(),
        conf["weight"].to_numpy(),
        min_confirmed,
        pop if pop is not None and pop[2] > 0 else None,
    )


def recalibration(
    tests: list[Backtest], min_confirmed: int = MIN_CONFIRMED
) -> Recalibration:
    """Stage 2 fitted on every back-test's confirmed outcomes (pooled); p left
    as it is when no back-test date had data (`Recalibration.unchecked`).

    A fit is used only when it would have done better on cases it was not fitted
    on (`crossfit`, by the weighted log-likelihood of the answers): two
    parameters fitted on a few hundred cases can do worse than none, and then the
    model's own p is kept (status 'kept').
    """
    return summarise(tests, min_confirmed)[0]


def summarise(
    tests: list[Backtest], min_confirmed: int = MIN_CONFIRMED
) -> tuple[Recalibration, tuple | None, tuple | None]:
    """(the `recalibration`; the figures and bands (`figures`) of the model's own
    p over every back-test's confirmed cases; those of p as applied tonight,
    measured on cases it was not fitted on: `crossfit`, or the model's own p
    when the recalibration keeps it). The cases are pooled and cross-fitted
    once; the figures are None without confirmed cases."""
    if not tests:
        return Recalibration.unchecked(), None, None
    if sum(t.cases.height for t in tests) == 0:
        return Recalibration(None, 0.0, 0), None, None
    conf, rows = _pooled(tests)
    pop = _pooled_population(tests)
    raw = figures(conf, rows)
    recal = _fit(conf, rows, min_confirmed, pop)
    if recal.status == "kept":
        return recal, raw, (dict(raw[0]), raw[1])
    crossed = crossfit(conf, rows, min_confirmed, pop)
    if recal.status == "calibrated" and answer_nll(*crossed) >= answer_nll(conf, rows):
        return Recalibration(None, 1.0, recal.n_confirmed), raw, (dict(raw[0]), raw[1])
    return recal, raw, figures(*crossed)


def answer_nll(conf: pl.DataFrame, rows: pl.DataFrame) -> float:
    """Weighted mean of -log P(the answer) over the confirmed cases: the p of the
    persons linked since, or p_none when none of them was a candidate."""
    p_true = rows.filter(pl.col("y")).group_by("incident_id").agg(pl.col("p").sum())
    per_case = conf.join(p_true, on="incident_id", how="left").with_columns(
        pl.coalesce("p", "p_none").clip(1e-9, 1.0).log().neg().alias("_nll")
    )
    w = per_case["weight"].to_numpy()
    return float(np.average(per_case["_nll"].to_numpy(), weights=w))


def recalibrate_rows(
    rows: pl.DataFrame, conf: pl.DataFrame, recal: Recalibration
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`rows` and `conf` with p and p_none recalibrated (rank unchanged)."""
    rc, pn = _index(rows, conf)
    p, pn2 = recal.apply(rows["p"].to_numpy(), pn, rc, conf.height)
    return rows.with_columns(pl.Series("p", p)), conf.with_columns(
        pl.Series("p_none", pn2)
    )


def _half(ids: pl.Series) -> np.ndarray:
    """A fixed half of the cases by id (crc32 of the id without the test prefix)."""
    return np.array(
        [zlib.crc32(i.split(":", 1)[-1].encode()) % 2 for i in ids.to_list()]
    )


def crossfit(
    conf: pl.DataFrame,
    rows: pl.DataFrame,
    min_confirmed: int = MIN_CONFIRMED,
    pop: tuple[np.ndarray, np.ndarray, int] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`conf` and `rows` recalibrated out of sample: two halves of the confirmed
    cases (by id), each with the recalibration fitted on the other."""
    half = pl.Series(_half(conf["incident_id"]))
    parts_c, parts_r = [], []
    for k in (0, 1):
        ids_k = conf.filter(half == k)["incident_id"].implode()
        ids_o = conf.filter(half != k)["incident_id"].implode()
        fit_c = conf.filter(pl.col("incident_id").is_in(ids_o))
        fit_r = rows.filter(pl.col("incident_id").is_in(ids_o))
        rec = (
            _fit(fit_c, fit_r, min_confirmed, pop)
            if fit_c.height
            else Recalibration(None, 0.0, 0)
        )
        c_k = conf.filter(pl.col("incident_id").is_in(ids_k))
        r_k = rows.filter(pl.col("incident_id").is_in(ids_k))
        r_k, c_k = recalibrate_rows(r_k, c_k, rec)
        parts_c.append(c_k)
        parts_r.append(r_k)
    return pl.concat(parts_c), pl.concat(parts_r)


def score_past(
    incidents: pl.DataFrame,
    links: pl.DataFrame,
    custody: pl.DataFrame | None,
    past: date,
    *,
    window_days: int = 365,
    seed: int = 0,
    workers: int = 2,
    max_open_cases: int | None = MAX_OPEN_CASES,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What the model said on `past`, from the frames as known then: (cases with
    their strata, `case_strata`; every candidate row: incident_id, person_id, p,
    rank). The raw model, never recalibrated: that is what the back-test measures.
    Beyond `max_open_cases` open cases, a fixed uniform sample of them is scored.
    """
    from gjenganger.analytics.attribution import attribute

    run = attribute(
        incidents,
        links,
        custody,
        past,
        window_days=window_days,
        seed=seed,
        why=False,
        workers=workers,
        max_open_cases=max_open_cases,
    )
    return scoring_frames(incidents, run.model, past)


def scoring_frames(
    incidents: pl.DataFrame, att, day: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A scoring of `day` as the back-test stores it, from an attribution `att`
    (`attribution_results.Attribution`): its cases with their strata
    (`case_strata`) and every candidate row (incident_id, person_id, p, rank)."""
    cand = att.candidates.select(
        "incident_id", "person_id", "p", pl.col("rank").cast(pl.Int32)
    )
    return case_strata(incidents, att.cases, day), cand


def pooled_figures(tests: list[Backtest]) -> tuple[dict, pl.DataFrame] | None:
    """The figures and bands of every back-test's confirmed cases together (the
    model as it was); None without confirmed cases."""
    if not tests or sum(t.cases.height for t in tests) == 0:
        return None
    return figures(*_pooled(tests))

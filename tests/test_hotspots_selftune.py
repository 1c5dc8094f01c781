"""The nightly hotspot back-test (`analytics.selftune`): it picks what a toy world
with a known answer favours, scores ties fairly, computes the same forecasts as
the published map, and is stored and stated by the nightly step."""

from __future__ import annotations

import datetime as dt
import html
import json

import numpy as np
import polars as pl
import pytest

from gjenganger.analytics import hotspots as hs
from gjenganger.analytics import selftune as st
from gjenganger.analytics.geo import to_wgs84

AS_OF = dt.date(2025, 9, 30)
DAYS = 600
X0, Y0, SIZE = 560_000.0, 7_030_000.0, 10_000.0  # a 10 km box near Trondheim


def frame(x, y, t, *, start=AS_OF - dt.timedelta(days=DAYS - 1)) -> pl.DataFrame:
    """Incidents at x, y (EPSG:25833) at day offsets t from `start`, windows of
    an hour, reported two hours after; shaped like `store.load_incidents`."""
    lat, lon = to_wgs84(np.asarray(x), np.asarray(y))
    t0 = np.datetime64(start, "us") + (np.asarray(t) * 86_400e6).astype(
        "timedelta64[us]"
    )
    n = len(t0)
    return pl.DataFrame(
        {
            "target_type": ["business"] * n,
            "lat": lat,
            "lon": lon,
            "occurred_from": t0,
            "occurred_to": t0 + np.timedelta64(1, "h"),
            "reported_at": t0 + np.timedelta64(3, "h"),
        }
    ).with_columns(
        pl.col("occurred_from", "occurred_to", "reported_at").cast(pl.Datetime("us"))
    )


def stable_world(seed: int = 1) -> pl.DataFrame:
    """Ten fixed hotspots (200 m spread) hold 70 % of ~8 incidents a day, the
    rest fall uniformly: the long-run count is the best forecast."""
    rng = np.random.default_rng(seed)
    n = 8 * DAYS
    centres = rng.uniform(1000, SIZE - 1000, (10, 2))
    hot = rng.random(n) < 0.7
    c = centres[rng.integers(0, 10, n)]
    x = np.where(hot, c[:, 0] + rng.normal(0, 200, n), rng.uniform(0, SIZE, n))
    y = np.where(hot, c[:, 1] + rng.normal(0, 200, n), rng.uniform(0, SIZE, n))
    return frame(X0 + x, Y0 + y, rng.uniform(0, DAYS, n))


def burst_world(seed: int = 2) -> pl.DataFrame:
    """No lasting hotspots: a new burst every day at a random place, each about
    twelve incidents within ~100 m over a couple of weeks (exponential gaps,
    mean 6 days), over a uniform background of 2 a day: only recent
    incidents tell where the next month's fall."""
    rng = np.random.default_rng(seed)
    starts = np.arange(DAYS, dtype=float)
    where = rng.uniform(500, SIZE - 500, (DAYS, 2))
    size = rng.poisson(12, DAYS)
    b = np.repeat(np.arange(DAYS), size)
    t = starts[b] + rng.exponential(6, b.size)
    x = where[b, 0] + rng.normal(0, 100, b.size)
    y = where[b, 1] + rng.normal(0, 100, b.size)
    nb = 2 * DAYS
    x = np.concatenate([x, rng.uniform(0, SIZE, nb)])
    y = np.concatenate([y, rng.uniform(0, SIZE, nb)])
    t = np.concatenate([t, rng.uniform(0, DAYS, nb)])
    keep = t < DAYS
    return frame(X0 + x[keep], Y0 + y[keep], t[keep])


def backtest_of(incidents: pl.DataFrame) -> pl.DataFrame:
    prepared = hs.prepare(incidents)
    grid, mask = hs.study_grid(prepared)
    end = int(hs._end_day(AS_OF))
    return st.backtest(prepared, grid, mask, end, {hs.ALL: None})


def test_a_world_of_stable_hotspots_is_forecast_by_the_long_run_count():
    table = backtest_of(stable_world())
    best = table.row(0, named=True)
    assert best["method"] == "kde" and best["rank"] == 1
    assert json.loads(best["settings"])["window_days"] >= 182
    base = table.filter(pl.col("method") == "baseline")["pai"][0]
    assert best["pai"] > 1.1 * base
    assert best["months"] == st.MONTHS


def test_a_world_of_short_near_repeat_bursts_is_forecast_by_a_near_repeat_method():
    table = backtest_of(burst_world())
    best = table.row(0, named=True)
    assert best["method"] in ("nearrepeat", "prospective")
    assert best["z"] >= st.Z_MIN  # it beat the long-run count month after month
    longrun = table.filter(
        (pl.col("method") == "kde")
        & (pl.col("settings") == json.dumps(st.REFERENCE.settings()))
    )["pai"][0]
    assert best["pai"] > 1.2 * longrun


def test_ties_at_the_threshold_count_at_their_mean():
    # two cells marked of six; forecast A: one clear top cell, then a tie of three
    forecast = np.array([[5.0, 1.0, 1.0, 1.0, 0.0, 0.0], [0, 0, 0, 0, 0, 0.0]])
    actual = np.array([2.0, 3.0, 0.0, 0.0, 1.0, 0.0])
    hit, best, _ = st.top_share_hits(forecast, actual, k=2)
    assert best == 5.0
    assert hit[0] == pytest.approx(2.0 + 1 * 3.0 / 3)  # the top cell + 1/3 of ties
    assert hit[1] == pytest.approx(2 * 6.0 / 6)  # all tied: 2 of 6 cells at random


def test_a_zero_forecast_ties_with_cells_no_forecast_touches():
    # k exceeds the cells any forecast or incident touches: the rest are zero ties
    forecast = np.zeros((1, 1000))
    forecast[0, 0] = 1.0
    actual = np.zeros(1000)
    actual[[0, 1]] = 1.0
    hit, _, _ = st.top_share_hits(forecast, actual, k=50)
    assert hit[0] == pytest.approx(1.0 + 49 * 1.0 / 999)


@pytest.mark.parametrize("i", range(len(st.CANDIDATES)))
def test_the_back_test_forecasts_what_the_published_map_forecasts(i):
    """Each candidate's back-test surface (cached daily counts) has the shape of
    `hotspots.forecast` with the candidate's parameters (from points)."""
    c = st.CANDIDATES[i]
    prepared = hs.prepare(burst_world(seed=5))
    grid, mask = hs.study_grid(prepared)
    end = int(hs._end_day(AS_OF)) - 40
    known = prepared.filter(pl.col("tr") < end)
    counts = st.DayCounts.build(grid, prepared, end - 400, end + 28)
    ours = st.forecasts(counts, end, mask, (c,))[0]
    as_of = AS_OF - dt.timedelta(days=40)
    params = hs.with_params(hs.Params(), **c.params())
    theirs = hs.forecast(params.method, grid, mask, known, as_of, params)[mask]
    assert ours.sum() > 0
    np.testing.assert_allclose(ours / ours.sum(), theirs / theirs.sum(), atol=1e-9)


def _scores(gain: float, total: float, discord: float) -> pl.DataFrame:
    """Six months where candidate 1 catches `gain` more than the reference (0)
    every month, with `discord` incidents where their cells differ."""
    ref = st.CANDIDATES.index(st.REFERENCE)
    other = next(i for i in range(len(st.CANDIDATES)) if i != ref)
    rows = []
    for m in range(6):
        wobble = 0.01 * gain * (m % 3)  # not exactly constant: a finite std
        for cand, extra, disc in ((ref, 0.0, 0.0), (other, gain + wobble, discord)):
            rows.append(
                {
                    "end": m,
                    "candidate": cand,
                    "hit": 0.4 * total + extra,
                    "total": total,
                    "best": 0.6 * total,
                    "discord": disc,
                }
            )
    return pl.DataFrame(rows), other


def test_a_steady_gain_of_a_few_incidents_does_not_beat_the_long_run_count():
    """Six calm months of a rare target: a challenger ahead by one incident each
    month is steady (the months' z is large) but six incidents among sixty that
    differ are chance (the incidents' z is below 1): the long-run count stays."""
    scores, other = _scores(gain=1.0, total=40.0, discord=10.0)
    ranked = st.rank(scores)
    assert ranked["candidate"][0] == st.CANDIDATES.index(st.REFERENCE)
    row = ranked.filter(pl.col("candidate") == other)
    assert row["z"][0] < st.Z_MIN and row["pai"][0] > ranked["pai"][0]
    # the same steady gain over many incidents is clear, and chosen
    scores, other = _scores(gain=40.0, total=4000.0, discord=100.0)
    assert st.rank(scores)["candidate"][0] == other


def test_walk_forward_scores_each_month_with_the_choice_of_the_months_before():
    prepared = hs.prepare(stable_world(seed=3))
    grid, mask = hs.study_grid(prepared)
    ends = st.month_ends(int(hs._end_day(AS_OF)), 9)
    scores = st.score_months(prepared, grid, mask, ends)
    wf = st.walk_forward(scores)
    assert wf["end"].to_list() == ends[st.MONTHS :]
    first = st.rank(scores.filter(pl.col("end").is_in(ends[: st.MONTHS])))
    assert wf["candidate"][0] == first["candidate"][0]
    assert 0 < st.pooled_pai(wf) <= 1 / st.SHARE


def test_the_nightly_step_stores_the_back_test_and_the_maps_state_it(tmp_path):
    from test_hotspots_data import make_db, simulate

    from gjenganger.flows.steps.hotspot_cells import build_hotspot_cells
    from gjenganger.flows.steps.hotspots import publish_hotspot_map
    from gjenganger.store import db, prevention

    sim = simulate(2500, seed=11, start=dt.date(2024, 3, 1), days=430)
    path, _ = make_db(tmp_path, sim)
    day = dt.date(2025, 5, 1)
    con = db.connect(path)
    try:
        summary = build_hotspot_cells(con, day)
        stored = prevention.load_backtest(con, day)
        cols = con.execute("describe hotspot_backtest").pl()["column_name"].to_list()
        entry = publish_hotspot_map(con, tmp_path / "out", day, "cabin", "en")
    finally:
        con.close()
    assert {"method", "settings", "target_group", "pai", "pei", "months_scored"} <= set(
        cols
    )
    groups = stored["target_group"].unique().to_list()
    assert set(groups) == {hs.ALL, *hs.TARGET_GROUPS}
    assert stored.filter(pl.col("rank") == 1).height == len(groups)
    assert stored.height == len(groups) * len(st.CANDIDATES)
    chosen = summary["backtest"]["all"]
    assert chosen["method"] in ("baseline", "kde", "prospective", "nearrepeat")
    assert 0 < chosen["hit_5"] <= 1 and chosen["months"] == st.MONTHS
    text = entry["measured_text"]
    hit = round(100 * entry["measured"]["hit"])
    assert text.startswith("Last 6 months: the marked 5% of the area had ")
    assert f"{hit}% of the next month's cabin burglaries" in text
    page = (tmp_path / "out" / "hotspots" / "cabin.html").read_text(encoding="utf-8")
    assert html.escape(text) in page  # the title box


def test_a_window_just_past_a_bin_edge_keeps_its_share_of_the_next_bin():
    """`binned_weights` once took a window ending up to ~6 minutes after an edge,
    far from the origin, as ending on it (relative tolerance) and lost that part."""
    from gjenganger.analytics.aoristic import binned_weights

    start, end = 400.958812, 401.000479  # the last 3.6 % falls in day 401
    rows, bins, w = binned_weights([start], [end], 0.0, 1.0, 500)
    assert bins.tolist() == [400, 401]
    assert w.sum() == pytest.approx(1.0)

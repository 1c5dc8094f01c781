"""Issue 14 item 2: how far the back-test's estimate is from the truth
(`flows.evaluation.backtest`), on a hand-made world with a known answer."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from gjenganger.analytics import attribution_backtest as bt
from gjenganger.flows.evaluation import backtest as xb
from gjenganger.store import frames

PAST = dt.date(2025, 6, 1)
N_A, SOLVED_A = 50, 40  # fresh thefts: the model is right on all, most solved
N_B, SOLVED_B, B_RANK2 = 50, 10, 30  # old burglaries: wrong at rank 1, few solved


def _world():
    """(cases, candidates, links_now, truth). Every case has P1 at rank 1
    (p = 0.6) and P2 at rank 2 (p = 0.25). A cases were done by P1; of the B cases
    the first 30 by P2, the other 20 by P9, who is no candidate. Since the past
    date 40 A cases and 10 B cases (all done by P2) were solved."""
    a = [f"A{i:02d}" for i in range(N_A)]
    b = [f"B{i:02d}" for i in range(N_B)]
    cases = pl.DataFrame(
        {
            "incident_id": a + b,
            "p_none": [0.15] * (N_A + N_B),
            "offence_group": ["theft"] * N_A + ["burglary"] * N_B,
            "area": ["5001"] * (N_A + N_B),
            "age_days": [5.0] * N_A + [200.0] * N_B,
        }
    )
    ids = a + b
    cand = pl.DataFrame(
        {
            "incident_id": ids + ids,
            "person_id": ["P1"] * len(ids) + ["P2"] * len(ids),
            "p": [0.6] * len(ids) + [0.25] * len(ids),
            "rank": pl.Series([1] * len(ids) + [2] * len(ids), dtype=pl.Int32),
        }
    )
    who = ["P1"] * N_A + ["P2"] * B_RANK2 + ["P9"] * (N_B - B_RANK2)
    truth = pl.DataFrame({"incident_id": ids, "person_id": who})
    solved = a[:SOLVED_A] + b[:SOLVED_B]
    links_now = truth.filter(pl.col("incident_id").is_in(solved)).with_columns(
        pl.lit("charged").alias("role")
    )
    return cases, cand, links_now, truth


def _weighted_hit1() -> float:
    """hit@1 of the estimate by hand: each confirmed case weighted by 1/P(solved)
    of its stratum, shrunk toward the overall share with PSEUDO_CASES (one area,
    so the area level shrinks toward the group level)."""
    k = bt.PSEUDO_CASES
    overall = (SOLVED_A + SOLVED_B) / (N_A + N_B)

    def p_solved(n, s):
        group = (s + k * overall) / (n + k)
        return (s + k * group) / (n + k)

    wa, wb = 1 / p_solved(N_A, SOLVED_A), 1 / p_solved(N_B, SOLVED_B)
    return SOLVED_A * wa / (SOLVED_A * wa + SOLVED_B * wb)


def test_estimate_and_truth_differ_as_the_hand_made_world_says():
    cases, cand, links_now, truth = _world()
    report, _ = xb.evaluate_horizon(PAST, cases, cand, links_now, truth)
    est, plain, tru = (report[k] for k in xb.KINDS)
    # the truth: every case open then, unweighted; P9's cases are misses
    assert tru["cases_confirmed"] == N_A + N_B
    assert tru["cases_confirmed_person_among_candidates"] == N_A + B_RANK2
    assert tru["hit_at_1"] == pytest.approx(0.5)
    assert tru["hit_at_5"] == pytest.approx((N_A + B_RANK2) / (N_A + N_B))
    assert tru["precision_p_ge_0_5"] == pytest.approx(0.5)
    # bands from 0.2 with >= 30 hypotheses: 0.6 right half the time (gap 0.1),
    # 0.25 right 30 % (gap 0.05)
    assert tru["worst_band"] == "0.6-0.7"
    assert tru["worst_band_gap"] == pytest.approx(0.1, abs=1e-4)
    assert report["cases_without_truth"] == 0
    # the back-test sees the 50 solved cases only; unweighted it is fooled
    assert plain["cases_confirmed"] == SOLVED_A + SOLVED_B
    assert plain["hit_at_1"] == pytest.approx(0.8)
    assert plain["hit_at_5"] == pytest.approx(1.0)
    assert plain["precision_p_ge_0_5"] == pytest.approx(0.8)
    assert plain["worst_band_gap"] == pytest.approx(0.2, abs=1e-4)
    assert plain["se"]["hit_at_1"] == pytest.approx(np.sqrt(0.8 * 0.2 / 50), 1e-3)
    # the weights (1/P(solved)) pull it toward the truth, by the known amount
    assert est["hit_at_1"] == pytest.approx(_weighted_hit1(), abs=1e-4)
    assert 0.5 < est["hit_at_1"] < 0.8
    assert est["cases_effective"] < plain["cases_effective"] == SOLVED_A + SOLVED_B
    diff = report["difference"]
    assert diff["hit_at_1"] == pytest.approx(est["hit_at_1"] - 0.5, abs=1e-4)
    assert report["difference_unweighted"]["hit_at_1"] == pytest.approx(0.3)
    assert report["correction_gain"]["hit_at_1"] == pytest.approx(
        0.3 - diff["hit_at_1"], abs=1e-4
    )
    assert report["correction_gain"]["hit_at_1"] > 0
    assert report["difference_in_se"]["hit_at_1"] == pytest.approx(
        diff["hit_at_1"] / est["se"]["hit_at_1"], abs=0.01
    )


def test_truth_links_have_the_shape_evaluate_reads():
    cases, _, _, truth = _world()
    extra = pl.DataFrame(
        {
            "incident_id": ["A00", "A00", "Z99"],  # a duplicate, a co-offender and
            "person_id": ["P1", "P7", "P1"],  # a case that was not scored
        }
    )
    links = xb.truth_links(pl.concat([truth, extra]), cases)
    assert links.columns == ["incident_id", "person_id"]
    assert links.schema["person_id"] == pl.String
    assert links.height == N_A + N_B + 1  # A00 has two true persons
    assert "Z99" not in links["incident_id"].to_list()
    assert links.filter(pl.col("incident_id") == "A00")["person_id"].to_list() == [
        "P1",
        "P7",
    ]


def test_worst_band_judges_bands_from_0_2_with_30_hypotheses():
    bands = pl.DataFrame(
        {
            "band_lo": [0.1, 0.3, 0.5, 0.7],
            "band_hi": [0.2, 0.4, 0.6, 0.8],
            "n": [500, 40, 10, 31],
            "mean_p": [0.15, 0.35, 0.55, 0.75],
            "share_confirmed": [0.9, 0.30, 0.0, 0.60],
        }
    )
    # 0.1 is below 0.2 and 0.5 holds too few: 0.7-0.8 (gap 0.15) is the worst
    assert xb.worst_band(bands) == ("0.7-0.8", pytest.approx(0.15))
    assert xb.worst_band(bands.filter(pl.col("n") < 30)) == (None, None)


def test_backtest_vs_truth_scores_each_past_date_once_and_pools(monkeypatch):
    cases, cand, links_now, truth = _world()
    as_of = dt.date(2025, 12, 31)
    calls: list[tuple[str, dt.date | None]] = []

    def loader(name, frame):
        def load(_con, day=None):
            calls.append((name, day))
            return frame

        return load

    monkeypatch.setattr(
        frames, "data_date_range", lambda _c: (dt.date(2025, 3, 1), as_of)
    )
    monkeypatch.setattr(frames, "resolve_as_of", lambda _c, d=None: d or as_of)
    monkeypatch.setattr(frames, "load_links", loader("links", links_now))
    monkeypatch.setattr(frames, "load_incidents", loader("incidents", None))
    monkeypatch.setattr(frames, "load_custody", loader("custody", None))
    scored: list[dt.date] = []

    def fake_score_past(_inc, _links, _cust, past, **_kw):
        scored.append(past)
        return cases, cand

    monkeypatch.setattr(bt, "score_past", fake_score_past)
    report = xb.backtest_vs_truth(None, truth, horizons=(90, 180, 400))
    assert scored == [dt.date(2025, 10, 1), dt.date(2025, 7, 1)]
    assert ("links", as_of) in calls  # tonight's links for the estimate
    assert ("links", dt.date(2025, 10, 1)) in calls  # the links known then
    assert report["400d"]["skipped"] == "no data"
    for key in ("90d", "180d"):
        assert report[key]["truth"]["hit_at_1"] == pytest.approx(0.5)
        assert report[key]["estimate_unweighted"]["hit_at_1"] == pytest.approx(0.8)
    pooled = report["pooled"]
    assert pooled["truth"]["cases_confirmed"] == 2 * (N_A + N_B)
    assert pooled["estimate"]["cases_scored"] == 2 * (N_A + N_B)
    assert pooled["truth"]["hit_at_1"] == pytest.approx(0.5)
    assert pooled["difference_unweighted"]["hit_at_1"] == pytest.approx(0.3)
    lines = xb.comparison_lines(report)
    assert sum("| hit_at_1 |" in line for line in lines) == 3  # 90d, 180d, pooled
    assert any(line.startswith("| pooled | hit_at_1 | 0.") for line in lines)

"""Issue 14 items 2 and 3: the nightly back-test (cases open on a past date, checked
against the links made since) and p calibrated on it, shrunk toward "none" when
few cases are confirmed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from gjenganger.analytics import attribution_backtest as bt
from gjenganger.analytics.attribution_calibration import (
    MIN_CONFIRMED,
    ChoiceCalibrator,
    Recalibration,
    fit_recalibration,
)


# ------------------------------------------------------------------ toy world
def _toy(n_cases: int, seed: int, a_true: float = 2.2, c_true: float = -1.5):
    """Cases with 6 candidates each; the truth drawn from a conditional logit with
    (a_true, c_true) over scores z; the 'model' says p with a = 1, c = 0 (too
    timid at the top, too sure of 'none'... a known miscalibration)."""
    rng = np.random.default_rng(seed)
    k = 6
    row_case = np.repeat(np.arange(n_cases), k)
    z = rng.normal(0.0, 1.3, n_cases * k) + np.tile(np.linspace(1, -2, k), n_cases)
    p_true, pn_true = ChoiceCalibrator(a_true, c_true).probs(z, row_case, n_cases)
    # draw each case's answer: one of its candidates or none
    u = rng.random(n_cases)
    cum = np.zeros(n_cases)
    y = np.zeros(len(z), bool)
    for j in range(k):  # k columns, vectorised over cases
        rows = np.arange(n_cases) * k + j
        hit = (u >= cum) & (u < cum + p_true[rows])
        y[rows] = hit
        cum += p_true[rows]
    p_model, pn_model = ChoiceCalibrator(1.0, 0.0).probs(z, row_case, n_cases)
    return p_model, pn_model, row_case, y


def _bands(p: np.ndarray, y: np.ndarray) -> list[tuple[float, float, int]]:
    """(mean p, share true, n) per band of width 0.1 from 0.2 up with >= 30 rows."""
    out = []
    for lo in np.arange(0.2, 1.0, 0.1):
        m = (p >= lo) & (p < lo + 0.1)
        if m.sum() >= 30:
            out.append((float(p[m].mean()), float(y[m].mean()), int(m.sum())))
    return out


def test_calibration_on_a_toy_world_matches_the_known_probabilities():
    p, pn, rc, y = _toy(6000, seed=1)
    before = _bands(p, y)
    assert max(abs(mp - sh) for mp, sh, _ in before) > 0.10  # miscalibrated
    fit = slice(0, 3000 * 6)  # fit on the first half of the cases ...
    recal = fit_recalibration(p[fit], pn[:3000], rc[fit], 3000, y[fit])
    assert recal.status == "calibrated" and recal.calibrator.a == pytest.approx(
        2.2, abs=0.25
    )
    test = slice(3000 * 6, None)  # ... and score the other half
    p2, _ = recal.apply(p[test], pn[3000:], rc[test] - 3000, 3000)
    after = _bands(p2, y[test])
    assert len(after) >= 5
    assert all(abs(mp - sh) <= 0.10 for mp, sh, _ in after), after
    strong = p2 >= 0.5
    assert y[test][strong].mean() >= 0.5
    # rank-1 p more informative than a constant (Brier skill > 0)
    first = np.array(
        [np.argmax(p2[i * 6 : i * 6 + 6]) + i * 6 for i in range(3000)], int
    )
    b = np.mean((p2[first] - y[test][first]) ** 2)
    base = y[test][first].mean()
    assert 1 - b / np.mean((base - y[test][first]) ** 2) > 0


def test_calibration_holds_on_open_cases_when_solving_favours_none():
    """A toy world where the model's share of "none" is right but its ranking is
    too sure (truth: temperature 0.6), and the cases solved later are mostly the
    ones nobody on the list did (solved 5x as often). Fitted on the solved ones
    with the open population, p holds on the open cases; a fit of temperature
    and intercept on the solved ones alone learns the solving, not the cases."""
    from gjenganger.analytics.attribution_calibration import log_odds

    rng = np.random.default_rng(5)
    n, k = 20_000, 6
    rc = np.repeat(np.arange(n), k)
    z = rng.normal(0.0, 1.3, n * k) + np.tile(np.linspace(1, -2, k), n)
    p, pn = ChoiceCalibrator(1.0, 0.0).probs(z, rc, n)
    truth = ChoiceCalibrator.with_none_share(0.6, z, rc, n, float(pn.mean()))
    pt, _ = truth.probs(z, rc, n)
    cum = np.cumsum(pt.reshape(n, k), axis=1)
    answer = (rng.random(n)[:, None] >= cum).sum(axis=1)  # k = none
    y = np.zeros(n * k, bool)
    hit = answer < k
    y[np.flatnonzero(hit) * k + answer[hit]] = True
    solved = rng.random(n) < np.where(hit, 0.08, 0.4)
    keep = solved[rc]
    pos = np.cumsum(solved) - 1
    args = (p[keep], pn[solved], pos[rc[keep]], int(solved.sum()), y[keep])
    robust = fit_recalibration(*args, population=(log_odds(p, pn, rc), rc, n))
    naive = fit_recalibration(*args)
    assert robust.calibrator.a == pytest.approx(0.6, abs=0.1)

    def worst_gap(recal) -> float:  # bands of >= 300 rows: little noise
        p2, _ = recal.apply(p, pn, rc, n)
        gaps = []
        for lo in np.arange(0.2, 1.0, 0.1):
            m = (p2 >= lo) & (p2 < lo + 0.1)
            if m.sum() >= 300:
                gaps.append(abs(p2[m].mean() - y[m].mean()))
        return max(gaps)

    assert worst_gap(robust) <= 0.05 < 0.10 < worst_gap(naive)


def test_the_temperature_moves_only_as_far_as_the_back_test_shows():
    from gjenganger.analytics.attribution_calibration import (
        log_odds,
        toward_one,
    )

    assert toward_one(0.7, 0.1, k=2) == pytest.approx(0.9)
    assert toward_one(1.5, 0.1, k=2) == pytest.approx(1.3)
    assert toward_one(0.85, 0.1, k=2) == 1.0  # within two standard errors: as is
    assert toward_one(0.7, 0.1, k=1) == pytest.approx(0.8)
    # the standard error shrinks with the cases: on few, the change is held back
    p, pn, rc, y = _toy(6000, seed=4)
    z = log_odds(p, pn, rc)
    _, se_many = ChoiceCalibrator.fit_temperature(z, rc, 6000, y)
    few = slice(0, 60 * 6)
    a_few, se_few = ChoiceCalibrator.fit_temperature(z[few], rc[few], 60, y[few])
    assert 0 < se_many < se_few / 5
    assert 1.0 <= toward_one(a_few, se_few) <= a_few - 0.4
    # the back-test may make p more modest, never bolder: a model too timid
    # (truth 2.2) is kept as it is
    recal = fit_recalibration(p, pn, rc, 6000, y, population=(z, rc, 6000))
    assert recal.status == "kept" and recal.calibrator is None


def test_few_confirmed_cases_shrink_p_toward_none():
    p, pn, rc, y = _toy(10, seed=2)
    recal = fit_recalibration(p, pn, rc, 10, y)
    assert recal.status == "shrunk" and recal.calibrator is None
    assert recal.shrink == pytest.approx(10 / MIN_CONFIRMED)
    p2, pn2 = recal.apply(p, pn, rc, 10)
    np.testing.assert_allclose(p2, p * 10 / MIN_CONFIRMED)
    np.testing.assert_allclose(pn2 + np.bincount(rc, weights=p2), 1.0)
    assert (pn2 > pn).all()
    # no confirmed case at all: no hypothesis keeps any p
    none = bt.recalibration([_backtest_with_no_confirmation()])
    assert none.status == "none"
    assert none.apply(p, pn, rc, 10)[0].max() == 0.0
    # no back-test date with data: p is left as it is, and said to be unchecked
    unchecked = bt.recalibration([])
    assert unchecked.status == "unchecked"
    np.testing.assert_allclose(unchecked.apply(p, pn, rc, 10)[0], p)
    assert Recalibration.from_dict(recal.to_dict()).shrink == recal.shrink


# ------------------------------------------------------------------ evaluation
PAST = dt.date(2025, 6, 1)


def _cases(ids: list[str], group: str = "theft") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "incident_id": ids,
            "p_none": [0.2] * len(ids),
            "offence_group": [group] * len(ids),
            "area": ["5001"] * len(ids),
            "age_days": [5.0] * len(ids),
        }
    )


def _backtest_with_no_confirmation() -> bt.Backtest:
    cases = _cases(["C1"])
    cand = pl.DataFrame(
        {"incident_id": ["C1"], "person_id": ["P1"], "p": [0.8], "rank": [1]}
    )
    links = pl.DataFrame({"incident_id": ["X"], "person_id": ["P1"]})
    return bt.evaluate(PAST, cases, cand, links)


def test_the_back_test_counts_only_cases_solved_since_and_scores_their_ranks():
    cases = _cases(["C1", "C2", "C3", "C4"])
    cand = pl.DataFrame(
        {
            "incident_id": ["C1", "C1", "C2", "C2", "C3", "C4"],
            "person_id": ["P1", "P2", "P1", "P2", "P1", "P3"],
            "p": [0.7, 0.1, 0.6, 0.2, 0.9, 0.3],
            "rank": [1, 2, 1, 2, 1, 1],
        }
    )
    # since then: C1 solved (P1, rank 1), C2 solved (P2, rank 2), C4 solved by
    # someone no candidate named; C3 still open (not in the denominator)
    links = pl.DataFrame(
        {
            "incident_id": ["C1", "C2", "C4", "OLD"],
            "person_id": ["P1", "P2", "P9", "P1"],
        }
    )
    test = bt.evaluate(PAST, cases, cand, links)
    s = test.summary
    assert s["cases_scored"] == 4 and s["cases_confirmed"] == 3
    assert s["cases_confirmed_person_among_candidates"] == 2
    assert s["hit_at_1"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["hit_at_5"] == pytest.approx(2 / 3, abs=1e-4)
    # hypotheses with p >= 0.5 in solved cases: C1/P1 right, C2/P1 wrong
    assert s["hypotheses_p_ge_0_5"] == 2 and s["precision_p_ge_0_5"] == 0.5
    assert "C3" not in test.rows["incident_id"].to_list()
    band = test.bands.filter(pl.col("band_lo") == 0.6)
    assert band["n"].item() == 1 and band["share_confirmed"].item() == 0.0


def test_solve_weights_undo_what_makes_a_case_solved():
    # 40 fresh thefts, half solved; 40 old burglaries, 4 solved
    cases = pl.concat(
        [_cases([f"T{i}" for i in range(40)]), _cases([f"B{i}" for i in range(40)])]
    ).with_columns(
        pl.when(pl.col("incident_id").str.starts_with("B"))
        .then(pl.lit("burglary"))
        .otherwise(pl.col("offence_group"))
        .alias("offence_group")
    )
    solved = [f"T{i}" for i in range(20)] + [f"B{i}" for i in range(4)]
    w = bt.solve_weights(cases, cases["incident_id"].is_in(solved))
    by = cases.with_columns(w).filter(pl.col("incident_id").is_in(solved))
    w_theft = by.filter(pl.col("offence_group") == "theft")["weight"].mean()
    w_burg = by.filter(pl.col("offence_group") == "burglary")["weight"].mean()
    assert w_burg > 2.5 * w_theft  # the rarely solved stratum counts for more
    assert by["weight"].mean() == pytest.approx(1.0)


def test_back_test_dates_snap_to_the_first_of_the_month():
    assert bt.past_date(dt.date(2026, 12, 6), 90) == dt.date(2026, 9, 1)
    assert bt.past_date(dt.date(2026, 12, 6), 180) == dt.date(2026, 6, 1)
    assert bt.past_date(dt.date(2026, 12, 31), 90) == dt.date(2026, 10, 1)


# ------------------------------------------------------------------ the step
@pytest.fixture(scope="module")
def store_db(tmp_path_factory):
    """Ten months of generated data, ingested."""
    from gjenganger.flows.steps.ingest import ingest
    from gjenganger.store import db
    from gjenganger.synth.config import SynthConfig
    from gjenganger.synth.generator import generate

    root = tmp_path_factory.mktemp("backtest")
    generate(
        SynthConfig(
            seed=4, start=dt.date(2025, 1, 1), days=300, scale=0.15, batch_days=30
        ),
        root / "data",
    )
    con = db.connect(root / "db.duckdb")
    ingest(con, root / "data" / "inbox")
    yield con
    con.close()


DAY = dt.date(2025, 10, 20)


@pytest.fixture(scope="module")
def backtested(store_db):
    """The back-test run once on DAY."""
    from gjenganger.flows.steps.attribution_backtest import build_backtest

    return build_backtest(store_db, DAY)


def test_the_nightly_back_test_is_stored_cached_and_applied_to_p(store_db, backtested):
    from gjenganger.flows.steps.attribution import build_attribution
    from gjenganger.flows.steps.attribution_backtest import (
        build_backtest,
        recalibration_for,
    )
    from gjenganger.store import backtest as store

    con, day, first = store_db, DAY, backtested
    assert first["90d"]["past_date"] == "2025-07-01" and not first["90d"]["cached"]
    assert first["180d"]["past_date"] == "2025-04-01"
    assert first["90d"]["cases_scored"] > 100
    assert first["90d"]["cases_confirmed"] > 0
    # a later night of the same month re-checks confirmations only
    again = build_backtest(con, day + dt.timedelta(days=3))
    assert again["90d"]["cached"] and again["180d"]["cached"]
    assert again["90d"]["cases_scored"] == first["90d"]["cases_scored"]
    figures, bands, recal = store.latest_results(con, day + dt.timedelta(days=3))
    assert set(figures["kind"]) == {"raw", "calibrated"}
    assert figures.filter(pl.col("horizon_days") == 90)["cases_confirmed"].item() > 0
    assert bands.height > 0 and recal["status"] == first["recalibration"]["status"]
    # the attribution step applies it: a shrunk recalibration lowers every p
    stored = recalibration_for(con, day + dt.timedelta(days=3))
    assert stored is not None and stored.to_dict() == again["recalibration"]
    con.execute(
        "update attribution_recalibration set a = null, c = null, shrink = 0.5,"
        " status = 'shrunk' where as_of = ?",
        [day + dt.timedelta(days=3)],
    )
    summary = build_attribution(con, day + dt.timedelta(days=3), reuse=False)
    assert summary["calibration"]["status"] == "shrunk"
    top = con.execute(
        "select max(p), min(p_none) from attribution_candidates where as_of = ?",
        [day + dt.timedelta(days=3)],
    ).fetchone()
    assert top[0] <= 0.5 + 1e-9 and top[1] >= 0.5 - 1e-9


def test_the_open_case_sample_is_fixed_by_id_and_uniform():
    from gjenganger.analytics.attribution_context import sample_by_hash
    from gjenganger.analytics.pair_features import id_hashes

    ids = np.array([f"I{k:06d}" for k in range(20_000)])
    keep = sample_by_hash(id_hashes(ids), 2_000)
    assert len(keep) == 2_000 and len(set(keep)) == 2_000
    # the same cases whatever the order they come in
    perm = np.random.default_rng(1).permutation(len(ids))
    again = sample_by_hash(id_hashes(ids[perm]), 2_000)
    assert set(ids[perm][again]) == set(ids[keep])
    # spread over the whole range of ids, not a block of them
    counts = np.bincount(keep // 2_000, minlength=10)
    assert counts.min() > 120 and counts.max() < 280


def test_a_past_scoring_beyond_the_cap_scores_a_sample(store_db):
    from gjenganger.store import frames

    past = dt.date(2025, 7, 1)
    known = frames.known_on(store_db, past)
    every, _ = bt.score_past(*known, past, max_open_cases=None)
    cap = every.height // 3
    cases, cand = bt.score_past(*known, past, max_open_cases=cap)
    assert cases.height == cap < every.height
    assert set(cand["incident_id"]) <= set(cases["incident_id"])
    assert set(cases["incident_id"]) < set(every["incident_id"])


def test_the_back_test_page_says_what_it_found_in_both_languages(
    store_db, backtested, tmp_path
):
    from gjenganger.flows.steps.attribution_backtest import write_backtest_page
    from gjenganger.maps.backtest_page import render_backtest_page
    from gjenganger.store import backtest as store

    nb = write_backtest_page(store_db, tmp_path / "nb", DAY, "nb")
    assert nb["backtest"]
    text = (tmp_path / "nb" / "backtest.html").read_text("utf-8")
    n = backtested["90d"]["cases_confirmed"]
    assert f"Av saker som var åpne 01.07.2025 og er oppklart siden ({n} av" in text
    assert "2025-07-01" not in text  # nb dates
    write_backtest_page(store_db, tmp_path / "en", DAY, "en")
    en = (tmp_path / "en" / "backtest.html").read_text("utf-8")
    assert "Of the cases open on 2025-07-01 and solved since" in en
    assert "oppklart" not in en
    # with few confirmed cases the page says p cannot be trusted
    figures, bands, recal = store.latest_results(store_db, DAY)
    few = {**recal, "a": None, "status": "shrunk", "shrink": 0.4, "n_confirmed": 12}
    page = render_backtest_page((figures, bands, few), as_of=DAY, lang="nb")
    assert "For få bekreftede saker til å stole på p (12 av minst 30)" in page
    assert "faktor 0,40" in page
    # before any back-test: the page says so
    assert "ikke kjørt" in render_backtest_page(None, as_of=DAY)


def test_upcoming_dates_are_the_firsts_of_months_no_later_night_can_record():
    day = dt.date(2025, 12, 29)  # back-test dates 01.09 (90 d) and 01.07 (180 d)
    ahead = bt.upcoming_dates(day, dt.date(2024, 1, 1))
    assert ahead == [dt.date(2025, m, 1) for m in (8, 10, 11, 12)]
    # never on or before the first report day, never tonight's own dates
    assert bt.upcoming_dates(day, dt.date(2025, 10, 1)) == [
        dt.date(2025, 11, 1),
        dt.date(2025, 12, 1),
    ]
    assert bt.upcoming_dates(dt.date(2025, 12, 1), None) == []
    assert bt.is_past_date(dt.date(2025, 12, 1))
    assert not bt.is_past_date(dt.date(2025, 12, 2))


def test_a_recorded_scoring_is_the_raw_p_of_the_night_for_a_fixed_sample(store_db):
    from gjenganger.analytics.attribution import attribute
    from gjenganger.analytics.attribution_calibration import Recalibration
    from gjenganger.store import frames

    day = dt.date(2025, 8, 1)
    known = frames.known_on(store_db, day)
    plain = attribute(*known, day, why=False)
    n = plain.model.cases.height // 3
    halved = Recalibration(None, 0.5, 10)  # every p shown is half the model's
    run = attribute(*known, day, why=False, recalibration=halved, record_sample=n)
    rec = run.record
    assert rec is not None and plain.record is None
    assert rec.cases.height == n
    # the sample is the back-test's: the same cases a capped past scoring takes
    capped = attribute(*known, day, why=False, max_open_cases=n)
    assert set(rec.cases["incident_id"]) == set(capped.model.cases["incident_id"])
    # every candidate of a recorded case, with the model's p before recalibration
    key = ["incident_id", "person_id"]
    want = plain.model.candidates.join(
        rec.cases.select("incident_id"), on="incident_id"
    )
    got = rec.candidates.sort(key)
    want = want.sort(key)
    assert got.select(key, "rank").equals(want.select(key, "rank"))
    np.testing.assert_allclose(got["p"].to_numpy(), want["p"].to_numpy(), atol=1e-12)
    shown = run.model.candidates.join(rec.cases.select("incident_id"), on="incident_id")
    assert shown["p"].max() <= 0.5 * want["p"].max() + 1e-9


def test_a_first_of_the_month_night_records_what_later_back_tests_read(
    store_db, backtested
):
    from gjenganger.flows.steps.attribution import build_attribution
    from gjenganger.flows.steps.attribution_backtest import build_backtest

    con, day = store_db, dt.date(2025, 8, 1)
    summary = build_attribution(con, day, reuse=False)
    assert summary["backtest_recorded"]["past_date"] == "2025-08-01"
    n = summary["backtest_recorded"]["cases"]
    assert n == summary["open_cases"] > 0  # fewer than the cap: every open case
    stored = con.execute(
        "select count(*) from attribution_backtest_cases where past_date = ?", [day]
    ).fetchone()[0]
    assert stored == n
    # the night whose 90-day date moves to 01.08 reads it instead of scoring
    later = build_backtest(con, dt.date(2025, 10, 30))
    assert later["90d"]["past_date"] == "2025-08-01" and later["90d"]["cached"]
    assert later["90d"]["cases_scored"] == n
    assert "ahead" not in later  # not the model's first night
    # scorings stay until both back-test dates have moved past them
    dates = {
        r[0]
        for r in con.execute(
            "select distinct past_date from attribution_backtest_cases"
        ).fetchall()
    }
    assert min(dates) == dt.date(2025, 5, 1) and day in dates
    # the model's first night scored ahead the dates no later night can record
    assert set(backtested["ahead"]) == {f"2025-{m:02d}-01" for m in (5, 6, 8, 9, 10)}

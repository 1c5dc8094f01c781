"""The use-period phase model: machinery checked by brute force, the report's cycle
recovered from obvious hand-made series, custody clamps, segments, current state."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import polars as pl
import pytest

from gjenganger.analytics import person_days as pdays
from gjenganger.analytics import phase_baseline
from gjenganger.analytics import phase_model as pm
from gjenganger.analytics import phase_periods as pp
from gjenganger.analytics import phases as ph
from gjenganger.analytics.semi_markov import Chain, forward_backward, viterbi

START = dt.date(2026, 1, 1)
HAND = "Phandmade01"


# ----------------------------------------------------------------- helpers
def _inc(i, day, code, entry, planned, *, arrest=False, hour=2):
    t = dt.datetime.combine(START + dt.timedelta(days=day), dt.time(hour))
    return {
        "incident_id": f"I{i}",
        "offence_code": code,
        "target_type": "business",
        "entry_method": entry,
        "planned": planned,
        "participants": 1,
        "value_nok": 20000.0,
        "occurred_from": t,
        "occurred_to": t + dt.timedelta(hours=1),
        "arrest_at_scene": arrest,
    }


def hand_made_incidents(prefix: str = "H", offset: int = 0) -> pl.DataFrame:
    """10 quiet days (a level-2 case every 4 days), 5 busy planned days, 5 busy
    impulsive days with an arrest, then 4 empty days (from day `offset`)."""
    rows, k = [], 0
    for d in (0, 4, 8):
        rows.append(
            _inc(f"{prefix}{k}", offset + d, "burglary_storage", "cylinder_snap", True)
        )
        k += 1
    for d in range(10, 15):
        for j in range(3):
            rows.append(
                _inc(
                    f"{prefix}{k}",
                    offset + d,
                    "burglary_business",
                    "cylinder_snap",
                    True,
                    hour=1 + j,
                )
            )
            k += 1
    for d in range(15, 20):
        for j in range(3):
            rows.append(
                _inc(
                    f"{prefix}{k}",
                    offset + d,
                    "shoplifting",
                    "none",
                    False,
                    arrest=(d == 18 and j == 0),
                    hour=10 + j,
                )
            )
            k += 1
    return pl.DataFrame(rows)


def hand_made_series(
    days: int = 24, custody: pl.DataFrame | None = None, repeat: int = 1
) -> pl.DataFrame:
    inc = pl.concat([hand_made_incidents(f"H{r}_", 24 * r) for r in range(repeat)])
    ev = pl.DataFrame(
        {
            "incident_id": inc["incident_id"],
            "person_id": HAND,
            "weight": 1.0,
            "source": "linked",
        }
    )
    return pdays.build_person_days(
        inc, ev, custody, START, START + dt.timedelta(days=days - 1)
    )


def _runs(labels) -> list[str]:
    return [k for k, _ in itertools.groupby(labels)]


def simulate_population(
    n: int, days: int, seed: int
) -> tuple[pl.DataFrame, np.ndarray]:
    """Person-day series drawn from the report's cycle (for fitting tests)."""
    rng = np.random.default_rng(seed)
    rate = [0.0, 0.6, 2.5, 2.0, 0.0]
    level = [
        [0.3, 0.6, 0.1],
        [0.2, 0.75, 0.05],
        [0.1, 0.6, 0.3],
        [0.85, 0.15, 0],
        [0.3, 0.6, 0.1],
    ]
    planned = [0.3, 0.5, 0.85, 0.05, 0.3]
    arrest = [0, 0.03, 0.03, 0.25, 0]
    dur = {0: (2, 7), 1: (3, 10), 2: (5, 15), 3: (2, 7), 4: (20, 80)}
    truth = np.zeros((n, days), int)
    frames = []
    dates = [START + dt.timedelta(days=k) for k in range(days)]
    for i in range(n):
        t, p = 0, int(rng.integers(0, 4))
        while t < days:
            lo, hi = dur[p]
            d = int(rng.integers(lo, hi + 1))
            truth[i, t : t + d] = p
            t += d
            p = {0: 1, 1: 2, 2: 3, 3: 4 if rng.random() < 0.1 else 0, 4: 1}[p]
        scale = rng.gamma(3, 1 / 3)
        cnt = rng.poisson(scale * np.array(rate)[truth[i]])
        lv = np.zeros((days, 3))
        pl_, up, ar = np.zeros(days), np.zeros(days), np.zeros(days)
        for t in np.flatnonzero(cnt):
            s = truth[i, t]
            lv[t] = rng.multinomial(cnt[t], level[s])
            k = rng.binomial(cnt[t], planned[s])
            pl_[t], up[t] = k, cnt[t] - k
            ar[t] = rng.binomial(cnt[t], arrest[s])
        frames.append(
            pl.DataFrame(
                {
                    "person_id": f"Psim{i:05d}",
                    "date": dates,
                    "n_cases": cnt.astype(float),
                    "n_level1": lv[:, 0],
                    "n_level2": lv[:, 1],
                    "n_level3": lv[:, 2],
                    "n_planned": pl_,
                    "n_unplanned": up,
                    "n_arrests": ar,
                    "custody": truth[i] == 4,
                }
            )
        )
    return pl.concat(frames), truth


# ----------------------------------------------------------------- machinery
def _tiny_chain() -> Chain:
    trans = np.array([[0, 1.0, 0], [0.3, 0, 0.7], [1.0, 0, 0]])
    return Chain(
        (np.array([0.5, 0.5]), np.array([0.2, 0.3, 0.5]), np.array([0.6, 0.4])),
        (False, False, True),
        np.array([0, 0, 0.8]),
        trans,
    )


def test_expanded_transition_rows_sum_to_one():
    a = _tiny_chain().matrix()
    assert a.sum(axis=1) == pytest.approx(np.ones(a.shape[0]))


def test_forward_backward_and_viterbi_match_brute_force_enumeration():
    chain = _tiny_chain()
    rng = np.random.default_rng(3)
    t_n = 6
    log_e = np.log(rng.uniform(0.05, 1.0, size=(2, t_n, 3)))
    init = chain.stationary()
    a = chain.matrix()
    phase = chain.phase_of
    post = forward_backward(log_e, chain, init)
    best_paths = viterbi(log_e, chain, init)
    s_n = a.shape[0]
    for n in range(2):
        marg = np.zeros((t_n, 3))
        pairs = np.zeros((s_n, s_n))
        total, best, best_p = 0.0, None, -1.0
        for path in itertools.product(range(s_n), repeat=t_n):
            pr = init[path[0]] * np.exp(log_e[n, 0, phase[path[0]]])
            for t in range(1, t_n):
                pr *= a[path[t - 1], path[t]] * np.exp(log_e[n, t, phase[path[t]]])
            if pr == 0:
                continue
            total += pr
            for t in range(t_n):
                marg[t, phase[path[t]]] += pr
            for t in range(1, t_n):
                pairs[path[t - 1], path[t]] += pr
            if pr > best_p:
                best, best_p = path, pr
        assert post.phase_post[n] == pytest.approx(marg / total, abs=1e-9)
        assert post.loglik[n] == pytest.approx(np.log(total))
        assert best_paths[n].tolist() == [int(phase[s]) for s in best]
        xi_n = forward_backward(log_e[n : n + 1], chain, init).xi
        assert xi_n == pytest.approx(pairs / total, abs=1e-9)


def test_expected_days_until_rest_follows_the_durations():
    chain = _tiny_chain()
    hit = chain.expected_days_until(0)
    # from the last possible day of phase 2 (no tail): one step to phase 0 or 2
    last_p1 = chain.offsets[1] + 2
    assert hit[last_p1] == pytest.approx(0.3 * 1 + 0.7 * (1 + hit[chain.offsets[2]]))
    assert (hit[chain.phase_of == 0] == 0).all()


# ----------------------------------------------------------------- the report's cycle
def test_an_obvious_hand_made_person_comes_out_in_the_report_order():
    series = hand_made_series()
    fit = ph.fit(series, ph.PhaseConfig(n_iter=0))  # the report's priors only
    daily = fit.daily()
    expected = ["phase1"] * 10 + ["phase2"] * 5 + ["phase3"] * 5 + ["rest"] * 4
    assert daily["path_phase"].to_list() == expected
    assert _runs(daily["phase"].to_list()) == ["phase1", "phase2", "phase3", "rest"]


def test_the_hand_made_person_comes_out_in_order_when_fitted_with_a_population():
    pop, _ = simulate_population(40, 120, seed=5)
    series = hand_made_series(days=120, repeat=5)  # the same use period five times
    both = pl.concat([pop, series.select(pop.columns)])
    fit = ph.fit(both)
    daily = fit.daily().filter(pl.col("person_id") == HAND)
    cycle = ["phase1", "phase2", "phase3", "rest"]
    assert _runs(daily["path_phase"].to_list()) == cycle * 5
    assert _runs(daily["phase"].to_list()) == cycle * 5
    assert daily["path_phase"].to_list()[10:20] == ["phase2"] * 5 + ["phase3"] * 5


def test_custody_days_come_out_inactive_with_certainty():
    custody = pl.DataFrame(
        {
            "person_id": [HAND],
            "kind": ["prison"],
            "start_at": [dt.datetime(2026, 1, 26)],
            "end_at": [dt.datetime(2026, 2, 20)],
        }
    )
    series = hand_made_series(days=60, custody=custody)
    daily = ph.fit(series, ph.PhaseConfig(n_iter=0)).daily()
    inside = daily.filter(
        pl.col("date").is_between(dt.date(2026, 1, 26), dt.date(2026, 2, 19))
    )
    assert inside["phase"].unique().to_list() == ["inactive"]
    assert inside["p"].min() > 0.999
    assert inside["path_phase"].unique().to_list() == ["inactive"]


def test_em_recovers_the_simulated_cycle_and_its_durations():
    series, truth = simulate_population(60, 240, seed=11)
    fit = ph.fit(series)
    acc = (fit.phase_post.argmax(axis=2) == truth).mean()
    assert acc > 0.85
    desc = fit.params.describe()
    rate = dict(zip(desc["phase"], desc["rate"], strict=True))
    assert rate["phase2"] > rate["phase1"] > rate["rest"]
    mix = dict(zip(desc["phase"], desc["level1"], strict=True))
    assert mix["phase3"] > 0.6 > mix["phase2"]
    days = dict(zip(desc["phase"], desc["mean_days"], strict=True))
    assert 3 < days["rest"] < 6.5 and 7 < days["phase2"] < 13


def test_a_person_with_sparse_data_borrows_strength_from_the_others():
    pop, _ = simulate_population(30, 120, seed=2)
    sparse = pop.filter(pl.col("person_id") == "Psim00000").with_columns(
        pl.lit("Psparse0001").alias("person_id"),
        *[
            pl.lit(0.0).alias(c)
            for c in (
                "n_cases",
                "n_level1",
                "n_level2",
                "n_level3",
                "n_planned",
                "n_unplanned",
                "n_arrests",
            )
        ],
        pl.lit(False).alias("custody"),
    )
    # two cases in four months
    sparse = sparse.with_columns(
        pl.when(pl.int_range(pl.len()).is_in([30, 31]))
        .then(1.0)
        .otherwise(0.0)
        .alias("n_cases")
    )
    sparse = sparse.with_columns(
        pl.col("n_cases").alias("n_level2"), pl.col("n_cases").alias("n_planned")
    )
    fit = ph.fit(pl.concat([pop, sparse]))
    i = fit.persons.index("Psparse0001")
    raw = 2.0 / (120 * 0.6 * fit.params.rate[pm.PHASE2])  # its own activity alone
    assert raw < fit.scale[i] < 1.0  # shrunk towards the population


# ----------------------------------------------------------------- outputs
def test_use_periods_give_start_end_and_phase_boundaries():
    series = hand_made_series()
    fit = ph.fit(series, ph.PhaseConfig(n_iter=0))
    periods = pp.use_periods(fit, series)
    assert periods.height == 1
    row = periods.row(0, named=True)
    assert row["start"] == START and row["end"] == START + dt.timedelta(days=19)
    assert row["phase2_start"] == START + dt.timedelta(days=10)
    assert row["phase3_start"] == START + dt.timedelta(days=15)
    assert (row["phase1_days"], row["phase2_days"], row["phase3_days"]) == (10, 5, 5)
    assert row["n_cases"] == pytest.approx(33.0)
    assert row["n_level1"] == pytest.approx(15.0) and row["n_arrests"] == pytest.approx(
        1.0
    )
    assert row["open_start"] and not row["ongoing"]


def test_current_state_counts_days_in_the_use_period_and_expects_rest_soon_in_phase3():
    # two use periods; the window ends on the 4th impulsive day of the second
    series = hand_made_series(days=24 + 19, repeat=2)
    fit = ph.fit(series, ph.PhaseConfig(n_iter=0))
    cur = pp.current_state(fit, series).row(0, named=True)
    assert cur["phase"] == "phase3"
    assert cur["days_in_use_period"] == 19
    assert 0 < cur["expected_days_to_rest"] < 4
    assert 0 < cur["p_interrupted"] < 0.5
    assert not cur["in_custody"]


def test_current_state_of_a_person_in_custody_is_inactive_and_flags_thin_data():
    custody = pl.DataFrame(
        {
            "person_id": [HAND],
            "kind": ["prison"],
            "start_at": [dt.datetime(2026, 1, 26)],
            "end_at": [None],
        },
        schema_overrides={"end_at": pl.Datetime("us")},
    )
    series = hand_made_series(days=150, custody=custody)
    fit = ph.fit(series, ph.PhaseConfig(n_iter=0))
    cur = pp.current_state(fit, series).row(0, named=True)
    assert cur["phase"] == "inactive" and cur["in_custody"]
    assert cur["days_in_use_period"] == 0
    series2 = hand_made_series(days=150)  # no custody: 130 silent days, thin data
    cur2 = pp.current_state(ph.fit(series2, ph.PhaseConfig(n_iter=0)), series2)
    assert cur2["low_confidence"].to_list() == [True]


# ----------------------------------------------------------------- baseline
def test_the_baseline_cuts_at_two_empty_days_and_splits_active_runs_in_thirds():
    n = np.array([[1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0]], float)
    got = phase_baseline.gap_labels(n)[0].tolist()
    # active run of 6 days (one single empty day inside), then 3, then rest
    assert got == [1, 1, 2, 2, 3, 3, 0, 0, 1, 2, 3, 0, 0, 0]
    cust = np.zeros_like(n, bool)
    cust[0, 12:] = True
    assert phase_baseline.gap_labels(n, cust)[0].tolist()[12:] == [4, 4]


def test_a_steady_daily_offender_is_recognised_and_does_not_bend_the_cycle():
    pop, truth = simulate_population(40, 240, seed=4)
    rng = np.random.default_rng(9)
    steady = []
    for i in range(6):  # MAS-like: level-1 cases every day, no rests
        cnt = rng.poisson(3.0, 240).astype(float)
        steady.append(
            pl.DataFrame(
                {
                    "person_id": f"Psteady{i:04d}",
                    "date": pop["date"][:240],
                    "n_cases": cnt,
                    "n_level1": cnt,
                    "n_level2": 0.0,
                    "n_level3": 0.0,
                    "n_planned": 0.0,
                    "n_unplanned": cnt,
                    "n_arrests": np.floor(cnt / 3),
                    "custody": False,
                }
            )
        )
    fit = ph.fit(pl.concat([pop, *steady]))
    p_cyc = dict(zip(fit.persons, fit.p_cycling, strict=True))
    assert all(p_cyc[f"Psteady{i:04d}"] < 0.01 for i in range(6))
    assert np.mean([p_cyc[f"Psim{i:05d}"] for i in range(40)]) > 0.95
    sim = [fit.persons.index(f"Psim{i:05d}") for i in range(40)]
    assert (fit.phase_post.argmax(axis=2)[sim] == truth).mean() > 0.85
    series = pl.concat([pop, *steady])
    cur = pp.current_state(fit, series)
    assert cur.filter(pl.col("person_id").str.starts_with("Psteady"))[
        "low_confidence"
    ].all()

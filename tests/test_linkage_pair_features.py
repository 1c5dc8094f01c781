"""Hand-checkable case-case evidence: windows, circular time, modus, repeat target."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pytest

from gjenganger.analytics.pair_features import (
    PAIR_FEATURES,
    aoristic,
    circular_diff,
    expected_abs_gap,
    min_gap,
    pair_features,
)


def cases(*rows: dict) -> pl.DataFrame:
    base = {
        "offence_code": "burglary_business",
        "target_type": "business",
        "entry_method": "cylinder_snap",
        "planned": True,
        "participants": 1,
        "value_nok": 10_000.0,
        "lat": 63.43,
        "lon": 10.39,
    }
    out = []
    for k, r in enumerate(rows):
        row = {"incident_id": f"C{k}", **base, **r}
        row.setdefault("occurred_to", row["occurred_from"])
        out.append(row)
    return pl.DataFrame(out).with_columns(
        pl.col("occurred_from").cast(pl.Datetime("us")),
        pl.col("occurred_to").cast(pl.Datetime("us")),
    )


def test_circular_hour_difference_across_midnight_is_two_hours():
    assert circular_diff(23.0, 1.0, 24.0) == pytest.approx(2.0)
    assert circular_diff(1.0, 23.0, 24.0) == pytest.approx(2.0)
    assert circular_diff(0.0, 12.0, 24.0) == pytest.approx(12.0)
    assert circular_diff(6.5, 0.0, 7.0) == pytest.approx(0.5)  # Sunday night vs Monday


def test_point_offences_at_23_and_01_are_two_hours_apart_in_the_pair_evidence():
    f = pair_features(
        cases(
            {"occurred_from": datetime(2025, 3, 7, 23, 0)},
            {"occurred_from": datetime(2025, 3, 9, 1, 0)},
        )
    )
    assert f["tod_diff_h"][0] == pytest.approx(2.0)
    assert f["gap_days"][0] == pytest.approx(26 / 24, abs=1e-3)  # 26 hours apart


def test_overlapping_windows_have_zero_minimum_gap_and_the_uniform_expected_gap():
    # Friday 18:00 - Monday 07:00 vs a point on Saturday 12:00: the windows overlap.
    weekend = {
        "occurred_from": datetime(2025, 3, 7, 18),
        "occurred_to": datetime(2025, 3, 10, 7),
    }
    f = pair_features(cases(weekend, {"occurred_from": datetime(2025, 3, 8, 12)}))
    assert f["gap_min_days"][0] == 0.0
    # E|X - c| for X ~ U[0, L] with c at a from the start: (a^2 + (L-a)^2) / (2L)
    length, a = 61 / 24, 18 / 24
    assert f["gap_days"][0] == pytest.approx(
        (a * a + (length - a) ** 2) / (2 * length), abs=1e-4
    )


def test_expected_gap_of_two_uniform_windows_matches_hand_integration():
    # X ~ U[0, 2], Y ~ U[1, 3]: E|X - Y| = 26/24 (integrate |x - y| / 4 over the square)
    assert expected_abs_gap([0.0], [2.0], [1.0], [3.0])[0] == pytest.approx(26 / 24)
    # a point at 1 inside U[0, 4]: (1/4) * (1/2 + 9/2) = 1.25
    assert expected_abs_gap([1.0], [1.0], [0.0], [4.0])[0] == pytest.approx(
        1.25, abs=1e-4
    )
    # disjoint windows: the gap between their midpoints
    assert expected_abs_gap([0.0], [1.0], [5.0], [7.0])[0] == pytest.approx(5.5)
    assert (
        min_gap(np.array([0.0]), np.array([1.0]), np.array([5.0]), np.array([7.0]))[0]
        == 4.0
    )


def test_expected_gap_agrees_with_monte_carlo():
    rng = np.random.default_rng(0)
    a0, b0 = rng.uniform(0, 5, 50), rng.uniform(0, 5, 50)
    a1, b1 = a0 + rng.exponential(2, 50), b0 + rng.exponential(2, 50)
    x = rng.uniform(a0, a1, (20000, 50))
    y = rng.uniform(b0, b1, (20000, 50))
    mc = np.abs(x - y).mean(axis=0)
    assert np.allclose(expected_abs_gap(a0, a1, b0, b1), mc, atol=0.03)


def test_aoristic_hours_spread_a_window_over_the_hours_it_covers():
    m = aoristic(np.array([22.0, 5.0, 3.0]), np.array([4.0, 0.0, 30.0]), 24.0, 24)
    assert np.allclose(m.sum(axis=1), 1.0)
    assert np.allclose(m[0, [22, 23, 0, 1]], 0.25)  # 22:00-02:00 across midnight
    assert m[1, 5] == pytest.approx(1.0)  # a point in time
    assert np.allclose(m[2], 1 / 24)  # a window longer than a day says nothing


def test_a_window_covering_the_whole_day_gives_the_uninformative_six_hours():
    long = {
        "occurred_from": datetime(2025, 3, 7, 8),
        "occurred_to": datetime(2025, 3, 8, 9),
    }
    f = pair_features(cases(long, {"occurred_from": datetime(2025, 3, 9, 3)}))
    assert f["tod_diff_h"][0] == pytest.approx(
        6.0, abs=0.05
    )  # E|U - c| on a 24 h circle


def test_modus_matches_are_one_zero_or_unknown():
    f = pair_features(
        cases(
            {"occurred_from": datetime(2025, 1, 1, 2)},
            {
                "occurred_from": datetime(2025, 1, 1, 3),
                "entry_method": None,
                "planned": False,
                "offence_code": "burglary_storage",
                "target_type": "storage_room",
            },
        )
    )
    r = f.row(0, named=True)
    assert (r["same_offence"], r["same_group"], r["same_target"]) == (0.0, 1.0, 0.0)
    assert np.isnan(r["same_entry"]) and r["same_planned"] == 0.0
    assert r["value_log_diff"] == pytest.approx(0.0)


def test_same_place_and_target_type_is_repeat_victimisation_and_distance_is_in_km():
    f = pair_features(
        cases(
            {"occurred_from": datetime(2025, 1, 1, 2)},
            {"occurred_from": datetime(2026, 1, 1, 2)},
            {"occurred_from": datetime(2025, 6, 1, 2), "lat": 63.44},
            {"occurred_from": datetime(2025, 6, 1, 2), "lat": None, "lon": None},
        )
    )
    first = f.filter(pl.col("incident_id_a") == "C0").sort("incident_id_b")
    assert first["same_place"].to_list()[:2] == [1.0, 0.0]
    assert first["distance_km"][1] == pytest.approx(
        1.113, abs=0.01
    )  # 0.01 deg latitude
    assert np.isnan(first["distance_km"][2]) and np.isnan(first["same_place"][2])
    assert set(PAIR_FEATURES) <= set(f.columns)

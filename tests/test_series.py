"""Series of open cases: per attributed person, and clustered among themselves."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from gjenganger.analytics import series as sr
from gjenganger.analytics.pair_features import PAIR_FEATURES, case_arrays

DIST = PAIR_FEATURES.index("distance_km")
GAP = PAIR_FEATURES.index("gap_days")


def toy_logit(x: np.ndarray, _q: np.ndarray) -> np.ndarray:
    """A stand-in pair model: near in space and time -> likely the same person."""
    return 4.0 - 4.0 * np.nan_to_num(x[:, DIST], nan=9.0) - x[:, GAP] / 3.0


def incidents(points: list[tuple[float, float, int]]) -> pl.DataFrame:
    """(lat, lon, day) -> open burglaries at 02:00 on 2025-03-01 + day."""
    rows = []
    for k, (lat, lon, day) in enumerate(points):
        t = datetime(2025, 3, 1, 2) + timedelta(days=day)
        rows.append(
            {
                "incident_id": f"S{k}",
                "offence_code": "burglary_storage",
                "target_type": "storage_room",
                "entry_method": "forced_door" if k % 3 else "cylinder_snap",
                "planned": False,
                "participants": 1,
                "value_nok": 5000.0,
                "lat": lat,
                "lon": lon,
                "status": "open",
                "occurred_from": t,
                "occurred_to": t + timedelta(hours=1),
                "reported_at": t + timedelta(hours=6),
            }
        )
    return pl.DataFrame(rows)


def test_open_cases_near_in_space_and_time_form_one_series_and_a_far_case_none():
    inc = incidents(
        [
            (63.4300, 10.3900, 0),
            (63.4305, 10.3910, 1),
            (63.4298, 10.3895, 2),  # a tight burst
            (63.3600, 10.2000, 3),
            (63.3602, 10.2004, 3),  # a pair far away
            (63.4700, 10.6000, 40),  # alone
        ]
    )
    cases = case_arrays(inc)
    labels, mean_p = sr.cluster_cases(cases, np.arange(6), toy_logit)
    assert labels[0] == labels[1] == labels[2] >= 0
    assert labels[3] == labels[4] >= 0 and labels[3] != labels[0]
    assert labels[5] == -1 and np.isnan(mean_p[5])
    assert np.all(mean_p[:5] >= 0.5)


def test_series_summary_gives_span_area_centroid_and_modus():
    inc = incidents([(63.43, 10.39, 0), (63.44, 10.39, 2), (63.43, 10.41, 4)])
    members = pl.DataFrame(
        {
            "series_id": ["L-0001"] * 3,
            "kind": ["linked"] * 3,
            "person_id": pl.Series([None] * 3, dtype=pl.String),
            "incident_id": ["S0", "S1", "S2"],
            "p": [0.8, 0.7, 0.9],
        }
    )
    summary = sr.summarise(members, inc)
    row = summary.row(0, named=True)
    assert row["n_cases"] == 3
    assert row["span_days"] == pytest.approx(4 + 1 / 24, abs=0.01)
    # right triangle with legs ~1.11 km (0.01 deg lat) and ~1.0 km (0.02 deg lon)
    assert row["area_km2"] == pytest.approx(0.5 * 1.113 * 1.0, rel=0.05)
    assert row["centroid_lat"] == pytest.approx(63.4333, abs=1e-3)
    assert row["main_offence_code"] == "burglary_storage"
    assert row["main_entry_method"] == "forced_door"
    assert row["modus_share"] == pytest.approx(2 / 3, abs=1e-3)
    assert row["mean_p"] == pytest.approx(0.8)


def test_person_series_take_confident_rank_one_candidates_only():
    cand = pl.DataFrame(
        {
            "incident_id": ["A", "A", "B", "C"],
            "person_id": ["P1xxxxxx", "P2xxxxxx", "P1xxxxxx", "P2xxxxxx"],
            "p": [0.7, 0.2, 0.4, 0.9],
            "rank": [1, 2, 1, 1],
        }
    )
    got = sr.person_series(cand, min_p=0.5)
    assert got.select("series_id", "incident_id").rows() == [
        ("P-P1xxxxxx", "A"),
        ("P-P2xxxxxx", "C"),
    ]


def test_build_series_clusters_what_no_person_explains():
    inc = incidents([(63.43, 10.39, 0), (63.4301, 10.3901, 1), (63.36, 10.2, 2)])
    cases = case_arrays(inc)
    cand = pl.DataFrame(
        {"incident_id": ["S2"], "person_id": ["P9xxxxxx"], "p": [0.95], "rank": [1]}
    )
    summary, members = sr.build_series(cand, np.arange(3), cases, inc, toy_logit)
    kinds = dict(zip(summary["series_id"], summary["kind"], strict=True))
    assert kinds == {"P-P9xxxxxx": "person", "L-0001": "linked"}
    assert sorted(members.filter(pl.col("kind") == "linked")["incident_id"]) == [
        "S0",
        "S1",
    ]

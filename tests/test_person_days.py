"""Person-day series: aoristic spreading, weighted attribution, custody days."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from gjenganger.analytics import person_days as pdays

D0 = dt.date(2026, 3, 6)  # a Friday
PID = "Pperson0001"


def _incidents(rows: list[dict]) -> pl.DataFrame:
    base = {
        "offence_code": "burglary_business",
        "target_type": "business",
        "entry_method": "cylinder_snap",
        "planned": True,
        "participants": 1,
        "value_nok": 10000.0,
        "arrest_at_scene": False,
    }
    return pl.DataFrame([{**base, **r} for r in rows])


def _at(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime.combine(D0 + dt.timedelta(days=day), dt.time(hour))


def test_a_weekend_window_is_spread_over_its_days_in_proportion_to_hours():
    inc = _incidents(
        [{"incident_id": "I1", "occurred_from": _at(0, 18), "occurred_to": _at(3, 6)}]
    )  # Fri 18:00 - Mon 06:00, 60 hours
    ev = pl.DataFrame(
        {
            "incident_id": ["I1"],
            "person_id": [PID],
            "weight": [1.0],
            "source": ["linked"],
        }
    )
    out = pdays.build_person_days(inc, ev, None, D0, D0 + dt.timedelta(days=4))
    assert out["n_cases"].to_list() == pytest.approx(
        [6 / 60, 24 / 60, 24 / 60, 6 / 60, 0.0]
    )
    assert out["n_cases"].sum() == pytest.approx(1.0)


def test_a_case_with_an_exact_time_puts_all_its_weight_on_its_day():
    inc = _incidents(
        [{"incident_id": "I1", "occurred_from": _at(1, 14), "occurred_to": _at(1, 14)}]
    )
    ev = pdays.evidence_from_links(
        pl.DataFrame({"incident_id": ["I1"], "person_id": [PID]})
    )
    out = pdays.build_person_days(inc, ev, None, D0, D0 + dt.timedelta(days=2))
    assert out["n_cases"].to_list() == [0.0, 1.0, 0.0]
    assert out["n_level2"].to_list() == [0.0, 1.0, 0.0]
    assert out["n_planned"].to_list() == [0.0, 1.0, 0.0]


def test_attributed_open_cases_count_with_their_probability_and_never_twice():
    inc = _incidents(
        [
            {"incident_id": "I1", "occurred_from": _at(0, 2), "occurred_to": _at(0, 3)},
            {
                "incident_id": "I2",
                "occurred_from": _at(1, 2),
                "occurred_to": _at(1, 3),
                "offence_code": "shoplifting",
                "entry_method": "none",
                "planned": False,
                "arrest_at_scene": True,
            },
        ]
    )
    links = pl.DataFrame({"incident_id": ["I1"], "person_id": [PID]})
    attribution = pl.DataFrame(
        {
            "incident_id": ["I1", "I2", "I2"],
            "person_id": ["Pother00001", PID, "Pother00001"],
            "p": [0.9, 0.4, 0.5],
        }
    )
    ev = pdays.combine_evidence(
        pdays.evidence_from_links(links),
        pdays.evidence_from_attribution(attribution, links),
    )
    out = pdays.build_person_days(inc, ev, None, D0, D0 + dt.timedelta(days=1))
    me = out.filter(pl.col("person_id") == PID)
    other = out.filter(pl.col("person_id") == "Pother00001")
    assert me["n_cases"].to_list() == pytest.approx([1.0, 0.4])
    assert me["n_linked"].to_list() == pytest.approx([1.0, 0.0])
    assert me["n_attributed"].to_list() == pytest.approx([0.0, 0.4])
    assert me["n_level1"].to_list() == pytest.approx([0.0, 0.4])
    assert me["n_arrests"].to_list() == pytest.approx([0.0, 0.4])
    # I1 is linked to PID: its attribution to someone else does not count
    assert other["n_cases"].to_list() == pytest.approx([0.0, 0.5])


def test_custody_days_are_marked_and_a_short_arrest_is_not_a_custody_day():
    custody = pl.DataFrame(
        {
            "person_id": [PID, PID],
            "kind": ["prison", "arrest"],
            "start_at": [_at(1, 10), _at(6, 15)],
            "end_at": [_at(3, 9), _at(7, 9)],
        }
    )
    inc = _incidents(
        [{"incident_id": "I1", "occurred_from": _at(0, 2), "occurred_to": _at(0, 3)}]
    )
    out = pdays.build_person_days(
        inc,
        pl.DataFrame(
            schema={
                "incident_id": pl.String,
                "person_id": pl.String,
                "weight": pl.Float64,
                "source": pl.String,
            }
        ),
        custody,
        D0,
        D0 + dt.timedelta(days=8),
        persons=[PID],
    )
    # day 1: 14 h, day 2: 24 h, day 3: 9 h; arrest: 9 h + 9 h
    assert out["custody"].to_list() == [
        False,
        True,
        True,
        False,
        False,
        False,
        False,
        False,
        False,
    ]


def test_ongoing_custody_runs_to_the_end_of_the_window():
    custody = pl.DataFrame(
        {
            "person_id": [PID],
            "kind": ["remand"],
            "start_at": [_at(2, 0)],
            "end_at": [None],
        },
        schema_overrides={"end_at": pl.Datetime("us")},
    )
    days = pdays.custody_days(custody, D0, D0 + dt.timedelta(days=4))
    assert days["date"].to_list() == [D0 + dt.timedelta(days=k) for k in (2, 3, 4)]


def test_the_series_is_dense_with_zeros_for_every_person_and_day():
    inc = _incidents(
        [{"incident_id": "I1", "occurred_from": _at(0, 2), "occurred_to": _at(0, 3)}]
    )
    ev = pdays.evidence_from_links(
        pl.DataFrame({"incident_id": ["I1"], "person_id": [PID]})
    )
    out = pdays.build_person_days(
        inc, ev, None, D0, D0 + dt.timedelta(days=9), persons=[PID, "Pquiet00001"]
    )
    assert out.height == 20
    assert out.filter(pl.col("person_id") == "Pquiet00001")["n_cases"].sum() == 0.0
    assert out["planned_share"].null_count() == 19

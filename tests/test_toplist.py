"""The top list: ranking by weighted linked cases in a window, trend, concentration."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import polars as pl
import pytest

from gjenganger.analytics import toplist as tl

AS_OF = date(2025, 12, 31)


def frames(spec: list[tuple[str, str, int, str, float | None]]):
    """(person, offence_code, days before AS_OF, status, value) -> incidents, links."""
    inc, links = [], []
    for k, (person, code, days_ago, status, value) in enumerate(spec):
        t = datetime(2025, 12, 31, 12) - timedelta(days=days_ago)
        inc.append(
            {
                "incident_id": f"I{k}",
                "offence_code": code,
                "target_type": "business",
                "entry_method": None,
                "planned": None,
                "participants": 1,
                "value_nok": value,
                "lat": 63.43,
                "lon": 10.39,
                "status": status,
                "occurred_from": t,
                "occurred_to": t,
                "reported_at": t + timedelta(hours=1),
            }
        )
        if person:
            for p in person.split("+"):
                links.append(
                    {"incident_id": f"I{k}", "person_id": p, "role": "suspect"}
                )
    typed = pl.DataFrame(inc).with_columns(
        pl.col("entry_method").cast(pl.String),
        pl.col("planned").cast(pl.Boolean),
        pl.col("value_nok").cast(pl.Float64),
        pl.col("participants").cast(pl.Int32),
    )
    return typed, pl.DataFrame(links)


def test_persons_are_ranked_by_severity_and_value_weighted_cases():
    inc, links = frames(
        [
            ("PPPPPPPPa", "shoplifting", 10, "solved", 500.0),
            ("PPPPPPPPa", "shoplifting", 20, "solved", 500.0),
            ("PPPPPPPPa", "shoplifting", 30, "solved", 500.0),
            ("PPPPPPPPb", "burglary_business", 5, "solved", 100_000.0),
            ("PPPPPPPPb", "burglary_business", 6, "solved", 100_000.0),
        ]
    )
    top = tl.rank_persons(inc, links, AS_OF)
    assert top["person_id"].to_list() == ["PPPPPPPPb", "PPPPPPPPa"]
    b = top.row(0, named=True)
    assert b["cases"] == 2 and b["score"] == pytest.approx(2 * 2.0 * 2.0, abs=0.01)
    assert b["est_value_nok"] == 200_000
    a = top.row(1, named=True)
    # shoplifting weight 1.0, value factor 1 + 0.5 log10(1.5)
    assert a["score"] == pytest.approx(3 * (1 + 0.5 * 0.17609), abs=0.01)
    assert json.loads(a["group_mix"]) == {"acquisitive": 3}
    assert sum(json.loads(a["level_mix"]).values()) == 3
    assert top["rank"].to_list() == [1, 2]


def test_only_cases_in_the_window_count_and_the_previous_window_gives_the_trend():
    inc, links = frames(
        [
            ("PPPPPPPPa", "vandalism", 10, "solved", None),
            ("PPPPPPPPa", "vandalism", 400, "solved", None),
            ("PPPPPPPPa", "vandalism", 500, "solved", None),
            ("PPPPPPPPa", "vandalism", 800, "solved", None),  # before both windows
            ("PPPPPPPPb", "vandalism", 3, "solved", None),
        ]
    )
    top = tl.rank_persons(inc, links, AS_OF, window_days=365).sort("person_id")
    a, b = top.row(0, named=True), top.row(1, named=True)
    assert (a["cases"], a["prev_cases"], a["trend"]) == (1, 2, "down")
    assert (b["cases"], b["prev_cases"], b["trend"]) == (1, 0, "new")
    assert a["first_case_at"] == a["last_case_at"] == datetime(2025, 12, 21, 12)


def test_cases_reported_after_the_as_of_date_do_not_count():
    inc, links = frames([("PPPPPPPPa", "vandalism", 10, "solved", None)])
    inc = inc.with_columns(pl.lit(datetime(2026, 1, 2)).alias("reported_at"))
    assert tl.rank_persons(inc, links, AS_OF).is_empty()


def test_a_retracted_link_is_absent_from_the_links_frame_and_so_from_the_top_list():
    inc, links = frames(
        [
            ("PPPPPPPPa", "robbery", 10, "solved", None),
            ("PPPPPPPPb", "shoplifting", 10, "solved", None),
        ]
    )
    assert tl.rank_persons(inc, links, AS_OF)["person_id"][0] == "PPPPPPPPa"
    cleared = links.filter(
        pl.col("person_id") != "PPPPPPPPa"
    )  # store drops retracted links
    assert tl.rank_persons(inc, cleared, AS_OF)["person_id"].to_list() == ["PPPPPPPPb"]


def test_concentration_counts_the_share_of_cases_of_the_top_five_percent():
    spec = [("PPPPPPPPa", "shoplifting", d, "solved", None) for d in range(1, 61)]
    spec += [(f"PPPPPPQ{k:02d}", "shoplifting", 5, "solved", None) for k in range(19)]
    spec += [("PPPPPPPPa+PPPPPPQ00", "shoplifting", 7, "solved", None)]  # co-offended
    inc, links = frames(spec)
    c = tl.concentration(inc, links, AS_OF)
    assert c["persons"] == 20 and c["top_persons"] == 1  # 5 % of 20
    assert c["cases"] == 80
    assert c["top_share_of_cases"] == pytest.approx(61 / 80)
    assert c["lorenz"][0] == {"share_persons": 0.0, "share_cases": 0.0}
    assert c["lorenz"][-1] == {"share_persons": 1.0, "share_cases": 1.0}
    shares = [p["share_cases"] for p in c["lorenz"]]
    assert shares == sorted(shares) and 0.5 < c["gini"] < 1


def test_an_empty_window_gives_an_empty_list_and_no_concentration():
    inc, links = frames([("PPPPPPPPa", "vandalism", 900, "solved", None)])
    top, conc = tl.build(inc, links, AS_OF)
    assert top.is_empty() and list(top.columns) == list(tl.TOPLIST_COLUMNS)
    assert conc["persons"] == 0 and conc["lorenz"] == []

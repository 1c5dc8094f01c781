"""A two-year synthetic export reproduces the report's figures (domain brief).

One data set (scale 0.5, 30-day batches to keep the test fast) is generated once and
measured from the written files only: batches for what the police see, truth/ for who
really did it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from gjenganger.synth import SynthConfig, calibration, generate

START = date(2024, 1, 1)
DAYS = 730
SCALE = 0.5


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("calib")
    generate(
        SynthConfig(seed=2017, start=START, days=DAYS, scale=SCALE, batch_days=30), out
    )
    return calibration.load(out) | {"out": out}


def _groups(d) -> pl.DataFrame:
    return d["persons"].select("person_id", "group")


def test_the_region_has_25_to_40_thousand_incidents_a_year_at_scale_one(data):
    per_year = data["final"].height / DAYS * 365 / SCALE
    assert 25_000 <= per_year <= 40_000


def test_five_percent_of_offenders_commit_over_half_of_the_offences(data):
    assert calibration.top_share(data, 0.05) > 0.5


def test_mas_persons_have_the_highest_registered_counts_and_minus_users_the_lowest(
    data,
):
    reg = (
        data["current"]
        .join(_groups(data), on="person_id")
        .group_by("person_id", "group")
        .len()
    )
    mean = dict(reg.group_by("group").agg(pl.col("len").mean()).iter_rows())
    assert mean["mas"] > mean["plus"] > mean["minus"] > mean["background"]
    assert mean["mas"] > 3 * mean["mixed"]


def test_catch_rates_per_group_are_in_the_reports_ranges(data):
    rate = calibration.solve_rates(data)
    assert 0.04 <= rate["plus"] <= 0.12  # "most said 5-10 %", at most 20 %
    assert 0.10 <= rate["mixed"] <= 0.20
    assert 0.25 <= rate["minus"] <= 0.55  # one minus user: "about 50 %"
    assert rate["mas"] > rate["minus"] > rate["mixed"] > rate["plus"]


def test_the_top_list_is_caught_for_at_most_twenty_percent(data):
    top = (
        data["persons"]
        .filter(pl.col("group").is_in(["plus", "mixed"]))
        .sort("n_offences", descending=True)
        .head(10)["person_id"]
    )
    cases = data["incidents"].filter(pl.col("person_id").is_in(top.implode()))
    rate = (
        cases.join(data["current"], on=["incident_id", "person_id"]).height
        / cases.height
    )
    assert 0.03 <= rate <= 0.20


def test_plus_and_mixed_users_are_caught_mostly_in_phase_three(data):
    cycling = data["incidents"].filter(pl.col("group").is_in(["plus", "mixed"]))
    rate = calibration.solve_rates(data, "state", cycling)
    assert rate["phase3"] > 2.5 * rate["phase2"]
    assert rate["phase3"] > 2 * rate["phase1"]


def test_use_periods_last_7_to_30_days_and_rests_2_to_7(data):
    runs = calibration.runs(data["phases"], active_as_one=True)
    active = runs.filter(pl.col("label") == "active")["days"]
    rest = runs.filter(pl.col("label") == "rest")["days"]
    assert active.len() > 300 and rest.len() > 200
    assert active.min() >= 7 and active.max() <= 30
    assert rest.min() >= 2 and rest.max() <= 7


def test_phases_follow_each_other_with_the_documented_lengths(data):
    runs = calibration.runs(data["phases"], active_as_one=False)
    stats = {
        r["label"]: r
        for r in runs.group_by("label")
        .agg(
            pl.col("days").min().alias("lo"),
            pl.col("days").max().alias("hi"),
            pl.col("days").mean().alias("mean"),
        )
        .iter_rows(named=True)
    }
    assert stats["phase1"]["lo"] >= 2 and stats["phase1"]["hi"] <= 8
    assert stats["phase2"]["lo"] >= 3 and stats["phase2"]["hi"] <= 15
    assert stats["phase3"]["lo"] >= 2 and stats["phase3"]["hi"] <= 6
    assert stats["inactive"]["mean"] > 40  # prison and sober spells of months
    order = (
        data["phases"]
        .sort("person_id", "date")
        .with_columns(pl.col("phase").shift(1).over("person_id").alias("prev"))
    )
    steps = set(
        order.filter(pl.col("prev") != pl.col("phase"))
        .select("prev", "phase")
        .iter_rows()
    )
    assert steps <= {
        ("phase1", "phase2"),
        ("phase2", "phase3"),
        ("phase3", "rest"),
        ("phase3", "inactive"),
        ("rest", "phase1"),
        ("inactive", "phase1"),
    }


def test_phases_differ_in_daily_count_and_modus(data):
    pd = calibration.person_days(data)
    daily = pd.group_by("person_id", "date", "phase").agg(
        pl.col("incident_id").count().alias("n")
    )
    mean = dict(daily.group_by("phase").agg(pl.col("n").mean()).iter_rows())
    assert mean["rest"] == 0 and mean["inactive"] == 0
    assert mean["phase2"] > 1.6 * mean["phase1"] and mean["phase3"] > mean["phase1"]
    cases = pd.filter(pl.col("incident_id").is_not_null())
    planned = dict(
        cases.filter(pl.col("planned").is_not_null())
        .group_by("phase")
        .agg((pl.col("planned") == "true").mean())
        .iter_rows()
    )
    assert planned["phase2"] > 0.75 > 0.35 > planned["phase1"] > 0.1 > planned["phase3"]
    skilled = dict(
        cases.group_by("phase")
        .agg(pl.col("entry_method").is_in(["cylinder_snap", "window_frame"]).mean())
        .iter_rows()
    )
    assert skilled["phase2"] > 2 * skilled["phase1"] > 10 * skilled["phase3"]
    arrests = dict(
        cases.group_by("phase")
        .agg((pl.col("arrest_at_scene") == "true").mean())
        .iter_rows()
    )
    assert arrests["phase3"] > 4 * arrests["phase2"]


def test_nobody_offends_on_a_day_of_rest_or_custody(data):
    pd = calibration.person_days(data)
    assert pd.filter(
        pl.col("phase").is_in(["rest", "inactive"])
        & pl.col("incident_id").is_not_null()
    ).is_empty()


def test_prison_follows_an_arrest_at_the_scene_in_phase_three(data):
    c = data["custody"].sort("updated_at").group_by("custody_id").last()
    assert {"arrest", "remand", "prison", "treatment"} <= set(c["kind"])
    prison = c.filter(pl.col("kind") == "remand")
    arrests = c.filter(pl.col("kind") == "arrest").select(
        "person_id", pl.col("end_at").alias("start_at")
    )
    assert (
        prison.join(arrests, on=["person_id", "start_at"]).height >= 0.8 * prison.height
    )


def test_private_homes_are_under_two_percent_of_top_list_burglaries(data):
    assert 0 < calibration.home_burglary_share(data) < 0.02


def test_the_44000_kr_card_episode_is_in_truth_and_in_the_transactions(data):
    ep = data["episodes"].filter(pl.col("scripted") == "true")
    assert ep.height == 1
    row = ep.row(0, named=True)
    assert float(row["max_36h_nok"]) >= 44_000
    start, end = (datetime.fromisoformat(row[k]) for k in ("start_at", "end_at"))
    assert end - start <= timedelta(hours=36)
    assert start.date() >= START + timedelta(days=DAYS - 60)
    woman = (
        data["persons"]
        .filter(pl.col("person_id") == row["person_id"])
        .row(0, named=True)
    )
    assert woman["sex"] == "F" and woman["group"] == "plus" and int(woman["rank"]) <= 40
    tx = data["tx"].filter(
        (pl.col("card_ref") == row["card_ref"]) & (pl.col("approved") == "true")
    )
    times = [datetime.fromisoformat(t) for t in tx["at"]]
    amounts = tx["amount_nok"].cast(pl.Float64).to_list()
    best = max(
        sum(
            a
            for t2, a in zip(times, amounts, strict=True)
            if t <= t2 <= t + timedelta(hours=36)
        )
        for t in times
    )
    assert best >= 44_000
    fraud = (
        data["final"]
        .filter(pl.col("incident_id") == row["incident_id"])
        .row(0, named=True)
    )
    assert fraud["offence_code"] == "card_fraud"
    assert (tx["incident_id"] == row["incident_id"]).all()


def test_cabin_windows_are_long_and_witnessed_windows_short(data):
    f = data["final"].with_columns(
        (
            pl.col("occurred_to").str.to_datetime("%Y-%m-%dT%H:%M:%S%:z")
            - pl.col("occurred_from").str.to_datetime("%Y-%m-%dT%H:%M:%S%:z")
        )
        .dt.total_hours()
        .alias("hours")
    )
    med = dict(f.group_by("offence_code").agg(pl.col("hours").median()).iter_rows())
    assert med["burglary_cabin"] >= 24 * 7
    assert 4 <= med["burglary_business"] <= 24
    assert med["shoplifting"] <= 1


def test_the_same_target_is_hit_again_some_on_the_same_date_a_year_later(data):
    inc = data["incidents"]
    assert inc["repeat_of"].is_not_null().mean() > 0.05
    first = inc.select(
        pl.col("incident_id").alias("repeat_of"),
        pl.col("occurred_at").str.slice(0, 10).alias("first"),
    )
    pairs = inc.filter(pl.col("repeat_of").is_not_null()).join(first, on="repeat_of")
    same_date = pairs.filter(
        pl.col("occurred_at").str.slice(5, 5) == pl.col("first").str.slice(5, 5)
    )
    assert (
        same_date.filter(
            pl.col("occurred_at").str.slice(0, 4) != pl.col("first").str.slice(0, 4)
        ).height
        >= 5
    )


def test_one_to_two_percent_of_links_are_retracted(data):
    share = (
        data["links"]
        .group_by("incident_id", "person_id")
        .agg((pl.col("retracted") == "true").any().alias("r"))["r"]
        .mean()
    )
    assert 0.005 <= share <= 0.03


def test_crews_of_three_or_more_do_the_level_three_jobs(data):
    inc = data["incidents"]
    assert inc.filter(pl.col("level") == "3")["participants"].cast(pl.Int64).min() >= 3
    off = data["offenders"].group_by("incident_id").len()
    j = inc.join(off, on="incident_id")
    assert (j["participants"].cast(pl.Int64) == j["len"]).all()


def test_a_higher_catch_rate_factor_solves_more_cases(tmp_path):
    rates = []
    for factor in (1.0, 2.0):
        out = tmp_path / str(factor)
        generate(
            SynthConfig(
                seed=5,
                start=START,
                days=120,
                scale=0.4,
                batch_days=30,
                catch_rate_factor=factor,
            ),
            out,
        )
        final = (
            pl.read_csv(out / "inbox" / "*" / "incidents.csv", infer_schema_length=0)
            .sort("updated_at")
            .group_by("incident_id")
            .last()
        )
        rates.append((final["status"] == "solved").mean())
    assert rates[1] > 1.4 * rates[0]


def test_the_out_folder_holds_inbox_and_truth_only(data):
    assert sorted(p.name for p in Path(data["out"]).iterdir()) == ["inbox", "truth"]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 99])
def test_the_44000_kr_card_is_drained_within_36_hours_for_any_seed(tmp_path, seed):
    generate(
        SynthConfig(seed=seed, start=START, days=30, scale=0.05, batch_days=30),
        tmp_path,
    )
    ep = pl.read_csv(tmp_path / "truth" / "episodes.csv").filter(pl.col("scripted"))
    row = ep.row(0, named=True)
    start, end = (datetime.fromisoformat(row[k]) for k in ("start_at", "end_at"))
    assert end - start <= timedelta(hours=36)
    assert 45_500 <= row["max_36h_nok"] == row["total_nok"] <= 47_500

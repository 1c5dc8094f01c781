"""Figures the worlds move, measured from a generated folder (batches and truth).

`calibration.measure` adds them under `world_figures`, `python -m
gjenganger.synth.sweep` tabulates them over every preset, and
`tests/test_synth_worlds.py` checks that each world knob moves its figure. Input is
the dict of frames from `calibration.load` (all values as text).
"""

from __future__ import annotations

import math

import polars as pl

#: Near repeat: another case of the same offence code this close in space and time.
NEAR_M, NEAR_DAYS = 200.0, 7
KM_PER_DEG = 111.2
COS_LAT = math.cos(math.radians(63.4))


def epoch(col: str) -> pl.Expr:
    """An ISO 8601 text column with offset as epoch seconds."""
    return pl.col(col).str.to_datetime("%Y-%m-%dT%H:%M:%S%z").dt.epoch("s")


def _years(d) -> float:
    """Length of the period in years (from the incidents' true times)."""
    t = d["incidents"].select(epoch("occurred_at"))["occurred_at"]
    return max(1.0, (t.max() - t.min()) / 86400 + 1) / 365


def custody_days(d) -> float:
    """Custody days a year per plus, mixed, minus and MAS person (all kinds, the
    newest version of each custody period, open ones counted to the last report)."""
    cus = d["custody"].sort("updated_at").group_by("custody_id").last()
    if cus.is_empty():
        return 0.0
    cus = cus.select(epoch("start_at"), epoch("end_at"))
    end = d["incidents"].select(epoch("occurred_at"))["occurred_at"].max()
    days = (pl.col("end_at").fill_null(end) - pl.col("start_at")) / 86400
    total = cus.select(days.clip(0).sum()).item()
    persons = d["persons"].filter(pl.col("group") != "background").height
    return round(total / max(1, persons) / _years(d), 1)


def near_repeat_share(d) -> float:
    """Share of cases with an earlier case of the same offence code within NEAR_M
    metres and NEAR_DAYS days (true times, exported places)."""
    cell, week = NEAR_M / 1000, NEAR_DAYS * 86400
    inc = (
        d["final"]
        .filter(pl.col("lat").is_not_null())
        .select("incident_id", "offence_code", "lat", "lon")
        .join(
            d["incidents"].select("incident_id", epoch("occurred_at")), on="incident_id"
        )
        .with_columns(
            (pl.col("lat").cast(pl.Float64) * KM_PER_DEG).alias("y"),
            (pl.col("lon").cast(pl.Float64) * KM_PER_DEG * COS_LAT).alias("x"),
            pl.col("occurred_at").alias("t"),
        )
        .with_columns(
            (pl.col("x") / cell).floor().cast(pl.Int64).alias("cx"),
            (pl.col("y") / cell).floor().cast(pl.Int64).alias("cy"),
            (pl.col("t") // week).alias("cw"),
        )
        .select("incident_id", "offence_code", "x", "y", "t", "cx", "cy", "cw")
    )
    if inc.is_empty():
        return 0.0
    shifts = pl.DataFrame(
        [(a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (0, 1)],
        schema=["dx", "dy", "dw"],
        orient="row",
    )
    earlier = inc.join(shifts, how="cross").with_columns(
        pl.col("cx") + pl.col("dx"),
        pl.col("cy") + pl.col("dy"),
        pl.col("cw") + pl.col("dw"),
    )
    pairs = inc.join(
        earlier, on=["offence_code", "cx", "cy", "cw"], suffix="_e"
    ).filter(
        (pl.col("t_e") < pl.col("t"))
        & (pl.col("t") - pl.col("t_e") <= week)
        & (
            (pl.col("x") - pl.col("x_e")) ** 2 + (pl.col("y") - pl.col("y_e")) ** 2
            <= cell**2
        )
    )
    return round(pairs["incident_id"].n_unique() / inc.height, 4)


def home_distance_km(d) -> float:
    """Median distance (km) of plus and mixed users' cases from the principal's home."""
    homes = d["persons"].filter(pl.col("group").is_in(["plus", "mixed"]))
    j = (
        d["incidents"]
        .select("incident_id", "person_id")
        .join(homes.select("person_id", "home_lat", "home_lon"), on="person_id")
        .join(d["final"].select("incident_id", "lat", "lon"), on="incident_id")
        .drop_nulls()
    )
    f = lambda c: pl.col(c).cast(pl.Float64)  # noqa: E731
    dy = (f("lat") - f("home_lat")) * KM_PER_DEG
    dx = (f("lon") - f("home_lon")) * KM_PER_DEG * COS_LAT
    return round(j.select((dx**2 + dy**2).sqrt().median()).item() or 0.0, 2)


def minus_top_share(d, share: float = 0.1) -> float:
    """Share of minus users' offences done by their most active `share`."""
    minus = d["persons"].filter(pl.col("group") == "minus").select("person_id")
    counts = d["offenders"].join(minus, on="person_id").group_by("person_id").len()
    if counts.is_empty():
        return 0.0
    top = max(1, round(share * minus.height))
    lens = counts["len"].sort(descending=True)
    return round(lens.head(top).sum() / lens.sum(), 3)


def report_delay_hours(d) -> float:
    """Median hours from the end of the time window to the report (not card fraud)."""
    final = d["final"].filter(pl.col("offence_code") != "card_fraud")
    delay = final.select((epoch("reported_at") - epoch("occurred_to")) / 3600)
    return round(delay.to_series().median() or 0.0, 2)


def measure(d) -> dict:
    """Every figure above plus counts of cases, solved share, crews and cards."""
    final, years = d["final"], _years(d)
    phases = d["phases"]
    cards = final.filter(pl.col("offence_code") == "card_fraud")
    card_delay = cards.select((epoch("reported_at") - epoch("occurred_to")) / 86400)
    return {
        "solved_share": round((final["status"] == "solved").mean(), 4),
        "inactive_share_plus_mixed": round((phases["phase"] == "inactive").mean(), 4)
        if phases.height
        else 0.0,
        "custody_days_per_person_year": custody_days(d),
        "crew_share": round((final["participants"].cast(pl.Int64) >= 2).mean(), 4),
        "repeat_target_share": round(
            d["incidents"]["repeat_of"].is_not_null().mean(), 4
        ),
        "near_repeat_share": near_repeat_share(d),
        "median_km_from_home_plus_mixed": home_distance_km(d),
        "minus_top10pct_share": minus_top_share(d),
        "median_report_delay_hours": report_delay_hours(d),
        "card_frauds_per_year": round(cards.height / years),
        "card_report_days_median": round(card_delay.to_series().median() or 0.0, 1),
        "card_transactions_per_year": round(
            d["tx"]["transaction_id"].n_unique() / years
        ),
    }

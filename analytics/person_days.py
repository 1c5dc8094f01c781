"""Person-day series: what each person did, day by day, as the phase model's input.

For each person and each day of a window: the (weighted) number of cases by
sophistication level, how many were planned or not, arrests at the scene, value, and
whether the person was in custody that day (a day the person is known to be
inactive: nearly drug free, no offences in the register).

Evidence comes as rows `(incident_id, person_id, weight)`:

- a case linked to the person in the case system (suspect, charged, convicted):
  weight 1 (`evidence_from_links`);
- an open case the attribution model gives to the person with probability p: weight
  p (`evidence_from_attribution`); a case already linked to anyone is not counted
  again through attribution;
- for evaluation, the true offender of every case (`evidence_from_truth`), weight 1.

Offence times are uncertain ("between Friday 18:00 and Monday 07:00"), so each case's
weight is spread over its `occurred_from`-`occurred_to` window in proportion to the
hours of the window that fall on each day (aoristic analysis, Ratcliffe 2002). A case
with an exact time puts all its weight on that day.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from gjenganger.analytics import sophistication

#: Count columns of the person-day frame, all Float64 (aoristic weights).
COUNT_COLUMNS = (
    "n_cases",
    "n_sharp",
    "n_level1",
    "n_level2",
    "n_level3",
    "n_planned",
    "n_unplanned",
    "n_arrests",
    "value_nok",
    "n_linked",
    "n_attributed",
)
#: A case whose occurrence window is at most this long is *sharp*: its day is known
#: (give or take midnight). Longer windows (a cabin burglary found after weeks) are
#: *diffuse*: their aoristic weight smears over days the person may have been
#: resting, so the phase model reads them with their own, flatter rates.
SHARP_HOURS = 24.0
#: Custody hours on a day from which the day counts as a known inactive day.
CUSTODY_MIN_HOURS = 12.0
#: Custody kinds that make a person inactive (prison, remand, treatment). A police
#: `arrest` lasts hours: the person is back in the use period the same or next day,
#: so an arrest marks a day only if it covers the whole day.
CLAMP_KINDS = ("remand", "prison", "treatment")
ARREST_MIN_HOURS = 24.0
_EVIDENCE_SCHEMA = {
    "incident_id": pl.String,
    "person_id": pl.String,
    "weight": pl.Float64,
    "source": pl.String,
}


def evidence_from_links(links: pl.DataFrame) -> pl.DataFrame:
    """Linked cases as evidence rows with weight 1 (source `linked`).

    `links` is `store.load_links` (current, not retracted). One row per case and
    person even if the person holds several roles.
    """
    if links.is_empty():
        return pl.DataFrame(schema=_EVIDENCE_SCHEMA)
    return (
        links.select("incident_id", "person_id")
        .unique()
        .with_columns(weight=pl.lit(1.0), source=pl.lit("linked"))
    )


def evidence_from_attribution(
    attribution: pl.DataFrame, links: pl.DataFrame | None = None, *, min_p: float = 0.0
) -> pl.DataFrame:
    """Attributed open cases as evidence rows weighted by their probability.

    `attribution` holds `incident_id, person_id, p` (table `attribution_candidates`).
    Cases already linked to any person are dropped (their link is the evidence), so
    nothing is counted twice. Rows with p <= `min_p` are dropped.
    """
    if attribution.is_empty():
        return pl.DataFrame(schema=_EVIDENCE_SCHEMA)
    frame = attribution.select(
        "incident_id", "person_id", pl.col("p").cast(pl.Float64).alias("weight")
    ).filter(pl.col("weight") > min_p)
    if links is not None and not links.is_empty():
        frame = frame.join(
            links.select("incident_id").unique(), on="incident_id", how="anti"
        )
    frame = frame.group_by("incident_id", "person_id").agg(pl.col("weight").max())
    return frame.with_columns(
        pl.col("weight").clip(0.0, 1.0), source=pl.lit("attributed")
    ).select(list(_EVIDENCE_SCHEMA))


def evidence_from_truth(offenders: pl.DataFrame) -> pl.DataFrame:
    """Every true offence (generator's `truth/offenders.csv`) as weight-1 evidence."""
    return (
        offenders.select("incident_id", "person_id")
        .unique()
        .with_columns(weight=pl.lit(1.0), source=pl.lit("linked"))
    )


def combine_evidence(*frames: pl.DataFrame) -> pl.DataFrame:
    """Concatenate evidence frames (empty ones allowed)."""
    parts = [f.select(list(_EVIDENCE_SCHEMA)) for f in frames if f is not None]
    if not parts:
        return pl.DataFrame(schema=_EVIDENCE_SCHEMA)
    return pl.concat(parts, how="vertical_relaxed")


def _day_overlap(start: pl.Expr, end: pl.Expr, name: str) -> pl.Expr:
    """The calendar days [start, end] touches, as a list column (to explode)."""
    return pl.date_ranges(start.dt.date(), end.dt.date(), interval="1d").alias(name)


def _hours_on_day(start: str, end: str, day: str) -> pl.Expr:
    """Hours of the interval [start, end] that fall on calendar day `day`."""
    day_start = pl.col(day).cast(pl.Datetime("us"))
    day_end = day_start + pl.duration(days=1)
    lo = pl.max_horizontal(pl.col(start), day_start)
    hi = pl.min_horizontal(pl.col(end), day_end)
    return ((hi - lo).dt.total_microseconds() / 3.6e9).clip(lower_bound=0.0)


def aoristic_days(cases: pl.DataFrame) -> pl.DataFrame:
    """Spread each case row over the days of its occurrence window.

    `cases` needs `occurred_from`, `occurred_to` (Datetime) and any other columns,
    which are carried along. Adds `date` and `day_share` (shares of one case sum to 1).
    """
    if cases.is_empty():
        return cases.with_columns(
            pl.lit(None, pl.Date).alias("date"),
            pl.lit(None, pl.Float64).alias("day_share"),
        )
    frame = cases.with_columns(
        pl.col("occurred_to").fill_null(pl.col("occurred_from")).alias("_to"),
        pl.col("occurred_from").alias("_from"),
    ).with_columns(
        pl.when(pl.col("_to") < pl.col("_from"))
        .then(pl.col("_from"))
        .otherwise(pl.col("_to"))
        .alias("_to"),
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"),
    )
    frame = frame.with_columns(_day_overlap(pl.col("_from"), pl.col("_to"), "date"))
    frame = frame.explode("date")
    hours = _hours_on_day("_from", "_to", "date")
    frame = frame.with_columns(hours.alias("_h"), pl.len().over("_row").alias("_ndays"))
    total = pl.col("_h").sum().over("_row")
    share = (
        pl.when(total > 0)
        .then(pl.col("_h") / total)
        # a point in time (or a zero-length window): all weight on its day
        .otherwise(1.0 / pl.col("_ndays"))
    )
    frame = frame.with_columns(share.alias("day_share"))
    return frame.filter(pl.col("day_share") > 0).drop(
        "_from", "_to", "_row", "_h", "_ndays"
    )


def custody_days(
    custody: pl.DataFrame,
    start: dt.date,
    end: dt.date,
    *,
    min_hours: float = CUSTODY_MIN_HOURS,
) -> pl.DataFrame:
    """Person-days spent in custody: prison, remand, treatment (and whole-day arrests).

    A day counts when the person was in custody (kinds `CLAMP_KINDS`) at least
    `min_hours` of it, or under `arrest` at least `ARREST_MIN_HOURS`; an ongoing
    period (`end_at` null) runs to the end of `end`. Without a `kind` column every
    row counts. Returns `person_id, date, custody_hours` for days inside [start, end].
    """
    schema = {"person_id": pl.String, "date": pl.Date, "custody_hours": pl.Float64}
    if custody is None or custody.is_empty():
        return pl.DataFrame(schema=schema)
    if "kind" not in custody.columns:
        custody = custody.with_columns(pl.lit("prison").alias("kind"))
    horizon = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    frame = (
        custody.filter(pl.col("kind").is_in([*CLAMP_KINDS, "arrest"]))
        .select(
            (pl.col("kind") == "arrest").alias("is_arrest"),
            "person_id",
            pl.col("start_at").alias("_from"),
            pl.col("end_at").fill_null(horizon).clip(upper_bound=horizon).alias("_to"),
        )
        .filter(pl.col("_to") >= pl.lit(dt.datetime.combine(start, dt.time())))
    )
    frame = frame.filter(pl.col("_from") < horizon).with_columns(
        pl.max_horizontal("_from", pl.lit(dt.datetime.combine(start, dt.time()))).alias(
            "_from"
        )
    )
    if frame.is_empty():
        return pl.DataFrame(schema=schema)
    frame = frame.with_columns(_day_overlap(pl.col("_from"), pl.col("_to"), "date"))
    frame = frame.explode("date").with_columns(
        _hours_on_day("_from", "_to", "date").alias("custody_hours")
    )
    hours = pl.col("custody_hours")
    out = (
        frame.group_by("person_id", "date")
        .agg(
            hours.filter(~pl.col("is_arrest"))
            .sum()
            .clip(upper_bound=24.0)
            .alias("clamp"),
            hours.filter(pl.col("is_arrest"))
            .sum()
            .clip(upper_bound=24.0)
            .alias("arrest"),
            hours.sum().clip(upper_bound=24.0).alias("custody_hours"),
        )
        .filter(
            ((pl.col("clamp") >= min_hours) | (pl.col("arrest") >= ARREST_MIN_HOURS))
            & pl.col("date").is_between(start, end)
        )
    )
    return out.select(list(schema)).sort("person_id", "date")


def build_person_days(
    incidents: pl.DataFrame,
    evidence: pl.DataFrame,
    custody: pl.DataFrame | None,
    start: dt.date,
    end: dt.date,
    *,
    persons: list[str] | None = None,
    custody_min_hours: float = CUSTODY_MIN_HOURS,
) -> pl.DataFrame:
    """The dense person-day frame for `persons` (default: all in `evidence`).

    `incidents` is `store.load_incidents` (needs `incident_id, occurred_from,
    occurred_to, planned, arrest_at_scene, value_nok` and the sophistication
    columns); `evidence` has `incident_id, person_id, weight, source`.
    One row per person and day in [start, end], zeros where nothing happened:
    `person_id, date, n_cases, n_sharp, n_level1, n_level2, n_level3, n_planned,
    n_unplanned, n_arrests, value_nok, n_linked, n_attributed, planned_share, custody`
    (`n_sharp`: the part of `n_cases` from cases with a window of at most
    `SHARP_HOURS`).
    """
    if end < start:
        raise ValueError("window end before start")
    if persons is None:
        persons = sorted(evidence["person_id"].unique().to_list())
    persons = sorted(set(persons))
    dates = pl.date_range(start, end, interval="1d", eager=True).alias("date")
    grid = pl.DataFrame({"person_id": persons}, schema={"person_id": pl.String}).join(
        dates.to_frame(), how="cross"
    )
    ev = evidence.filter(pl.col("person_id").is_in(persons)).join(
        _case_marks(incidents), on="incident_id", how="inner"
    )
    daily = aoristic_days(ev).filter(pl.col("date").is_between(start, end))
    agg = _daily_counts(daily)
    out = grid.join(agg, on=["person_id", "date"], how="left").with_columns(
        [pl.col(c).cast(pl.Float64).fill_null(0.0) for c in COUNT_COLUMNS]
    )
    known = pl.col("n_planned") + pl.col("n_unplanned")
    out = out.with_columns(
        pl.when(known > 0)
        .then(pl.col("n_planned") / known)
        .otherwise(None)
        .alias("planned_share")
    )
    cust = custody_days(custody, start, end, min_hours=custody_min_hours)
    out = out.join(
        cust.select("person_id", "date", pl.lit(True).alias("custody")),
        on=["person_id", "date"],
        how="left",
    )
    out = out.with_columns(pl.col("custody").fill_null(False))
    cols = ["person_id", "date", *COUNT_COLUMNS, "planned_share", "custody"]
    return out.select(cols).sort("person_id", "date")


def _case_marks(incidents: pl.DataFrame) -> pl.DataFrame:
    """Per incident what a person-day counts: window, level, sharp (a window of
    at most `SHARP_HOURS`), planned, arrest at the scene and value."""
    return sophistication.with_levels(incidents).select(
        "incident_id",
        "occurred_from",
        "occurred_to",
        "level",
        (
            (pl.col("occurred_to") - pl.col("occurred_from"))
            .dt.total_minutes()
            .fill_null(0)
            <= SHARP_HOURS * 60
        ).alias("sharp"),
        pl.col("planned"),
        pl.col("arrest_at_scene").fill_null(False),
        pl.col("value_nok").cast(pl.Float64).fill_null(0.0),
    )


def _daily_counts(daily: pl.DataFrame) -> pl.DataFrame:
    """The weighted counts per person and day (evidence weight x aoristic day
    share) of the `COUNT_COLUMNS`, from `aoristic_days` rows."""
    w = pl.col("weight") * pl.col("day_share")
    return daily.group_by("person_id", "date").agg(
        w.sum().alias("n_cases"),
        w.filter(pl.col("sharp")).sum().alias("n_sharp"),
        *[
            w.filter(pl.col("level") == lv).sum().alias(f"n_level{lv}")
            for lv in (1, 2, 3)
        ],
        w.filter(pl.col("planned").fill_null(False)).sum().alias("n_planned"),
        w.filter(~pl.col("planned").fill_null(True)).sum().alias("n_unplanned"),
        w.filter(pl.col("arrest_at_scene")).sum().alias("n_arrests"),
        (w * pl.col("value_nok")).sum().alias("value_nok"),
        w.filter(pl.col("source") == "linked").sum().alias("n_linked"),
        w.filter(pl.col("source") == "attributed").sum().alias("n_attributed"),
    )

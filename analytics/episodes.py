"""Card-use episodes (sprees) and the event timeline of one person.

The report's clearest picture of a repeat offender at work is a stolen card drained
of at least NOK 44,000 in a day and a half. This module finds such *episodes* in the
card transactions and lays a person's events out in time for the timeline page.

Everything here is pure: Polars frames and parameters in, new frames out; no DuckDB,
no paths. Input frames have the columns of `gjenganger.store` (see
docs/architecture.md); timestamps are naive local time.

Definitions
-----------
- An **episode** is a run of transactions on one card (`card_ref`) with no gap
  between consecutive transactions longer than `max_gap_hours`. Declined attempts
  belong to the episode (they show the card being tried) but carry no NOK.
- `total_nok` is the sum of *approved* amounts; `attempted_nok` includes declined.
- `max_36h_nok` is the largest approved NOK total inside any closed window of
  `window_hours` (36 h by default): "at least NOK 44,000 in a day and a half".
  The maximum over all windows is attained by a window ending at a transaction, so a
  backward rolling sum per transaction is exact.
- The **person** of an episode is the person linked to its fraud case (role order
  convicted > charged > suspect), else the rank-1 attribution candidate, which is a
  *hypothesis* (`is_hypothesis = True`, `attribution_p`), never shown as linked.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from gjenganger.data_schema.contract import OFFENCE_GROUPS

__all__ = [
    "BAND_COLUMNS",
    "DEFAULT_MAX_GAP_HOURS",
    "DEFAULT_WINDOW_HOURS",
    "EPISODE_COLUMNS",
    "EVENT_COLUMNS",
    "LANES",
    "assign_episodes",
    "attach_persons",
    "clip_bands",
    "detect_episodes",
    "max_window_total",
    "nok_events",
    "person_events",
    "person_summary",
    "phase_bands",
    "top_candidates",
    "use_period_bands",
]

DEFAULT_MAX_GAP_HOURS = 24.0
DEFAULT_WINDOW_HOURS = 36.0

# The columns of `detect_episodes` + `attach_persons`, in order (the DuckDB table).
EPISODE_COLUMNS: tuple[str, ...] = (
    "episode_id",
    "incident_id",
    "card_ref",
    "person_id",
    "person_source",
    "is_hypothesis",
    "attribution_p",
    "n_persons_linked",
    "start_at",
    "end_at",
    "duration_h",
    "n_transactions",
    "n_approved",
    "n_declined",
    "n_merchants",
    "merchant_categories",
    "total_nok",
    "attempted_nok",
    "max_36h_nok",
    "max_36h_start_at",
    "max_36h_end_at",
    "n_incidents",
)

# Lanes of the timeline, top to bottom: each offence group, then card use,
# arrests and custody.
LANES: tuple[str, ...] = (
    "acquisitive",
    "fraud",
    "drugs",
    "vandalism",
    "violence",
    "other",
    "card",
    "arrest",
    "custody",
)

# The columns of `person_events`, one row per event on the timeline.
EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "lane",
    "at",
    "start_at",
    "end_at",
    "incident_id",
    "offence_code",
    "target_type",
    "entry_method",
    "value_nok",
    "status",
    "level",
    "is_linked",
    "attribution_p",
    "card_ref",
    "approved",
    "merchant_category",
    "custody_kind",
    "lat",
    "lon",
)

_ROLE_ORDER = {"convicted": 0, "charged": 1, "suspect": 2}


def _hours(expr: pl.Expr) -> pl.Expr:
    """A Duration expression as float hours."""
    return expr.dt.total_microseconds().cast(pl.Float64) / 3.6e9


# --------------------------------------------------------------------- episodes
def assign_episodes(
    transactions: pl.DataFrame, *, max_gap_hours: float = DEFAULT_MAX_GAP_HOURS
) -> pl.DataFrame:
    """Transactions sorted by card and time, each with its `episode_id`.

    A new episode starts at a card's first transaction and wherever the gap to the
    previous transaction of the same card exceeds `max_gap_hours` (a cumulative sum
    of those break flags numbers the episodes). Adds `episode_id` (card_ref and
    start time, stable across runs), `amount_approved_nok` (0 for declined) and
    `cum_nok` (approved NOK so far in the episode).
    """
    if max_gap_hours <= 0:
        raise ValueError(f"max_gap_hours must be > 0, got {max_gap_hours}")
    gap = timedelta(hours=max_gap_hours)
    tx = transactions.sort("card_ref", "at", "transaction_id")
    new_episode = (pl.col("card_ref") != pl.col("card_ref").shift(1)).fill_null(
        True
    ) | ((pl.col("at") - pl.col("at").shift(1)) > gap).fill_null(True)
    tx = tx.with_columns(
        _seq=new_episode.cast(pl.Int64).cum_sum(),
        amount_approved_nok=pl.when(pl.col("approved"))
        .then(pl.col("amount_nok"))
        .otherwise(0.0)
        .cast(pl.Float64),
    )
    tx = tx.with_columns(
        episode_id=pl.concat_str(
            pl.col("card_ref"),
            pl.lit(":"),
            pl.col("at").min().over("_seq").dt.strftime("%Y%m%dT%H%M%S"),
        ),
    ).with_columns(
        cum_nok=pl.col("amount_approved_nok").cum_sum().over("_seq"),
    )
    return tx.drop("_seq")


def max_window_total(
    events: pl.DataFrame,
    *,
    by: str,
    at: str = "at",
    value: str = "amount_approved_nok",
    window_hours: float = DEFAULT_WINDOW_HOURS,
) -> pl.DataFrame:
    """The largest `value` total inside any closed `window_hours` window, per `by`.

    Returns one row per group: `by`, `max_window_nok`, `window_start_at` (first
    contributing event) and `window_end_at` (last one). A backward rolling sum
    ending at each event is exact, because any window can be slid right until it
    ends at its last event without losing an event.
    """
    window = timedelta(hours=window_hours)
    ev = events.select(by, at, value).sort(by, at)
    ev = ev.with_columns(
        _win=pl.col(value)
        .rolling_sum_by(at, window_size=window, closed="both")
        .over(by)
        .round(2)
    )
    best = (
        ev.sort(by, "_win", at, descending=[False, True, False])
        .group_by(by, maintain_order=True)
        .first()
        .select(by, pl.col("_win").alias("max_window_nok"), pl.col(at).alias("_end"))
    )
    starts = (
        ev.join(best, on=by)
        .filter(
            (pl.col(at) >= pl.col("_end") - window)
            & (pl.col(at) <= pl.col("_end"))
            & (pl.col(value) > 0)
        )
        .group_by(by)
        .agg(pl.col(at).min().alias("window_start_at"))
    )
    return (
        best.join(starts, on=by, how="left")
        .with_columns(
            window_start_at=pl.col("window_start_at").fill_null(pl.col("_end"))
        )
        .rename({"_end": "window_end_at"})
        .select(by, "max_window_nok", "window_start_at", "window_end_at")
    )


def detect_episodes(
    transactions: pl.DataFrame,
    *,
    max_gap_hours: float = DEFAULT_MAX_GAP_HOURS,
    window_hours: float = DEFAULT_WINDOW_HOURS,
) -> pl.DataFrame:
    """One row per card-use episode, largest `max_36h_nok` first.

    Columns: episode_id, incident_id (the case with most of the episode's
    transactions), card_ref, start_at, end_at, duration_h, n_transactions,
    n_approved, n_declined, n_merchants (distinct merchant_ref, online counted as
    one), merchant_categories (comma-separated, sorted), total_nok (approved),
    attempted_nok (all), max_36h_nok with max_36h_start_at/max_36h_end_at, and
    n_incidents. Persons are added by `attach_persons`.
    """
    if transactions.height == 0:
        return _empty_episodes()
    tx = assign_episodes(transactions, max_gap_hours=max_gap_hours)
    main_incident = (
        tx.group_by("episode_id", "incident_id")
        .agg(pl.len().alias("_n"), pl.col("at").min().alias("_first"))
        .sort("episode_id", "_n", "_first", descending=[False, True, False])
        .group_by("episode_id", maintain_order=True)
        .first()
        .select("episode_id", "incident_id")
    )
    agg = tx.group_by("episode_id").agg(
        pl.col("card_ref").first(),
        pl.col("at").min().alias("start_at"),
        pl.col("at").max().alias("end_at"),
        pl.len().cast(pl.Int64).alias("n_transactions"),
        pl.col("approved").sum().cast(pl.Int64).alias("n_approved"),
        (~pl.col("approved")).sum().cast(pl.Int64).alias("n_declined"),
        pl.coalesce(pl.col("merchant_ref"), pl.col("merchant_category"))
        .n_unique()
        .cast(pl.Int64)
        .alias("n_merchants"),
        pl.col("merchant_category")
        .unique()
        .sort()
        .str.join(",")
        .alias("merchant_categories"),
        pl.col("amount_approved_nok").sum().round(2).alias("total_nok"),
        pl.col("amount_nok").sum().round(2).alias("attempted_nok"),
        pl.col("incident_id").n_unique().cast(pl.Int64).alias("n_incidents"),
    )
    windows = max_window_total(tx, by="episode_id", window_hours=window_hours).rename(
        {
            "max_window_nok": "max_36h_nok",
            "window_start_at": "max_36h_start_at",
            "window_end_at": "max_36h_end_at",
        }
    )
    out = (
        agg.join(main_incident, on="episode_id")
        .join(windows, on="episode_id")
        .with_columns(duration_h=_hours(pl.col("end_at") - pl.col("start_at")).round(3))
        .with_columns(
            person_id=pl.lit(None, pl.String),
            person_source=pl.lit(None, pl.String),
            is_hypothesis=pl.lit(None, pl.Boolean),
            attribution_p=pl.lit(None, pl.Float64),
            n_persons_linked=pl.lit(0, pl.Int64),
        )
    )
    return out.select(EPISODE_COLUMNS).sort(
        "max_36h_nok", "start_at", "episode_id", descending=[True, False, False]
    )


def _empty_episodes() -> pl.DataFrame:
    """An episodes frame with no rows and the right schema."""
    ts = pl.Datetime("us")
    schema = {
        "episode_id": pl.String,
        "incident_id": pl.String,
        "card_ref": pl.String,
        "person_id": pl.String,
        "person_source": pl.String,
        "is_hypothesis": pl.Boolean,
        "attribution_p": pl.Float64,
        "n_persons_linked": pl.Int64,
        "start_at": ts,
        "end_at": ts,
        "duration_h": pl.Float64,
        "n_transactions": pl.Int64,
        "n_approved": pl.Int64,
        "n_declined": pl.Int64,
        "n_merchants": pl.Int64,
        "merchant_categories": pl.String,
        "total_nok": pl.Float64,
        "attempted_nok": pl.Float64,
        "max_36h_nok": pl.Float64,
        "max_36h_start_at": ts,
        "max_36h_end_at": ts,
        "n_incidents": pl.Int64,
    }
    return pl.DataFrame(schema=schema)


# ---------------------------------------------------------------------- persons
def top_candidates(candidates: pl.DataFrame | None) -> pl.DataFrame:
    """The rank-1 attribution candidate per incident, from the newest `as_of`.

    `candidates` has incident_id, person_id, p, rank, as_of (model_version
    optional); None or empty gives an empty frame. Returns incident_id, person_id,
    p.
    """
    empty = pl.DataFrame(
        schema={"incident_id": pl.String, "person_id": pl.String, "p": pl.Float64}
    )
    if candidates is None or candidates.height == 0:
        return empty
    c = candidates
    if "as_of" in c.columns:
        c = c.filter(pl.col("as_of") == pl.col("as_of").max().over("incident_id"))
    if "rank" in c.columns:
        c = c.filter(pl.col("rank") == pl.col("rank").min().over("incident_id"))
    return (
        c.sort("incident_id", "p", "person_id", descending=[False, True, False])
        .group_by("incident_id", maintain_order=True)
        .first()
        .select(
            pl.col("incident_id").cast(pl.String),
            pl.col("person_id").cast(pl.String),
            pl.col("p").cast(pl.Float64),
        )
    )


def _principal_links(links: pl.DataFrame) -> pl.DataFrame:
    """Per incident: the principal linked person and the number linked."""
    if links.height == 0:
        return pl.DataFrame(
            schema={
                "incident_id": pl.String,
                "_linked_person": pl.String,
                "_n_linked": pl.Int64,
            }
        )
    return (
        links.with_columns(
            _r=pl.col("role").replace_strict(
                _ROLE_ORDER, default=9, return_dtype=pl.Int8
            )
        )
        .sort("incident_id", "_r", "person_id")
        .group_by("incident_id", maintain_order=True)
        .agg(
            pl.col("person_id").first().alias("_linked_person"),
            pl.col("person_id").n_unique().cast(pl.Int64).alias("_n_linked"),
        )
    )


def attach_persons(
    episodes: pl.DataFrame,
    links: pl.DataFrame,
    candidates: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Episodes with the person of their fraud case filled in.

    A linked person (from `links`: current, not retracted) gives
    person_source='linked', is_hypothesis=False. Otherwise the rank-1 attribution
    candidate gives person_source='attributed', is_hypothesis=True and
    attribution_p. Otherwise person_id stays null (person_source 'none').
    """
    principal = _principal_links(links)
    top = top_candidates(candidates).rename(
        {"person_id": "_cand_person", "p": "_cand_p"}
    )
    out = (
        episodes.drop(
            "person_id",
            "person_source",
            "is_hypothesis",
            "attribution_p",
            "n_persons_linked",
            strict=False,
        )
        .join(principal, on="incident_id", how="left")
        .join(top, on="incident_id", how="left")
    )
    linked = pl.col("_linked_person").is_not_null()
    attributed = ~linked & pl.col("_cand_person").is_not_null()
    out = out.with_columns(
        person_id=pl.when(linked)
        .then(pl.col("_linked_person"))
        .otherwise(pl.col("_cand_person")),
        person_source=pl.when(linked)
        .then(pl.lit("linked"))
        .when(attributed)
        .then(pl.lit("attributed"))
        .otherwise(pl.lit("none")),
        is_hypothesis=attributed,
        attribution_p=pl.when(attributed).then(pl.col("_cand_p")),
        n_persons_linked=pl.col("_n_linked").fill_null(0).cast(pl.Int64),
    )
    return out.select(EPISODE_COLUMNS)


# --------------------------------------------------------------- person events
def _empty_events() -> pl.DataFrame:
    ts = pl.Datetime("us")
    schema = {
        "event_id": pl.String,
        "lane": pl.String,
        "at": ts,
        "start_at": ts,
        "end_at": ts,
        "incident_id": pl.String,
        "offence_code": pl.String,
        "target_type": pl.String,
        "entry_method": pl.String,
        "value_nok": pl.Float64,
        "status": pl.String,
        "level": pl.Int64,
        "is_linked": pl.Boolean,
        "attribution_p": pl.Float64,
        "card_ref": pl.String,
        "approved": pl.Boolean,
        "merchant_category": pl.String,
        "custody_kind": pl.String,
        "lat": pl.Float64,
        "lon": pl.Float64,
    }
    return pl.DataFrame(schema=schema)


def _conform(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every event column (missing ones null) cast to the schema."""
    empty = _empty_events()
    return frame.select(
        (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c)
        for c, t in empty.schema.items()
    )


def person_events(
    person_id: str,
    incidents: pl.DataFrame,
    links: pl.DataFrame,
    transactions: pl.DataFrame,
    custody: pl.DataFrame,
    *,
    candidates: pl.DataFrame | None = None,
    levels: pl.DataFrame | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pl.DataFrame:
    """Every event of one person in [start, end], one row each, sorted by time.

    - Incidents linked to the person (is_linked=True) and incidents whose rank-1
      attribution candidate is the person and that are linked to nobody
      (is_linked=False, attribution_p set: a hypothesis). Lane = offence group;
      plotted at the middle of the offence window (start_at..end_at).
    - Card transactions of those incidents (lane 'card'), same linked/hypothesis.
    - Custody of the person: kind 'arrest' in lane 'arrest', the others as
      intervals in lane 'custody'; arrests at the scene of a linked incident with no
      recorded arrest within 24 h are added to lane 'arrest'.
    `levels` (incident_id, level 1-3) colours incidents; absent levels stay null.
    """
    my_links = links.filter(pl.col("person_id") == person_id)
    linked_ids = my_links.get_column("incident_id").unique()
    all_linked = links.get_column("incident_id").unique()
    top = top_candidates(candidates)
    attributed = top.filter(
        (pl.col("person_id") == person_id)
        & ~pl.col("incident_id").is_in(all_linked.implode())
    ).select("incident_id", pl.col("p").alias("attribution_p"))
    mine = pl.concat(
        [
            pl.DataFrame({"incident_id": linked_ids}).with_columns(
                is_linked=pl.lit(True), attribution_p=pl.lit(None, pl.Float64)
            ),
            attributed.with_columns(is_linked=pl.lit(False)).select(
                "incident_id", "is_linked", "attribution_p"
            ),
        ],
        how="vertical_relaxed",
    ).unique("incident_id", keep="first")

    inc = incidents.join(mine, on="incident_id", how="inner")
    if levels is not None and levels.height:
        inc = inc.join(
            levels.select("incident_id", pl.col("level").cast(pl.Int64)),
            on="incident_id",
            how="left",
        )
    else:
        inc = inc.with_columns(level=pl.lit(None, pl.Int64))
    group = pl.col("offence_code").replace_strict(
        OFFENCE_GROUPS, default="other", return_dtype=pl.String
    )
    inc_events = inc.with_columns(
        event_id=pl.col("incident_id"),
        lane=group,
        start_at=pl.col("occurred_from"),
        end_at=pl.col("occurred_to"),
        at=pl.col("occurred_from")
        + (pl.col("occurred_to") - pl.col("occurred_from")) / 2,
    )

    tx = transactions.join(
        mine.join(
            inc.select("incident_id", "level", "status", "offence_code"),
            on="incident_id",
            how="left",
        ),
        on="incident_id",
        how="inner",
    )
    tx_events = tx.with_columns(
        event_id=pl.col("transaction_id"),
        lane=pl.lit("card"),
        start_at=pl.col("at"),
        end_at=pl.col("at"),
        value_nok=pl.col("amount_nok"),
        target_type=pl.lit(None, pl.String),
    )

    cu = custody.filter(pl.col("person_id") == person_id)
    cu_events = cu.with_columns(
        event_id=pl.col("custody_id"),
        lane=pl.when(pl.col("kind") == "arrest")
        .then(pl.lit("arrest"))
        .otherwise(pl.lit("custody")),
        at=pl.col("start_at"),
        custody_kind=pl.col("kind"),
        is_linked=pl.lit(True),
    )
    recorded_arrests = cu.filter(pl.col("kind") == "arrest").select(
        pl.col("start_at").alias("_arrest_at")
    )
    scene = inc.filter(pl.col("is_linked") & pl.col("arrest_at_scene").fill_null(False))
    if scene.height:
        scene = scene.sort("occurred_from")
        if recorded_arrests.height:
            scene = scene.join_asof(
                recorded_arrests.sort("_arrest_at"),
                left_on="occurred_from",
                right_on="_arrest_at",
                strategy="forward",
                tolerance=timedelta(hours=24),
            ).filter(pl.col("_arrest_at").is_null())
        scene = scene.with_columns(
            event_id=pl.concat_str(pl.lit("arrest:"), pl.col("incident_id")),
            lane=pl.lit("arrest"),
            at=pl.col("occurred_to"),
            start_at=pl.col("occurred_to"),
            end_at=pl.col("occurred_to"),
            custody_kind=pl.lit("arrest_at_scene"),
            value_nok=pl.lit(None, pl.Float64),
        )
    parts = [_conform(f) for f in (inc_events, tx_events, cu_events, scene) if f.height]
    events = pl.concat(parts) if parts else _empty_events()
    if start is not None:
        events = events.filter(pl.col("end_at").fill_null(pl.col("at")) >= start)
    if end is not None:
        events = events.filter(pl.col("at") <= end)
    return events.sort("at", "lane", "event_id")


def person_summary(
    events: pl.DataFrame,
    episodes: pl.DataFrame,
    *,
    window_hours: float = DEFAULT_WINDOW_HOURS,
    top_n: int = 5,
) -> dict:
    """What the timeline page's summary box says about `events` of one person.

    NOK: incident values plus approved card transactions; a card_fraud case that
    has transactions is counted through them only, not twice. Returns span_start,
    span_end, span_days, n_events, by_lane {lane: n}, n_linked, n_hypotheses,
    nok_total, max_36h_nok (+ window), and top_episodes (records of `episodes`).
    """
    nok = nok_events(events)
    win = (
        max_window_total(
            nok.with_columns(_k=pl.lit(1)),
            by="_k",
            value="nok",
            window_hours=window_hours,
        )
        if nok.height
        else None
    )
    by_lane = (
        {
            r["lane"]: r["len"]
            for r in events.group_by("lane").len().iter_rows(named=True)
        }
        if events.height
        else {}
    )
    incident_like = events.filter(pl.col("lane").is_in(list(OFFENCE_GROUPS.values())))
    span_start = events.get_column("at").min() if events.height else None
    span_end = (
        events.select(pl.max_horizontal("at", "end_at").max()).item()
        if events.height
        else None
    )
    return {
        "span_start": span_start,
        "span_end": span_end,
        "span_days": (
            round((span_end - span_start).total_seconds() / 86400, 2)
            if span_start is not None
            else 0.0
        ),
        "n_events": events.height,
        "by_lane": {lane: by_lane[lane] for lane in LANES if lane in by_lane},
        "n_incidents": incident_like.height,
        "n_linked": int(incident_like.get_column("is_linked").sum() or 0),
        "n_hypotheses": int((~incident_like.get_column("is_linked")).sum() or 0),
        "nok_total": round(float(nok.get_column("nok").sum()), 2)
        if nok.height
        else 0.0,
        "max_36h_nok": float(win.item(0, "max_window_nok")) if win is not None else 0.0,
        "max_36h_start_at": win.item(0, "window_start_at") if win is not None else None,
        "max_36h_end_at": win.item(0, "window_end_at") if win is not None else None,
        "top_episodes": episodes.head(top_n).to_dicts(),
    }


def nok_events(events: pl.DataFrame) -> pl.DataFrame:
    """The NOK-carrying events: at, nok, is_linked; card fraud counted once.

    Approved card transactions carry their amount; incidents carry value_nok,
    except card_fraud cases that have transactions among `events`.
    """
    cases_with_tx = (
        events.filter(pl.col("lane") == "card").get_column("incident_id").unique()
    )
    inc = events.filter(
        pl.col("lane").is_in(list(set(OFFENCE_GROUPS.values())))
        & pl.col("value_nok").is_not_null()
        & ~(
            (pl.col("offence_code") == "card_fraud")
            & pl.col("incident_id").is_in(cases_with_tx.implode())
        )
    )
    card = events.filter(
        (pl.col("lane") == "card") & pl.col("approved").fill_null(False)
    )
    return (
        pl.concat([inc, card])
        .select("at", pl.col("value_nok").alias("nok"), "is_linked")
        .filter(pl.col("nok") > 0)
        .sort("at")
    )


# ---------------------------------------------------------------- timeline bands
BAND_COLUMNS: tuple[str, ...] = ("kind", "label", "start_at", "end_at")


def _empty_bands() -> pl.DataFrame:
    ts = pl.Datetime("us")
    return pl.DataFrame(
        schema={"kind": pl.String, "label": pl.String, "start_at": ts, "end_at": ts}
    )


def _first_present(frame: pl.DataFrame, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in frame.columns), None)


def use_period_bands(use_periods: pl.DataFrame | None) -> pl.DataFrame:
    """Background bands (kind 'use_period') from a `use_periods` table's rows.

    Accepts start/end as dates (whole days: a period ending on a date lasts to the
    next midnight) or timestamps; `period_no` names the band when present.
    """
    if use_periods is None or use_periods.height == 0:
        return _empty_bands()
    s = _first_present(use_periods, ("start_at", "start", "start_date"))
    e = _first_present(use_periods, ("end_at", "end", "end_date"))
    if s is None or e is None:
        return _empty_bands()
    frame = use_periods
    label = (
        pl.concat_str(pl.lit("#"), pl.col("period_no").cast(pl.String))
        if "period_no" in frame.columns
        else pl.lit("")
    )

    def as_ts(col: str, end: bool) -> pl.Expr:
        if frame.schema[col] == pl.Date:
            expr = pl.col(col).cast(pl.Datetime("us"))
            return expr + timedelta(days=1) if end else expr
        return pl.col(col).cast(pl.Datetime("us"))

    return frame.select(
        kind=pl.lit("use_period"),
        label=label,
        start_at=as_ts(s, False),
        end_at=as_ts(e, True),
    ).drop_nulls(["start_at", "end_at"])


def phase_bands(person_days: pl.DataFrame | None) -> pl.DataFrame:
    """Background bands (kind 'phase', label = phase) from a person's day series.

    Consecutive days with the same phase (`path_phase`, the most likely joint path,
    else `phase`) become one band from the first day's midnight to the day after
    the last. Expects one person's rows (person_id, date, phase...).
    """
    if person_days is None or person_days.height == 0:
        return _empty_bands()
    col = _first_present(person_days, ("path_phase", "phase"))
    if col is None or "date" not in person_days.columns:
        return _empty_bands()
    days = (
        person_days.select(pl.col("date").cast(pl.Date), pl.col(col).alias("phase"))
        .drop_nulls()
        .unique("date", keep="first")
        .sort("date")
    )
    new_run = (
        (pl.col("phase") != pl.col("phase").shift(1))
        | ((pl.col("date") - pl.col("date").shift(1)) != timedelta(days=1))
    ).fill_null(True)
    runs = (
        days.with_columns(_run=new_run.cast(pl.Int64).cum_sum())
        .group_by("_run", maintain_order=True)
        .agg(
            pl.col("phase").first(),
            pl.col("date").min().alias("s"),
            pl.col("date").max().alias("e"),
        )
    )
    return runs.select(
        kind=pl.lit("phase"),
        label=pl.col("phase"),
        start_at=pl.col("s").cast(pl.Datetime("us")),
        end_at=pl.col("e").cast(pl.Datetime("us")) + timedelta(days=1),
    )


def clip_bands(
    bands: pl.DataFrame, start: datetime | None, end: datetime | None
) -> pl.DataFrame:
    """Bands overlapping [start, end], cut to it."""
    out = bands
    if start is not None:
        out = out.filter(pl.col("end_at") > start).with_columns(
            start_at=pl.max_horizontal("start_at", pl.lit(start))
        )
    if end is not None:
        out = out.filter(pl.col("start_at") < end).with_columns(
            end_at=pl.min_horizontal("end_at", pl.lit(end))
        )
    return out

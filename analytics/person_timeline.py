"""The event timeline of one person: incidents, card use, arrests and custody.

Everything here is pure: Polars frames and parameters in, new frames out; no
DuckDB, no paths. Input frames have the columns of `gjenganger.store` (see
docs/architecture.md); timestamps are naive local time.

A person's events are the incidents linked to them and, as *hypotheses*
(`is_linked = False`, `attribution_p`), the open incidents whose rank-1
attribution candidate they are, with those incidents' card transactions, and
their custody (`person_events`). What the page counts (`person_summary`, facts in
the headline, hypotheses apart from a page threshold, re-exported here) is in
`timeline_summary`; the background bands (use periods, phases, the attribution
window) in `timeline_bands`; card-use episodes in `episodes`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from gjenganger.analytics.episodes import top_candidates
from gjenganger.analytics.timeline_summary import LANES, nok_events, person_summary
from gjenganger.data_schema.contract import OFFENCE_GROUPS

__all__ = [
    "EVENT_COLUMNS",
    "LANES",
    "nok_events",
    "person_events",
    "person_summary",
]

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


def _empty_events() -> pl.DataFrame:
    """An events frame with no rows and the schema of `EVENT_COLUMNS`."""
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
    mine = _person_incidents(person_id, links, candidates)
    inc = _with_levels(incidents.join(mine, on="incident_id", how="inner"), levels)
    cu = custody.filter(pl.col("person_id") == person_id)
    frames = (
        _incident_events(inc),
        _card_events(transactions, mine, inc),
        _custody_events(cu),
        _scene_arrests(inc, cu),
    )
    parts = [_conform(f) for f in frames if f.height]
    events = pl.concat(parts) if parts else _empty_events()
    if start is not None:
        events = events.filter(pl.col("end_at").fill_null(pl.col("at")) >= start)
    if end is not None:
        events = events.filter(pl.col("at") <= end)
    return events.sort("at", "lane", "event_id")


def _person_incidents(
    person_id: str, links: pl.DataFrame, candidates: pl.DataFrame | None
) -> pl.DataFrame:
    """The person's incidents: incident_id, is_linked, attribution_p. Linked ones,
    then those whose rank-1 candidate is the person and that nobody is linked to."""
    my_links = links.filter(pl.col("person_id") == person_id)
    linked_ids = my_links.get_column("incident_id").unique()
    all_linked = links.get_column("incident_id").unique()
    top = top_candidates(candidates)
    attributed = top.filter(
        (pl.col("person_id") == person_id)
        & ~pl.col("incident_id").is_in(all_linked.implode())
    ).select("incident_id", pl.col("p").alias("attribution_p"))
    return pl.concat(
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


def _with_levels(inc: pl.DataFrame, levels: pl.DataFrame | None) -> pl.DataFrame:
    """`inc` with each incident's sophistication `level` (null where unknown)."""
    if levels is not None and levels.height:
        return inc.join(
            levels.select("incident_id", pl.col("level").cast(pl.Int64)),
            on="incident_id",
            how="left",
        )
    return inc.with_columns(level=pl.lit(None, pl.Int64))


def _incident_events(inc: pl.DataFrame) -> pl.DataFrame:
    """Incidents in their offence group's lane, at the middle of their window."""
    group = pl.col("offence_code").replace_strict(
        OFFENCE_GROUPS, default="other", return_dtype=pl.String
    )
    return inc.with_columns(
        event_id=pl.col("incident_id"),
        lane=group,
        start_at=pl.col("occurred_from"),
        end_at=pl.col("occurred_to"),
        at=pl.col("occurred_from")
        + (pl.col("occurred_to") - pl.col("occurred_from")) / 2,
    )


def _card_events(
    transactions: pl.DataFrame, mine: pl.DataFrame, inc: pl.DataFrame
) -> pl.DataFrame:
    """Card transactions of the person's incidents (lane 'card'), carrying their
    incident's linked/hypothesis flag, level, status and offence code."""
    tx = transactions.join(
        mine.join(
            inc.select("incident_id", "level", "status", "offence_code"),
            on="incident_id",
            how="left",
        ),
        on="incident_id",
        how="inner",
    )
    return tx.with_columns(
        event_id=pl.col("transaction_id"),
        lane=pl.lit("card"),
        start_at=pl.col("at"),
        end_at=pl.col("at"),
        value_nok=pl.col("amount_nok"),
        target_type=pl.lit(None, pl.String),
    )


def _custody_events(cu: pl.DataFrame) -> pl.DataFrame:
    """The person's custody rows: arrests in lane 'arrest', stays in 'custody'."""
    return cu.with_columns(
        event_id=pl.col("custody_id"),
        lane=pl.when(pl.col("kind") == "arrest")
        .then(pl.lit("arrest"))
        .otherwise(pl.lit("custody")),
        at=pl.col("start_at"),
        custody_kind=pl.col("kind"),
        is_linked=pl.lit(True),
    )


def _scene_arrests(inc: pl.DataFrame, cu: pl.DataFrame) -> pl.DataFrame:
    """Arrests at the scene of a linked incident with no recorded arrest (in `cu`)
    within 24 h after it began, in lane 'arrest' at the incident's end."""
    recorded_arrests = cu.filter(pl.col("kind") == "arrest").select(
        pl.col("start_at").alias("_arrest_at")
    )
    scene = inc.filter(pl.col("is_linked") & pl.col("arrest_at_scene").fill_null(False))
    if not scene.height:
        return scene
    scene = scene.sort("occurred_from")
    if recorded_arrests.height:
        scene = scene.join_asof(
            recorded_arrests.sort("_arrest_at"),
            left_on="occurred_from",
            right_on="_arrest_at",
            strategy="forward",
            tolerance=timedelta(hours=24),
        ).filter(pl.col("_arrest_at").is_null())
    return scene.with_columns(
        event_id=pl.concat_str(pl.lit("arrest:"), pl.col("incident_id")),
        lane=pl.lit("arrest"),
        at=pl.col("occurred_to"),
        start_at=pl.col("occurred_to"),
        end_at=pl.col("occurred_to"),
        custody_kind=pl.lit("arrest_at_scene"),
        value_nok=pl.lit(None, pl.Float64),
    )

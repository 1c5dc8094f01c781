"""Episodes step: card transactions -> card-use episodes -> DuckDB table `episodes`.

Reads the card transactions, links and (when the attribution step has run) the
rank-1 attribution candidates as known on `as_of`, finds the episodes
(`analytics.episodes`), and writes one row per episode to `episodes`, tagged with
`as_of` (replacing the previous run). An episode whose case is linked to nobody
carries the attributed person with `is_hypothesis = true` and `attribution_p`.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from gjenganger.analytics import episodes as ep
from gjenganger.errors import UserError
from gjenganger.store import attribution as attribution_store
from gjenganger.store import frames
from gjenganger.store.db import table_exists

TABLE = "episodes"


def require_data(con) -> None:
    """Fail with a one-line message when nothing was ingested yet."""
    if not table_exists(con, "mart_incidents"):
        raise UserError("the database has no incidents; run `gjenganger ingest` first")


def load_candidates(con, as_of: dt.date | None = None) -> pl.DataFrame | None:
    """Attribution candidates of the newest run on or before `as_of` (None if the
    attribution step has not run). Columns incident_id, person_id, p, rank, as_of."""
    return attribution_store.latest_candidates(con, as_of)


def compute_episodes(
    con,
    as_of: dt.date | None = None,
    *,
    max_gap_hours: float = ep.DEFAULT_MAX_GAP_HOURS,
    window_hours: float = ep.DEFAULT_WINDOW_HOURS,
) -> pl.DataFrame:
    """All episodes with their persons, as known on `as_of` (None: everything)."""
    require_data(con)
    tx = frames.load_card_transactions(con, as_of)
    links = frames.load_links(con, as_of)
    found = ep.detect_episodes(
        tx, max_gap_hours=max_gap_hours, window_hours=window_hours
    )
    return ep.attach_persons(found, links, load_candidates(con, as_of))


def filter_episodes(
    episodes: pl.DataFrame, *, person: str | None = None, min_nok: float | None = None
) -> pl.DataFrame:
    """Episodes of one person (linked or attributed) and/or with total >= min_nok."""
    out = episodes
    if person is not None:
        out = out.filter(pl.col("person_id") == person)
    if min_nok is not None:
        out = out.filter(pl.col("total_nok") >= min_nok)
    return out


def build_episodes(
    con,
    as_of: dt.date | None = None,
    *,
    max_gap_hours: float = ep.DEFAULT_MAX_GAP_HOURS,
    window_hours: float = ep.DEFAULT_WINDOW_HOURS,
) -> dict:
    """The nightly step: compute and write table `episodes`; a summary of counts.

    The summary holds counts and NOK only (no pseudonyms), safe for flow logs.
    """
    found = compute_episodes(
        con, as_of, max_gap_hours=max_gap_hours, window_hours=window_hours
    )
    out = found.with_columns(as_of=pl.lit(as_of, pl.Date))
    frames.replace_rows(con, TABLE, out)  # the latest run only
    return {
        "as_of": as_of.isoformat() if as_of else None,
        "episodes": found.height,
        "linked": int((found["person_source"] == "linked").sum()),
        "attributed": int((found["person_source"] == "attributed").sum()),
        "unassigned": int((found["person_source"] == "none").sum()),
        "max_36h_nok": float(found["max_36h_nok"].max() or 0.0)
        if found.height
        else 0.0,
        "episodes_over_40000_nok": int((found["total_nok"] >= 40_000).sum()),
        "max_gap_hours": max_gap_hours,
        "window_hours": window_hours,
    }


def episodes_json(episodes: pl.DataFrame) -> list[dict]:
    """Episodes as JSON-ready records (timestamps ISO 8601, local time)."""
    out = []
    for rec in episodes.to_dicts():
        out.append(
            {
                k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v)
                for k, v in rec.items()
            }
        )
    return out

"""Top-list step: frames as known on `as_of` -> `toplist`, `toplist_concentration`.

Reads the store frames (retracted links are already gone there), ranks persons
(`analytics.toplist`) and replaces the rows of that as-of date, so re-running a
night gives the same tables. The summary (counts only, no pseudonyms) goes to the
flow's run report.
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl

from gjenganger.analytics import toplist as tl
from gjenganger.errors import UserError
from gjenganger.store import db, frames


def compute_toplist(
    con, as_of: dt.date | None = None, *, n: int = 20, window_days: int = 365
) -> tuple[dt.date, pl.DataFrame, dict]:
    """(as_of, top-n frame, concentration figures) as known on `as_of`."""
    if n < 1 or window_days < 1:
        raise UserError("--n and --window-days must be at least 1")
    day = frames.resolve_as_of(con, as_of)
    incidents = frames.load_incidents(con, day)
    links = frames.load_links(con, day)
    top, conc = tl.build(incidents, links, day, n=n, window_days=window_days)
    return day, top, conc


#: counts stored as INTEGER in table `toplist` (the rest keep their frame types)
INT_COLUMNS = ("rank", "cases", "prev_cases")


def build_toplist(
    con, as_of: dt.date | None = None, *, n: int = 20, window_days: int = 365
) -> dict:
    """The nightly step: write `toplist` and `toplist_concentration` for `as_of`."""
    day, top, conc = compute_toplist(con, as_of, n=n, window_days=window_days)
    rows = top.with_columns(
        pl.lit(day, pl.Date).alias("as_of"),
        pl.lit(window_days, pl.Int32).alias("window_days"),
    ).select(
        "as_of",
        "window_days",
        *(
            pl.col(c).cast(pl.Int32) if c in INT_COLUMNS else pl.col(c)
            for c in tl.TOPLIST_COLUMNS
        ),
    )
    concentration = pl.DataFrame(
        {
            "as_of": [day],
            "window_days": [window_days],
            "persons": [conc["persons"]],
            "cases": [conc["cases"]],
            "top_persons": [conc.get("top_persons", 0)],
            "top_share_of_cases": [conc["top_share_of_cases"]],
            "gini": [conc["gini"]],
            "lorenz": [json.dumps(conc["lorenz"])],
        }
    )
    with db.transaction(con):
        frames.replace_rows(con, "toplist", rows, as_of=day)
        frames.replace_rows(con, "toplist_concentration", concentration, as_of=day)
    return {
        "as_of": day.isoformat(),
        "persons_ranked": conc["persons"],
        "rows": top.height,
        "top_share_of_cases": conc["top_share_of_cases"],
        "gini": conc["gini"],
    }

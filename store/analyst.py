"""What the analyst bundle reads from the database besides the as-of frames.

The card episodes the episodes step stored, the top list, each top-list person's
current phase, and one person's use periods and phase days (the timeline's
bands). Tables missing from a database that was never migrated or never had the
step run read as empty (None or {}), except the episodes, which the bundle needs.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from gjenganger.errors import UserError
from gjenganger.store.db import table_exists


def load_episodes(con, as_of: dt.date) -> pl.DataFrame:
    """The card episodes the episodes step stored for `as_of`, in the order it
    wrote them (its columns without `as_of`).

    The nightly flow runs that step before the analyst bundle; a one-line
    `UserError` when the table is missing or holds another date's run.
    """
    hint = "run the episodes step (the nightly flow, or `gjenganger episodes --write`)"
    if not table_exists(con, "episodes"):
        raise UserError(f"no episodes table; {hint} first")
    other = con.execute(
        "select any_value(as_of) from episodes where as_of is distinct from ?",
        [as_of],
    ).fetchone()
    if other is not None and other[0] is not None:
        raise UserError(f"table episodes is as of {other[0]}, not {as_of}; {hint}")
    return con.execute("select * exclude (as_of) from episodes order by rowid").pl()


def toplist_persons(con, as_of: dt.date) -> list[str]:
    """Persons of the newest top list on or before `as_of`, best rank first (ties
    by pseudonym); empty when the top-list step has not run for such a date."""
    if not table_exists(con, "toplist"):
        return []
    rows = con.execute(
        "select person_id from toplist"
        " where as_of = (select max(as_of) from toplist where as_of <= ?)"
        " group by person_id order by min(rank), person_id",
        [as_of],
    ).fetchall()
    return [r[0] for r in rows]


def current_phases(con) -> dict[str, tuple[str, float | None]]:
    """person_id -> (phase today, its probability) from the phases step."""
    if not table_exists(con, "current_phase"):
        return {}
    rows = con.execute("select person_id, phase, p from current_phase").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def person_use_periods(con, person_id: str) -> pl.DataFrame | None:
    """One person's rows of `use_periods` (None without the phases step)."""
    if not table_exists(con, "use_periods"):
        return None
    return con.execute(
        "select * from use_periods where person_id = ?", [person_id]
    ).pl()


def person_days(con, person_id: str) -> pl.DataFrame | None:
    """One person's rows of `person_days` (None without the phases step)."""
    if not table_exists(con, "person_days"):
        return None
    return con.execute(
        "select * from person_days where person_id = ?", [person_id]
    ).pl()

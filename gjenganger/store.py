"""Reading analysis-ready frames from the marts, optionally as known on a date.

`as_of` (a date) means "as known at the end of that day": the newest version of each
record updated before the next midnight (Europe/Oslo), incidents reported by then.
Timestamps come back as naive local time. These are the only frames `analytics/`
sees; see docs/architecture.md.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl


def _instant(as_of: date | str) -> str:
    """The SQL literal of the instant ending `as_of` (next midnight, local time)."""
    day = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    if isinstance(day, datetime):
        day = day.date()
    return f"timestamptz '{(day + timedelta(days=1)).isoformat()} 00:00:00 Europe/Oslo'"


def _frame(con, sql: str) -> pl.DataFrame:
    return con.execute(sql).pl()


def load_incidents(con, as_of: date | str | None = None) -> pl.DataFrame:
    """One row per case (current, or as known on `as_of`)."""
    src = "mart_incidents" if as_of is None else f"incidents_as_of({_instant(as_of)})"
    return _frame(con, f"select * exclude (batch_id) from {src} order by incident_id")


def load_links(con, as_of: date | str | None = None) -> pl.DataFrame:
    """Current (or as-of) case-person links that are not retracted."""
    src = "mart_links" if as_of is None else f"links_as_of({_instant(as_of)})"
    return _frame(con, f"select * from {src} order by incident_id, person_id")


def load_card_transactions(con, as_of: date | str | None = None) -> pl.DataFrame:
    """Card transactions (current, or as known on `as_of`)."""
    src = (
        "mart_card_transactions"
        if as_of is None
        else f"card_transactions_as_of({_instant(as_of)})"
    )
    return _frame(con, f'select * from {src} order by card_ref, "at", transaction_id')


def load_custody(con, as_of: date | str | None = None) -> pl.DataFrame:
    """Custody periods (current, or as known on `as_of`)."""
    src = "mart_custody" if as_of is None else f"custody_as_of({_instant(as_of)})"
    return _frame(con, f"select * from {src} order by person_id, start_at")


def latest_data_date(con) -> date | None:
    """The local date of the newest report in the database (the default as-of)."""
    row = con.execute("select max(reported_at)::date from mart_incidents").fetchone()
    return row[0] if row else None


def write_frame(con, table: str, frame: pl.DataFrame, replace: bool = True) -> int:
    """Write a Polars frame as a DuckDB table (replacing it by default); row count."""
    con.register("_frame_to_write", frame.to_arrow())
    try:
        if replace:
            con.execute(
                f"create or replace table {table} as select * from _frame_to_write"
            )
        else:
            con.execute(f"insert into {table} select * from _frame_to_write")
    finally:
        con.unregister("_frame_to_write")
    return frame.height

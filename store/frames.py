"""Reading analysis-ready frames from the marts, optionally as known on a date.

`as_of` (a date) means "as known at the end of that day": the newest version of each
record updated before the next midnight (Europe/Oslo), incidents reported by then.
Timestamps come back as naive local time. These are the only frames `analytics/`
sees; see docs/architecture.md.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import date, timedelta

import polars as pl

from gjenganger.errors import UserError
from gjenganger.store.db import table_exists

_shared: dict | None = None  # (database file, query) -> frame, while sharing
_shared_night: str | None = None
_shared_lock = threading.Lock()


def share_frames(night: str) -> None:
    """From now on, a frame read as of a date is read once per database file and
    shared by every reader in this process (threads included), for night `night`.

    A night reads the same as-of incidents in about ten steps and map tasks (about
    2 s each at national scale). Only for a run in which nothing changes those
    records after the first read: the nightly flow starts sharing after ingest,
    and its map tasks on Dask workers call this with the same night. A different
    night drops the frames shared so far; so does `stop_sharing`.
    """
    global _shared, _shared_night
    with _shared_lock:
        if _shared is None or _shared_night != night:
            _shared, _shared_night = {}, night


def stop_sharing() -> None:
    """Drop the shared frames; every later read goes to the database."""
    global _shared, _shared_night
    with _shared_lock:
        _shared, _shared_night = None, None


@contextmanager
def shared_frames(night: str = "block"):
    """`share_frames` for the duration of a with-block."""
    share_frames(night)
    try:
        yield
    finally:
        stop_sharing()


def _instant(as_of: date) -> str:
    """The SQL literal of the instant ending `as_of` (next midnight, local time)."""
    midnight = (as_of + timedelta(days=1)).isoformat()
    return f"timestamptz '{midnight} 00:00:00 Europe/Oslo'"


def _frame(con, sql: str, shareable: bool = False) -> pl.DataFrame:
    if not shareable or _shared is None:
        return con.execute(sql).pl()
    path = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()[0]
    key = (str(path), sql)
    with _shared_lock:  # one reader loads, the others wait and share it
        if _shared is None:
            return con.execute(sql).pl()
        if key not in _shared:
            _shared[key] = con.execute(sql).pl()
        return _shared[key]


def load_incidents(con, as_of: date | None = None) -> pl.DataFrame:
    """One row per case (current, or as known on `as_of`)."""
    src = "mart_incidents" if as_of is None else f"incidents_as_of({_instant(as_of)})"
    return _frame(
        con,
        f"select * exclude (batch_id) from {src} order by incident_id",
        shareable=as_of is not None,
    )


def load_links(con, as_of: date | None = None) -> pl.DataFrame:
    """Current (or as-of) case-person links that are not retracted."""
    src = "mart_links" if as_of is None else f"links_as_of({_instant(as_of)})"
    return _frame(
        con,
        f"select * from {src} order by incident_id, person_id",
        shareable=as_of is not None,
    )


def load_card_transactions(con, as_of: date | None = None) -> pl.DataFrame:
    """Card transactions (current, or as known on `as_of`)."""
    src = (
        "mart_card_transactions"
        if as_of is None
        else f"card_transactions_as_of({_instant(as_of)})"
    )
    return _frame(con, f'select * from {src} order by card_ref, "at", transaction_id')


def load_custody(con, as_of: date | None = None) -> pl.DataFrame:
    """Custody periods (current, or as known on `as_of`)."""
    src = "mart_custody" if as_of is None else f"custody_as_of({_instant(as_of)})"
    return _frame(con, f"select * from {src} order by person_id, start_at")


def known_on(con, day: date) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(incidents, links, custody) as known at the end of `day`: what attribution
    and its back-test read."""
    return load_incidents(con, day), load_links(con, day), load_custody(con, day)


def latest_data_date(con) -> date | None:
    """The local date of the newest report in the database (the default as-of)."""
    return data_date_range(con)[1]


def data_date_range(con) -> tuple[date | None, date | None]:
    """The local dates of the oldest and the newest report (None, None when no
    incidents were ingested): what an as-of date is checked against."""
    if not table_exists(con, "mart_incidents"):
        return None, None
    row = con.execute(
        "select min(reported_at)::date, max(reported_at)::date from mart_incidents"
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def resolve_as_of(con, as_of: date | None = None) -> date:
    """The one as-of resolver: `as_of` itself, or the newest report date in the
    database when none is given; a one-line `UserError` when nothing was ingested."""
    if not table_exists(con, "mart_incidents"):
        raise UserError("the database has no incidents; run `gjenganger ingest` first")
    if as_of is not None:
        return as_of
    latest = latest_data_date(con)
    if latest is None:
        raise UserError("the database has no incidents; run `gjenganger ingest` first")
    return latest


def insert_rows(con, table: str, frame: pl.DataFrame) -> int:
    """Insert a Polars frame's rows into a declared table by column name (the
    frame's column order does not matter; a column the table lacks is an error);
    row count."""
    if frame.height:
        view = f"_rows_{table}"
        con.register(view, frame.to_arrow())
        try:
            con.execute(f"insert into {table} by name select * from {view}")
        finally:
            con.unregister(view)
    return frame.height


def replace_rows(
    con, table: str, frame: pl.DataFrame, as_of: date | None = None
) -> int:
    """Replace the rows of one as-of date of a declared table with `frame`'s (all
    rows when `as_of` is None: a table that holds only the latest run); row count.

    The one way a step writes a frame, so a re-run gives the same table. No
    transaction of its own: the caller's (or the step's) holds the writes together.
    """
    if as_of is None:
        con.execute(f"delete from {table}")
    else:
        con.execute(f"delete from {table} where as_of = ?", [as_of])
    return insert_rows(con, table, frame)

"""Retention: delete cases and everything derived from them past the retention time.

One transaction removes, for cases reported before the cutoff: their current and
staged versions, links, card transactions, every derived row that names them
(any table with an `incident_id` column), person-day rows before the cutoff, custody
periods ended before it, and quarantine rows quarantined before it. The stored
attribution state (pair models, evidence rows, fingerprints) was computed from the
purged cases too: it is emptied, and the next night trains and computes it anew.
"""

from __future__ import annotations

from datetime import date, timedelta

from gjenganger.errors import UserError
from gjenganger.store.db import transaction

CORE = ("incidents", "incident_persons", "card_transactions", "custody")
#: caches computed from every case, purged ones included: emptied by a purge
ATTRIBUTION_STATE = (
    "attribution_model",
    "attribution_evidence",
    "attribution_evidence_next",
    "attribution_fingerprints_persons",
    "attribution_fingerprints_cases",
)


def _tables_with(con, column: str) -> list[tuple[str, str]]:
    """(table, column) for base tables with a column named like `column`."""
    rows = con.execute(
        "select table_name, column_name from information_schema.columns c"
        " join information_schema.tables t using (table_schema, table_name)"
        " where column_name like ? and t.table_type = 'BASE TABLE'"
        " and table_schema = 'main' order by table_name, column_name",
        [column],
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def purge(con, older_than_days: int, today: date) -> dict[str, int]:
    """Delete everything past retention; returns rows deleted per table."""
    if older_than_days < 1:
        raise UserError(f"--older-than must be at least 1 day (got {older_than_days})")
    cutoff = today - timedelta(days=older_than_days)
    lit = f"timestamptz '{cutoff.isoformat()} 00:00:00 Europe/Oslo'"
    deleted: dict[str, int] = {}

    def run(table: str, where: str) -> None:
        n = con.execute(f"delete from {table} where {where}").fetchone()[0]
        if n:
            deleted[table] = deleted.get(table, 0) + n

    with transaction(con):
        con.execute(
            "create or replace temp table _purged as select incident_id"
            f" from stg_incidents group by incident_id having max(reported_at) < {lit}"
        )
        # every row naming a purged case, in any *incident_id column (derived rows
        # such as a hypothesis' nearest known case included)
        for table, column in _tables_with(con, "%incident_id"):
            run(table, f"{column} in (select incident_id from _purged)")
        run("custody", f"end_at is not null and end_at < {lit}")
        run("stg_custody", f"end_at is not null and end_at < {lit}")
        run("quarantine", f"quarantined_at < {lit}")
        for column in ("date", "day"):
            for table, col in _tables_with(con, column):
                run(table, f"{col} < date '{cutoff.isoformat()}'")
        for table in ATTRIBUTION_STATE:
            run(table, "true")
        # derived results computed from the old data must be recomputed
        con.execute("delete from pipeline_steps")
    return deleted

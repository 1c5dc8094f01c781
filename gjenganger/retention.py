"""Retention: delete cases and everything derived from them past the retention time.

One transaction removes, for cases reported before the cutoff: their current and
staged versions, links, card transactions, every derived row that names them
(any table with an `incident_id` column), person-day rows before the cutoff, custody
periods ended before it, and quarantine rows quarantined before it.
"""

from __future__ import annotations

from datetime import date, timedelta

CORE = ("incidents", "incident_persons", "card_transactions", "custody")


def _tables_with(con, column: str) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.columns c"
        " join information_schema.tables t using (table_schema, table_name)"
        " where column_name = ? and t.table_type = 'BASE TABLE'"
        " and table_schema = 'main' order by table_name",
        [column],
    ).fetchall()
    return [r[0] for r in rows]


def purge(con, older_than_days: int, today: date) -> dict[str, int]:
    """Delete everything past retention; returns rows deleted per table."""
    cutoff = today - timedelta(days=older_than_days)
    lit = f"timestamptz '{cutoff.isoformat()} 00:00:00 Europe/Oslo'"
    deleted: dict[str, int] = {}

    def run(table: str, where: str) -> None:
        n = con.execute(f"delete from {table} where {where}").fetchone()[0]
        if n:
            deleted[table] = deleted.get(table, 0) + n

    con.execute("begin transaction")
    try:
        con.execute(
            "create or replace temp table _purged as select incident_id from stg_incidents"
            f" group by incident_id having max(reported_at) < {lit}"
        )
        purged = "incident_id in (select incident_id from _purged)"
        for table in _tables_with(con, "incident_id"):
            run(table, purged)
        run("custody", f"end_at is not null and end_at < {lit}")
        run("stg_custody", f"end_at is not null and end_at < {lit}")
        run("quarantine", f"quarantined_at < {lit}")
        for column in ("date", "day"):
            for table in _tables_with(con, column):
                run(table, f"{column} < date '{cutoff.isoformat()}'")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return deleted

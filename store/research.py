"""The researchers' snapshot written from the marts.

`write_snapshot` builds a fresh DuckDB file (plus Parquet) from the `VIEWS` below;
the re-key maps (operational id -> research id) come from the caller
(`gjenganger.flows.steps.research`), which owns the keyed HMAC. `gjenganger query`
reads it through the sandbox of `gjenganger.store.query`.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from gjenganger.store.db import table_exists

# name -> (description, SQL over the operational database; `rk_person(x)` etc. are
# rewritten to joins on the re-key maps). Only tables that exist are snapshotted.
VIEWS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "cases": (
        "one row per case: what, where, when (local time), status; case_key re-keyed",
        """select rk_case.research_id as case_key, i.offence_code, i.offence_group,
                  i.target_type, i.entry_method, i.planned, i.participants, i.value_nok,
                  round(i.lat, 4) as lat, round(i.lon, 4) as lon, i.municipality_no,
                  i.status, i.arrest_at_scene, i.reported_at, i.occurred_from,
                  i.occurred_to
           from mart_incidents i
           join rk_case on rk_case.operational_id = i.incident_id""",
        ("mart_incidents",),
    ),
    "case_persons": (
        "one row per current, not retracted case-person link, both keys re-keyed",
        """select rk_case.research_id as case_key, rk_person.research_id as person_key,
                  l.role
           from mart_links l
           join rk_case on rk_case.operational_id = l.incident_id
           join rk_person on rk_person.operational_id = l.person_id""",
        ("mart_links",),
    ),
    "person_days": (
        "one row per person-day: inferred phase with its probability and daily counts",
        """select rk_person.research_id as person_key, d.* exclude (person_id)
           from person_days d
           join rk_person on rk_person.operational_id = d.person_id""",
        ("person_days",),
    ),
    "use_periods": (
        "one row per inferred use period of a person",
        """select rk_person.research_id as person_key, u.* exclude (person_id)
           from use_periods u
           join rk_person on rk_person.operational_id = u.person_id""",
        ("use_periods",),
    ),
    "hotspot_cells": (
        "one row per grid cell of the latest hotspot analysis (no case or person ids)",
        "select * from hotspot_cells",
        ("hotspot_cells",),
    ),
    "episodes": (
        "one row per card-use episode: span, transactions, NOK, largest 36-hour total",
        """select rk_case.research_id as case_key, rk_card.research_id as card_key,
                  rk_person.research_id as person_key,
                  e.* exclude (incident_id, card_ref, person_id)
           from episodes e
           join rk_case on rk_case.operational_id = e.incident_id
           join rk_card on rk_card.operational_id = e.card_ref
           left join rk_person on rk_person.operational_id = e.person_id""",
        ("episodes",),
    ),
}

#: re-key map -> (research id prefix, SQL of the operational ids it maps)
ID_SOURCES: dict[str, tuple[str, str]] = {
    "rk_person": (
        "R",
        "select person_id from incident_persons union select person_id from custody",
    ),
    "rk_case": ("C", "select incident_id from incidents"),
    "rk_card": ("K", "select distinct card_ref from card_transactions"),
}


def operational_ids(con, name: str) -> list[str]:
    """The sorted operational ids re-key map `name` (of `ID_SOURCES`) must cover."""
    return sorted(r[0] for r in con.execute(ID_SOURCES[name][1]).fetchall())


def write_snapshot(con, out_dir: str | Path, maps: dict[str, pa.Table]) -> dict:
    """Write `out_dir/gjenganger.duckdb` and `out_dir/parquet/<view>.parquet` with
    every view of `VIEWS` whose tables exist; `maps` are the re-key tables
    (operational_id, research_id) by name. Path and rows per view."""
    out_dir = Path(out_dir)
    (out_dir / "parquet").mkdir(parents=True, exist_ok=True)
    target = out_dir / "gjenganger.duckdb"
    if target.exists():
        target.unlink()
    for name, table in maps.items():
        con.register(name, table)
    con.execute(f"attach '{target}' as snap")
    counts: dict[str, int] = {}
    try:
        con.execute("create table snap.about (view_name varchar, one_row_is varchar)")
        for view, (desc, sql, needs) in VIEWS.items():
            if not all(table_exists(con, n) for n in needs):
                continue
            con.execute(f"create table snap.{view} as {sql}")
            con.execute("insert into snap.about values (?, ?)", [view, desc])
            counts[view] = con.execute(f"select count(*) from snap.{view}").fetchone()[
                0
            ]
            con.execute(
                f"copy snap.{view} to '{out_dir / 'parquet' / (view + '.parquet')}'"
                " (format parquet)"
            )
    finally:
        con.execute("detach snap")
        for name in maps:
            con.unregister(name)
    return {"path": str(target), "rows": counts}

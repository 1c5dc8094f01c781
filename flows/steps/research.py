"""The researchers' snapshot: a fresh DuckDB file (plus Parquet) built from the marts.

Every operational pseudonym (person, case, card) is re-keyed with a keyed HMAC
under a separate research key, so research data cannot be joined to operational
data without that key; merchant references, free-form ids and batch lineage are
dropped. The snapshot is written into tonight's publication folder, so a
researcher reading last night's file is never disturbed (see `gjenganger.publish`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa

from gjenganger.store.db import table_exists
from gjenganger.store.keys import ensure_key_file, pseudonym

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
           from mart_incidents i join rk_case on rk_case.operational_id = i.incident_id""",
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
           from person_days d join rk_person on rk_person.operational_id = d.person_id""",
        ("person_days",),
    ),
    "use_periods": (
        "one row per inferred use period of a person",
        """select rk_person.research_id as person_key, u.* exclude (person_id)
           from use_periods u join rk_person on rk_person.operational_id = u.person_id""",
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


def load_key(path: str | Path | None = None) -> bytes:
    """The research key: `$GJENGANGER_RESEARCH_KEY_FILE` or `$GJENGANGER_HOME/research.key`.

    Created (0600, 32 random bytes) on first use; kept apart from any operational key.
    """
    if path is None:
        home = Path(os.environ.get("GJENGANGER_HOME", Path.home() / ".gjenganger"))
        path = Path(
            os.environ.get("GJENGANGER_RESEARCH_KEY_FILE", home / "research.key")
        )
    return ensure_key_file(path)


def rekey(values: list[str], key: bytes, prefix: str) -> pa.Table:
    """Map operational ids to research ids: prefix + keyed HMAC of the id."""
    ids = [pseudonym(key, prefix + v, prefix=prefix, length=20) for v in values]
    return pa.table({"operational_id": values, "research_id": ids})


def build_snapshot(con, out_dir: str | Path, key: bytes) -> dict:
    """Write `out_dir/gjenganger.duckdb` and `out_dir/parquet/<view>.parquet`."""
    out_dir = Path(out_dir)
    (out_dir / "parquet").mkdir(parents=True, exist_ok=True)
    target = out_dir / "gjenganger.duckdb"
    if target.exists():
        target.unlink()
    maps = {
        "rk_person": (
            "R",
            "select person_id from incident_persons union "
            "select person_id from custody",
        ),
        "rk_case": ("C", "select incident_id from incidents"),
        "rk_card": ("K", "select distinct card_ref from card_transactions"),
    }
    for name, (prefix, sql) in maps.items():
        values = sorted(r[0] for r in con.execute(sql).fetchall())
        con.register(name, rekey(values, key, prefix))
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


EXAMPLES = (
    (
        "Cases per offence group and month",
        "select offence_group, date_trunc('month', reported_at) as month, count(*) as cases\n"
        "from cases group by all order by month, offence_group;",
    ),
    (
        "How concentrated is crime? Share of linked cases by the top 5 % of persons",
        "with per_person as (select person_key, count(*) as n from case_persons group by all),\n"
        "ranked as (select n, percent_rank() over (order by n desc) as pr from per_person)\n"
        "select sum(n) filter (where pr < 0.05) / sum(n) as top5_share from ranked;",
    ),
    (
        "Days per inferred phase for each person",
        "select person_key, phase, count(*) as days from person_days group by all order by all;",
    ),
    (
        "Length of inferred use periods",
        "select * from use_periods order by person_key limit 20;",
    ),
    (
        "Card episodes over NOK 40,000 within 36 hours",
        "select * from episodes where max_36h_nok >= 40000 order by max_36h_nok desc;",
    ),
)


def render_doc() -> str:
    """`docs/research.md`: views of the snapshot, the contract's columns, examples."""
    from gjenganger.data_schema.contract import INCIDENTS
    from gjenganger.data_schema.dictionary import _rule

    out = [
        "# The research snapshot",
        "",
        "Generated by `python -m gjenganger.flows.steps.research`; do not edit.",
        "",
        "Every night the flow writes `PUBLISH/latest/research/gjenganger.duckdb` (and",
        "Parquet copies under `research/parquet/`), built fresh from the marts. Person,",
        "case and card keys are re-keyed with a keyed HMAC under a separate research key,",
        "so the snapshot cannot be joined to operational data; merchant references and",
        "batch lineage are left out; coordinates are rounded to 4 decimals (about 10 m).",
        "Open it with any DuckDB client, read-only:",
        "`duckdb -readonly PUBLISH/latest/research/gjenganger.duckdb`, or through",
        '`gjenganger query --purpose TEXT --publish PUBLISH "SQL"`, which logs user,',
        "purpose and SQL to the audit log. A connection to last night's file keeps",
        "working while tonight's is published (each night is its own folder).",
        "",
        "## Views",
        "",
        "| view | one row per |",
        "| --- | --- |",
    ]
    out += [f"| `{name}` | {desc} |" for name, (desc, _, _) in VIEWS.items()]
    out += [
        "",
        "## `cases` columns (from the export contract)",
        "",
        "| column | type | rule | meaning |",
        "| --- | --- | --- | --- |",
        "| `case_key` | string | | re-keyed case id (`C` + letters) |",
    ]
    for c in INCIDENTS.columns:
        if c.name in ("incident_id", "updated_at"):
            continue
        out.append(f"| `{c.name}` | {c.type} | {_rule(c)} | {c.description} |")
    out += [
        "| `offence_group` | string | | group of the offence code |",
        "",
        "Times are Europe/Oslo local time. The full contract: `docs/data-dictionary.md`.",
        "",
        "## Example queries",
        "",
    ]
    for title, sql in EXAMPLES:
        out += [f"### {title}", "", "```sql", sql, "```", ""]
    return "\n".join(out)


DOC = Path(__file__).resolve().parents[2] / "docs" / "research.md"


if __name__ == "__main__":
    DOC.write_text(render_doc(), encoding="utf-8")
    print(DOC)

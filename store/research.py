"""The researchers' snapshot written from the marts, coarsened against linkage.

`write_snapshot` builds every table of `VIEWS` in memory and copies the finished
tables into a new DuckDB file (plus Parquet), so no page of the file ever held an
operational id. The re-key maps (operational id -> research id) come from the
caller (`gjenganger.flows.steps.research`), which draws a fresh random salt per
snapshot. Each key kind has its own map, so the tables cannot be joined to each
other except where the same key column is meant to join (`person_days` and
`use_periods` on `series_key`).

Quasi-identifiers are coarsened (months and weeks instead of timestamps, bands
instead of amounts and counts, municipality instead of coordinates) and then
generalised row by row (`View.levels`): a row keeps the most detailed level at
which at least `K` rows look the same, else falls to the next, coarser level;
its `detail` column says which. `write_twin` builds the same tables with the
operational ids kept, which is what a linkage attack joins against
(`gjenganger.store.research_attack`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from gjenganger.data_schema import snapshot as described
from gjenganger.data_schema.snapshot import K
from gjenganger.store import research_meta as meta


def band(expr: str, edges: tuple[int, ...]) -> str:
    """SQL labelling `expr` with its band: `<a`, `a-b` (a <= x < b), ..., `z+`."""
    parts = [
        f"when {expr} is null then null",
        f"when {expr} < {edges[0]} then '<{edges[0]}'",
    ]
    parts += [
        f"when {expr} < {b} then '{a}-{b}'"
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    return f"case {' '.join(parts)} else '{edges[-1]}+' end"


@dataclass(frozen=True)
class View:
    """One snapshot table: what a row is, its SQL over the operational database
    (re-keyed through the `rk_*` maps), the tables it needs, and its detail
    levels: the quasi-identifier columns each level keeps (all of them at level
    0; a column outside every level is kept on every row)."""

    one_row_is: str
    sql: str
    needs: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...] = ()


_CASE_QI = (
    "offence_group",
    "reported_month",
    "offence_code",
    "municipality_no",
    "status",
    "n_persons",
    "target_type",
    "entry_method",
    "arrest_at_scene",
    "planned",
    "participants",
    "value_band",
    "reported_week",
    "occurred_hours",
)
_EPISODE_QI = (
    "start_month",
    "max_36h_nok_band",
    "person_source",
    "duration_band",
    "n_transactions_band",
    "total_nok_band",
    "n_declined_band",
    "n_merchants_band",
    "attempted_nok_band",
    "start_week",
)

VIEWS: dict[str, View] = {
    "cases": View(
        described.TABLES["cases"],
        f"""select rk_case.research_id as case_key, i.offence_group, i.offence_code,
                  i.target_type, i.entry_method, i.planned,
                  least(i.participants, 3) as participants,
                  {band("i.value_nok", (1000, 10000, 50000))} as value_band,
                  i.municipality_no, i.status, i.arrest_at_scene,
                  least(coalesce(l.n, 0), 2) as n_persons,
                  date_trunc('month', i.reported_at)::date as reported_month,
                  date_trunc('week', i.reported_at)::date as reported_week,
                  {band("hour(i.occurred_from)", (6, 12, 18))} as occurred_hours
           from mart_incidents i
           join rk_case on rk_case.operational_id = i.incident_id
           left join (select incident_id, count(*) as n from mart_links group by all)
               l on l.incident_id = i.incident_id""",
        ("mart_incidents", "mart_links"),
        tuple(_CASE_QI[:n] for n in (14, 12, 9, 6, 3, 2, 1, 0)),
    ),
    "case_persons": View(
        described.TABLES["case_persons"],
        f"""with n as (select person_id, count(*) as n from mart_links group by all),
           rare as (select person_id, n from n qualify count(*) over (partition by n)
                    < {K}),
           grouped as (select person_id, n, least((row_number() over (order by n,
                           person_id) - 1) // {K}, greatest(count(*) over () // {K} - 1,
                           0)) as grp from rare),
           published as (select n.person_id, coalesce(round(avg(g.n) over
                             (partition by g.grp))::int, n.n) as links
                         from n left join grouped g using (person_id))
           select rk_person.research_id as person_key
           from published p
           join rk_person on rk_person.operational_id = p.person_id,
           range(p.links)""",
        ("mart_links",),
    ),
    "person_days": View(
        described.TABLES["person_days"],
        """select rk_series.research_id as series_key, d.* exclude (person_id)
           from person_days d
           join rk_series on rk_series.operational_id = d.person_id""",
        ("person_days",),
    ),
    "use_periods": View(
        described.TABLES["use_periods"],
        """select rk_series.research_id as series_key, u.* exclude (person_id)
           from use_periods u
           join rk_series on rk_series.operational_id = u.person_id""",
        ("use_periods",),
    ),
    "hotspot_cells": View(
        described.TABLES["hotspot_cells"],
        """select c.*, r.target_group as target_type, r.window_start, r.window_end,
                  r.history_start, r.history_end,
                  try_cast(json_extract(r.params, '$.cell_m') as double)
                      as cell_size_m
           from hotspot_cells c
           join hotspot_run r on r.as_of = c.as_of""",
        ("hotspot_cells", "hotspot_run"),
    ),
    "episodes": View(
        described.TABLES["episodes"],
        f"""select rk_episode.research_id as episode_key, e.person_source,
                  date_trunc('month', e.start_at)::date as start_month,
                  date_trunc('week', e.start_at)::date as start_week,
                  {band("e.duration_h", (6, 24))} as duration_band,
                  {band("e.n_transactions", (5, 10))} as n_transactions_band,
                  {band("e.n_declined", (1, 3))} as n_declined_band,
                  {band("e.n_merchants", (4, 7))} as n_merchants_band,
                  {band("e.total_nok", (1000, 10000, 40000))} as total_nok_band,
                  {band("e.attempted_nok", (1000, 10000, 40000))}
                      as attempted_nok_band,
                  {band("e.max_36h_nok", (1000, 10000, 40000))} as max_36h_nok_band,
                  e.as_of
           from episodes e
           join rk_episode on rk_episode.operational_id = e.episode_id""",
        ("episodes",),
        tuple(_EPISODE_QI[:n] for n in (10, 6, 3, 2, 1, 0)),
    ),
}

_PERSONS = "select person_id from incident_persons union select person_id from custody"
#: re-key map -> (research id prefix, SQL of the operational ids it maps, the
#: tables that SQL needs); each map is its own key space
ID_SOURCES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "rk_case": ("C", "select incident_id from incidents", ("incidents",)),
    "rk_person": ("R", _PERSONS, ("incident_persons", "custody")),
    "rk_series": ("S", _PERSONS, ("incident_persons", "custody")),
    "rk_episode": ("E", "select episode_id from episodes", ("episodes",)),
}


def _exists(con, name: str) -> bool:
    """A table or view of that name in the current database (not in one only
    attached, such as the snapshot being built or attacked)."""
    return bool(
        con.execute(
            "select count(*) from information_schema.tables"
            " where table_catalog = current_database() and table_name = ?",
            [name],
        ).fetchone()[0]
    )


def operational_ids(con, name: str) -> list[str]:
    """The sorted operational ids re-key map `name` (of `ID_SOURCES`) must cover
    (none when its tables do not exist)."""
    _, sql, needs = ID_SOURCES[name]
    if not all(_exists(con, n) for n in needs):
        return []
    return sorted(r[0] for r in con.execute(sql).fetchall())


def _generalise(con, target: str, view: View) -> None:
    """Create `target` from `view.sql`, each row at the most detailed level whose
    kept columns at least `K` rows share (else the last level), quasi-identifiers
    the level drops set to null, `detail` = the level; ordered by its key."""
    qi = view.levels[0]
    con.execute(
        "create or replace temp table _src as select row_number() over () as _i, *"
        f" from ({view.sql})"
    )
    con.execute("create or replace temp table _lvl (_i bigint, detail tinyint)")
    levels = view.levels[:-1]  # the last one takes every row left
    for n, kept in enumerate(levels):
        con.execute(
            f"insert into _lvl select _i, {n} from (select _i, count(*) over"
            f" (partition by {', '.join(kept)}) as k from _src anti join _lvl"
            f" using (_i)) where k >= {K}"
        )
    con.execute(
        f"insert into _lvl select _i, {len(levels)} from _src anti join _lvl using (_i)"
    )
    cols = [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns"
            " where table_catalog = 'temp' and table_name = '_src'"
            " and column_name <> '_i'"
            " order by ordinal_position"
        ).fetchall()
    ]
    out = []
    for c in cols:
        if c not in qi:
            out.append(c)
            continue
        keep = [str(n) for n, kept in enumerate(view.levels) if c in kept]
        out.append(f"case when l.detail in ({', '.join(keep)}) then s.{c} end as {c}")
    con.execute(
        f"create table {target} as select {', '.join(out)}, l.detail from _src s"
        f" join _lvl l using (_i) order by {cols[0]}"
    )
    con.execute("drop table _src; drop table _lvl")


def build_tables(con, db: str, maps: dict[str, pa.Table]) -> dict[str, int]:
    """Create every view of `VIEWS` whose tables exist as a table in the attached
    database `db`, rows ordered by key (never in operational order); `maps` are
    the re-key tables (operational_id, research_id) by name. Rows per table."""
    for name, table in maps.items():
        con.register(name, table)
    counts: dict[str, int] = {}
    try:
        for name, view in VIEWS.items():
            if not all(_exists(con, n) for n in view.needs):
                continue
            if view.levels:
                _generalise(con, f"{db}.{name}", view)
            else:
                con.execute(
                    f"create table {db}.{name} as select * from ({view.sql})"
                    " order by all"
                )
            counts[name] = con.execute(f"select count(*) from {db}.{name}").fetchone()[
                0
            ]
    finally:
        for name in maps:
            con.unregister(name)
    return counts


def write_twin(con, db: str) -> dict[str, int]:
    """The snapshot's tables with every research key equal to the operational id,
    in the attached database `db`: what an attacker holding the operational data
    rebuilds to join the published snapshot against."""
    maps = {}
    for name in ID_SOURCES:
        ids = operational_ids(con, name)
        maps[name] = pa.table({"operational_id": ids, "research_id": ids})
    return build_tables(con, db, maps)


def write_snapshot(con, out_dir: str | Path, maps: dict[str, pa.Table]) -> dict:
    """Write `out_dir/gjenganger.duckdb` and `out_dir/parquet/<table>.parquet` with
    every view of `VIEWS` whose tables exist, the reference tables and `about`,
    each table and column commented from `data_schema/snapshot.py`; `maps` are the
    re-key tables (operational_id, research_id) by name. Path and rows per table.

    The tables are built in an in-memory database and copied whole into a new
    file, so the file holds only the finished rows (no freed page can keep an
    intermediate value)."""
    out_dir = Path(out_dir)
    (out_dir / "parquet").mkdir(parents=True, exist_ok=True)
    target = out_dir / "gjenganger.duckdb"
    target.unlink(missing_ok=True)
    con.execute("attach ':memory:' as snap_build")
    try:
        counts = build_tables(con, "snap_build", maps)
        counts |= meta.add_reference_tables(con, "snap_build", counts)
        meta.add_comments(con, "snap_build")
        for name in counts:
            parquet = out_dir / "parquet" / f"{name}.parquet"
            con.execute(f"copy snap_build.{name} to '{parquet}' (format parquet)")
        con.execute(f"attach '{target}' as snap")
        try:
            con.execute("copy from database snap_build to snap")
            con.execute("checkpoint snap")
        finally:
            con.execute("detach snap")
    finally:
        con.execute("detach snap_build")
    return {"path": str(target), "rows": counts}

"""The researchers' snapshot: a fresh DuckDB file (plus Parquet) built from the marts.

Every operational pseudonym is re-keyed with a keyed HMAC under a random salt drawn
for this snapshot alone and never stored: nobody, the operator included, can map
research ids back to operational ones, and the same person has other ids in
tomorrow's snapshot (a study works on one snapshot). Each key kind (cases,
persons, top-list series, card episodes) has its own ids, so the tables cannot be
joined to each other; quasi-identifiers are coarsened (`gjenganger.store.research`)
so that a linkage attack with the whole operational database ties under 5 % of
cases, persons or episodes to one id (`gjenganger.store.research_attack`,
`docs/research.md`). The snapshot is written
into tonight's publication folder, so a researcher reading last night's file is
never disturbed (see `gjenganger.store.publish`).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pyarrow as pa

from gjenganger.data_schema import snapshot as described
from gjenganger.flows.steps.research_codebook import write_codebook
from gjenganger.store import research as snapshot
from gjenganger.store.keys import KEY_BYTES, pseudonym
from gjenganger.store.research import VIEWS


def rekey(values: list[str], key: bytes, prefix: str) -> pa.Table:
    """Map operational ids to research ids: prefix + keyed HMAC of the id."""
    ids = [pseudonym(key, prefix + v, prefix=prefix, length=20) for v in values]
    return pa.table({"operational_id": values, "research_id": ids})


def build_snapshot(con, out_dir: str | Path, key: bytes | None = None) -> dict:
    """Write `out_dir/gjenganger.duckdb`, `out_dir/parquet/<table>.parquet` and the
    codebook (`codebook.html`, `codebook.md`).

    `key` is the re-keying salt; by default a fresh random one that is dropped
    when this returns, so each snapshot has its own ids (pass one only to
    reproduce ids in a test)."""
    key = key if key is not None else secrets.token_bytes(KEY_BYTES)
    maps = {
        name: rekey(snapshot.operational_ids(con, name), key, prefix)
        for name, (prefix, _, _) in snapshot.ID_SOURCES.items()
    }
    result = snapshot.write_snapshot(con, out_dir, maps)
    write_codebook(result["path"])
    return result


EXAMPLES = (
    (
        "Cases per offence group and month",
        "select offence_group, reported_month as month, count(*) as cases\n"
        "from cases group by all order by month, offence_group;",
    ),
    (
        "How much detail each case kept",
        "select detail, count(*) as cases from cases group by all order by detail;",
    ),
    (
        "Share of cases with more than one linked person, per offence group",
        "select offence_group, count(*) filter (where n_persons = 2)"
        " / count(*) filter (where n_persons >= 1) as group_share\n"
        "from cases where n_persons is not null group by all order by all;",
    ),
    (
        "How concentrated is crime? Share of linked cases by the top 5 % of persons",
        "with per_person as (select person_key, count(*) as n from case_persons"
        " group by all),\n"
        "ranked as (select n, percent_rank() over (order by n desc) as pr"
        " from per_person)\n"
        "select sum(n) filter (where pr < 0.05) / sum(n) as top5_share from ranked;",
    ),
    (
        "Days per inferred phase for each top-list person",
        "select series_key, phase, count(*) as days from person_days"
        " group by all order by all;",
    ),
    (
        "Length of inferred use periods",
        "select * from use_periods order by series_key limit 20;",
    ),
    (
        "Card episodes with NOK 40,000 or more within 36 hours, per month",
        "select start_month, count(*) as episodes from episodes"
        " where max_36h_nok_band = '40000+' group by all order by all;",
    ),
)


def _protection() -> list[str]:
    k = snapshot.K
    return [
        "## Protection against linking back",
        "",
        "Whoever holds the operational database could otherwise find research rows",
        "again by joining on what the two share: before this protection, the attack",
        "below tied all 64,449 cases of the demo world, all 2,146 cards and 1,679 of",
        "its 1,755 persons to one operational id each. The snapshot therefore",
        "",
        "- holds no operational identifier in any byte: every id is re-keyed, and the",
        "  tables are built in memory and copied whole into a new file, so no freed",
        "  page keeps an old value (the tests scan every file of the bundle);",
        "- re-keys with a random salt drawn for this snapshot and never stored: no",
        "  one, the operator included, can map a research id back, and the same case",
        "  or person has other ids in tomorrow's snapshot. This is by design: a study",
        "  works on one snapshot and cites its night;",
        "- gives each kind of key its own ids: `cases`, `case_persons`, `episodes`",
        "  and the top-list series (`person_days`, `use_periods`) do not join;",
        "- coarsens the quasi-identifiers: dates to the ISO week or month, time of",
        "  day to 6-hour bands, coordinates left out (the municipality stays; places",
        "  are in `hotspot_cells`), values, amounts, spans and counts to bands,",
        "  participants capped at 3; exact timestamps, card references, roles and",
        "  merchant lists are left out;",
        f"- then generalises row by row (k-anonymity, k = {k}): a row keeps the most",
        f"  detailed level below at which at least {k} rows look the same, else the",
        "  next coarser one; its `detail` column names the level, and the columns",
        "  that level drops are null. A common case keeps all its detail, a rare",
        "  combination loses some;",
        "- in `case_persons`, keeps only whose link a row is; a person whose number",
        f"  of links fewer than {k} persons share gets the mean count of {k} persons",
        "  with about the same count (microaggregation), so no count singles anyone",
        "  out.",
        "",
        "Measured by `gjenganger.store.research_attack` (and, on generated worlds",
        "of several sizes, by `tests/test_security_research_linkage.py`): the",
        "attacker rebuilds every table from the operational database by the same",
        "rules but keeps the operational ids, joins each snapshot table to it on",
        "every column they share, intersects the candidates of each key over all",
        "its rows and tables (with equal row counts), and repeats until nothing",
        "changes. On the demo world (seed 42, 730 days) none of 64,449 cases, 1,755",
        "persons and 2,147 card episodes keeps a single candidate (median",
        "candidates: 10 per case, 1,114 per person, 11 per episode), and no case",
        "is alone in its class of identical rows (median class: 10 rows; before:",
        "every case alone). The exception is the 20 top-list series of",
        "`person_days` and `use_periods`: a person's day-by-day series is unique by",
        "nature, so a holder of the operational `person_days` finds each one. A",
        "series has its own key, so finding it leads to no case, link or episode of",
        "the snapshot.",
        "",
        "## What this costs researchers",
        "",
        "- No table joins another (except `person_days` with `use_periods`). A",
        "  person's cases with their attributes (offending careers by offence type,",
        "  what the most active persons do), roles and co-offending networks cannot",
        "  be studied from the snapshot; they need a separate, controlled extract.",
        "- Time: series per week or month by offence, municipality and status work",
        "  (`reported_month` on levels 0 to 5, nearly every row; `reported_week` on",
        "  level 0); time of day only as 6-hour bands on level 0; no exact dates, so",
        "  no day-of-week, near-repeat or reporting-delay analyses.",
        "- Place: the municipality (levels 0 to 3); finer spatial questions use the",
        "  250 m grid of `hotspot_cells`.",
        "- Detail is not missing at random: rare combinations lose detail first.",
        "  Compare categories within one detail level, or at the coarsest level",
        "  that covers your rows (`select detail, count(*) from cases group by all`).",
        f"- `case_persons`: a person's count is exact when at least {k} persons share",
        f"  it; the highest counts are means of {k} similar persons (the total",
        "  barely changes), so concentration measures hold closely but no single",
        "  person's exact count does.",
        "- Episodes: bands instead of amounts; thresholds are the band edges (NOK",
        "  1,000, 10,000 and 40,000).",
        "",
        "## Detail levels",
        "",
    ]


def _levels() -> list[str]:
    out = []
    for name, view in VIEWS.items():
        if not view.levels:
            continue
        out += [f"`{name}`:", "", "| detail | columns kept |", "| --- | --- |"]
        for n, kept in enumerate(view.levels):
            cols = ", ".join(f"`{c}`" for c in kept) or "none (only that it exists)"
            out.append(f"| {n} | {cols} |")
        out.append("")
    return out


def documented_columns(table: str) -> list[str]:
    """The published columns of a snapshot table, in order, as documented: the
    generalised tables' lists below, else those `data_schema/snapshot.py`
    describes."""
    fixed = {"cases": CASE_COLUMNS, "episodes": EPISODE_COLUMNS}
    return fixed.get(table) or list(described.COLUMNS[table])


def _columns(table: str) -> list[str]:
    out = [f"### `{table}`", "", "| column | meaning |", "| --- | --- |"]
    for c in documented_columns(table):
        out.append(f"| `{c}` | {described.describe_column(table, c)} |")
    return [*out, ""]


#: the published columns of the generalised tables, in order
CASE_COLUMNS = [
    "case_key",
    "offence_group",
    "offence_code",
    "target_type",
    "entry_method",
    "planned",
    "participants",
    "value_band",
    "municipality_no",
    "status",
    "arrest_at_scene",
    "n_persons",
    "reported_month",
    "reported_week",
    "occurred_hours",
    "detail",
]
EPISODE_COLUMNS = [
    "episode_key",
    "person_source",
    "start_month",
    "start_week",
    "duration_band",
    "n_transactions_band",
    "n_declined_band",
    "n_merchants_band",
    "total_nok_band",
    "attempted_nok_band",
    "max_36h_nok_band",
    "as_of",
    "detail",
]


def render_doc() -> str:
    """`docs/research.md`: tables of the snapshot, how it is protected against
    linking back and what that costs, detail levels, columns, examples."""
    out = [
        "# The research snapshot",
        "",
        "Generated by `python -m gjenganger.flows.steps.research`; do not edit.",
        "",
        "Every night the flow writes `PUBLISH/latest/research/gjenganger.duckdb`",
        "(and Parquet copies under `research/parquet/`), built fresh from the marts.",
        "Open it with any DuckDB client, read-only:",
        "`duckdb -readonly PUBLISH/latest/research/gjenganger.duckdb`, or through",
        '`gjenganger query --purpose TEXT --publish PUBLISH "SQL"`, which logs user,',
        "purpose and SQL to the audit log. A connection to last night's file keeps",
        "working while tonight's is published (each night is its own folder).",
        "",
        "Every table and column carries its description as a DuckDB comment",
        "(`select table_name, comment from duckdb_tables()`,",
        "`select table_name, column_name, comment from duckdb_columns()`), and the",
        "bundle's `codebook.html` (and `codebook.md`) lists every table and column",
        "with its type, description and, for coded columns, the codes with their",
        "labels and row counts. The descriptions come from",
        "`data_schema/snapshot.py`, the source of the data dictionary too.",
        "",
        "## Tables",
        "",
        "All are tables (no views), copied whole into the file.",
        "",
        "| table | one row per |",
        "| --- | --- |",
    ]
    out += [f"| `{name}` | {what} |" for name, what in described.TABLES.items()]
    out += ["", *_protection(), *_levels()]
    out += ["## Columns", ""]
    for table in described.TABLES:
        out += _columns(table)
    out += ["## Example queries", ""]
    for title, sql in EXAMPLES:
        out += [f"### {title}", "", "```sql", sql, "```", ""]
    return "\n".join(out)


DOC = Path(__file__).resolve().parents[2] / "docs" / "research.md"


if __name__ == "__main__":
    DOC.write_text(render_doc(), encoding="utf-8")
    print(DOC)

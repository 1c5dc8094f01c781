"""What the research snapshot says about itself: reference tables, comments, codes.

`add_reference_tables` writes `ref_offence_codes` and `ref_codes` (codes with their
bokmål and English labels from `gjenganger.maps.i18n`; no person data) and the
`about` table; `add_comments` puts the text of `gjenganger.data_schema.snapshot` on
every table and column as `COMMENT ON`; `describe` reads a built snapshot back
(tables, columns, types, comments, code lists) for its codebook.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from gjenganger.data_schema import contract
from gjenganger.data_schema import snapshot as described
from gjenganger.maps import i18n

#: the most distinct values a text column may have to get a code list
MAX_CODES = 40
#: columns never listed value by value (keys and places)
NOT_CODES = ("cell_id",)
#: tables that are code lists themselves (their values are not listed again)
REFERENCE = ("ref_offence_codes", "ref_codes", "about")


def code_labels(code: str) -> tuple[str, str]:
    """(bokmål, English) label of a code: the maps' label table, else the code."""
    if code in i18n.LABELS:
        return i18n.t(code, "nb"), i18n.t(code, "en")
    return i18n.label(code, "nb"), i18n.label(code, "en")


def _vocabulary(code_list: str) -> tuple[str, ...]:
    return {
        "target_type": contract.TARGET_TYPES,
        "entry_method": contract.ENTRY_METHODS,
        "status": contract.STATUSES,
        "phase": contract.PHASES,
    }[code_list]


def add_reference_tables(con, db: str, counts: dict[str, int]) -> dict[str, int]:
    """Create `ref_offence_codes`, `ref_codes` and `about` in the attached database
    `db` (`counts`: rows of the data tables); rows per table created."""
    offences = [
        (code, group, *code_labels(code), *code_labels(group))
        for code, group in contract.OFFENCE_GROUPS.items()
    ]
    con.execute(
        f"create table {db}.ref_offence_codes (offence_code varchar, offence_group"
        " varchar, label_nb varchar, label_en varchar, group_label_nb varchar,"
        " group_label_en varchar)"
    )
    con.executemany(
        f"insert into {db}.ref_offence_codes values (?, ?, ?, ?, ?, ?)", offences
    )
    codes = [
        (name, code, *code_labels(code))
        for name in described.CODE_LISTS
        for code in _vocabulary(name)
    ]
    con.execute(
        f"create table {db}.ref_codes (code_list varchar, code varchar,"
        " label_nb varchar, label_en varchar)"
    )
    con.executemany(f"insert into {db}.ref_codes values (?, ?, ?, ?)", codes)
    made = {"ref_offence_codes": len(offences), "ref_codes": len(codes)}
    rows = {**counts, **made}
    con.execute(
        f"create table {db}.about (table_name varchar, one_row_is varchar, rows bigint)"
    )
    con.executemany(
        f"insert into {db}.about values (?, ?, ?)",
        [[name, described.describe_table(name), n] for name, n in rows.items()],
    )
    return {**made, "about": len(rows)}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def add_comments(con, db: str) -> None:
    """`COMMENT ON TABLE` and `COMMENT ON COLUMN` for every table and column of the
    attached database `db`, from `data_schema/snapshot.py` (a `KeyError` names a
    column that has no description, before anything is published)."""
    tables = con.execute(
        "select table_name from duckdb_tables() where database_name = ? order by 1",
        [db],
    ).fetchall()
    for (table,) in tables:
        con.execute(
            f'comment on table {db}."{table}" is '
            f"{_quote(described.describe_table(table))}"
        )
        columns = con.execute(
            "select column_name from duckdb_columns()"
            " where database_name = ? and table_name = ? order by column_index",
            [db, table],
        ).fetchall()
        for (column,) in columns:
            text = described.describe_column(table, column)
            con.execute(
                f'comment on column {db}."{table}"."{column}" is {_quote(text)}'
            )


def _codes(con, table: str, column: str) -> list[tuple[str, int]] | None:
    """The values of a text column with their row counts, when it has few
    (`MAX_CODES`); None for keys, places and columns of many values."""
    if column.endswith("_key") or column in NOT_CODES or table in REFERENCE:
        return None
    n = con.execute(f'select count(distinct "{column}") from "{table}"').fetchone()[0]
    if n > MAX_CODES:
        return None
    return con.execute(
        f'select "{column}"::varchar, count(*) from "{table}" group by all'
        " order by 1 nulls last"
    ).fetchall()


def describe(path: str | Path) -> list[dict]:
    """Every table of a built snapshot file, in file order: name, comment, rows, and
    its columns (name, type, comment, code list with counts for text columns of
    few values), read back from the file itself (what a researcher's client sees)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = []
        tables = con.execute(
            "select table_name, comment, estimated_size from duckdb_tables()"
            " where database_name = current_database() order by table_oid"
        ).fetchall()
        for table, comment, _ in tables:
            rows = con.execute(f'select count(*) from "{table}"').fetchone()[0]
            columns = []
            for name, dtype, text in con.execute(
                "select column_name, data_type, comment from duckdb_columns()"
                " where database_name = current_database() and table_name = ?"
                " order by column_index",
                [table],
            ).fetchall():
                codes = _codes(con, table, name) if dtype == "VARCHAR" else None
                columns.append(
                    {"name": name, "type": dtype, "comment": text or "", "codes": codes}
                )
            out.append(
                {
                    "name": table,
                    "comment": comment or "",
                    "rows": rows,
                    "columns": columns,
                }
            )
        return out
    finally:
        con.close()

"""DuckDB DDL for the staging and core tables, generated from the contract.

`python -m data_schema.ddl` rewrites `sql/staging/stg_<table>.sql` and
`sql/core/<table>.sql`; a test fails when the files on disk differ from what the
contract gives, and another compares `DESCRIBE` of a live database with it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gjenganger.data_schema.contract import OFFENCE_GROUPS, TABLES, Table

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
GENERATED = (
    "-- generated from data_schema/contract.py by `python -m data_schema.ddl`;"
    " do not edit\n"
)


RESERVED = {"at"}


def ident(name: str) -> str:
    """A column name, quoted where DuckDB reserves the word."""
    return f'"{name}"' if name in RESERVED else name


def _columns(table: Table) -> list[str]:
    return [
        f"    {ident(c.name)} {c.duckdb_type}{'' if c.nullable else ' not null'}"
        for c in table.columns
    ]


def staging_ddl(table: Table) -> str:
    """Staging: every valid row as loaded, all versions, with its batch and line."""
    cols = _columns(table) + [
        "    batch_id varchar not null",
        "    source_file varchar not null",
        "    line bigint not null",
    ]
    return (
        f"{GENERATED}-- one row per valid {table.name} row as loaded (every version)\n"
        f"create table if not exists stg_{table.name} (\n" + ",\n".join(cols) + "\n);\n"
    )


def core_ddl(table: Table) -> str:
    """Core: the current (newest `updated_at`) version of each key."""
    cols = _columns(table) + [
        "    batch_id varchar not null",
        f"    primary key ({', '.join(table.key)})",
    ]
    return (
        f"{GENERATED}-- one row per {table.one_row_is}\n"
        f"create table if not exists {table.name} (\n" + ",\n".join(cols) + "\n);\n"
    )


def reference_ddl() -> str:
    """The offence-code reference table (code -> group), from the contract."""
    rows = ",\n".join(
        f"    ('{code}', '{group}')" for code, group in OFFENCE_GROUPS.items()
    )
    return (
        f"{GENERATED}-- one row per offence code of the contract, with its group\n"
        "create or replace table ref_offence_codes as\n"
        "select * from (values\n" + rows + "\n) as t(offence_code, offence_group);\n"
    )


def expected_files() -> dict[Path, str]:
    """Every generated .sql file and the text the contract gives it."""
    files: dict[Path, str] = {}
    for table in TABLES:
        files[SQL_DIR / "staging" / f"stg_{table.name}.sql"] = staging_ddl(table)
        files[SQL_DIR / "core" / f"{table.name}.sql"] = core_ddl(table)
    files[SQL_DIR / "core" / "ref_offence_codes.sql"] = reference_ddl()
    return files


def main() -> int:
    for path, text in expected_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path.relative_to(SQL_DIR.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())

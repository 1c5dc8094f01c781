"""Runs the `.sql` files in layer order: staging, core, marts.

One object per file, the file name is the object's name. A file whose statement is
a query (starts with `select` or `with`) becomes `create or replace view <name>`;
any other file (DDL, macros) runs as written. Within a layer, files whose
dependencies are not there yet are retried after the others.

Every table the pipeline writes is declared here, one file each; `SCHEMA_VERSION`
names this layout (recorded in table `schema_version`, see `gjenganger.store.schema`).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parent
LAYERS = ("staging", "core", "marts")
#: the layout of the files below; raise it (and add a migration to
#: `gjenganger.store.schema.MIGRATIONS`) when a change needs more than
#: `create ... if not exists` to reach an existing database
SCHEMA_VERSION = 1


def _body(text: str) -> str:
    lines = [ln for ln in text.splitlines() if not ln.strip().startswith("--")]
    return "\n".join(lines).strip().rstrip(";")


def statement_for(path: Path) -> str:
    """The SQL to execute for one file."""
    body = _body(path.read_text(encoding="utf-8"))
    if re.match(r"(?is)^(select|with)\b", body):
        return f"create or replace view {path.stem} as\n{body}"
    return body


def sql_files(layers: tuple[str, ...] = LAYERS) -> list[Path]:
    """Every .sql file of the given layers, in layer then name order."""
    return [p for layer in layers for p in sorted((SQL_DIR / layer).glob("*.sql"))]


@cache
def declared_tables(layers: tuple[str, ...] = LAYERS) -> dict[str, Path]:
    """Table name -> its file, for every file of `layers` that creates a table."""
    return {
        p.stem: p
        for p in sql_files(layers)
        if re.match(r"(?is)^create\s+(or\s+replace\s+)?table\b", statement_for(p))
    }


def declare(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Create one declared table if it is missing (runs its file only).

    For connections that were not migrated, e.g. the audit log's own database. A
    table declared from another one (`... as select * from other limit 0`) has that
    one declared first.
    """
    try:
        con.execute(statement_for(declared_tables()[name]))
    except duckdb.CatalogException as exc:
        missing = re.search(r"Table with name (\w+) does not exist", str(exc))
        if not missing or missing.group(1) not in declared_tables():
            raise
        declare(con, missing.group(1))
        con.execute(statement_for(declared_tables()[name]))


def apply(con: duckdb.DuckDBPyConnection, layers: tuple[str, ...] = LAYERS) -> None:
    """Create every table, view and macro of the given layers (idempotent)."""
    for layer in layers:
        pending = sql_files((layer,))
        while pending:
            failed: list[tuple[Path, Exception]] = []
            for path in pending:
                try:
                    con.execute(statement_for(path))
                except duckdb.CatalogException as exc:  # depends on a later file
                    failed.append((path, exc))
            if len(failed) == len(pending):
                path, exc = failed[0]
                raise RuntimeError(f"sql/{layer}/{path.name}: {exc}") from exc
            pending = [p for p, _ in failed]

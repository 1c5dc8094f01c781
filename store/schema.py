"""The schema version of a database: create, migrate or refuse, in one line.

`gjenganger.sql.runner.SCHEMA_VERSION` names the layout of the `.sql` files of this
release; table `schema_version` records the versions applied to a database.

- A new (empty) database is created at the current version.
- A database at the current version gets the files applied again (views and
  macros are replaced; `create table if not exists` leaves tables as they are).
- An older database is migrated, one step per version, when `MIGRATIONS` knows
  the step, else refused with one line. Version 0 ("pre-1") is a database made
  before versions were recorded: our tables but no `schema_version` row. It is
  migrated by dropping the derived tables (every table declared under
  `sql/marts/`: top lists, hypotheses, attribution state, phases, episodes,
  hotspot cells; and the resume marks `pipeline_steps`), which the next night
  computes again in their declared shape. Loaded data (core and staging tables,
  quarantine, ingest batches) and the audit log are kept; if one of those differs
  from its declaration, the database is refused instead.
- A database of a newer version is refused with one line.

A read-only connection cannot migrate: it refuses an older or newer database. A
writable one that must not migrate (`connect(migrate=False)`, used to append to
the audit log) takes an older database as it is and refuses a newer one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache

import duckdb

from gjenganger.data_schema.validation import macro_sql
from gjenganger.errors import UserError
from gjenganger.sql import runner
from gjenganger.sql.runner import SCHEMA_VERSION

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "check", "found_version", "migrate"]


def _base_tables(con) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables"
        " where table_schema = 'main' and table_type = 'BASE TABLE'"
    ).fetchall()
    return {r[0] for r in rows}


def found_version(con) -> int | None:
    """The database's schema version: None when it holds none of our tables yet,
    0 when it was made before versions were recorded."""
    tables = _base_tables(con)
    if "schema_version" in tables:
        row = con.execute("select max(version) from schema_version").fetchone()
        if row[0] is not None:
            return int(row[0])
    ours = set(runner.declared_tables()) - {"schema_version", "audit_log"}
    return 0 if tables & ours else None


def _derived_tables() -> set[str]:
    """Tables the nightly computes again from the loaded data."""
    return set(runner.declared_tables(("marts",))) | {"pipeline_steps"}


def _columns(con, tables: set[str]) -> dict[str, list[str]]:
    """Table -> its columns as 'name TYPE', in order."""
    rows = con.execute(
        "select table_name, list(column_name || ' ' || data_type"
        " order by ordinal_position) from information_schema.columns"
        " where table_schema = 'main' group by table_name"
    ).fetchall()
    return {t: cols for t, cols in rows if t in tables}


@cache
def _declared_columns() -> dict[str, list[str]]:
    """The columns (name, type) of every declared table, from a scratch database."""
    scratch = duckdb.connect()
    try:
        for stmt in macro_sql():
            scratch.execute(stmt)
        runner.apply(scratch)
        return _columns(scratch, set(runner.declared_tables()))
    finally:
        scratch.close()


def _older(path, version: int, what: str) -> UserError:
    return UserError(
        f"database {path} was made by an older release (schema {version}); {what}"
    )


def _from_pre1(con, path) -> str:
    """Version 0 -> 1: drop the derived tables; refuse if loaded data differ."""
    tables = _base_tables(con)
    derived = sorted(tables & _derived_tables())
    declared = _declared_columns()
    replaced = {  # `create or replace`: made again by every connect
        t
        for t, p in runner.declared_tables().items()
        if re.match(r"(?is)^create\s+or\s+replace", runner.statement_for(p))
    }
    kept = (tables & set(declared)) - set(derived) - replaced
    found = _columns(con, kept)
    for table in sorted(kept):
        if found[table] != declared[table]:
            raise _older(
                path,
                0,
                f"its table {table} differs from this release's; "
                "load its inbox into a new database",
            )
    con.execute("begin transaction")
    try:
        for table in derived:
            con.execute(f"drop table {table}")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return "migrated from pre-1: dropped " + (", ".join(derived) or "nothing")


#: version -> the function bringing a database of that version to the next one
#: (returns a note for `schema_version`)
MIGRATIONS = {0: _from_pre1}


def _newer(path, version: int) -> UserError:
    return UserError(
        f"database {path} was made by a newer release (schema {version}; this "
        f"release reads schema {SCHEMA_VERSION}); use that release or a newer one"
    )


def check(con, path, older_ok: bool = False) -> None:
    """Refuse (one-line `UserError`) a database of a newer version, and one of an
    older version unless `older_ok` (a connection that will not migrate it)."""
    version = found_version(con)
    if version is None or version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise _newer(path, version)
    if older_ok:
        return
    raise _older(
        path,
        version,
        "open it once with a writable command (e.g. `gjenganger ingest`) to migrate it",
    )


def _release() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gjenganger")
    except PackageNotFoundError:
        return None


def migrate(con, path) -> None:
    """Bring a writable database to `SCHEMA_VERSION` and apply every `.sql` file.

    New: created at the current version. Older: migrated step by step (refused
    when a step is unknown). Newer: refused.
    """
    version = found_version(con)
    if version is not None and version > SCHEMA_VERSION:
        raise _newer(path, version)
    notes = []
    for step in range(SCHEMA_VERSION if version is None else version, SCHEMA_VERSION):
        if step not in MIGRATIONS:
            raise _older(
                path,
                version,
                "this release cannot migrate it; load its inbox into a new database",
            )
        notes.append(MIGRATIONS[step](con, path))
    runner.apply(con)
    if version != SCHEMA_VERSION:
        con.execute(
            "insert into schema_version values (?, ?, ?, ?)",
            [
                SCHEMA_VERSION,
                datetime.now(UTC),
                _release(),
                "; ".join(notes) or "created",
            ],
        )

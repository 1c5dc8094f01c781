"""Opening the DuckDB database: one place for settings, migration and lock errors."""

from __future__ import annotations

import os
import re
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from gjenganger.data_schema.validation import macro_sql
from gjenganger.errors import UserError
from gjenganger.store import schema

TIMEZONE = "Europe/Oslo"
#: DuckDB's buffer-pool cap, `GJENGANGER_DUCKDB_MEMORY` overrides (e.g. "8GB")
DEFAULT_MEMORY_LIMIT = "3GB"


def connect(path: str | Path, read_only: bool = False, migrate: bool = True):
    """Open (and, writable, migrate) the database at `path`.

    Sets the session time zone to Europe/Oslo (contract timestamps without an offset
    are local time), caps DuckDB's memory (`GJENGANGER_DUCKDB_MEMORY`, default
    3GB; larger work spills to disk) and creates the identity-guard macros. A
    locked or unreadable file becomes a one-line `UserError`. Writable (and
    `migrate`), the database is created at or migrated to the current schema
    version; read-only, one of another version is refused
    (`gjenganger.store.schema`). `migrate=False` (writable) opens an older
    database as it is, e.g. to append to its audit log; a newer one is refused.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise UserError(f"database {path} does not exist")
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create {path.parent}: {exc.strerror}") from exc
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        msg = str(exc)
        if "lock" in msg.lower():
            pid = re.search(r"PID (\d+)", msg)
            who = f" (PID {pid.group(1)})" if pid else ""
            raise UserError(
                f"database {path} is locked by another process{who}"
            ) from exc
        raise UserError(f"cannot open database {path}: {msg.splitlines()[0]}") from exc
    except duckdb.Error as exc:
        raise UserError(
            f"cannot open database {path}: {str(exc).splitlines()[0]}"
        ) from exc
    con.execute(f"set TimeZone = '{TIMEZONE}'")
    con.execute("set enable_progress_bar = false")
    # DuckDB would take 80 % of RAM for its buffers; cap it (it spills to disk)
    limit = os.environ.get("GJENGANGER_DUCKDB_MEMORY", DEFAULT_MEMORY_LIMIT)
    try:
        con.execute("set memory_limit = ?", [limit])
    except duckdb.Error as exc:
        con.close()
        raise UserError(
            f"GJENGANGER_DUCKDB_MEMORY={limit!r} is not a memory size"
        ) from exc
    for stmt in macro_sql():
        con.execute(stmt)
    try:
        if migrate and not read_only:
            schema.migrate(con, path)
        else:
            schema.check(con, path, older_ok=not read_only)
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def transaction(con):
    """Run the with-block in one transaction: commit at the end, roll back on any
    exception (a failing rollback, e.g. of a connection already closed, does not
    hide the original error)."""
    con.execute("begin transaction")
    try:
        yield con
    except BaseException:
        with suppress(duckdb.Error):
            con.execute("rollback")
        raise
    con.execute("commit")


def load_spatial(con) -> None:
    """Load DuckDB's spatial extension from the `duckdb-extension-spatial` wheel.

    `INSTALL spatial` needs the internet; the wheel ships the binary, so this works
    on an air-gapped network.
    """
    import duckdb_extension_spatial

    ext_dir = Path(duckdb_extension_spatial.__file__).parent / "extensions"
    path = next(ext_dir.glob("v*/spatial.duckdb_extension"))
    con.execute(f"load '{path}'")


def table_exists(con, name: str) -> bool:
    """True when a table or view of that name exists in the main schema."""
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_name = ?",
            [name],
        ).fetchone()[0]
    )

"""Research queries: one SELECT at a time on a research snapshot, in a sandbox.

The snapshot is opened read-only with DuckDB's security settings (see DuckDB's
"Securing DuckDB"): no external access (no COPY, ATTACH, EXPORT, `read_csv`,
`read_blob`, `glob` or replacement scans on any file), no extension installed or
loaded, automatically or by hand, no community or unsigned extension, no persistent
secret, the local file system disabled once the snapshot is open (so not even a
spill file or the snapshot's own bytes are reachable), and the configuration then
locked. Before anything runs, the text is parsed: exactly one statement, and only a
SELECT (which covers WITH, FROM-first, VALUES, DESCRIBE, SHOW, SUMMARIZE and
`PRAGMA table_info`); everything else is refused in one line. A purpose must be a
sentence. Work beyond the memory cap (`GJENGANGER_DUCKDB_MEMORY`) fails instead of
spilling to disk.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from gjenganger.errors import UserError
from gjenganger.store.db import DEFAULT_MEMORY_LIMIT

#: a purpose is at least this many characters ...
MIN_PURPOSE_CHARS = 12
#: ... and this many words of two or more letters
MIN_PURPOSE_WORDS = 2
#: settings fixed when the snapshot is opened (they cannot be changed afterwards)
SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "allow_persistent_secrets": False,
}
_WORD = re.compile(r"[^\W\d_]{2,}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RefusedError(UserError):
    """A purpose or statement the sandbox does not run (audited as `refused: ...`)."""

    def __init__(self, reason: str):
        super().__init__(f"refused: {reason}")


class QueryFailedError(UserError):
    """A permitted statement that DuckDB could not run (audited as `error: ...`)."""


def check_purpose(purpose: str | None) -> str:
    """The purpose, whitespace collapsed; `RefusedError` unless it is one line of at
    least `MIN_PURPOSE_CHARS` characters and `MIN_PURPOSE_WORDS` words."""
    raw = purpose or ""
    text = " ".join(raw.split())
    if not text:
        raise RefusedError("a purpose is required (why you query, in a sentence)")
    if _CONTROL.search(raw):
        raise RefusedError("the purpose must be one line of text")
    if len(text) < MIN_PURPOSE_CHARS or len(_WORD.findall(text)) < MIN_PURPOSE_WORDS:
        raise RefusedError(
            f"the purpose must say why you query, in a sentence (at least "
            f"{MIN_PURPOSE_CHARS} characters and {MIN_PURPOSE_WORDS} words)"
        )
    return text


def open_snapshot(path: str | Path):
    """A sandboxed read-only connection to a research snapshot file (see above)."""
    limit = os.environ.get("GJENGANGER_DUCKDB_MEMORY", DEFAULT_MEMORY_LIMIT)
    try:
        con = duckdb.connect(
            str(path), read_only=True, config={**SANDBOX, "memory_limit": limit}
        )
    except duckdb.Error as exc:
        raise UserError(
            f"cannot open research snapshot {path}: {str(exc).splitlines()[0]}"
        ) from exc
    try:
        con.execute("set disabled_filesystems = 'LocalFileSystem'")
        con.execute("set lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def check_statement(con, sql: str) -> None:
    """`RefusedError` unless `sql` is exactly one SELECT statement (parsed, not run)."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryFailedError(f"query failed: {str(exc).splitlines()[0]}") from exc
    if not statements:
        raise RefusedError("no SQL statement given")
    if len(statements) > 1:
        raise RefusedError(f"one statement per call ({len(statements)} given)")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise RefusedError(
            f"{kind.name} statements do not run on the research snapshot (only SELECT)"
        )


def run_query(con, sql: str) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of one SELECT on a sandboxed snapshot connection.

    A refused statement raises `RefusedError` before anything runs; one that tries
    to reach a file at run time (e.g. `read_csv` inside a SELECT) raises it too;
    any other failure is a one-line `QueryFailedError`.
    """
    check_statement(con, sql)
    try:
        cur = con.execute(sql)
        rows = cur.fetchall()
    except duckdb.PermissionException as exc:
        raise RefusedError(
            "research queries cannot reach files, the network or extensions "
            f"({str(exc).splitlines()[0]})"
        ) from exc
    except duckdb.Error as exc:
        raise QueryFailedError(f"query failed: {str(exc).splitlines()[0]}") from exc
    return [d[0] for d in cur.description or []], rows

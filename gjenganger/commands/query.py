"""`gjenganger query`: one SELECT at a time on the research snapshot, sandboxed, and
audited with its purpose before any result is shown.

Every statement's audit row (user, purpose, SQL, row count, outcome `ok`,
`refused: ...` or `error: ...`) is committed to the configured audit log
(`$GJENGANGER_AUDIT_DB`, default `$GJENGANGER_HOME/audit.duckdb`; never chosen by
the person querying) before its result is printed; if the row cannot be written,
nothing is shown and the command exits 2.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from contextlib import suppress
from pathlib import Path

from gjenganger.errors import UserError
from gjenganger.store import audit
from gjenganger.store import query as sandbox


def register(sub) -> None:
    """Add `query` to the CLI (no audit-location flag: that is configuration)."""
    p = sub.add_parser(
        "query",
        help="run one SELECT on the research snapshot, sandboxed; user, purpose and "
        "SQL are audited before the result is shown",
        description="Run SQL read-only on a research snapshot (the file, or "
        "PUBLISH/latest/research/gjenganger.duckdb) in a sandbox: one SELECT per "
        "call, no file, network or extension access. Without SQL, read statements "
        "from standard input, one per line (interactive when a terminal). Each "
        "statement is logged with user, purpose, SQL text and outcome to the "
        "configured audit log before its result is shown; refusals exit 2.",
    )
    p.add_argument(
        "--purpose",
        required=True,
        help="why you query, in a sentence (kept in the audit log)",
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--snapshot", type=Path, help="research snapshot .duckdb file")
    where.add_argument("--publish", type=Path, help="publication folder (uses latest)")
    p.add_argument("--json", action="store_true", help="rows as JSON objects")
    p.add_argument(
        "sql", nargs="?", help="one SELECT statement (omit for interactive mode)"
    )
    p.set_defaults(func=run)


def _snapshot(args) -> Path:
    path = args.snapshot or (args.publish / "latest" / "research" / "gjenganger.duckdb")
    if not path.exists():
        raise UserError(f"research snapshot {path} does not exist")
    return path


def _format(cols: list[str], rows: list[tuple], as_json: bool) -> str:
    if as_json:
        return json.dumps([dict(zip(cols, r, strict=True)) for r in rows], default=str)
    lines = ["\t".join(cols)]
    lines += ["\t".join("" if v is None else str(v) for v in r) for r in rows]
    return "\n".join(lines)


def _outcome(exc: UserError) -> str:
    return str(exc) if isinstance(exc, sandbox.RefusedError) else f"error: {exc}"


def _commit(outcome: str) -> None:
    """Write the running statement's audit row; raise (nothing shown) if it fails."""
    try:
        audit.finish(None, outcome)
    except audit.AuditNotWrittenError as exc:
        raise audit.AuditNotWrittenError(f"{exc}: no result shown") from exc


def _execute(con, sql: str, as_json: bool) -> tuple[str, str, UserError | None]:
    """(outcome, text to print, error) of one statement; nothing is printed here."""
    try:
        cols, rows = sandbox.run_query(con, sql)
    except UserError as exc:
        return _outcome(exc), "", exc
    audit.counted(rows=len(rows))
    return "ok", _format(cols, rows, as_json), None


def run(args) -> int:
    """One statement (SQL given) or a session (statements on standard input); the
    purpose is checked first, and every refusal is audited before it is reported."""
    try:
        sandbox.check_purpose(args.purpose)
    except sandbox.RefusedError as exc:
        _commit(str(exc))
        raise
    path = _snapshot(args)
    con = sandbox.open_snapshot(path)
    try:
        if args.sql is not None:
            outcome, text, error = _execute(con, args.sql, args.json)
            _commit(outcome)  # the row is in before anything is shown
            if error is not None:
                raise error
            print(text)
            return 0
        return _session(con, args, path)
    finally:
        con.close()


def _session(con, args, path: Path) -> int:
    """Statements from standard input, one per line, each its own audit row; then
    the session's row (statements, refused, errors; written by the CLI if the
    session is interrupted). Exit 2 if any was refused or failed."""
    interactive = sys.stdin.isatty()
    tally: Counter = Counter()
    try:
        while line := _next_line(interactive):
            if line.strip():
                tally[_statement(con, args, path, line)] += 1
    finally:  # counted on the session's row, however the session ends
        audit.counted(
            statements=tally.total(), refused=tally["refused"], errors=tally["error"]
        )
    bad = tally["refused"] + tally["error"]
    _commit("ok" if not bad else f"error: {bad} of {tally.total()} failed")
    return 2 if bad else 0


def _next_line(interactive: bool) -> str:
    if interactive:
        print("gjenganger> ", end="", flush=True)
    return sys.stdin.readline()


def _statement(con, args, path: Path, line: str) -> str:
    """Run one interactive statement: its row first, then its result or error; the
    kind of outcome (`ok`, `refused`, `error`)."""
    params = {"purpose": args.purpose, "snapshot": str(path), "sql": line.strip()}
    audit.begin("query", params, args.user, args.role)
    try:
        outcome, text, error = _execute(con, line, args.json)
    except BaseException as exc:  # Ctrl-C or SIGTERM mid-statement: its row says so
        with suppress(Exception):
            audit.finish(None, f"interrupted: {type(exc).__name__}")
        raise
    try:
        _commit(outcome)
    except audit.AuditNotWrittenError:
        with suppress(Exception):  # the session's row, if it can still be written
            audit.finish(None, "error: audit log not written")
        raise
    if error is not None:
        print(f"gjenganger: {error}", file=sys.stderr)
    else:
        print(text, flush=True)
    return outcome.split(":")[0]

"""`gjenganger query`: read-only SQL on the research snapshot, logged with its
purpose.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gjenganger.errors import UserError
from gjenganger.store import audit
from gjenganger.store import research as snapshot


def register(sub) -> None:
    p = sub.add_parser(
        "query",
        help="run read-only SQL on the research snapshot; user, purpose and SQL "
        "are audited",
        description="Run SQL read-only on a research snapshot (the file, or "
        "PUBLISH/latest/research/gjenganger.duckdb). Without SQL, read statements from "
        "standard input, one per line (interactive when a terminal). Each statement is "
        "logged with user, purpose and SQL text to the audit log.",
    )
    p.add_argument(
        "--purpose", required=True, help="why you query (kept in the audit log)"
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--snapshot", type=Path, help="research snapshot .duckdb file")
    where.add_argument("--publish", type=Path, help="publication folder (uses latest)")
    p.add_argument(
        "--audit-db",
        type=Path,
        default=None,
        help="audit log database (default $GJENGANGER_HOME/audit.duckdb)",
    )
    p.add_argument("--json", action="store_true", help="rows as JSON objects")
    p.add_argument(
        "sql", nargs="?", help="one SQL statement (omit for interactive mode)"
    )
    p.set_defaults(func=run)


def _snapshot(args) -> Path:
    path = args.snapshot or (args.publish / "latest" / "research" / "gjenganger.duckdb")
    if not path.exists():
        raise UserError(f"research snapshot {path} does not exist")
    return path


def _run_one(con, sql: str, as_json: bool) -> int:
    cols, rows = snapshot.run_query(con, sql)
    if as_json:
        print(json.dumps([dict(zip(cols, r, strict=True)) for r in rows], default=str))
    else:
        print("\t".join(cols))
        for r in rows:
            print("\t".join("" if v is None else str(v) for v in r))
    return len(rows)


def run(args) -> int:
    path = _snapshot(args)
    con = snapshot.open_snapshot(path)
    try:
        if args.sql:
            audit.counted(rows=_run_one(con, args.sql, args.json))
            return 0
        interactive = sys.stdin.isatty()
        statements = 0
        while True:
            if interactive:
                print("gjenganger> ", end="", flush=True)
            line = sys.stdin.readline()
            if not line:
                break
            if not line.strip():
                continue
            try:
                _run_one(con, line, args.json)
            except UserError as exc:
                print(f"gjenganger: {exc}", file=sys.stderr)
            statements += 1
            # each statement its own audit row, with the SQL text
            audit.begin(
                "query",
                {"purpose": args.purpose, "snapshot": str(path), "sql": line.strip()},
                args.user,
                args.role,
            )
            audit.finish(args.audit_db, "ok")
        audit.begin(
            "query",
            {"purpose": args.purpose, "snapshot": str(path), "statements": statements},
            args.user,
            args.role,
        )
        return 0
    finally:
        con.close()

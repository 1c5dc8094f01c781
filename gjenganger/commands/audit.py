"""`gjenganger audit verify|show|retire`: check the keyed audit chain; who looked at
whom; record that a database's earlier log was deleted on purpose."""

from __future__ import annotations

import json
from pathlib import Path

from gjenganger.arguments import iso_date
from gjenganger.errors import UserError
from gjenganger.store import audit, db

DB_HELP = "database (default: the configured audit log, $GJENGANGER_AUDIT_DB)"


def register(sub) -> None:
    """Add `audit verify|show|retire` to the CLI."""
    p = sub.add_parser(
        "audit",
        help="verify the tamper-evident audit log or show who did what",
        description="Every command and flow run appends a row to the audit log of its "
        "database (or the configured audit log, $GJENGANGER_AUDIT_DB, default "
        "$GJENGANGER_HOME/audit.duckdb), chained with HMAC-SHA256 under the audit key "
        "and anchored outside the database. See docs/audit-trust.md.",
    )
    verbs = p.add_subparsers(dest="kind", metavar="VERB")
    verbs.required = True
    v = verbs.add_parser(
        "verify",
        help="exit 2 if any audit row was changed or removed, or the log was "
        "emptied or replaced",
    )
    v.add_argument("--db", type=Path, default=None, help=DB_HELP)
    v.add_argument(
        "--anchored-as",
        type=Path,
        default=None,
        metavar="PATH",
        help="where the database was written, if it was moved since",
    )
    v.add_argument(
        "--journal",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="an off-box copy of the anchor journal (e.g. the syslog lines) to check "
        "as well; repeatable",
    )
    v.add_argument("--json", action="store_true", help="print the result as JSON")
    v.set_defaults(func=run_verify)
    s = verbs.add_parser("show", help="list audit rows, e.g. who looked at a person")
    s.add_argument("--db", type=Path, default=None, help=DB_HELP)
    s.add_argument("--person", help="only rows that looked at this person")
    s.add_argument("--since", type=iso_date, help="only rows from this date")
    s.add_argument("--json", action="store_true", help="print rows as JSON")
    s.set_defaults(func=run_show)
    r = verbs.add_parser(
        "retire",
        help="record that the earlier audit log of a database path was deleted on "
        "purpose (the database was built again); needs the audit key",
    )
    r.add_argument("--db", type=Path, required=True, help="the database path")
    r.add_argument("--reason", required=True, help="why (kept in the audit log)")
    r.set_defaults(func=run_retire)


def _open(path: Path | None):
    path = path or audit.default_db()
    if not path.exists():
        raise UserError(f"database {path} does not exist")
    return path, db.connect(path, migrate=False)


def run_verify(args) -> int:
    """Check the log and its anchors; every problem on stdout, the first on stderr,
    exit 2 (a log older than the keyed chain is one line)."""
    path, con = _open(args.db)
    try:
        problems = audit.verify(con, path, args.anchored_as, tuple(args.journal))
        n = audit.row_count(con)
    finally:
        con.close()
    if args.json:
        print(json.dumps({"rows": n, "intact": not problems, "problems": problems}))
    elif len(problems) > 1:
        for p in problems:
            print(p)
    elif not problems:
        print(f"audit log intact: {n} rows")
    if problems:
        raise UserError(f"audit log of {path} fails verification: {problems[0]}")
    return 0


def run_show(args) -> int:
    """The rows, optionally of one person or from a date, as a table or JSON."""
    path, con = _open(args.db)
    try:
        rows = audit.rows(con, args.person, args.since)
    finally:
        con.close()
    keys = (
        "seq",
        "started_at",
        "user",
        "role",
        "command",
        "persons",
        "outcome",
        "params",
    )
    docs = [dict(zip(keys, r, strict=True)) for r in rows]
    for d in docs:
        d["persons"] = json.loads(d["persons"])
        d["params"] = json.loads(d["params"])
    if args.json:
        print(json.dumps(docs, indent=2))
    else:
        for d in docs:
            print(
                f"{d['seq']:>5} {d['started_at'][:19]} {d['user']:<12} {d['role']:<10} "
                f"{d['command']:<22} {d['outcome']}"
                + (f"  persons: {', '.join(d['persons'])}" if d["persons"] else "")
            )
    return 0


def run_retire(args) -> int:
    """Record, MACed in the anchor journal, that the earlier logs of a database path
    were deleted on purpose; this command's own row says who and why."""
    if len(args.reason.strip()) < 12:
        raise UserError("--reason must say why, in a sentence")
    con = db.connect(args.db, migrate=False) if args.db.is_file() else None
    try:
        retired = audit.retire(con, args.db)
    finally:
        if con is not None:
            con.close()
    audit.counted(retired=len(retired))
    for r in retired:
        print(f"retired: log of {r['path']} with {r['seq']} rows ({r['at'][:19]})")
    if not retired:
        print(f"nothing to retire for {args.db}")
    return 0

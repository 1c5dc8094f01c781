"""`gjenganger audit verify|show`: check the audit chain; who looked at whom."""

from __future__ import annotations

import json
from pathlib import Path

from gjenganger.arguments import iso_date
from gjenganger.errors import UserError
from gjenganger.store import audit, db


def register(sub) -> None:
    p = sub.add_parser(
        "audit",
        help="verify the tamper-evident audit log or show who did what",
        description="Every command and flow run appends a hash-chained row to the "
        "audit log of its database (or $GJENGANGER_HOME/audit.duckdb).",
    )
    verbs = p.add_subparsers(dest="kind", metavar="VERB")
    verbs.required = True
    v = verbs.add_parser(
        "verify", help="exit 1 if any audit row was changed or removed"
    )
    v.add_argument("--db", type=Path, default=None, help="database (default: home log)")
    v.add_argument("--json", action="store_true", help="print the result as JSON")
    v.set_defaults(func=run_verify)
    s = verbs.add_parser("show", help="list audit rows, e.g. who looked at a person")
    s.add_argument("--db", type=Path, default=None, help="database (default: home log)")
    s.add_argument("--person", help="only rows that looked at this person")
    s.add_argument("--since", type=iso_date, help="only rows from this date")
    s.add_argument("--json", action="store_true", help="print rows as JSON")
    s.set_defaults(func=run_show)


def _open(path: Path | None):
    path = path or audit.default_db()
    if not path.exists():
        raise UserError(f"database {path} does not exist")
    return path, db.connect(path, migrate=False)


def run_verify(args) -> int:
    path, con = _open(args.db)
    try:
        problems = audit.verify(con, path)
        n = audit.row_count(con)
    finally:
        con.close()
    if args.json:
        print(json.dumps({"rows": n, "intact": not problems, "problems": problems}))
    elif problems:
        for p in problems:
            print(p)
    else:
        print(f"audit log intact: {n} rows")
    if problems:
        raise UserError(f"audit log of {path} fails verification: {problems[0]}")
    return 0


def run_show(args) -> int:
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

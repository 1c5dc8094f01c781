"""`gjenganger purge`: delete data past the retention time, in one transaction."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

from gjenganger.arguments import add_as_of
from gjenganger.store import audit, db, runlock
from gjenganger.store.retention import purge


def register(sub) -> None:
    p = sub.add_parser(
        "purge",
        help="delete cases, links, card use, custody, derived and quarantine rows "
        "past retention",
        description="Delete, in one transaction, every case reported more than "
        "--older-than days before --as-of (default today) with everything derived from "
        "it, custody periods ended before then and quarantine rows held since before "
        "then. The next nightly publication no longer contains them.",
    )
    p.add_argument("--db", type=Path, required=True, help="DuckDB database file")
    p.add_argument(
        "--older-than",
        type=int,
        default=int(os.environ.get("GJENGANGER_RETENTION_DAYS", "1825")),
        help="retention in days (default $GJENGANGER_RETENTION_DAYS or 1825)",
    )
    add_as_of(p, "reference date (default: the newest report)")
    p.add_argument(
        "--json", action="store_true", help="print rows deleted per table as JSON"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    with runlock.hold(args.db):  # never between two steps of a running night
        con = db.connect(args.db)
        try:
            deleted = purge(con, args.older_than, args.as_of or date.today())
        finally:
            con.close()
    audit.counted(**{f"deleted_{k}": v for k, v in deleted.items()})
    if args.json:
        print(json.dumps({"deleted": deleted}))
    else:
        total = sum(deleted.values())
        print(
            f"purged {total} rows: "
            + ", ".join(f"{k} {v}" for k, v in sorted(deleted.items()))
        )
    return 0

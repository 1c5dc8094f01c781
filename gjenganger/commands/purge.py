"""`gjenganger purge`: delete data past the retention time, in one transaction."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from gjenganger.arguments import add_as_of
from gjenganger.errors import UserError
from gjenganger.store import audit, db, publish, runlock, settings
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
        default=None,
        help="retention in days, at least 1 (default $GJENGANGER_RETENTION_DAYS or "
        "1825)",
    )
    p.add_argument(
        "--publish",
        type=Path,
        default=None,
        help="publication folder: delete the nights built before the purge (they may "
        "hold purged cases) and mark `latest` until the next night replaces it",
    )
    add_as_of(p, "reference date (default: the newest report)")
    p.add_argument(
        "--json", action="store_true", help="print rows deleted per table as JSON"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    days = settings.retention_days() if args.older_than is None else args.older_than
    if days < 1:
        raise UserError(f"--older-than must be at least 1 day (got {days})")
    runlock.ensure_free(args.db)  # a running night first: it may be creating the db
    if not args.db.exists():
        raise UserError(f"database {args.db} does not exist")
    with runlock.hold(args.db):  # never between two steps of a running night
        con = db.connect(args.db)
        try:
            deleted = purge(con, days, args.as_of or date.today())
        finally:
            con.close()
    if args.publish is not None:
        pruned = publish.after_purge(args.publish, datetime.now(UTC).isoformat())
        deleted["published_nights"] = pruned["nights_removed"]
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

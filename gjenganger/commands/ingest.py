"""`gjenganger ingest`: load new batches from an inbox into the database."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gjenganger.flows.steps.ingest import check_inbox, ingest, summary
from gjenganger.store import db, runlock


def register(sub) -> None:
    p = sub.add_parser(
        "ingest",
        help="load every new batch folder of an inbox into the DuckDB database",
        description="Load every batch folder in INBOX not loaded before, in batch_id "
        "order. Bad rows go to quarantine with a reason; a batch that does not match "
        "its manifest is rejected whole. Exits 3 if any batch was rejected.",
    )
    p.add_argument("inbox", type=Path, help="folder holding one sub-folder per batch")
    p.add_argument("--db", type=Path, required=True, help="DuckDB database file")
    p.add_argument(
        "--json", action="store_true", help="print the batch summary as JSON"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    """Load the inbox; a missing inbox is one line before any file is created."""
    check_inbox(args.inbox)
    with runlock.hold(args.db):  # never between two steps of a running night
        con = db.connect(args.db)
        try:
            # step lines on a terminal only: a script reads the one line of
            # a rejected batch on stderr
            results = ingest(
                con,
                args.inbox,
                progress=sys.stderr.isatty() and not getattr(args, "quiet", False),
            )
        finally:
            con.close()
    doc = summary(results)
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        for r in results:
            files = ", ".join(
                f"{name} {c.read} read/{c.loaded} loaded/{c.quarantined} quarantined"
                for name, c in sorted(r.files.items())
            )
            print(f"{r.batch_id}: {r.status}" + (f" ({files})" if files else ""))
    rejected = [r for r in results if r.status == "rejected"]
    for r in rejected:
        print(f"gjenganger: batch {r.batch_id} rejected: {r.reason}", file=sys.stderr)
    return 3 if rejected else 0

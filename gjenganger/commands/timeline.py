"""`gjenganger timeline`: one person's events as a self-contained timeline page."""

from __future__ import annotations

import json
from pathlib import Path

from gjenganger.arguments import add_as_of, check_as_of, iso_date
from gjenganger.flows.steps.timelines import write_timeline
from gjenganger.store import db


def register(sub) -> None:
    p = sub.add_parser(
        "timeline",
        help="build one person's timeline page (chart, replay map, summary)",
        description="Build a self-contained HTML page of one person's events: lanes "
        "per offence group, card use, arrests and custody; points sized by NOK and "
        "coloured by sophistication level; attributed cases as hypotheses; use "
        "periods and phases as bands when the phases step has run; a map replaying "
        "the events in order; and a summary with the largest 36-hour NOK total and "
        "the top card episodes. The page needs no network.",
    )
    p.add_argument("--db", type=Path, required=True, help="DuckDB database file")
    p.add_argument("--person", required=True, metavar="ID", help="person pseudonym")
    p.add_argument(
        "--from",
        dest="start",
        type=iso_date,
        metavar="DATE",
        help="first day shown (YYYY-MM-DD); default: the first event",
    )
    p.add_argument(
        "--to",
        dest="end",
        type=iso_date,
        metavar="DATE",
        help="last day shown (YYYY-MM-DD, inclusive); default: the last event",
    )
    p.add_argument(
        "--lang",
        choices=("nb", "en"),
        default="nb",
        help="page language: Norwegian bokmål (default) or English",
    )
    add_as_of(p)
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE.html",
        help="where to write the page",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print a JSON summary (counts, seconds, bytes)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    con = db.connect(args.db, read_only=True, migrate=False)
    try:
        summary = write_timeline(
            con,
            args.person,
            args.out,
            start=args.start,
            end=args.end,
            lang=args.lang,
            as_of=check_as_of(con, args.as_of),
        )
    finally:
        con.close()
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print(
            f"{summary['out']}: {summary['events']} events "
            f"({summary['linked']} linked cases, {summary['hypotheses']} hypotheses), "
            f"{summary['episodes']} card episodes, {summary['bytes'] / 1e6:.2f} MB "
            f"in {summary['seconds']:.2f} s"
        )
    return 0

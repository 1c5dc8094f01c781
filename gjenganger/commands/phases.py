"""`gjenganger phases`: where each top-list person is in the use-period cycle."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gjenganger import progress
from gjenganger.arguments import add_as_of, check_as_of
from gjenganger.errors import UserError
from gjenganger.flows.steps import phases as step
from gjenganger.store import db, runlock


def register(sub) -> None:
    p = sub.add_parser(
        "phases",
        help="infer use-period phases (rest, phase1-3, inactive) per person and day",
        description="Fit the use-period phase model (report: 7-30 days on, 2-7 days "
        "off; phase1 low activity, phase2 planned hyper-crime, phase3 impulsive, rest, "
        "inactive) to linked and attributed cases, write the tables person_days, "
        "use_periods, current_phase and phase_model, and print each top-list "
        "person's state today.",
    )
    p.add_argument("--db", type=Path, required=True, help="DuckDB database file")
    add_as_of(p)
    p.add_argument("--person", metavar="ID", help="report on this person only")
    p.add_argument(
        "--days",
        type=int,
        default=step.WINDOW_DAYS,
        help=f"window length in days ending at the as-of date "
        f"(default {step.WINDOW_DAYS})",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print a JSON array of {person_id, date, phase, p} for every "
        "reported person and every day of the window",
    )
    p.add_argument(
        "--no-write",
        action="store_true",
        help="do not write the tables (read-only database access)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    if args.days < 30:  # before any progress line: the error is the one line
        raise UserError("--days must be at least 30")
    with runlock.hold_when(not args.no_write, args.db):
        con = db.connect(args.db, read_only=args.no_write)
        try:
            as_of = check_as_of(con, args.as_of, args.days)
            progress.say(
                "phases",
                f"reading cases and fitting the phase model ({args.days}-day window)",
            )
            result = step.run_phases(con, as_of, person=args.person, days=args.days)
            progress.say(
                "phases",
                f"fitted {len(result.fit.persons)} persons, "
                f"{len(result.persons)} reported, as of {result.as_of}",
            )
            if not args.no_write:
                progress.say(
                    "phases",
                    "writing person_days, use_periods, current_phase, phase_model",
                )
                step.write_run(con, result)
        finally:
            con.close()
    progress.say("phases", "done")
    if args.json:
        rows = result.person_days.select("person_id", "date", "phase", "p").sort(
            "person_id", "date"
        )
        out = [
            {"person_id": pid, "date": d.isoformat(), "phase": phase, "p": round(p, 4)}
            for pid, d, phase, p in rows.iter_rows()
        ]
        json.dump(out, sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(
        f"Phases as of {result.as_of} (window from {result.start}, "
        f"{len(result.fit.persons)} persons fitted, "
        f"persons from {result.toplist_source})"
    )
    print(
        f"{'person':<20} {'phase':<9} {'p':>5} {'in use period':>14} "
        f"{'days to rest':>13}  note"
    )
    cur = result.current
    order = {p: i for i, p in enumerate(result.persons)}
    for r in sorted(
        cur.iter_rows(named=True), key=lambda r: order.get(r["person_id"], 0)
    ):
        note = []
        if r["in_custody"]:
            note.append("in custody")
        if r["p_cycling"] < 0.5:
            note.append("no use-period rhythm (steady offending)")
        if r["low_confidence"]:
            note.append("low confidence")
        days_in = f"{r['days_in_use_period']} d" if r["days_in_use_period"] else "-"
        to_rest = "-" if r["phase"] == "rest" else f"{r['expected_days_to_rest']:.1f} d"
        print(
            f"{r['person_id']:<20} {r['phase']:<9} {r['p']:>5.2f} {days_in:>14} "
            f"{to_rest:>13}  {', '.join(note)}"
        )
    return 0

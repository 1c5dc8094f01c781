"""`gjenganger episodes`: card-use sprees found in the card transactions."""

from __future__ import annotations

import json
from pathlib import Path

from gjenganger.analytics.episodes import DEFAULT_MAX_GAP_HOURS, DEFAULT_WINDOW_HOURS
from gjenganger.arguments import add_as_of, positive
from gjenganger.errors import UserError
from gjenganger.flows.steps import episodes as step
from gjenganger.store import db, runlock


def register(sub) -> None:
    p = sub.add_parser(
        "episodes",
        help="list card-use sprees (episodes) with NOK totals and 36-hour maxima",
        description="Find card-use episodes: transactions on one card, split where "
        "the gap between two exceeds --gap-hours. Each episode has its fraud case, "
        "its person (linked, or the attributed candidate marked as a hypothesis), "
        "start, end, duration, approved/declined counts, merchants, total NOK "
        "(approved) and the largest NOK total within any 36-hour window. Largest "
        "36-hour total first.",
    )
    p.add_argument("--db", type=Path, required=True, help="DuckDB database file")
    p.add_argument(
        "--person",
        metavar="ID",
        help="only episodes of this person (linked or attributed)",
    )
    p.add_argument(
        "--min-nok",
        type=float,
        metavar="N",
        help="only episodes with total approved NOK >= N",
    )
    add_as_of(p, "as known at the end of DATE (default: everything in the database)")
    p.add_argument(
        "--gap-hours",
        type=float,
        default=DEFAULT_MAX_GAP_HOURS,
        help="split a card's use where the gap exceeds this many hours "
        f"(default {DEFAULT_MAX_GAP_HOURS:g})",
    )
    p.add_argument(
        "--window-hours",
        type=float,
        default=DEFAULT_WINDOW_HOURS,
        help=f"window of the largest NOK total (default {DEFAULT_WINDOW_HOURS:g})",
    )
    p.add_argument(
        "--limit",
        type=positive,
        default=None,
        metavar="N",
        help="print at most N episodes",
    )
    p.add_argument(
        "--write",
        action="store_true",
        help="also write all episodes to table `episodes`",
    )
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.gap_hours <= 0 or args.window_hours <= 0:
        raise UserError("--gap-hours and --window-hours must be > 0")
    if args.min_nok is not None and args.min_nok < 0:
        raise UserError(f"--min-nok must be 0 or more, got {args.min_nok:g}")
    as_of = args.as_of
    with runlock.hold_when(args.write, args.db):
        con = db.connect(args.db, read_only=not args.write, migrate=args.write)
        try:
            if args.write:
                step.build_episodes(
                    con,
                    as_of,
                    max_gap_hours=args.gap_hours,
                    window_hours=args.window_hours,
                )
            found = step.compute_episodes(
                con, as_of, max_gap_hours=args.gap_hours, window_hours=args.window_hours
            )
        finally:
            con.close()
    shown = step.filter_episodes(found, person=args.person, min_nok=args.min_nok)
    if args.limit is not None:
        shown = shown.head(args.limit)
    if args.json:
        print(json.dumps(step.episodes_json(shown), indent=2, ensure_ascii=False))
        return 0
    if shown.height == 0:
        print("no episodes match")
        return 0
    print(
        f"{'start':16}  {'hours':>6}  {'tx':>7}  {'total NOK':>10}  {'max 36h':>10}  "
        f"{'case':<14} person"
    )
    for r in shown.iter_rows(named=True):
        if r["person_source"] == "attributed":
            who = f"{r['person_id']} (hypothesis, p={r['attribution_p']:.2f})"
        elif r["person_source"] == "linked":
            who = f"{r['person_id']} (linked)"
        else:
            who = "-"
        print(
            f"{r['start_at']:%Y-%m-%d %H:%M}  {r['duration_h']:6.1f}  "
            f"{r['n_approved']:>3}/{r['n_declined']:<3}  {r['total_nok']:10,.0f}  "
            f"{r['max_36h_nok']:10,.0f}  {r['incident_id']:<14} {who}"
        )
    print(f"{shown.height} of {found.height} episodes")
    return 0

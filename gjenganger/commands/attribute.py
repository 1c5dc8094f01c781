"""`gjenganger attribute`: rank candidate persons for every open case (hypotheses)."""

from __future__ import annotations

import json
from pathlib import Path

from gjenganger import progress
from gjenganger.analytics.attribution_results import HYPOTHESIS, top_candidates
from gjenganger.arguments import add_as_of, check_as_of, positive
from gjenganger.errors import UserError
from gjenganger.flows.steps import attribution as step
from gjenganger.store import db, runlock


def register(sub) -> None:
    p = sub.add_parser(
        "attribute",
        help="rank top-list persons for every open case (hypotheses, with evidence)",
        description="For every open case (no current link) that occurred in the "
        "WINDOW-DAYS days up to AS-OF: the top-list persons and anyone with at least 5 "
        "linked cases, ranked by the calibrated probability that they did it, plus the "
        "probability that none of them did. Each candidate carries its evidence (why). "
        "Results are HYPOTHESES for an analyst: they are stored in "
        "attribution_candidates / attribution_cases / series / series_members with "
        "model_version and as_of, never as links; as-of dates more than KEEP-DAYS "
        "days before this one are deleted from them. Method: docs/linkage.md.",
    )
    p.add_argument("--db", type=Path, required=True, help="DuckDB database file")
    add_as_of(p)
    p.add_argument(
        "--window-days",
        type=int,
        default=365,
        help="attribute open cases that occurred in this many days (default 365)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--keep-days",
        type=int,
        default=step.HYPOTHESIS_DAYS,
        help="keep the hypotheses of as-of dates this many days back "
        f"(default {step.HYPOTHESIS_DAYS})",
    )
    p.add_argument(
        "--limit",
        type=positive,
        metavar="N",
        help="print only the N cases with the most probable candidate",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print a JSON array: one object per open case (incident_id, p_none, "
        "candidates: person_id, p, rank, why), best first, at most 5",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    if args.window_days < 1:
        raise UserError("--window-days must be at least 1")
    if args.keep_days < 0:
        raise UserError("--keep-days must be 0 or more")
    with runlock.hold(args.db):
        con = db.connect(args.db)
        try:
            as_of = check_as_of(con, args.as_of, args.window_days)
            progress.say("attribute", "reading cases, links and custody")
            result = step.compute_attribution(
                con,
                as_of,
                window_days=args.window_days,
                seed=args.seed,
                progress=progress.reporter("attribute"),
            )
            progress.say("attribute", "building series, writing hypothesis tables")
            summary = step.write_attribution(con, result, keep_days=args.keep_days)
        finally:
            con.close()
    progress.say("attribute", f"done: {summary['open_cases']:,} open cases ranked")
    records = top_candidates(result.model, k=step.MAX_CANDIDATES)
    records.sort(key=lambda r: -(r["candidates"][0]["p"] if r["candidates"] else 0.0))
    if args.limit is not None:
        records = records[: args.limit]
    if args.json:
        print(json.dumps(records, ensure_ascii=False))
        return 0
    print(
        f"Attribution as known on {summary['as_of']} ({summary['model_version']}): "
        f"{summary['open_cases']} open cases, {summary['attributed_p_ge_0_5']} with a "
        f"candidate at p >= 0.5; series: {summary['series_person']} per person, "
        f"{summary['series_linked']} linked without a person."
    )
    print(f"NB: {HYPOTHESIS}.")
    for r in records:
        print(f"\n{r['incident_id']}  p(none of them) = {r['p_none']:.2f}")
        for c in r["candidates"]:
            w = c.get("why", {})
            mod = ",".join(w.get("matching_modus") or []) or "-"
            print(
                f"  {c['rank']}. {c['person_id']:<18} p={c['p']:.2f}  "
                "nearest known case "
                f"{w.get('nearest_case_km')} km / {w.get('nearest_case_days')} days; "
                f"modus match: {mod}; "
                f"repeat target: {'yes' if w.get('repeat_target') else 'no'}; "
                f"known cases {w.get('known_cases')}"
            )
    return 0

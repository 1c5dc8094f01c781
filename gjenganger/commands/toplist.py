"""`gjenganger toplist`: persons ranked by their linked cases in a window."""

from __future__ import annotations

import json
from pathlib import Path

from gjenganger.arguments import add_as_of, check_as_of, positive
from gjenganger.flows.steps import toplist as step
from gjenganger.store import db
from gjenganger.store import phases as phase_store


def register(sub) -> None:
    p = sub.add_parser(
        "toplist",
        help="rank persons by their linked cases in a window (the top list)",
        description="Rank persons by their linked, not retracted cases that occurred "
        "in the WINDOW-DAYS days up to AS-OF, as known on AS-OF, weighted by severity "
        "and value (weights in docs/linkage.md). Per person: cases, estimated NOK, "
        "offence-group and sophistication-level mix, first and last case, trend "
        "against the previous window. Also the concentration figures: share of cases "
        "by the top 5 %% of persons, Gini and a Lorenz table.",
    )
    p.add_argument("--db", type=Path, required=True, help="DuckDB database file")
    add_as_of(p)
    p.add_argument(
        "--n", type=positive, default=20, help="persons to list (default 20)"
    )
    p.add_argument(
        "--window-days",
        type=positive,
        default=365,
        help="window length in days (default 365)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print a JSON array of objects (rank, person_id, cases, score, ...)",
    )
    p.set_defaults(func=run)


def _record(row: dict) -> dict:
    out = dict(row)
    for k in ("group_mix", "level_mix"):
        out[k] = json.loads(out[k]) if out.get(k) else {}
    for k in ("first_case_at", "last_case_at"):
        out[k] = out[k].isoformat() if out.get(k) is not None else None
    return out


def _current_phases(con) -> dict[str, dict]:
    """Each person's phase today from the phases step (`current_phase`), if run."""
    rows = phase_store.current_phases(con)
    keys = (
        "phase_now",
        "phase_p",
        "days_in_use_period",
        "expected_days_to_rest",
        "phase_low_confidence",
    )
    return {r[0]: dict(zip(keys, r[1:], strict=True)) for r in rows}


def _phase_text(r: dict) -> str:
    if not r.get("phase_now"):
        return ""
    flag = " (uncertain)" if r.get("phase_low_confidence") else ""
    return f"  phase {r['phase_now']} p={r['phase_p']:.2f}{flag}"


def run(args) -> int:
    con = db.connect(args.db, read_only=True)
    try:
        day, top, conc = step.compute_toplist(
            con,
            check_as_of(con, args.as_of, args.window_days),
            n=args.n,
            window_days=args.window_days,
        )
        phases = _current_phases(con)
    finally:
        con.close()
    records = [{**_record(r), **phases.get(r["person_id"], {})} for r in top.to_dicts()]
    if args.json:
        print(json.dumps(records, ensure_ascii=False, indent=1))
        return 0
    print(
        f"Top list as known on {day}, cases occurring in the {args.window_days} days "
        f"up to then (linked, not retracted; score = severity x value)"
    )
    head = (
        f"{'rank':>4}  {'person_id':<18} {'cases':>5} {'score':>8} {'est NOK':>12}  "
        f"{'first':<10} {'last':<10} {'prev':>4} trend  groups / levels"
    )
    print(head)
    for r in records:
        groups = ",".join(f"{k}:{v}" for k, v in r["group_mix"].items())
        levels = ",".join(f"L{k}:{v}" for k, v in r["level_mix"].items())
        print(
            f"{r['rank']:>4}  {r['person_id']:<18} {r['cases']:>5} {r['score']:>8.1f} "
            f"{r['est_value_nok']:>12,.0f}  {(r['first_case_at'] or '')[:10]:<10} "
            f"{(r['last_case_at'] or '')[:10]:<10} {r['prev_cases']:>4} "
            f"{r['trend']:<6} "
            f"{groups} / {levels}{_phase_text(r)}"
        )
    if conc["persons"]:
        print(
            f"\nConcentration: {conc['persons']} persons, "
            f"{conc['cases']} linked cases; "
            f"the top 5 % ({conc['top_persons']} persons) have "
            f"{conc['top_share_of_cases']:.0%} of the cases; Gini {conc['gini']:.2f}"
        )
        print("Lorenz curve (least active first): share of persons -> share of cases")
        for pt in conc["lorenz"][::2]:
            print(f"  {pt['share_persons']:>5.0%} -> {pt['share_cases']:>5.1%}")
    return 0

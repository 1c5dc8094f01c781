"""`gjenganger evaluate hotspots`: the command line of
`gjenganger.flows.evaluation.hotspots` (parse, evaluate, print)."""

from __future__ import annotations

import json
from pathlib import Path

from gjenganger.analytics import hotspots as hs
from gjenganger.arguments import iso_date
from gjenganger.errors import UserError
from gjenganger.flows.evaluation import hotspots as ev
from gjenganger.store import db


def register(kinds) -> None:
    p = kinds.add_parser(
        "hotspots",
        help="PAI and PEI at 1 %% and 5 %% of the area for each hotspot method",
        description="Rolling-origin evaluation of the hotspot forecasts (baseline = "
        "previous period's counts, KDE, Gi*, prospective) against the next horizon's "
        "incidents: prediction accuracy index (PAI) and predictive efficiency (PEI).",
    )
    p.add_argument("--db", type=Path, required=True, help="DuckDB database file")
    p.add_argument(
        "--as-of",
        dest="as_of",
        type=iso_date,
        metavar="DATE",
        required=True,
        help="the last forecast origin (end of DATE)",
    )
    p.add_argument("--horizon-days", type=int, default=28, help="forecast horizon")
    p.add_argument(
        "--dates", type=int, default=12, help="number of rolling as-of dates"
    )
    p.add_argument(
        "--step-days",
        type=int,
        default=None,
        help="days between as-of dates (default: the horizon)",
    )
    p.add_argument("--target-type", default=hs.ALL, metavar="T", help="target group")
    p.add_argument("--cell-m", type=float, default=250.0, help="grid cell size, metres")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    last = args.as_of
    try:
        hs.target_types(args.target_type)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    con = db.connect(args.db, read_only=True)
    try:
        report = ev.evaluate(
            con,
            last,
            horizon_days=args.horizon_days,
            n_dates=args.dates,
            step_days=args.step_days,
            target_group=args.target_type,
            params=hs.Params(cell_m=args.cell_m),
        )
    finally:
        con.close()
    if args.json:
        print(json.dumps(report, indent=1, default=float))
        return 0
    print(
        f"hotspot forecasts, horizon {report['horizon_days']} days, "
        f"{len(report['as_of_dates'])} as-of dates "
        f"{report['as_of_dates'][0]}..{report['as_of_dates'][-1]}, "
        f"{report['study_cells']} cells of {report['cell_size_m']:g} m"
    )
    print(f"{'method':<12} {'PAI 1%':>7} {'PEI 1%':>7} {'PAI 5%':>7} {'PEI 5%':>7}")
    for m, s in report["methods"].items():
        print(
            f"{m:<12} {s['pai_1']:7.2f} {s['pei_1']:7.2f} "
            f"{s['pai_5']:7.2f} {s['pei_5']:7.2f}"
        )
    if report["best_vs_baseline_pai_5"]:
        print(
            f"best: {report['best_method']} = {report['best_vs_baseline_pai_5']:.2f} x "
            "baseline PAI at 5 %"
        )
    return 0

"""`gjenganger evaluate phases`: the command line of
`gjenganger.flows.evaluation.phases` (parse, evaluate, print)."""

from __future__ import annotations

import json
from pathlib import Path

from gjenganger.arguments import add_as_of
from gjenganger.data_schema.contract import PHASES
from gjenganger.flows.evaluation import phases as evaluation
from gjenganger.flows.steps import phases as step
from gjenganger.store import db


def register(kinds) -> None:
    p = kinds.add_parser(
        "phases",
        help="per-day accuracy, macro-F1 and use-period boundary error of the phases",
        description="Compare inferred phases with truth/phases.csv for every top-list "
        "person: once on realistic evidence (linked + attributed cases), once with "
        "every true offence known (truth/offenders.csv), for the model and the "
        "gap-segmentation baseline.",
    )
    p.add_argument("--db", type=Path, required=True, help="DuckDB database file")
    p.add_argument(
        "--truth",
        type=Path,
        required=True,
        help="the generator's truth folder (phases.csv, offenders.csv)",
    )
    add_as_of(p)
    p.add_argument("--days", type=int, default=step.WINDOW_DAYS, help="window length")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def _fmt(x, spec=".3f") -> str:
    return "-" if x is None else format(x, spec)


def run(args) -> int:
    con = db.connect(args.db, read_only=True)
    try:
        report = evaluation.evaluate(con, args.truth, args.as_of, args.days)
    finally:
        con.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"Phase evaluation as of {report['as_of']}: {report['persons']} persons "
        f"({report['toplist_source']}), window {report['window']['start']} to "
        f"{report['window']['end']}"
    )
    print(
        f"{'evidence':<10} {'method':<9} {'accuracy':>8} {'macroF1':>8} "
        f"{'start MAE':>9} {'end MAE':>8} {'matched':>9}"
    )
    for ev in ("realistic", "all_known"):
        for m in ("model", "baseline"):
            s = report[ev][m]
            print(
                f"{ev:<10} {m:<9} {_fmt(s['accuracy']):>8} {_fmt(s['macro_f1']):>8} "
                f"{_fmt(s['start_mae_days'], '.2f'):>9} "
                f"{_fmt(s['end_mae_days'], '.2f'):>8} "
                f"{s['matched']:>4}/{s['true_use_periods']:<4}"
            )
    print(
        f"realistic accuracy, model / baseline: "
        f"{_fmt(report['realistic_accuracy_vs_baseline'], '.2f')}"
    )
    for ev in ("realistic", "all_known"):
        cal = report[ev]["model"]["calibration"]
        print(
            f"calibration ({ev}, model): expected calibration error "
            f"{cal['ece']:.3f}; p bin: days, mean p, accuracy"
        )
        for b in cal["bins"]:
            print(
                f"  [{b['lo']:.2f}, {b['hi']:.2f}] {b['days']:>7} {b['mean_p']:.3f} "
                f"{b['accuracy']:.3f}"
            )
    for ev in ("realistic", "all_known"):
        conf = report[ev]["model"]["confusion"]["rows_truth_cols_inferred"]
        print(f"confusion ({ev}, model; rows truth, cols inferred: {' '.join(PHASES)})")
        for name, row in zip(PHASES, conf, strict=True):
            print(f"  {name:<9} " + " ".join(f"{v:>7}" for v in row))
    return 0

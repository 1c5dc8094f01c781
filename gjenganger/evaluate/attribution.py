"""`gjenganger evaluate attribution`: the command line of
`gjenganger.flows.evaluation.attribution` (parse, evaluate, print)."""

from __future__ import annotations

import json
from pathlib import Path

from gjenganger.arguments import add_as_of
from gjenganger.flows.evaluation import attribution as ev
from gjenganger.store import db


def register(kinds) -> None:
    p = kinds.add_parser(
        "attribution",
        help="hit@1/5, precision/recall at p>=0.5, Brier and pairwise AUC vs baselines",
        description="Score attribution of open cases against truth/offenders.csv, for "
        "the linkage model and two baselines in the same run (nearest known case by "
        "distance; Porter's naive Bayes): hit@1 and hit@5 for open cases truly done by "
        "a candidate, precision and recall of attributions with p >= 0.5, Brier score, "
        "and pairwise AUC on solved cases held out by time. Reads only.",
    )
    p.add_argument("--db", type=Path, required=True, help="DuckDB database file")
    p.add_argument(
        "--truth",
        type=Path,
        required=True,
        help="the generator's truth folder (offenders.csv)",
    )
    add_as_of(p)
    p.add_argument("--window-days", type=int, default=365, help="window (default 365)")
    p.add_argument(
        "--holdout-days",
        type=int,
        default=120,
        help="pairwise AUC: solved cases of the last N days are held out (default 120)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--ceiling",
        action="store_true",
        help="also the oracle ceiling: a ranker trained on the open cases' own truth "
        "(cross-validated by case) on the same evidence, and the share of the gap "
        "from the better baseline to it that the model closes",
    )
    p.add_argument(
        "--backtest",
        action="store_true",
        help="also the nightly back-test in memory (open cases as of -90 and -180 "
        "days against the links made since): p recalibrated on it as the nightly "
        "does, and its estimate of the figures beside the truth (slower)",
    )
    p.add_argument(
        "--no-pairwise",
        action="store_true",
        help="skip the pairwise hold-out AUC (faster)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def format_report(rep: dict) -> str:
    """The report as a Markdown table (methods as columns)."""
    names = list(rep["methods"])
    m0 = rep["methods"][names[0]]
    lines = [
        f"Attribution as of {rep['as_of']} ({rep['model_version']}); "
        f"{m0['open_cases']} open cases, "
        f"{m0['open_cases_by_candidate']} truly by one of "
        f"{rep['eligible_persons']} eligible persons; pairwise test: "
        f"{rep['pairwise'].get('test_pairs')} pairs, "
        f"{rep['pairwise'].get('linked_pairs')} linked.",
        "",
        *ev.metric_table(rep["methods"]),
        "",
        "Reliability of the model's probabilities (candidates and none):",
        "",
        *ev.reliability_table(rep["methods"]["model"]["reliability"]),
        "",
        *ev.targets_lines(rep["targets"]),
    ]
    return "\n".join(lines)


def run(args) -> int:
    truth = ev.read_truth(args.truth)
    con = db.connect(args.db, read_only=True)
    try:
        rep = ev.evaluate(
            con,
            truth,
            args.as_of,
            window_days=args.window_days,
            holdout_days=args.holdout_days,
            seed=args.seed,
            pairwise=not args.no_pairwise,
            ceiling=args.ceiling,
            backtest=args.backtest,
        )
    finally:
        con.close()
    if args.json:
        print(json.dumps(rep, indent=1, default=str))
    else:
        print(format_report(rep))
    return 0

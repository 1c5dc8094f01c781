"""The nightly back-test's estimate beside the truth, on every world of the sweep.

The back-test (analyst page "Hvor godt traff attribusjonen?") can only score the
open cases of a past date against the links made since: later-solved cases,
weighted by 1/P(solved). On a generated world every case's truth is known, so
`flows.evaluation.backtest.backtest_vs_truth` scores the same past dates three
ways: the estimate (as the nightly), the same unweighted, and the truth (every
case open then). This script runs it on each world folder that
`benchmarks/worlds.py` prepared (WORK/<world>/db.duckdb and truth/), pooled over
the two horizons (90 and 180 days, snapped to the first of the month), prints
one row per world, largest error of hit@1 first, and writes the
`backtest-worlds` section of benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/backtest_worlds.py --work /tmp/W/sweep365
        [--worlds a,b] [--no-write] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from pathlib import Path

import duckdb  # noqa: F401  (the store's engine; imported for a clear error early)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_md import write_section  # noqa: E402

from gjenganger.flows.evaluation.attribution import read_truth  # noqa: E402
from gjenganger.flows.evaluation.backtest import backtest_vs_truth  # noqa: E402
from gjenganger.store import db  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ("hit_at_1", "hit_at_5", "precision_p_ge_0_5", "worst_band_gap")


def measure(folder: Path) -> dict:
    """The pooled comparison of one prepared world folder (and its run time)."""
    con = db.connect(folder / "db.duckdb", read_only=True)
    try:
        t0 = time.perf_counter()
        report = backtest_vs_truth(con, read_truth(folder / "truth"))
    finally:
        con.close()
    report["seconds"] = round(time.perf_counter() - t0, 1)
    return report


def _f(v, sign: str = "") -> str:
    return "-" if v is None else f"{v:{sign}.3f}"


def row(world: str, report: dict) -> tuple[float, str]:
    """(sort key: |estimate - truth| of hit@1, the Markdown row) of one world."""
    pooled = report.get("pooled")
    if not pooled:
        return (0.0, f"| {world} | no back-test date inside the data |" + " |" * 9)
    est, plain = pooled["estimate"], pooled["estimate_unweighted"]
    truth = pooled["truth"]
    diff = pooled["difference"]
    se = est.get("se", {})
    cells = []
    for fig in FIGURES:
        e = _f(est.get(fig))
        if se.get(fig):
            e += f" ± {se[fig]:.3f}"
        cells.append(f"{e} / {_f(plain.get(fig))} / {_f(truth.get(fig))}")
    key = abs(diff.get("hit_at_1") or 0.0)
    return key, (
        f"| {world} | {est.get('cases_confirmed')} ({est.get('cases_effective', '-')})"
        f" | {truth.get('cases_confirmed')} | "
        + " | ".join(cells)
        + f" | {_f(diff.get('hit_at_1'), '+')} | {report['seconds']} |"
    )


def table(reports: dict[str, dict], command: str) -> str:
    """The RESULTS section: one row per world, largest hit@1 error first."""
    rows = sorted((row(w, r) for w, r in reports.items()), reverse=True)
    head = [
        "## Back-test estimate against the truth, per world (issue 14, item 2)",
        "",
        f"`{command}`, {dt.date.today().isoformat()}, {platform.machine()}, "
        f"Python {platform.python_version()}. Each world as prepared by "
        "`benchmarks/worlds.py` (generated, ingested, as of its last day). The "
        "open cases of the two back-test dates (as-of minus 90 and 180 days, first "
        "of the month) are scored with the data known then, then checked three "
        "ways, pooled over both dates: **estimate** = what the nightly back-test "
        "reports (cases solved since, weighted by 1/P(solved) of offence group x "
        "age x municipality; ± its standard error from the effective number of "
        "cases), **unweighted** = the same without weights, **truth** = every "
        "case open on the date, with its generator truth. Cells: estimate / "
        "unweighted / truth. Worst band gap: bands of p of width 0.1 from 0.2 up "
        "with at least 30 hypotheses. Largest hit@1 error first.",
        "",
        "| world | confirmed (effective) | truth cases | hit@1 | hit@5 | "
        "precision p>=0.5 | worst band gap | hit@1 est - truth | s |",
        "| --- | ---: | ---: | --- | --- | --- | --- | ---: | ---: |",
    ]
    return "\n".join(head + [r for _, r in rows]) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--worlds", default="", help="comma-separated (default: all)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    wanted = [w for w in args.worlds.split(",") if w]
    folders = sorted(
        f.parent for f in args.work.glob("*/db.duckdb") if (f.parent / "truth").is_dir()
    )
    reports = {}
    for folder in folders:
        if wanted and folder.name not in wanted:
            continue
        print(f"[backtest-worlds] {folder.name} ...", file=sys.stderr, flush=True)
        reports[folder.name] = measure(folder)
    if not reports:
        print(f"backtest_worlds: no prepared world under {args.work}", file=sys.stderr)
        return 2
    command = "python benchmarks/backtest_worlds.py --work " + str(args.work)
    text = table(reports, command)
    print(json.dumps(reports, indent=1, default=str) if args.json else text)
    if not args.no_write:
        write_section(args.out, "backtest-worlds", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Phase model against the generator's truth, on two seeds, with timings.

For each seed: generate two years (`gjenganger generate --seed S --start 2024-11-27
--days 730`), ingest, build the top list and the attribution (window = the whole two
years, so every open case can carry evidence), then `gjenganger evaluate phases`:
per-day accuracy, macro-F1 and use-period boundary error on realistic evidence
(linked + attributed cases) and with every true offence known, for the model and the
gap-segmentation baseline. Timings: phases for every top-list person (the demo run,
target < 30 s) and a fit over 1,000 persons.

Targets (issue 4): all-known accuracy >= 0.85; realistic accuracy >= 0.65 and >= 1.3 x
the baseline's; all-known boundary MAE <= 3 days.

    .venv/bin/python benchmarks/phases.py [--seeds 42 7] [--keep] [--record] [--json]
    .venv/bin/python benchmarks/phases.py --worlds [NAME ...] [--work DIR] [--record]

`--record` rewrites the `phases` section of benchmarks/RESULTS.md (with `--worlds`:
the `phase_worlds` section: issue 15's targets per named world, before and after
the evidence coverage, the back-test, worst world first). With `--worlds`, each
world's figures are saved as WORK/NAME/phase_figures.json; the table is written from
every world saved under WORK (runs made one world at a time add up, each named with
its command and commit; the worlds not measured are listed). `--saved` writes the
table without measuring. The sweep's code: benchmarks/phase_worlds.py.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gjenganger.flows.evaluation import phases as ev  # noqa: E402
from gjenganger.flows.steps import phases as step  # noqa: E402
from gjenganger.flows.steps.ingest import ingest  # noqa: E402
from gjenganger.store import db  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
import phase_worlds  # noqa: E402

START, DAYS = "2024-11-27", 730
TARGETS = {
    "all_known_accuracy": 0.85,
    "realistic_accuracy": 0.65,
    "realistic_vs_baseline": 1.3,
    "all_known_boundary_mae": 3.0,
}


def _log(msg: str) -> None:
    print(f"[phases-bench] {msg}", file=sys.stderr, flush=True)


def prepare(seed: int, work: Path, keep: bool, days: int) -> tuple[Path, Path, dict]:
    """Generated data, ingested, with top list and attribution; (db, truth, seconds)."""
    data, db_path = work / f"seed{seed}", work / f"seed{seed}.duckdb"
    secs: dict[str, float] = {}
    if keep and db_path.exists() and (data / "truth").exists():
        return db_path, data / "truth", secs
    shutil.rmtree(data, ignore_errors=True)
    db_path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "gjenganger",
            "generate",
            "--out",
            str(data),
            "--seed",
            str(seed),
            "--start",
            START,
            "--days",
            str(days),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    secs["generate"] = time.perf_counter() - t0
    con = db.connect(db_path)
    try:
        t0 = time.perf_counter()
        ingest(con, data / "inbox")
        secs["ingest"] = time.perf_counter() - t0
        from gjenganger.flows.steps.attribution import build_attribution
        from gjenganger.flows.steps.toplist import build_toplist

        t0 = time.perf_counter()
        build_toplist(con)
        secs["toplist"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        build_attribution(con, window_days=days)
        secs["attribution"] = time.perf_counter() - t0
    finally:
        con.close()
    return db_path, data / "truth", secs


def timings(db_path: Path) -> dict:
    """Seconds for the demo run (top list, written) and a 1,000-person fit."""
    con = db.connect(db_path)
    try:
        t0 = time.perf_counter()
        run = step.run_phases(con)
        step.write_run(con, run)
        demo = time.perf_counter() - t0
        t0 = time.perf_counter()
        big = step.run_phases(con, pool=1000)
        thousand = time.perf_counter() - t0
        return {
            "demo_toplist_s": round(demo, 1),
            "demo_persons": len(run.persons),
            "demo_fitted": len(run.fit.persons),
            "pool_1000_s": round(thousand, 1),
            "pool_1000_persons": len(big.fit.persons),
        }
    finally:
        con.close()


def _row(seed: int, evidence: str, method: str, s: dict) -> str:
    f = ev._fmt
    ece = f(s["calibration"]["ece"]) if "calibration" in s else "-"
    return (
        f"| {seed} | {evidence} | {method} | {f(s['accuracy'])} | {f(s['macro_f1'])} | "
        f"{f(s['start_mae_days'], '.2f')} | {f(s['end_mae_days'], '.2f')} | "
        f"{f(s['boundary_mae_days'], '.2f')} | "
        f"{s['matched']}/{s['true_use_periods']} | "
        f"{ece} |"
    )


def markdown(results: list[dict]) -> str:
    """The RESULTS.md section."""
    lines = [
        "## Phases (`benchmarks/phases.py`)",
        "",
        f"Generated data (`gjenganger generate --start {START} --days {DAYS}`), "
        "ingested; top list (`build_toplist`) and attribution over the whole two "
        "years; evaluated over the top-list persons that cycle (plus/mixed users: the "
        "generator writes phases for them only) on every day of the window. Realistic "
        "= linked + attributed cases; all known = every true offence "
        "(`truth/offenders.csv`). Boundary MAE = mean absolute error of use-period "
        "start and end, days, over true use periods inside the window matched to the "
        "inferred period overlapping most. ECE = expected calibration error of the "
        "stated per-day probability p (0 = honest).",
        "",
        "| seed | evidence | method | accuracy | macro-F1 | start MAE | end MAE | "
        "boundary MAE | matched | ECE |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        rep = r["report"]
        for evidence in ("all_known", "realistic"):
            for method in ("model", "baseline"):
                lines.append(
                    _row(
                        r["seed"],
                        evidence.replace("_", " "),
                        method,
                        rep[evidence][method],
                    )
                )
    lines += [
        "",
        "| seed | persons | realistic model / baseline | all-known acc >= 0.85 | "
        "realistic acc >= 0.65 | ratio >= 1.3 | all-known MAE <= 3 | demo run s | "
        "1,000 persons s |",
        "| ---: | ---: | ---: | --- | --- | --- | --- | ---: | ---: |",
    ]
    for r in results:
        rep, chk, t = r["report"], r["checks"], r["timings"]
        yn = {True: "yes", False: "**no**"}
        lines.append(
            f"| {r['seed']} | {rep['persons']} | "
            f"{rep['realistic_accuracy_vs_baseline']:.2f} | "
            f"{yn[chk['all_known_accuracy']]} | {yn[chk['realistic_accuracy']]} | "
            f"{yn[chk['realistic_vs_baseline']]} | "
            f"{yn[chk['all_known_boundary_mae']]} | "
            f"{t['demo_toplist_s']} ({t['demo_persons']} persons, "
            f"{t['demo_fitted']} fitted) | "
            f"{t['pool_1000_s']} |"
        )
    lines += [
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}; "
        "2 shared CPUs.",
    ]
    return "\n".join(lines)


def checks(rep: dict) -> dict:
    known, real = rep["all_known"]["model"], rep["realistic"]["model"]
    return {
        "all_known_accuracy": known["accuracy"] >= TARGETS["all_known_accuracy"],
        "realistic_accuracy": real["accuracy"] >= TARGETS["realistic_accuracy"],
        "realistic_vs_baseline": rep["realistic_accuracy_vs_baseline"]
        >= TARGETS["realistic_vs_baseline"],
        "all_known_boundary_mae": known["boundary_mae_days"] is not None
        and known["boundary_mae_days"] <= TARGETS["all_known_boundary_mae"],
    }


def record(section: str) -> None:
    path = ROOT / "benchmarks" / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    block = f"<!-- phases:start -->\n{section}\n<!-- phases:end -->"
    if "<!-- phases:start -->" in text:
        text = re.sub(
            r"<!-- phases:start -->.*?<!-- phases:end -->",
            lambda _: block,
            text,
            flags=re.S,
        )
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--worlds",
        nargs="*",
        help="named worlds to sweep instead of seeds "
        f"(none: {phase_worlds.WORLDS_DEFAULT})",
    )
    ap.add_argument("--seed", type=int, default=42, help="seed of the worlds")
    ap.add_argument("--seeds", type=int, nargs="+", default=[42, 7])
    ap.add_argument("--days", type=int, default=DAYS)
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out" / "phases")
    ap.add_argument(
        "--keep", action="store_true", help="reuse generated data if present"
    )
    ap.add_argument("--record", action="store_true", help="write benchmarks/RESULTS.md")
    ap.add_argument(
        "--saved",
        action="store_true",
        help="with --worlds: measure nothing, tabulate every world saved under --work",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.worlds is not None:
        args.worlds = args.worlds or phase_worlds.WORLDS_DEFAULT
        return phase_worlds.run_worlds(args)
    results = []
    for seed in args.seeds:
        _log(f"seed {seed}: preparing data")
        db_path, truth, secs = prepare(seed, args.work, args.keep, args.days)
        _log(f"seed {seed}: evaluating")
        con = db.connect(db_path, read_only=True)
        try:
            rep = ev.evaluate(con, truth, days=args.days)
        finally:
            con.close()
        _log(f"seed {seed}: timing")
        t = timings(db_path)
        results.append(
            {
                "seed": seed,
                "report": rep,
                "checks": checks(rep),
                "timings": t,
                "prepare_s": {k: round(v, 1) for k, v in secs.items()},
            }
        )
    section = markdown(results)
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        print(section)
    if args.record:
        record(section)
    ok = all(all(r["checks"].values()) for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Attribution benchmark: accuracy vs. the two baselines, time and peak memory.

For each data set (default: the demo scale, two years, as of its last day):

1. `gjenganger generate` + `gjenganger ingest` into WORK/<name>/ (reused if there);
2. `gjenganger attribute` timed, with the child's peak RSS (what the nightly step
   costs: training + attribution of every open case + series + writes);
3. `gjenganger evaluate attribution --json`: the model and both baselines.

Data sets: seed 42, seed 7, and seed 42 with `--catch-rate-factor 0.5`; with
`--scale10` also seed 42 at `--scale 10` (time and memory; evaluation too unless
`--no-eval-10x`). Prints a Markdown report and writes it to benchmarks/RESULTS.md.

    python benchmarks/attribution.py [--work DIR] [--scale10] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "gjenganger"
START, DAYS = "2024-11-27", 730
TARGETS = {
    "pairwise_auc": 0.95,
    "hit_at_1": 0.6,
    "hit_at_5": 0.85,
    "precision_p_ge_0_5": 0.8,
}
SETS = {
    "seed42": {"seed": 42, "factor": 1.0, "scale": 1},
    "seed7": {"seed": 7, "factor": 1.0, "scale": 1},
    "seed42_catch0.5": {"seed": 42, "factor": 0.5, "scale": 1},
}


def run_measured(cmd: list[str], log: Path) -> tuple[float, float, str]:
    """Like `run`, with the child's own peak RSS from os.wait4."""
    t0 = time.perf_counter()
    with open(log, "w") as err, open(log.with_suffix(".out"), "w") as out_f:
        proc = subprocess.Popen(cmd, stdout=out_f, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}; see {log}")
    return wall, usage.ru_maxrss / 1024.0, log.with_suffix(".out").read_text()


def prepare(work: Path, name: str, spec: dict) -> tuple[Path, Path]:
    folder = work / name
    dbp = folder / "db.duckdb"
    if not (folder / "truth" / "offenders.csv").exists():
        subprocess.run(
            [
                str(BIN),
                "generate",
                "--out",
                str(folder),
                "--seed",
                str(spec["seed"]),
                "--start",
                START,
                "--days",
                str(DAYS),
                "--scale",
                str(spec["scale"]),
                "--catch-rate-factor",
                str(spec["factor"]),
                "--force",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        if dbp.exists():
            dbp.unlink()
    if not dbp.exists():
        subprocess.run(
            [str(BIN), "ingest", str(folder / "inbox"), "--db", str(dbp)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return dbp, folder / "truth"


def bench(work: Path, name: str, spec: dict, evaluate: bool = True) -> dict:
    dbp, truth = prepare(work, name, spec)
    print(f"[{name}] attribute ...", file=sys.stderr, flush=True)
    wall, rss, out = run_measured(
        [str(BIN), "attribute", "--db", str(dbp), "--json"],
        work / f"{name}.attribute.log",
    )
    res: dict = {
        "name": name,
        **spec,
        "attribute_s": round(wall, 1),
        "attribute_peak_mib": round(rss),
        "open_cases": len(json.loads(out)),
    }
    if evaluate:
        print(f"[{name}] evaluate ...", file=sys.stderr, flush=True)
        ewall, erss, eout = run_measured(
            [
                str(BIN),
                "evaluate",
                "attribution",
                "--db",
                str(dbp),
                "--truth",
                str(truth),
                "--json",
            ],
            work / f"{name}.evaluate.log",
        )
        res["evaluation"] = json.loads(eout)
        res["evaluate_s"] = round(ewall, 1)
        res["evaluate_peak_mib"] = round(erss)
    return res


def fmt(v, target=None) -> str:
    if v is None:
        return "-"
    s = f"{v:.3f}" if isinstance(v, float) else str(v)
    if target is not None and isinstance(v, float):
        s += " ✓" if v >= target else " ✗"
    return s


def report(results: list[dict]) -> str:
    lines = [
        f"# Attribution benchmark ({date.today().isoformat()})",
        "",
        f"Two years of generated data ({START} + {DAYS} days), as of the last day; "
        "`gjenganger evaluate attribution` (model = `analytics.attribution`, "
        "baselines on the same candidates in the same run). ✓/✗: the acceptance "
        "target (" + ", ".join(f"{k} >= {v}" for k, v in TARGETS.items()) + ").",
        "",
    ]
    for r in results:
        ev = r.get("evaluation")
        lines += [
            f"## {r['name']} (seed {r['seed']}, catch-rate factor {r['factor']}, "
            f"scale {r['scale']})",
            "",
            f"`gjenganger attribute` (train + attribute {r['open_cases']} open cases + "
            f"series + write): **{r['attribute_s']} s**, peak RSS "
            f"**{r['attribute_peak_mib']} MiB**.",
            "",
        ]
        if not ev:
            continue
        m = ev["methods"]
        names = list(m)
        lines += [
            f"Open cases {m['model']['open_cases']}, truly by an eligible person "
            f"{m['model']['open_cases_by_candidate']} "
            f"({ev['eligible_persons']} eligible "
            f"persons); pairwise test {ev['pairwise'].get('test_pairs')} pairs "
            f"({ev['pairwise'].get('linked_pairs')} linked). Evaluation run "
            f"{r['evaluate_s']} s.",
            "",
            "| metric | " + " | ".join(names) + " |",
            "| --- |" + " --- |" * len(names),
        ]
        for key in (
            "pairwise_auc",
            "hit_at_1",
            "hit_at_5",
            "precision_p_ge_0_5",
            "recall_p_ge_0_5",
            "brier",
            "tpr_at_5pct_fpr",
            "attributions_p_ge_0_5",
        ):
            cells = [
                fmt(m[n].get(key), TARGETS.get(key) if n == "model" else None)
                for n in names
            ]
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "Reliability (model, candidates + none):",
            "",
            "| p | n | mean p | observed |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {b['bin']} | {b['n']} | {b['mean_p']:.3f} | {b['observed']:.3f} |"
            for b in m["model"]["reliability"]
        ]
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/gjenganger-bench"))
    ap.add_argument("--only", choices=list(SETS) + ["scale10"], action="append")
    ap.add_argument("--scale10", action="store_true", help="also seed 42 at --scale 10")
    ap.add_argument("--no-eval-10x", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    sets = dict(SETS)
    if args.scale10 or (args.only and "scale10" in args.only):
        sets["scale10"] = {"seed": 42, "factor": 1.0, "scale": 10}
    results = []
    for name, spec in sets.items():
        if args.only and name not in args.only:
            continue
        results.append(
            bench(
                args.work,
                name,
                spec,
                evaluate=not (name == "scale10" and args.no_eval_10x),
            )
        )
        (args.work / "results.json").write_text(
            json.dumps(results, indent=1, default=str)
        )
    text = report(results)
    print(text)
    args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

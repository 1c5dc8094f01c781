"""The sweep of worlds as a benchmark: attribution on every preset, worst world first.

For every named world (`gjenganger.synth.presets.names()`, or `--worlds a,b`):

1. `gjenganger generate --world NAME` + `gjenganger ingest` into WORK/NAME/ (reused
   when the folder was made with the same --days, --scale, --seed and --start);
2. `gjenganger evaluate attribution --ceiling --no-pairwise --json` (timed, peak
   RSS): the model and both simple baselines on the same candidates, the oracle
   ceiling (a ranker trained on the open cases' own truth, cross-validated by
   case, on the model's evidence rows) and issue 14's calibration targets.

Writes one Markdown table between the `worlds` markers of benchmarks/RESULTS.md
(worst world first: most failed targets, then lowest hit@1), keeps every world's
report in WORK/results.json (a run of some worlds keeps the others) and, with
`--json`, prints the table's rows as JSON instead of Markdown.

    python benchmarks/worlds.py [--worlds a,b] [--days 730] [--scale 1] [--seed 42]
        [--work DIR] [--json] [--report-only]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attribution import run_measured  # noqa: E402
from results_md import write_section  # noqa: E402

from gjenganger.analytics.attribution_targets import GAP_TARGET  # noqa: E402
from gjenganger.synth import presets  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "gjenganger"
START = "2024-12-07"


def _params(args) -> dict:
    out = {
        "days": args.days,
        "scale": args.scale,
        "seed": args.seed,
        "start": args.start,
    }
    return out | ({"backtest": True} if args.backtest else {})


def prepare(work: Path, name: str, params: dict) -> tuple[Path, Path]:
    """WORK/NAME/ generated and ingested with `params` (reused when it was)."""
    folder = work / name
    stamp = folder / "params.json"
    dbp = folder / "db.duckdb"
    same = stamp.exists() and json.loads(stamp.read_text()) == params
    if not same or not (folder / "truth" / "offenders.csv").exists():
        subprocess.run(
            [
                str(BIN),
                "generate",
                "--world",
                name,
                "--out",
                str(folder),
                "--seed",
                str(params["seed"]),
                "--start",
                params["start"],
                "--days",
                str(params["days"]),
                "--scale",
                str(params["scale"]),
                "--force",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for f in folder.glob("db.duckdb*"):
            f.unlink()
        stamp.write_text(json.dumps(params))
    if not dbp.exists():
        subprocess.run(
            [str(BIN), "ingest", str(folder / "inbox"), "--db", str(dbp)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return dbp, folder / "truth"


def bench(work: Path, name: str, params: dict) -> dict:
    """Generate, ingest and evaluate one world; its report with timings."""
    dbp, truth = prepare(
        work, name, {k: v for k, v in params.items() if k != "backtest"}
    )
    print(f"[{name}] evaluate ...", file=sys.stderr, flush=True)
    wall, rss, out, cpu = run_measured(
        [
            str(BIN),
            "evaluate",
            "attribution",
            "--db",
            str(dbp),
            "--truth",
            str(truth),
            "--ceiling",
            "--no-pairwise",
            "--json",
            *(["--backtest"] if params.get("backtest") else []),
        ],
        work / f"{name}.evaluate.log",
    )
    return {
        "world": name,
        "params": params,
        "evaluation": json.loads(out),
        "evaluate_s": round(wall, 1),
        "evaluate_cpu_s": round(cpu, 1),
        "evaluate_peak_mib": round(rss),
    }


# ------------------------------------------------------------------ the table
def _f(v, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    return f"{v:.{digits}f}"


def _floor3(v):
    """Three decimals rounded down, so a gap just under the target never shows
    as the target itself."""
    if v is None or v != v:
        return v
    return math.floor(v * 1000 + 1e-9) / 1000


def _backtest_cell(est: dict | None) -> str:
    """The back-test's own estimate (p as recalibrated, cross-fitted): hit@1 /
    precision at p >= 0.5 / Brier skill, to set beside the truth's columns."""
    if not est:
        return "-"
    return (
        f"{_f(est.get('hit_at_1'))} / {_f(est.get('precision_p_ge_0_5'))} / "
        f"{_f(est.get('brier_skill_rank1'))} ({est.get('cases_confirmed', 0)})"
    )


def _mark(ok) -> str:
    return "" if ok is None else (" ✓" if ok else " ✗")


def _gap_ok(gap) -> bool | None:
    """The gap target (half the way to the ceiling; exactly half passes)."""
    return None if gap is None or gap != gap else gap >= GAP_TARGET - 1e-9


def row(result: dict) -> dict:
    """The table's figures for one world (numbers and pass/fail flags)."""
    ev = result["evaluation"]
    t = ev["targets"]
    rk = t.get("ranking", {})
    r1, r5 = rk.get("hit_at_1", {}), rk.get("hit_at_5", {})
    flags = {
        "gap_1": _gap_ok(r1.get("gap_closed")),
        "gap_5": _gap_ok(r5.get("gap_closed")),
        "bands": t["bands_ok"],
        "precision": t["precision_ok"],
        "brier_skill": t["brier_skill_ok"],
    }
    return {
        "world": result["world"],
        "open_cases_by_candidate": rk.get("open_cases_by_candidate"),
        "ceiling_folds": rk.get("ceiling_folds", 5),
        "eligible_persons": ev["eligible_persons"],
        "hit_at_1": {k: r1.get(k) for k in ("ours", "baseline", "ceiling")},
        "hit_at_5": {k: r5.get(k) for k in ("ours", "baseline", "ceiling")},
        "gap_closed_1": r1.get("gap_closed"),
        "gap_closed_5": r5.get("gap_closed"),
        "worst_band": t["worst_band"],
        "worst_band_gap": t["worst_band_gap"],
        "precision_p_ge_0_5": t["precision_p_ge_0_5"],
        "n_p_ge_0_5": t["n_p_ge_0_5"],
        "brier_skill": t["brier_skill"],
        "ece": t["ece"],
        "backtest_estimate": (ev.get("backtest") or {}).get("estimate"),
        "flags": flags,
        "failed": sum(1 for v in flags.values() if v is False),
        "evaluate_s": result.get("evaluate_s"),
        "model_version": ev["model_version"],
    }


def worst_first(rows: list[dict]) -> list[dict]:
    """Most failed targets first, then lowest hit@1 of the model."""
    return sorted(
        rows, key=lambda r: (-r["failed"], r["hit_at_1"]["ours"] or 0.0, r["world"])
    )


def phase_hotspot_cells(saved_dir: Path | None) -> dict[str, tuple[str, str]]:
    """{world: (phases cell, hotspots cell)}: targets failed per world, from the
    figures `benchmarks/phases.py --worlds` and `benchmarks/hotspot_worlds.py`
    saved under `saved_dir` (their own sections of RESULTS.md hold the figures)."""
    if saved_dir is None:
        return {}
    from hotspot_worlds import failures
    from saved_figures import load

    cells: dict[str, list[str]] = {}
    for world, saved in load(saved_dir, "phase_figures").items():
        passed = saved["figures"]["after"]["pass"]
        bad = sum(not v for v in passed.values())
        cells.setdefault(world, ["-", "-"])[0] = f"{bad} of {len(passed)} failed"
    for world, saved in load(saved_dir, "hotspot_figures").items():
        groups = saved["figures"]["groups"].values()
        bad = sum(failures(g) for g in groups)
        cells.setdefault(world, ["-", "-"])[1] = f"{bad} of {2 * len(groups)} failed"
    return {w: (c[0], c[1]) for w, c in cells.items()}


def markdown(
    rows: list[dict],
    params: dict,
    command: str,
    missing: list[str] = (),
    saved_dir: Path | None = None,
) -> str:
    """The worlds section of RESULTS.md (`missing`: worlds not measured yet; the
    phase and hotspot columns from the figures saved under `saved_dir`)."""
    other = phase_hotspot_cells(saved_dir)
    n_fail = sum(1 for r in rows if r["failed"])
    version = rows[0]["model_version"] if rows else "-"
    folds = "/".join(str(f) for f in sorted({r["ceiling_folds"] for r in rows}))
    lines = [
        f"## Attribution on the sweep of worlds (`benchmarks/worlds.py`, "
        f"{date.today().isoformat()})",
        "",
        f"Machine: {platform.node()}, {os.cpu_count()} cores, "
        f"{platform.machine()}, Python {platform.python_version()}, shared with "
        f"other jobs. Command: `{command}`. Every preset world generated with "
        f"seed {params['seed']}, {params['start']} + {params['days']} days, "
        f"scale {params['scale']}; `gjenganger evaluate attribution --ceiling "
        f"--no-pairwise{' --backtest' if params.get('backtest') else ''}` as of "
        f"the last day ({version}). "
        + (
            "p as the nightly prints it: recalibrated on the back-test (open cases "
            "as of -90 and -180 days, checked against the links made since)."
            if params.get("backtest")
            else "p is the model's raw p: no back-test recalibration (a first "
            "night; the nightly recalibrates p on its back-test: `--backtest`)."
        ),
        "",
        "hit@1 / hit@5 over open cases truly done by an eligible person, ranked over "
        "the same eligible persons: ours / the better simple baseline (nearest known "
        "case or Porter's naive Bayes, per figure) / the oracle ceiling (the stage-1 "
        "ranker with trees bounded by leaves only, `ceiling_classifier`, trained on "
        f"the open cases' own truth, {folds}-fold GroupKFold by case, on the model's "
        "features of its evidence rows). Gap closed = (ours - baseline) / (ceiling - "
        "baseline), target >= 0.5. Worst band: of the p bands of width 0.1 from 0.2 "
        "with >= 30 hypotheses, the largest |share confirmed - mean p| (target <= "
        "0.10). Precision of hypotheses with p >= 0.5 (target >= 0.5; count). Brier "
        "skill of the rank-1 p against the best constant (target > 0). ECE over all "
        "hypotheses (10 bands). ✓/✗ pass/fail. Back-test est.: with `--backtest`, "
        "the back-test's own estimate of hit@1 / precision at p >= 0.5 / rank-1 "
        "Brier skill (cross-fitted recalibrated p; confirmed cases), beside the "
        "truth in the other columns. Phases and hotspots: targets failed per world "
        + (
            f"on the 730-day worlds saved under `{saved_dir}` (figures in their "
            "own sections below: `phase_worlds`, `hotspot-worlds`)."
            if saved_dir
            else "not given (`--saved-worlds DIR`)."
        ),
        "",
        f"Worlds failing at least one target: **{n_fail} of {len(rows)}** (worst "
        "first: most failed targets, then lowest hit@1).",
        "",
        "| world | hit@1 ours / base / ceil | gap@1 | hit@5 ours / base / ceil | "
        "gap@5 | worst band (gap) | prec p>=0.5 (n) | Brier skill | ECE | "
        "back-test est. | phases | hotspots |",
        "| --- " * 12 + "|",
    ]
    for r in rows:
        h1, h5, fl = r["hit_at_1"], r["hit_at_5"], r["flags"]
        g1, g5 = _f(_floor3(r["gap_closed_1"])), _f(_floor3(r["gap_closed_5"]))
        band = (
            f"{r['worst_band']} ({_f(r['worst_band_gap'])})"
            if r["worst_band"]
            else "none >= 30"
        )
        lines.append(
            f"| {r['world']} | {_f(h1['ours'])} / {_f(h1['baseline'])} / "
            f"{_f(h1['ceiling'])} | {g1}{_mark(fl['gap_1'])} | "
            f"{_f(h5['ours'])} / {_f(h5['baseline'])} / {_f(h5['ceiling'])} | "
            f"{g5}{_mark(fl['gap_5'])} | "
            f"{band}{_mark(fl['bands'])} | {_f(r['precision_p_ge_0_5'])} "
            f"({r['n_p_ge_0_5']}){_mark(fl['precision'])} | "
            f"{_f(r['brier_skill'])}{_mark(fl['brier_skill'])} | {_f(r['ece'])} | "
            f"{_backtest_cell(r['backtest_estimate'])} | "
            f"{' | '.join(other.get(r['world'], ('-', '-')))} |"
        )
    if missing:
        lines += ["", f"Not measured with these settings yet: {', '.join(missing)}."]
    return "\n".join(lines)


def _reproducing(argv: list[str]) -> list[str]:
    """The arguments that make the figures (not --report-only, --out, --worlds:
    the table names the worlds it has)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in ("--out", "--worlds"):
            skip = True
        elif a != "--report-only" and not a.startswith(("--out=", "--worlds=")):
            out.append(a)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", default=",".join(presets.names()))
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--start", default=START)
    ap.add_argument("--work", type=Path, default=Path("/tmp/gjenganger-worlds"))
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    ap.add_argument(
        "--backtest",
        action="store_true",
        help="evaluate with the in-memory back-test: p recalibrated on it as the "
        "nightly does, and its estimate in the table (about three times slower)",
    )
    ap.add_argument(
        "--report-only",
        action="store_true",
        help="only rewrite the table from WORK/results.json",
    )
    ap.add_argument(
        "--saved-worlds",
        type=Path,
        default=None,
        help="fill the phase and hotspot columns from the per-world figures "
        "benchmarks/phases.py --worlds and benchmarks/hotspot_worlds.py saved here",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = ap.parse_args(argv)
    names = args.worlds.split(",")
    unknown = [n for n in names if n not in presets.PRESETS]
    if unknown:
        print(f"unknown world(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    params = _params(args)
    args.work.mkdir(parents=True, exist_ok=True)
    store = args.work / "results.json"
    results = json.loads(store.read_text()) if store.exists() else {}
    for name in names:
        if args.report_only:
            break
        results[name] = bench(args.work, name, params)
        store.write_text(json.dumps(results, indent=1, default=str))
    rows = worst_first(
        [
            row(r)
            for n, r in results.items()
            if r["params"] == params and (n in names or args.report_only)
        ]
    )
    command = "python benchmarks/worlds.py " + " ".join(
        _reproducing(argv if argv is not None else sys.argv[1:])
    )
    done = {r["world"] for r in rows}
    missing = [n for n in presets.names() if n not in done]
    text = markdown(rows, params, command.strip(), missing, args.saved_worlds)
    if args.json:
        print(json.dumps(rows, indent=1, default=str))
    else:
        print(text)
    write_section(args.out, "worlds", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

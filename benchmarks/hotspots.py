# ruff: noqa: E501  (report strings)
"""Hotspot forecasts (PAI/PEI per method) and the one-million-incident map, in one run.

1. Accuracy: on the demo data (`gjenganger generate --seed 42 --start 2024-11-27
   --days 730`, ingested), `gjenganger evaluate hotspots` logic over >= 10 rolling
   as-of dates, 28-day horizon: mean PAI and PEI at 1 % and 5 % of the area per
   method. Target: best method's mean PAI at 5 % >= 1.3 x the baseline's.
2. Scale: one million incidents (the demo incidents resampled with 150 m / 3 day
   jitter), `analytics.hotspots.analyse` + `maps.hotspots.build_map` +
   `render_offline`: seconds and HTML size. Targets: < 60 s, < 5 MB.

    .venv/bin/python benchmarks/hotspots.py [--db demo.duckdb] [--work DIR]
        [--dates 12] [--n 1000000] [--json] [--no-results]

Without --db the demo data are generated and ingested under --work (~3 min).
The numbers go into benchmarks/RESULTS.md between the hotspots markers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

from gjenganger.analytics import hotspots as hs
from gjenganger.flows.evaluation.hotspots import evaluate
from gjenganger.flows.steps.hotspots import study_area
from gjenganger.maps.hotspots import build_map
from gjenganger.maps.offline import render_offline
from gjenganger.store import db, frames

ROOT = Path(__file__).resolve().parent.parent

START, END = "<!-- hotspots:start -->", "<!-- hotspots:end -->"


def demo_db(work: Path) -> Path:
    path = work / "demo.duckdb"
    if path.exists():
        return path
    work.mkdir(parents=True, exist_ok=True)
    exe = ROOT / ".venv" / "bin" / "gjenganger"
    subprocess.run(
        [
            str(exe),
            "generate",
            "--out",
            str(work / "gen"),
            "--seed",
            "42",
            "--start",
            "2024-11-27",
            "--days",
            "730",
            "--force",
        ],
        check=True,
    )
    subprocess.run(
        [str(exe), "ingest", str(work / "gen" / "inbox"), "--db", str(path), "--json"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return path


def scaled(frame: pl.DataFrame, n: int, seed: int = 0) -> pl.DataFrame:
    """`n` incidents resampled from `frame` with spatial (150 m) and time (3 days)
    jitter; no ids."""
    from gjenganger.analytics.geo import to_utm33, to_wgs84

    f = frame.filter(pl.col("lat").is_not_null())
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, f.height, n)
    x, y = to_utm33(f["lat"].to_numpy()[pick], f["lon"].to_numpy()[pick])
    lat, lon = to_wgs84(x + rng.normal(0, 150, n), y + rng.normal(0, 150, n))
    shift = pl.Series((rng.normal(0, 3, n) * 86_400e6).astype("int64")).cast(
        pl.Duration("us")
    )
    g = f.select("target_type", "offence_group", "occurred_from", "occurred_to")[pick]
    return g.with_columns(
        pl.Series("lat", lat),
        pl.Series("lon", lon),
        pl.col("occurred_from") + shift,
        pl.col("occurred_to") + shift,
    )


def world_hotspot_figures(db_path: Path) -> dict:
    """Issue 15's hotspot figures of one ingested world (for `benchmarks/worlds.py`):
    `flows.evaluation.hotspots.world_figures` on a read-only connection; per
    target group the self-tuned PAI at 5 % on unseen months, the prior-28-days
    and long-run counts', the ceiling and the two targets."""
    from gjenganger.flows.evaluation.hotspots import world_figures

    con = db.connect(db_path, read_only=True)
    try:
        return world_figures(con)
    finally:
        con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=None, help="an ingested demo database")
    ap.add_argument(
        "--work", type=Path, default=ROOT / "benchmarks" / "out" / "hotspots"
    )
    ap.add_argument("--dates", type=int, default=12)
    ap.add_argument("--horizon-days", type=int, default=28)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--no-results", action="store_true", help="do not update RESULTS.md"
    )
    args = ap.parse_args()

    path = args.db or demo_db(args.work)
    con = db.connect(path, read_only=True)
    try:
        latest = frames.latest_data_date(con)
        last = latest - dt.timedelta(days=args.horizon_days)
        t0 = time.perf_counter()
        report = evaluate(con, last, horizon_days=args.horizon_days, n_dates=args.dates)
        eval_s = time.perf_counter() - t0
        frame = frames.load_incidents(con)
    finally:
        con.close()

    big = scaled(frame, args.n)
    t0 = time.perf_counter()
    result = hs.analyse(big, latest, study_area=study_area())
    t_an = time.perf_counter() - t0
    html = render_offline(build_map(result))
    t_all = time.perf_counter() - t0
    size = len(html.encode("utf-8"))
    (args.work).mkdir(parents=True, exist_ok=True)
    (args.work / "map-1m.html").write_text(html, encoding="utf-8")

    methods = report["methods"]
    base = methods["baseline"]["pai_5"]
    out = {
        "data": str(path),
        "as_of_dates": report["as_of_dates"],
        "horizon_days": args.horizon_days,
        "study_cells": report["study_cells"],
        "methods": {
            m: {k: s[k] for k in ("pai_1", "pei_1", "pai_5", "pei_5")}
            for m, s in methods.items()
        },
        "best_method": report["best_method"],
        "best_vs_baseline_pai_5": report["best_vs_baseline_pai_5"],
        "evaluation_seconds": round(eval_s, 1),
        "scale": {
            "incidents": args.n,
            "analyse_seconds": round(t_an, 1),
            "map_build_seconds_total": round(t_all, 1),
            "html_mb": round(size / 1e6, 2),
            "hot_cells": int(result.cells["is_hot"].sum()),
        },
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        print(
            f"PAI/PEI, {len(report['as_of_dates'])} as-of dates "
            f"{report['as_of_dates'][0]}..{report['as_of_dates'][-1]}, "
            f"horizon {args.horizon_days} d, {report['study_cells']} cells of 250 m"
        )
        print(
            f"{'method':<12} {'PAI 1%':>7} {'PEI 1%':>7} {'PAI 5%':>7} {'PEI 5%':>7} {'/base':>6}"
        )
        for m, s in methods.items():
            print(
                f"{m:<12} {s['pai_1']:7.2f} {s['pei_1']:7.2f} {s['pai_5']:7.2f} "
                f"{s['pei_5']:7.2f} {s['pai_5'] / base:6.2f}"
            )
        ok = (report["best_vs_baseline_pai_5"] or 0) >= 1.3
        print(
            f"best {report['best_method']}: {report['best_vs_baseline_pai_5']:.2f} x baseline "
            f"(target >= 1.3: {'PASS' if ok else 'FAIL'})"
        )
        sc = out["scale"]
        print(
            f"{args.n:,} incidents: analyse {sc['analyse_seconds']} s, map built and "
            f"rendered in {sc['map_build_seconds_total']} s total, HTML {sc['html_mb']} MB "
            f"(targets < 60 s, < 5 MB: "
            f"{'PASS' if sc['map_build_seconds_total'] < 60 and sc['html_mb'] < 5 else 'FAIL'})"
        )
    if not args.no_results:
        write_results(out, report)
    return 0


def write_results(out: dict, report: dict) -> None:
    path = ROOT / "benchmarks" / "RESULTS.md"
    base = out["methods"]["baseline"]["pai_5"]
    lines = [
        START,
        "## Hotspots (`benchmarks/hotspots.py`)",
        "",
        f"Demo data (`gjenganger generate --seed 42 --start 2024-11-27 --days 730`, ingested); "
        f"{len(out['as_of_dates'])} rolling as-of dates {out['as_of_dates'][0]} .. "
        f"{out['as_of_dates'][-1]} (28 days apart), horizon {out['horizon_days']} days, "
        f"{out['study_cells']:,} cells of 250 m over the six municipalities. Mean over dates:",
        "",
        "| method | PAI 1 % | PEI 1 % | PAI 5 % | PEI 5 % | PAI 5 % / baseline |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m, s in out["methods"].items():
        lines.append(
            f"| {m} | {s['pai_1']:.2f} | {s['pei_1']:.2f} | {s['pai_5']:.2f} | "
            f"{s['pei_5']:.2f} | {s['pai_5'] / base:.2f} |"
        )
    per_date = pl.DataFrame(report["rows"]).pivot(
        on="method", index="as_of", values="pai_5"
    )
    lines += [
        "",
        f"Best: **{out['best_method']}**, {out['best_vs_baseline_pai_5']:.2f} x the baseline's "
        "PAI at 5 % (target >= 1.3). Baseline = the previous 28 days' counts.",
        "",
        "PAI at 5 % per as-of date:",
        "",
        "| as of | " + " | ".join(c for c in per_date.columns if c != "as_of") + " |",
        "| --- |" + " ---: |" * (per_date.width - 1),
    ]
    for row in per_date.iter_rows(named=True):
        lines.append(
            f"| {row['as_of']} | "
            + " | ".join(f"{row[c]:.2f}" for c in per_date.columns if c != "as_of")
            + " |"
        )
    sc = out["scale"]
    lines += [
        "",
        f"Scale: {sc['incidents']:,} incidents (demo incidents resampled with 150 m / 3-day "
        f"jitter): analysis {sc['analyse_seconds']} s, analysis + map + offline render "
        f"{sc['map_build_seconds_total']} s (target < 60 s), HTML {sc['html_mb']} MB "
        f"(target < 5 MB), {sc['hot_cells']} hot cells. Machine: {out['machine']}.",
        END,
    ]
    block = "\n".join(lines)
    text = (
        path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    )
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())

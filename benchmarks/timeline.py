"""Timeline build time and page size for the busiest person over two years.

Generates the demo data (two years, seed 42) and ingests it, unless `--db` names an
existing database; then picks the person with the most events (linked cases,
attributed cases, card transactions, custody) and times `gjenganger timeline` for
that person over the whole two years, start to finish: loading frames from DuckDB,
episodes, levels, the chart and the replay map, writing the page. Targets: under
5 s and under 5 MB. Prints one line per measure (or JSON with `--json`).

    .venv/bin/python benchmarks/timeline.py [--db DB] [--person ID] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gjenganger.analytics import episodes as ep  # noqa: E402
from gjenganger.flows.steps.timelines import load_timeline_data, write_timeline  # noqa: E402
from gjenganger.store import db  # noqa: E402

TARGET_SECONDS = 5.0
TARGET_BYTES = 5_000_000


def demo_db(work: Path, seed: int, days: int, keep: bool) -> Path:
    """Generate and ingest the demo data into `work/demo.duckdb` (reused with keep)."""
    path = work / "demo.duckdb"
    if keep and path.exists():
        return path
    shutil.rmtree(work, ignore_errors=True)
    data = work / "data"
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
            "2024-11-27",
            "--days",
            str(days),
        ],
        check=True,
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "gjenganger",
            "ingest",
            str(data / "inbox"),
            "--db",
            str(path),
            "--json",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return path


def busiest_person(con) -> tuple[str, int]:
    """The person with the most timeline events over the whole database."""
    data = load_timeline_data(con)
    linked = data.links.select("incident_id", "person_id")
    attributed = (
        ep.top_candidates(data.candidates)
        .join(data.links.select("incident_id"), on="incident_id", how="anti")
        .select("incident_id", "person_id")
    )
    cases = pl.concat([linked, attributed]).unique()
    per_tx = data.transactions.group_by("incident_id").len("n_tx")
    counts = (
        cases.join(per_tx, on="incident_id", how="left")
        .group_by("person_id")
        .agg((pl.len() + pl.col("n_tx").fill_null(0).sum()).alias("n"))
        .join(
            data.custody.group_by("person_id").len("n_custody"),
            on="person_id",
            how="left",
        )
        .with_columns(n=pl.col("n") + pl.col("n_custody").fill_null(0))
        .sort(["n", "person_id"], descending=[True, False])
    )
    row = counts.row(0, named=True)
    return row["person_id"], int(row["n"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--db", type=Path, help="existing database (default: generate demo)"
    )
    ap.add_argument("--person", help="person to build (default: the busiest)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument(
        "--work", type=Path, default=ROOT / "benchmarks" / "out" / "timeline"
    )
    ap.add_argument("--keep", action="store_true", help="reuse the generated database")
    ap.add_argument("--lang", choices=("nb", "en"), default="nb")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    path = args.db or demo_db(args.work, args.seed, args.days, args.keep)
    con = db.connect(path, read_only=True, migrate=False)
    try:
        if args.person:
            person, n_events = args.person, -1
        else:
            person, n_events = busiest_person(con)
        out = args.work / "busiest.html"
        t0 = time.perf_counter()
        summary = write_timeline(con, person, out, lang=args.lang)
        seconds = time.perf_counter() - t0
    finally:
        con.close()
    result = {
        "events": summary["events"],
        "linked": summary["linked"],
        "hypotheses": summary["hypotheses"],
        "episodes": summary["episodes"],
        "span_days": (
            round(
                (summary["span_end"] - summary["span_start"]).total_seconds() / 86400, 1
            )
            if summary["span_start"]
            else 0
        ),
        "seconds": round(seconds, 3),
        "bytes": summary["bytes"],
        "target_seconds": TARGET_SECONDS,
        "target_bytes": TARGET_BYTES,
        "ok": seconds < TARGET_SECONDS and summary["bytes"] < TARGET_BYTES,
        "page": str(out),
        "counted_events": n_events,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"busiest person: {result['events']} events over "
            f"{result['span_days']} days "
            f"({result['linked']} linked cases, {result['hypotheses']} hypotheses, "
            f"{result['episodes']} card episodes)"
        )
        print(f"build time: {seconds:.2f} s (target < {TARGET_SECONDS:.0f} s)")
        print(
            f"page size: {summary['bytes'] / 1e6:.2f} MB (target < "
            f"{TARGET_BYTES / 1e6:.0f} MB)"
        )
        print(f"page: {out}")
        print("OK" if result["ok"] else "OVER TARGET")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

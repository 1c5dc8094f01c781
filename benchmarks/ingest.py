"""Ingest speed against DuckDB's own read_csv of the same files, in one run.

Generates about 1,000,000 incidents (two years at national-like scale), loads the
whole inbox with `gjenganger ingest` logic (manifest checks, validation, quarantine,
staging, core upserts, one transaction), then reads the very same CSV files with a
bare `read_csv` per table into a bare table, and prints both times and the ratio.
Target: ratio <= 2.0.

    .venv/bin/python benchmarks/ingest.py [--scale 25] [--batch-days 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gjenganger.flows.steps.ingest import ingest  # noqa: E402
from gjenganger.store import db  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=25.0)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--batch-days", type=int, default=7)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out" / "ingest")
    ap.add_argument(
        "--keep", action="store_true", help="reuse generated data if present"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    data = args.work / "data"
    if not (args.keep and (data / "inbox").exists()):
        shutil.rmtree(args.work, ignore_errors=True)
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
                str(args.seed),
                "--start",
                "2024-01-01",
                "--days",
                str(args.days),
                "--scale",
                str(args.scale),
                "--batch-days",
                str(args.batch_days),
            ],
            check=True,
        )
        gen_s = time.perf_counter() - t0
    else:
        gen_s = float("nan")
    inbox = data / "inbox"
    files = {
        t: sorted(str(p) for p in inbox.glob(f"*/{t}.csv"))
        for t in ("incidents", "incident_persons", "card_transactions", "custody")
    }
    size_mb = sum(Path(f).stat().st_size for fs in files.values() for f in fs) / 1e6

    # ours
    path = args.work / "bench.duckdb"
    path.unlink(missing_ok=True)
    con = db.connect(path)
    t0 = time.perf_counter()
    results = ingest(con, inbox, progress=False)
    ours_s = time.perf_counter() - t0
    n_incidents = con.execute("select count(*) from incidents").fetchone()[0]
    read = sum(c.read for r in results for c in r.files.values())
    con.close()

    # DuckDB's own read_csv of the same files into a bare table: default (types
    # sniffed), and all_varchar (no typing at all, the cheapest possible read)
    def bare_read(options: str) -> float:
        bare = args.work / "bare.duckdb"
        bare.unlink(missing_ok=True)
        bcon = duckdb.connect(str(bare))
        bcon.execute("set enable_progress_bar = false")
        t0 = time.perf_counter()
        for table, fs in files.items():
            if fs:
                bcon.execute(
                    f"create table {table} as select * from read_csv({fs!r}{options})"
                )
        seconds = time.perf_counter() - t0
        bcon.close()
        bare.unlink(missing_ok=True)
        return seconds

    bare_s = bare_read("")
    varchar_s = bare_read(", all_varchar = true")

    doc = {
        "machine": f"{platform.machine()} {platform.processor() or ''} cores=2".strip(),
        "batches": len(results),
        "csv_mb": round(size_mb, 1),
        "rows_read": read,
        "incidents": n_incidents,
        "generate_s": round(gen_s, 1),
        "ingest_s": round(ours_s, 2),
        "read_csv_s": round(bare_s, 2),
        "ratio": round(ours_s / bare_s, 2),
        "read_csv_all_varchar_s": round(varchar_s, 2),
        "ratio_vs_all_varchar": round(ours_s / varchar_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(doc, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

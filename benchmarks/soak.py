"""Soak: 30 consecutive generated nights through the nightly flow, with a reader.

Each night one new batch lands in the inbox and the whole Prefect flow runs
(ingest, analytics, atomic publication). Meanwhile a reader thread keeps opening
`PUBLISH/latest/research/gjenganger.duckdb` read-only and querying it. Afterwards the
operational database must equal a single bulk load of the same batches (every
contract table, current and staged). Prints the result as JSON.

    .venv/bin/python benchmarks/soak.py [--nights 30] [--scale 0.15] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gjenganger.store import settings  # noqa: E402

settings.configure_environment()

import duckdb  # noqa: E402

from gjenganger.flows.steps.ingest import ingest  # noqa: E402
from gjenganger.store import db, publish  # noqa: E402

TABLES = ("incidents", "incident_persons", "card_transactions", "custody")


def _digest(path: Path) -> dict[str, str]:
    con = db.connect(path)
    try:
        out = {}
        for t in TABLES:
            for name in (t, f"stg_{t}"):
                excl = "exclude (batch_id)" if name == t else ""
                out[name] = con.execute(
                    f"select count(*) || ':' || coalesce(sum(hash(t)), 0) from"
                    f" (select * {excl} from {name}) t"
                ).fetchone()[0]
        return out
    finally:
        con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nights", type=int, default=30)
    ap.add_argument("--scale", type=float, default=0.15)
    ap.add_argument(
        "--history", type=int, default=60, help="days loaded before night 1"
    )
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out" / "soak")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from gjenganger.flows.nightly import nightly
    from gjenganger.synth.config import SynthConfig
    from gjenganger.synth.generator import generate

    shutil.rmtree(args.work, ignore_errors=True)
    start = dt.date(2025, 10, 1)
    generate(
        SynthConfig(
            seed=args.seed,
            start=start,
            days=args.history + args.nights,
            scale=args.scale,
        ),
        args.work / "data",
    )
    batches = sorted((args.work / "data" / "inbox").iterdir())
    inbox, dbp, pub = (
        args.work / "inbox",
        args.work / "ops.duckdb",
        args.work / "publish",
    )
    inbox.mkdir()
    # the history already loaded before the soak starts (no timing, no reader yet)
    for batch in batches[: args.history]:
        shutil.copytree(batch, inbox / batch.name)
    con = db.connect(dbp)
    ingest(con, inbox)
    con.close()
    batches = batches[args.history :]

    stop = threading.Event()
    reads = {"ok": 0, "errors": 0, "last_error": None}

    def reader() -> None:
        while not stop.is_set():
            snap = pub / "latest" / "research" / "gjenganger.duckdb"
            if snap.exists():
                try:
                    con = duckdb.connect(str(snap), read_only=True)
                    for _ in range(20):
                        con.execute(
                            "select count(*), max(reported_at) from cases"
                        ).fetchone()
                    con.close()
                    reads["ok"] += 1
                except Exception as exc:  # noqa: BLE001 - counted, reported
                    reads["errors"] += 1
                    reads["last_error"] = str(exc).splitlines()[0]
            time.sleep(0.05)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    nights = []
    t_all = time.perf_counter()
    for batch in batches:
        shutil.copytree(batch, inbox / batch.name)
        t0 = time.perf_counter()
        report = nightly(str(inbox), str(dbp), str(pub))
        nights.append(
            {
                "batch": batch.name,
                "status": report["status"],
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
        print(
            f"night {len(nights):2d} {batch.name}: {report['status']} "
            f"in {nights[-1]['seconds']} s",
            file=sys.stderr,
            flush=True,
        )
    stop.set()
    thread.join(10)

    bulk = args.work / "bulk.duckdb"
    con = db.connect(bulk)
    ingest(con, inbox)
    con.close()
    nightly_digest, bulk_digest = _digest(dbp), _digest(bulk)
    doc = {
        "nights": len(nights),
        "completed": sum(n["status"] == "completed" for n in nights),
        "mean_night_s": round(sum(n["seconds"] for n in nights) / len(nights), 1),
        "total_s": round(time.perf_counter() - t_all, 1),
        "reader_sessions_ok": reads["ok"],
        "reader_errors": reads["errors"],
        "reader_last_error": reads["last_error"],
        "equals_bulk_load": nightly_digest == bulk_digest,
        "published_nights_kept": len(list((pub / "nights").iterdir())),
        "latest": str(publish.latest(pub)),
    }
    print(json.dumps(doc, indent=None if args.json else 2))
    return 0 if doc["equals_bulk_load"] and not doc["reader_errors"] else 1


if __name__ == "__main__":
    os.environ.setdefault("GJENGANGER_LOG", "quiet")
    sys.exit(main())

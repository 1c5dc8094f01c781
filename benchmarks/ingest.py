"""Ingest speed against DuckDB's own read_csv of the same files, in one run.

Generates about 1,000,000 incidents (two years, weekly batches, `--scale 15.3`),
loads the whole inbox with `gjenganger ingest` as a user runs it (a process:
start-up, manifest sha256 and UTF-8 checks, validation, quarantine, staging, core
upserts, one transaction), runs it again (every batch already loaded: the fixed
cost of start-up, opening the database and listing the inbox), then reads the
very same CSV files with bare `read_csv` calls into bare tables in one DuckDB
connection:

- typed: the contract's explicit column types, no sniffing (`auto_detect = false`,
  header, the contract's delimiter and quote): the physical limit of a typed load;
- sniffed: DuckDB's defaults (types detected);
- all_varchar: no typing at all, the cheapest possible read.

Prints the times and the ratios ingest / typed read and (ingest - fixed) / typed
read. `--repeat N` measures N rounds and keeps each figure's fastest (the machine
is shared); `--keep` reuses generated data; `--record` writes the `ingest` section
of benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/ingest.py [--scale 15.3] [--repeat 3] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from gjenganger.data_schema.contract import TABLES_BY_NAME

ROOT = Path(__file__).resolve().parent.parent
CSV_OPTIONS = "header = true, delim = ',', quote = '\"', escape = '\"'"


def _generate(args: argparse.Namespace, data: Path) -> float:
    """Write the synthetic inbox into `data` (unless --keep finds one); seconds."""
    if args.keep and (data / "inbox").exists():
        return float("nan")
    shutil.rmtree(args.work, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run(
        [
            *_gjenganger(),
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
    return time.perf_counter() - t0


def _gjenganger() -> list[str]:
    """The CLI as a fresh process of this interpreter."""
    return [sys.executable, "-m", "gjenganger"]


def _cli_ingest(inbox: Path, db_path: Path) -> tuple[float, int, list[dict]]:
    """Run `gjenganger ingest --json` as a process.

    Returns its wall seconds, its peak RSS in MB (from wait4, so the generator's
    is not mixed in) and its batches.
    """
    out = db_path.with_suffix(".ingest.json")
    cmd = [*_gjenganger(), "ingest", str(inbox), "--db", str(db_path), "--json"]
    t0 = time.perf_counter()
    with out.open("w", encoding="utf-8") as fh:
        proc = subprocess.Popen(cmd, stdout=fh)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    batches = json.loads(out.read_text(encoding="utf-8"))["batches"]
    return seconds, round(usage.ru_maxrss / 1024), batches


def _files_by_layout(inbox: Path) -> dict[tuple[str, tuple[str, ...]], list[str]]:
    """CSV files of every table, grouped by (table, header columns)."""
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for name in TABLES_BY_NAME:
        for path in sorted(inbox.glob(f"*/{name}.csv")):
            with path.open(encoding="utf-8", newline="") as fh:
                header = tuple(next(csv.reader(fh)))
            groups.setdefault((name, header), []).append(str(path))
    return groups


def _typed_options(table: str, header: tuple[str, ...]) -> str:
    """read_csv options with the contract's explicit types, in the file's order."""
    contract = TABLES_BY_NAME[table]
    columns = ", ".join(f"'{c}': '{contract.column(c).duckdb_type}'" for c in header)
    return f", columns = {{{columns}}}, auto_detect = false, {CSV_OPTIONS}"


def _bare_read(work: Path, groups: dict, typed: bool, options: str = "") -> dict:
    """Read every file group into bare tables of a new database; seconds, rows."""
    bare = work / "bare.duckdb"
    bare.unlink(missing_ok=True)
    con = duckdb.connect(str(bare))
    con.execute("set enable_progress_bar = false")
    t0 = time.perf_counter()
    for i, ((table, header), files) in enumerate(sorted(groups.items())):
        opts = _typed_options(table, header) if typed else options
        con.execute(
            f"create table {table}_{i} as select * from read_csv({files!r}{opts})"
        )
    seconds = time.perf_counter() - t0
    rows = sum(
        con.execute(f"select count(*) from {table}_{i}").fetchone()[0]
        for i, (table, _) in enumerate(sorted(groups))
    )
    con.close()
    bare.unlink(missing_ok=True)
    return {"seconds": seconds, "rows": rows}


def _machine() -> dict:
    """Machine facts for the record: cores, memory, Python and DuckDB versions."""
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "machine": platform.machine(),
        "nproc": os.cpu_count(),
        "mem_gib": int(mem_gib),  # as `free -g` shows it
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }


def _round(work: Path, inbox: Path, groups: dict) -> dict:
    """One round: a fresh ingest, its rerun, and the three bare reads; seconds."""
    db_path = work / "bench.duckdb"
    db_path.unlink(missing_ok=True)
    ingest_s, rss_mb, batches = _cli_ingest(inbox, db_path)
    fixed_s, _, again = _cli_ingest(inbox, db_path)
    assert all(b["status"] == "skipped" for b in again), "the rerun loaded batches"
    read = sum(f["read"] for b in batches for f in b["files"].values())
    typed = _bare_read(work, groups, typed=True)
    assert typed["rows"] == read, f"typed read {typed['rows']} rows, ingest {read}"
    return {
        "ingest": ingest_s,
        "fixed": fixed_s,
        "typed": typed["seconds"],
        "sniffed": _bare_read(work, groups, typed=False)["seconds"],
        "varchar": _bare_read(work, groups, False, ", all_varchar = true")["seconds"],
        "rss_mb": rss_mb,
        "batches": batches,
    }


def measure(args: argparse.Namespace) -> dict:
    """Generate (or reuse) the inbox, then time the ingest and the three bare reads
    `--repeat` times; each figure is its fastest round (least disturbed by load)."""
    data = args.work / "data"
    gen_s = _generate(args, data)
    inbox = data / "inbox"
    groups = _files_by_layout(inbox)
    size_mb = sum(Path(f).stat().st_size for fs in groups.values() for f in fs) / 1e6
    rounds = [_round(args.work, inbox, groups) for _ in range(args.repeat)]
    best = {k: min(r[k] for r in rounds) for k in ("ingest", "fixed", "typed")}
    best |= {k: min(r[k] for r in rounds) for k in ("sniffed", "varchar", "rss_mb")}
    batches = rounds[0]["batches"]
    con = duckdb.connect(str(args.work / "bench.duckdb"), read_only=True)
    incidents = con.execute("select count(*) from incidents").fetchone()[0]
    con.close()
    files = [f for b in batches for f in b["files"].values()]
    return {
        **_machine(),
        "rounds": args.repeat,
        "batches": len(batches),
        "csv_mb": round(size_mb, 1),
        "rows_read": sum(f["read"] for f in files),
        "rows_quarantined": sum(f["quarantined"] for f in files),
        "incidents": incidents,
        "generate_s": None if gen_s != gen_s else round(gen_s, 1),  # NaN: reused
        "ingest_s": round(best["ingest"], 2),
        "fixed_s": round(best["fixed"], 2),
        "read_csv_typed_s": round(best["typed"], 2),
        "read_csv_sniffed_s": round(best["sniffed"], 2),
        "read_csv_all_varchar_s": round(best["varchar"], 2),
        "ratio_typed": round(best["ingest"] / best["typed"], 2),
        "ratio_typed_without_fixed": round(
            (best["ingest"] - best["fixed"]) / best["typed"], 2
        ),
        "ratio_sniffed": round(best["ingest"] / best["sniffed"], 2),
        "ratio_all_varchar": round(best["ingest"] / best["varchar"], 2),
        "ingest_peak_rss_mb": best["rss_mb"],
        "ingest_s_every_round": [round(r["ingest"], 2) for r in rounds],
        "read_csv_typed_s_every_round": [round(r["typed"], 2) for r in rounds],
    }


def section(doc: dict, args: argparse.Namespace) -> str:
    """The `ingest` section of benchmarks/RESULTS.md for one measurement."""
    cmd = "python benchmarks/ingest.py"
    cmd += (
        f" --scale {args.scale} --batch-days {args.batch_days} --repeat {args.repeat}"
    )
    fixed_share = 100 * doc["fixed_s"] / doc["ingest_s"]
    return f"""## Ingest (`benchmarks/ingest.py`)

Measured {doc["date"]} on commit {doc["commit"]}.
Machine: {doc["machine"]}, `nproc` {doc["nproc"]}, {doc["mem_gib"]} GiB (`free -g`),
Python {doc["python"]}, DuckDB {doc["duckdb"]}; other jobs shared the machine (load
average at the end {doc["load_average"]}).

`{cmd}`:
{doc["batches"]} weekly batches, {doc["csv_mb"]:,} MB of CSV, {doc["rows_read"]:,} rows
read ({doc["incidents"]:,} distinct incidents, {doc["rows_quarantined"]:,} rows
quarantined). Each figure is the fastest of {doc["rounds"]} rounds (ingest per round:
{doc["ingest_s_every_round"]} s; typed read: {doc["read_csv_typed_s_every_round"]} s).

| step | seconds |
| --- | ---: |
| `gjenganger ingest` as a process (start-up, manifest sha256 + UTF-8 check, validation, quarantine, staging, core upserts, one transaction) | {doc["ingest_s"]} |
| the same again, every batch already loaded (fixed cost: start-up, opening the database, listing the inbox) | {doc["fixed_s"]} |
| DuckDB `read_csv` with the contract's explicit types (`columns`, `auto_detect = false`, header, delimiter, quote) into bare tables | {doc["read_csv_typed_s"]} |
| DuckDB `read_csv`, types sniffed (the default) | {doc["read_csv_sniffed_s"]} |
| DuckDB `read_csv(..., all_varchar = true)` (no typing at all) | {doc["read_csv_all_varchar_s"]} |

Against the typed read (the physical limit of a typed load):
ingest / read = **{doc["ratio_typed"]}**; without the fixed cost,
(ingest - fixed) / read = **{doc["ratio_typed_without_fixed"]}** (the fixed cost is
{fixed_share:.1f} % of the ingest). Against the sniffed read {doc["ratio_sniffed"]},
against the all-text read {doc["ratio_all_varchar"]}. Peak RSS of the ingest process
{doc["ingest_peak_rss_mb"]:,} MB.
"""  # noqa: E501 - table rows are one line each in Markdown


def main() -> int:
    """Parse the options, measure, print the figures (and record them)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=15.3)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--batch-days", type=int, default=7)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out" / "ingest")
    ap.add_argument(
        "--keep", action="store_true", help="reuse generated data if present"
    )
    ap.add_argument(
        "--repeat", type=int, default=1, help="rounds; each figure is the fastest"
    )
    ap.add_argument("--record", action="store_true", help="write benchmarks/RESULTS.md")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    doc = measure(args)
    print(json.dumps(doc, indent=None if args.json else 2))
    if args.record:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from results_md import write_section

        write_section(ROOT / "benchmarks" / "RESULTS.md", "ingest", section(doc, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

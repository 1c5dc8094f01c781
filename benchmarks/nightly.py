"""National scale: the whole nightly flow on ~1,000,000 incidents over two years.

Generates two years of synthetic data at `--scale` (15 gives about a million
incidents, roughly Norway's volume), holds the last day's batch back, and times
`gjenganger nightly` as a subprocess:

1. **full rebuild**: an empty database, every batch but the last (ingest, top
   list, attribution with model training, phases, episodes, hotspots, bundles,
   research snapshot, publish);
2. **incremental**: the next night, one new batch in the inbox.

Both once per runner (`local`, and `dask`: a local Dask cluster through
prefect-dask). Peak memory is the largest sum of resident memory over the
process tree (the flow plus any Dask workers), sampled every 0.2 s. Per-step
seconds come from each run's report. Prints JSON and rewrites the `nightly`
section of benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/nightly.py [--scale 15] [--work DIR]
        [--runners local dask] [--out benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_md import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GJ = str(Path(sys.executable).parent / "gjenganger")
TARGETS = {"full_s": 15 * 60, "incremental_s": 3 * 60, "peak_gib": 8.0}


def tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # the process has gone
            total += p.memory_info().rss
    return total


def timed(cmd: list[str], env: dict, log: Path) -> dict:
    """Run `cmd`; wall seconds, peak tree RSS, exit code (stderr to `log`)."""
    t0 = time.perf_counter()
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env)
        ps, peak, stop = psutil.Process(proc.pid), [0], threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], tree_rss(ps))
                stop.wait(0.2)

        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        out, _ = proc.communicate()
        stop.set()
        watcher.join()
    return {
        "seconds": round(time.perf_counter() - t0, 1),
        "peak_gib": round(peak[0] / 2**30, 2),
        "rc": proc.returncode,
        "stdout": out.decode("utf-8", "replace"),
    }


def nightly(work: Path, runner: str, inbox: Path, env: dict, tag: str) -> dict:
    cmd = [
        GJ,
        "nightly",
        "--inbox",
        str(inbox),
        "--db",
        str(work / f"{runner}.duckdb"),
        "--publish",
        str(work / f"publish-{runner}"),
        "--runner",
        runner,
        "--json",
    ]
    res = timed(cmd, env, work / f"{runner}-{tag}.log")
    if res["rc"] != 0:
        tail = (work / f"{runner}-{tag}.log").read_text().strip().splitlines()[-3:]
        raise SystemExit(f"nightly ({runner}, {tag}) failed: {' | '.join(tail)}")
    report = json.loads(res.pop("stdout"))
    res["steps"] = {s["step"]: s["seconds"] for s in report["steps"]}
    res["status"] = report["status"]
    ing = next(s for s in report["steps"] if s["step"] == "ingest")["summary"]
    res["rows_read"] = ing["rows_read"]
    res["attribution"] = attribution_internals(report)
    return res


def attribution_internals(report: dict) -> dict:
    """What the attribution step did inside (from its run-report summary)."""
    summary = next(s for s in report["steps"] if s["step"] == "attribution")["summary"]
    keep = ("mode", "pair_models", "open_cases", "seconds")
    return {k: summary.get(k) for k in keep}


def _link_batch(batch: Path, inbox: Path) -> None:
    """Put a batch into the inbox as hard links (no copy of the data, and no
    symlink: ingest refuses a symlink that points out of its inbox)."""
    shutil.copytree(batch, inbox / batch.name, copy_function=os.link)


def prepare(work: Path, scale: float, seed: int, env: dict) -> tuple[Path, Path, dict]:
    """Generated data (kept between runs) and the held-back last batch."""
    data = work / "data"
    if not (data / "inbox").is_dir():
        cmd = [
            GJ,
            "generate",
            "--out",
            str(data),
            "--scale",
            str(scale),
            "--seed",
            str(seed),
            "--json",
        ]
        res = timed(cmd, env, work / "generate.log")
        if res["rc"] != 0:
            raise SystemExit("generate failed; see " + str(work / "generate.log"))
        (work / "generate.json").write_text(res["stdout"])
    gen = json.loads((work / "generate.json").read_text())
    batches = sorted((data / "inbox").iterdir())
    return batches[-1], data / "inbox", gen


def run(args) -> dict:
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GJENGANGER_HOME": str(work / "home"), "PYTHONHASHSEED": "0"}
    last, full_inbox, gen = prepare(work, args.scale, args.seed, env)
    out = {
        "date": dt.date.today().isoformat(),
        "scale": args.scale,
        "seed": args.seed,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{round(psutil.virtual_memory().total / 2**30)} GiB",
        "generated": gen,
        "runs": {},
    }
    for runner in args.runners:
        inbox = work / f"inbox-{runner}"
        shutil.rmtree(inbox, ignore_errors=True)
        inbox.mkdir()
        for b in sorted(full_inbox.iterdir()):
            if b != last:
                _link_batch(b, inbox)
        for stale in (work / f"{runner}.duckdb", work / f"publish-{runner}"):
            if stale.is_dir():
                shutil.rmtree(stale)
            elif stale.exists():
                stale.unlink()
        print(f"[bench] {runner}: full rebuild ...", file=sys.stderr, flush=True)
        full = nightly(work, runner, inbox, env, "full")
        print(
            f"[bench] {runner}: full {full['seconds']} s, peak {full['peak_gib']} GiB;"
            " incremental ...",
            file=sys.stderr,
            flush=True,
        )
        _link_batch(last, inbox)
        inc = nightly(work, runner, inbox, env, "incremental")
        print(f"[bench] {runner}: incremental {inc['seconds']} s", file=sys.stderr)
        out["runs"][runner] = {"full": full, "incremental": inc}
    return out


def _n(value) -> str:
    return "-" if value is None else f"{value:,}"


def _ok(value: float, target: float) -> str:
    return "✓" if value < target else "✗"


def report(res: dict) -> str:
    gen = res["generated"]
    n = gen.get("incidents") or gen.get("incidents_distinct") or "?"
    lines = [
        f"## Nightly flow at national scale (`benchmarks/nightly.py`, {res['date']})",
        "",
        f"Machine: {res['machine']}. Data: `gjenganger generate --scale {res['scale']} "
        f"--seed {res['seed']}`, two years, {n} incidents; the full rebuild loads "
        "every batch but the last into an empty database, the incremental night adds "
        "the last one. Peak memory = the largest summed resident memory of the "
        "process tree (flow and Dask workers). Targets: full < 15 min, "
        "incremental < 3 min, "
        "peak < 8 GiB. Step columns are seconds from the run report; the prevention "
        "maps are built on the task runner while the analyst bundle is built, so the "
        "hotspots column spans the analyst one.",
        "",
        "| runner | night | wall s | peak GiB | rows read | ingest | attribution | "
        "phases | hotspots | analyst | research |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for runner, runs in res["runs"].items():
        for night, r in runs.items():
            target = TARGETS["full_s" if night == "full" else "incremental_s"]
            s = r["steps"]
            lines.append(
                f"| {runner} | {night} | {r['seconds']} {_ok(r['seconds'], target)} | "
                f"{r['peak_gib']} {_ok(r['peak_gib'], TARGETS['peak_gib'])} | "
                f"{r['rows_read']:,} | {s.get('ingest')} | {s.get('attribution')} | "
                f"{s.get('phases')} | {s.get('hotspots')} | {s.get('analyst')} | "
                f"{s.get('research')} |"
            )
    lines += [
        "",
        "Inside attribution (seconds since the step began, cumulative; "
        "rows of (open case, candidate) evidence):",
        "",
        "| runner | night | pair models | open cases "
        "| context + pair models or reuse index | + stage-1 training | + scoring "
        "| series | rows reused | rows computed |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for runner, runs in res["runs"].items():
        for night, r in runs.items():
            a = r.get("attribution") or {}
            sec = a.get("seconds") or {}
            first = sec.get("reuse_index_s", sec.get("pair_model_s"))
            lines.append(
                f"| {runner} | {night} | {a.get('pair_models', '-')} | "
                f"{_n(a.get('open_cases'))} | {first} | {sec.get('train_s')} | "
                f"{sec.get('attribute_s')} | {sec.get('series_s')} | "
                f"{_n(sec.get('rows_reused'))} | {_n(sec.get('rows_computed'))} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=15.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument(
        "--work", type=Path, default=ROOT / "benchmarks" / "out" / "nightly"
    )
    ap.add_argument(
        "--runners", nargs="+", choices=("local", "dask"), default=["local", "dask"]
    )
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    ap.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = ap.parse_args()
    res = run(args)
    (args.work / "results.json").write_text(json.dumps(res, indent=1))
    text = report(res)
    print(json.dumps(res, indent=1))
    print(text)
    if not args.no_write:
        write_section(args.out, "nightly", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Issue 15's hotspot targets on the sweep of worlds, worst world first.

For every world (`--worlds a,b`; default baseline, dispersed-targets, near-repeat,
concentrated): the ingested database WORK/NAME/db.duckdb (made with
`benchmarks/worlds.py`'s `prepare` when missing, or given as `--db NAME=PATH`),
then `benchmarks.hotspots.world_hotspot_figures`: the nightly back-test's choice
scored on the six months after the six it was chosen on, at 5 % of the area,
against the prior-28-days count (target >= 1.2 x where the future-known ceiling
leaves that room) and the smoothed long-run count (never below; 1 % tolerance).
Each world's figures are saved as WORK/NAME/hotspot_figures.json (with the database,
the command, the commit and the time); the `hotspot-worlds` section of
benchmarks/RESULTS.md is written from every world saved under WORK, so runs made one
world at a time add up to one table that names the worlds still missing.

    python benchmarks/hotspot_worlds.py [--worlds a,b] [--work DIR]
        [--db NAME=PATH ...] [--saved] [--json] [--no-results]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import saved_figures  # noqa: E402
from hotspots import world_hotspot_figures  # noqa: E402
from results_md import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORLDS = ("baseline", "dispersed-targets", "near-repeat", "concentrated")
PARAMS = {"days": 730, "scale": 1.0, "seed": 42, "start": "2024-12-07"}


def database(work: Path, name: str, given: dict[str, Path]) -> Path:
    """The world's ingested database: given, found, or generated (one at a time)."""
    if name in given:
        return given[name]
    path = work / name / "db.duckdb"
    if not path.exists():
        from worlds import prepare

        prepare(work, name, PARAMS)
    return path


def failures(g: dict) -> int:
    return int(g["meets_1_2"] is False) + int(not g["not_below_longrun"])


def markdown(
    results: dict[str, dict], command: str, runs: list[str] | None = None
) -> str:
    """One row per world and target group, the worst world first (most failed
    targets, then the lowest gain over the baseline); `runs`: which run measured
    which world (on which database) and which worlds are missing."""
    rows = [
        (world, group, g)
        for world, r in results.items()
        for group, g in r["groups"].items()
    ]
    worst = {
        w: (
            -sum(failures(g) for g in r["groups"].values()),
            min(g["vs_baseline"] or 0 for g in r["groups"].values()),
        )
        for w, r in results.items()
    }
    rows.sort(key=lambda t: (worst[t[0]], t[0], t[2]["vs_baseline"] or 0))
    lines = [
        "## Hotspots self-tuned, on the sweep of worlds (issue 15)",
        "",
        f"`{command}`, {date.today().isoformat()}, {platform.machine()} "
        f"({os.cpu_count()} cores, shared), Python {platform.python_version()}. "
        "Worlds of 730 days (seed 42, from 2024-12-07). For each of the last six "
        "28-day months, the method the nightly back-test would have chosen from the "
        "six months before it (never the month itself), scored at 5 % of the "
        "region's area (71,400 cells of 250 m); PAI pooled over the six months. "
        "Ceiling: the best 5 % chosen with the month's own counts. Targets: PAI >= "
        "1.2 x the prior-28-days count where the ceiling leaves that room; not "
        "below the smoothed long-run count (365 days, 250 m; 1 % tolerance).",
        "",
        *(runs or []),
        "",
        "| world | target groups | targets failed | seconds |",
        "| --- | ---: | ---: | ---: |",
        *(
            f"| {w} | {len(results[w]['groups'])} | "
            f"{-worst[w][0]} of {2 * len(results[w]['groups'])} | "
            f"{results[w].get('seconds', '-')} |"
            for w in sorted(results, key=lambda w: (worst[w], w))
        ),
        "",
        "| world | target group | chosen PAI 5 % | prior 28 days | x baseline | "
        "long-run count | x long-run | ceiling | >= 1.2 x | >= long-run | chosen |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for world, group, g in rows:
        meets = {True: "yes", False: "**FAIL**", None: "no room"}[g["meets_1_2"]]
        chosen = ", ".join(sorted(set(g["chosen"])))
        lines.append(
            f"| {world} | {group} | {g['pai_5']:.2f} | {g['baseline_pai_5']:.2f} | "
            f"{g['vs_baseline']:.2f} | {g['longrun_pai_5']:.2f} | "
            f"{g['vs_longrun']:.3f} | {g['ceiling_pai_5']:.1f} | {meets} | "
            f"{'yes' if g['not_below_longrun'] else '**FAIL**'} | {chosen} |"
        )
    n_fail = sum(failures(g) for _, _, g in rows)
    failed = sorted({w for w, _, g in rows if failures(g)})
    lines += [
        "",
        f"Failed targets: {n_fail} of {2 * len(rows)} over {len(results)} worlds"
        + (f" (in: {', '.join(failed)})." if failed else "."),
    ]
    return "\n".join(lines)


def _named_db(work: Path, world: str, figures: dict) -> str:
    """The world's name, with its database in brackets when not WORK/NAME/g.duckdb."""
    db = figures.get("db", "?")
    return world if db == str(work / world / "g.duckdb") else f"{world} ({db})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", default=",".join(WORLDS))
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out" / "worlds")
    ap.add_argument("--db", action="append", default=[], metavar="NAME=PATH")
    ap.add_argument(
        "--saved",
        action="store_true",
        help="measure nothing: tabulate every world saved under --work",
    )
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-results", action="store_true")
    args = ap.parse_args(argv)
    given = {k: Path(v) for k, v in (d.split("=", 1) for d in args.db)}
    command = "python benchmarks/hotspot_worlds.py " + " ".join(argv or sys.argv[1:])
    for name in [] if args.saved else args.worlds.split(","):
        path = database(args.work, name, given)
        figures = world_hotspot_figures(path) | {"db": str(path)}
        print(f"{name}: {figures['seconds']} s", file=sys.stderr)
        saved_figures.save(args.work, name, "hotspot_figures", figures, command)
    saved = saved_figures.load(args.work, "hotspot_figures")
    results = {n: e["figures"] for n, e in saved.items()}
    runs = saved_figures.runs_note(saved)
    runs[0] = (
        f"Measured in these runs (one world at a time; database {args.work}/NAME/"
        "g.duckdb unless named in brackets):"
    )
    for i, line in enumerate(runs):
        if line.startswith("- `"):
            head, names = line.rsplit(": ", 1)
            worlds = [w.strip(" .") for w in names.split(", ")]
            named = [_named_db(args.work, w, results[w]) for w in worlds]
            runs[i] = f"{head}: {', '.join(named)}."
    table = f"python benchmarks/hotspot_worlds.py --saved --work {args.work}"
    text = markdown(results, table, runs)
    print(json.dumps(results, indent=1) if args.json else text)
    if not args.no_results:
        write_section(ROOT / "benchmarks" / "RESULTS.md", "hotspot-worlds", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

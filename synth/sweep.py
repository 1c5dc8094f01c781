"""Generate every named world and tabulate what it changes.

`python -m gjenganger.synth.sweep ROOT [--days 730] [--scale 1] [--seed 42]
[--worlds a,b]` writes `ROOT/<world>/` for each preset (inbox/ and truth/, as
`gjenganger generate --world NAME`), measures each with `calibration.measure`, writes
`ROOT/sweep.json` and prints two Markdown tables (the ones in
docs/synthetic-data.md). Models are then judged on every folder, worst world first.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from gjenganger.synth import calibration, presets
from gjenganger.synth.config import SynthConfig
from gjenganger.synth.generator import generate

_PHASES = ("phase1", "phase2", "phase3")
#: (column title, path into the measurement, display factor); a tuple step in a path
#: shows several values as 'a/b/c'.
BEHAVIOUR_COLUMNS = (
    ("cases/yr", ("incidents_per_year",), 1),
    ("top 5 %", ("top5pct_share_of_offences",), 100),
    ("active d", ("run_lengths_days", "active", "mean"), 1),
    ("p1/p2/p3 d", ("run_lengths_days", _PHASES, "mean"), 1),
    ("inactive %", ("world_figures", "inactive_share_plus_mixed"), 100),
    ("custody d/yr", ("world_figures", "custody_days_per_person_year"), 1),
    ("minus top 10 %", ("world_figures", "minus_top10pct_share"), 100),
    ("crew %", ("world_figures", "crew_share"), 100),
)
POLICE_COLUMNS = (
    ("solved %", ("world_figures", "solved_share"), 100),
    ("plus/mixed/minus %", ("solve_rate_by_group", ("plus", "mixed", "minus")), 100),
    ("by phase 1/2/3 %", ("solve_rate_by_phase_plus_mixed", _PHASES), 100),
    ("km home", ("world_figures", "median_km_from_home_plus_mixed"), 1),
    ("repeat %", ("world_figures", "repeat_target_share"), 100),
    ("near-rep %", ("world_figures", "near_repeat_share"), 100),
    ("report h", ("world_figures", "median_report_delay_hours"), 1),
    ("cards/yr", ("world_figures", "card_frauds_per_year"), 1),
    ("card tx/yr", ("world_figures", "card_transactions_per_year"), 1),
    ("card report d", ("world_figures", "card_report_days_median"), 1),
)


def _get(m: dict, path: tuple, factor: float) -> str:
    """The value at `path` (a tuple step fans out into 'a / b / c'), formatted."""
    node = m
    for i, step in enumerate(path):
        if isinstance(step, tuple):
            rest = path[i + 1 :]
            return "/".join(_get(node.get(k), rest, factor) for k in step)
        node = node.get(step) if isinstance(node, dict) else None
    if not isinstance(node, int | float):
        return "-"
    value = node * factor
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def table(results: dict[str, dict], columns) -> str:
    """A Markdown table: one row per world, one column per figure."""
    head = "| world | " + " | ".join(c[0] for c in columns) + " |"
    rule = "| --- " * (len(columns) + 1) + "|"
    rows = [
        f"| {name} | " + " | ".join(_get(m, path, f) for _t, path, f in columns) + " |"
        for name, m in results.items()
    ]
    return "\n".join([head, rule, *rows])


def run(root: Path, names: list[str], days: int, scale: float, seed: int) -> dict:
    """Generate and measure every world in `names`; returns name -> figures."""
    results = {}
    for name in names:
        cfg = SynthConfig(
            seed=seed,
            start=date(2024, 1, 1),
            days=days,
            scale=scale,
            world=presets.world(name),
            world_name=name,
        )
        generate(cfg, root / name)
        results[name] = calibration.measure(root / name)
        print(f"sweep: {name} measured", file=sys.stderr, flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    p = argparse.ArgumentParser(prog="python -m gjenganger.synth.sweep")
    p.add_argument("root", type=Path)
    p.add_argument("--days", type=int, default=730)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--worlds", default=",".join(presets.names()))
    args = p.parse_args(argv)
    names = args.worlds.split(",")
    unknown = [n for n in names if n not in presets.PRESETS]
    if unknown:
        print(f"unknown world(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    results = run(args.root, names, args.days, args.scale, args.seed)
    (args.root / "sweep.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results, BEHAVIOUR_COLUMNS) + "\n\n" + table(results, POLICE_COLUMNS))
    return 0


if __name__ == "__main__":
    sys.exit(main())

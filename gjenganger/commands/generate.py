"""`gjenganger generate`: write synthetic nightly batches and their ground truth.

`--world NAME` picks a named reading of the report (`synth/presets.py`, `--world list`
shows them); every assumption of the world also has its own flag
(`--phase1-days 3,8`, `--custody-rate-factor 2`, ...) that overrides the preset.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from datetime import date
from pathlib import Path

from gjenganger import progress
from gjenganger.arguments import iso_date
from gjenganger.errors import UserError
from gjenganger.synth import SynthConfig, generate, presets
from gjenganger.synth.config import FORMATS
from gjenganger.synth.worlds import BASELINE, FIELDS, is_range


def register(sub) -> None:
    """Add `generate` with its options and one flag per world assumption."""
    p = sub.add_parser(
        "generate",
        help="write synthetic nightly batches (export contract) and ground truth",
        description="Generate a synthetic police export for the Trondheim region: "
        "DIR/inbox/<batch_id>/ folders in the export contract (one batch per day by "
        "default, exported 01:30 the next day) and DIR/truth/ (who really did every "
        "case, use-period phases, persons, card episodes). Same seed and options give "
        "byte-identical files. See docs/synthetic-data.md.",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="output folder (inbox/ and truth/ go here); required unless listing",
    )
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument(
        "--start",
        type=iso_date,
        default=date(2024, 1, 1),
        help="first day, YYYY-MM-DD (default 2024-01-01)",
    )
    p.add_argument("--days", type=int, default=730, help="number of days (default 730)")
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="population multiplier; 1 = Trondheim region, ~34,000 incidents a "
        "year (default 1)",
    )
    p.add_argument(
        "--catch-rate-factor",
        type=float,
        default=1.0,
        help="multiply every catch (solve) probability (default 1)",
    )
    p.add_argument(
        "--batch-days",
        type=int,
        default=1,
        help="days per batch (default 1: one batch per day)",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="csv",
        dest="fmt",
        help="file format of the batch tables (default csv)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace existing inbox/ and truth/ folders in --out",
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument(
        "--world",
        default="baseline",
        metavar="NAME",
        help="named world: a reading of the report's open assumptions (default "
        "baseline; `--world list` shows them all)",
    )
    p.add_argument(
        "--list-worlds",
        action="store_true",
        help="print the named worlds with a one-line description and exit",
    )
    _add_world_flags(p)
    p.set_defaults(func=run)


def _parse(name: str):
    """An argparse type for World field `name`: a number or comma-separated numbers."""
    default = FIELDS[name].default
    items = default if isinstance(default, tuple) else (default,)
    kind = int if all(isinstance(x, int) for x in items) else float

    def parse(text: str):
        try:
            values = tuple(kind(x) for x in text.split(","))
        except ValueError:
            what = "integers" if kind is int else "numbers"
            raise argparse.ArgumentTypeError(
                f"expected {len(items)} {what} separated by commas, got {text!r}"
            ) from None
        return values if isinstance(default, tuple) else values[0]

    return parse


def _add_world_flags(p) -> None:
    """One flag per World field; given, it overrides the chosen world's value."""
    group = p.add_argument_group(
        "world assumptions",
        "each overrides the chosen world's value (baseline value in brackets); "
        "ranges are MIN,MAX",
    )
    for name, f in FIELDS.items():
        default = getattr(BASELINE, name)
        n = len(default) if isinstance(default, tuple) else 1
        metavar = "MIN,MAX" if is_range(name) else ",".join(["X"] * n)
        shown = ",".join(map(str, default)) if n > 1 else str(default)
        group.add_argument(
            "--" + name.replace("_", "-"),
            dest=f"world__{name}",
            type=_parse(name),
            default=None,
            metavar=metavar,
            help=f"{f.metadata['help']} [{shown}]",
        )


def _world(args):
    """The chosen preset with the flags' overrides applied."""
    if args.world not in presets.PRESETS:
        known = ", ".join(presets.names())
        raise UserError(f"unknown world {args.world!r}; one of: {known}")
    changes = {
        name: getattr(args, f"world__{name}")
        for name in FIELDS
        if getattr(args, f"world__{name}") is not None
    }
    return replace(presets.world(args.world), **changes)


def _check_out(out: Path, force: bool) -> None:
    for sub in ("inbox", "truth"):
        folder = out / sub
        if folder.exists() and any(folder.iterdir()) and not force:
            raise UserError(f"{folder} is not empty; pass --force to replace it")
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UserError(f"{probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(f"cannot write to {probe}: permission denied")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {out}: {exc.strerror}") from exc


def run(args) -> int:
    """Generate the batches and truth asked for (or list the worlds)."""
    if args.list_worlds or args.world == "list":
        print(presets.listing())
        return 0
    if args.out is None:
        raise UserError("--out is required (the output folder)")
    cfg = SynthConfig(
        seed=args.seed,
        start=args.start,
        days=args.days,
        scale=args.scale,
        catch_rate_factor=args.catch_rate_factor,
        batch_days=args.batch_days,
        fmt=args.fmt,
        world=_world(args),
        world_name=args.world,
    )
    problems = cfg.problems()
    if problems:
        raise UserError(problems[0])
    _check_out(args.out, args.force)

    log = progress.reporter("generate")

    changed = presets.overrides(cfg.world_name, cfg.world)
    log(f"world {cfg.world_name}" + "".join(f", {k}={v}" for k, v in changed.items()))
    summary = generate(cfg, args.out, log=log)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        ep = summary["episode_44k"]
        print(
            f"{summary['incidents']:,} incidents in {summary['batches']:,} batches -> "
            f"{summary['inbox']}; truth -> {summary['truth']}"
        )
        if ep:
            print(
                f"44,000-kr card: {ep['incident_id']} {ep['start_at']} .. "
                f"{ep['end_at']}, NOK {ep['total_nok']:,.0f}"
            )
    return 0

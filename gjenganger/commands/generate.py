"""`gjenganger generate`: write synthetic nightly batches and their ground truth."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path

from gjenganger.arguments import iso_date
from gjenganger.errors import UserError
from gjenganger.synth import SynthConfig, generate
from gjenganger.synth.config import FORMATS


def register(sub) -> None:
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
        required=True,
        help="output folder (inbox/ and truth/ go here)",
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
    p.set_defaults(func=run)


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
    cfg = SynthConfig(
        seed=args.seed,
        start=args.start,
        days=args.days,
        scale=args.scale,
        catch_rate_factor=args.catch_rate_factor,
        batch_days=args.batch_days,
        fmt=args.fmt,
    )
    problems = cfg.problems()
    if problems:
        raise UserError(problems[0])
    _check_out(args.out, args.force)

    def log(msg: str) -> None:
        print(f"generate: {msg}", file=sys.stderr, flush=True)

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

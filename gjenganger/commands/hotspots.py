"""`gjenganger hotspots`: one offline hotspot map (and optionally JSON cells)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gjenganger import progress
from gjenganger.arguments import add_as_of, check_as_of
from gjenganger.errors import UserError


def register(sub) -> None:
    from gjenganger.analytics.hotspots import ALL, TARGET_GROUPS

    p = sub.add_parser(
        "hotspots",
        help="hotspot map for crime prevention (Gi*, density, emerging, risk), offline",
        description="Aoristic counts on a grid (EPSG:25833), Getis-Ord Gi* with FDR, "
        "kernel density, emerging hotspots (last window vs the previous year), a Knox "
        "near-repeat test and a prospective 28-day risk forecast, published as one "
        "self-contained HTML map that works without a network. The map shows places, "
        "never people; cells with fewer than 5 incidents show no count.",
    )
    p.add_argument("--db", type=Path, required=True, help="DuckDB database file")
    add_as_of(p)
    p.add_argument(
        "--window-days",
        type=int,
        default=28,
        help="recent window for counts, Gi* and emerging (default 28)",
    )
    p.add_argument(
        "--target-type",
        default=ALL,
        metavar="T",
        help=f"{ALL} (default), a target group ({', '.join(TARGET_GROUPS)}) "
        "or a contract target type",
    )
    p.add_argument("--cell-m", type=float, default=250.0, help="grid cell size, metres")
    p.add_argument("--lang", choices=("nb", "en"), default="nb", help="label language")
    p.add_argument(
        "--forecast",
        choices=("tuned", "default"),
        default="tuned",
        help="tuned (default): the 28-day forecast the nightly's back-test chose "
        "for this target group on this date, as the published map uses (the "
        "default method when none is stored); default: the default method",
    )
    p.add_argument(
        "--tiles-url",
        default=None,
        help="optional online tile URL template (default: offline outlines)",
    )
    p.add_argument(
        "--out", type=Path, required=True, metavar="FILE.html", help="output map"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print cell_size_m and every cell with non-zero risk as JSON",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from gjenganger.analytics import hotspots as hs
    from gjenganger.flows.steps import hotspots as step
    from gjenganger.store import db

    if args.window_days < 1:
        raise UserError(f"--window-days must be >= 1, got {args.window_days}")
    if not args.cell_m >= 10:
        raise UserError(f"--cell-m must be at least 10 metres, got {args.cell_m:g}")
    if args.out.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"--out must be an .html file, got {args.out}")
    try:
        hs.target_types(args.target_type)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    params = hs.Params(cell_m=args.cell_m, window_days=args.window_days)
    con = db.connect(args.db, read_only=True)
    try:
        as_of = check_as_of(con, args.as_of, args.window_days)
        measured = None
        if args.forecast == "tuned":
            params, measured = step.stored_tuning(con, as_of, args.target_type, params)
        progress.say(
            "hotspots",
            f"counting, Gi*, density, near-repeat and risk for {args.target_type} "
            f"({args.cell_m:g} m cells, {args.window_days}-day window)",
        )
        result = step.analyse(con, as_of, args.target_type, params)
    finally:
        con.close()
    result.measured = measured  # the map states the back-test's figure, as nightly
    progress.say(
        "hotspots",
        f"{result.n_incidents:,} incidents on {result.cells.height:,} cells; "
        f"writing {args.out}",
    )
    try:
        size = step.write_map(result, args.out, args.lang, args.tiles_url)
    except OSError as exc:
        raise UserError(f"cannot write {args.out}: {exc.strerror}") from exc
    progress.say("hotspots", "done")
    if args.json:
        json.dump(cells_json(result, args.forecast), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        hot = int(result.cells["is_hot"].sum())
        print(f"map:        {args.out.resolve()} ({size / 1e6:.2f} MB)")
        print(
            f"as of:      {result.as_of}  window {result.window[0]}..{result.window[1]}"
        )
        print(f"incidents:  {result.n_incidents} placed, target {result.target_group}")
        print(f"hot cells:  {hot} (Gi*, FDR 95 %)")
        print(f"forecast:   {forecast_text(result, args.forecast)}")
        from gjenganger.maps.hotspots import near_repeat_text

        print(f"near repeat: {near_repeat_text(result, args.lang)}")
    return 0


def forecast_source(result, forecast: str) -> str:
    """Where the map's forecast method came from: "back-test" (the nightly's
    choice for this group and date), "default" (asked for) or "default, no
    back-test stored" (tuned asked for, none stored)."""
    if result.measured is not None:
        return "back-test"
    return "default" if forecast == "default" else "default, no back-test stored"


def forecast_text(result, forecast: str) -> str:
    """One line: the forecast method, its settings and where they came from."""
    m = result.measured
    if m is None:
        return f"{result.params.method} ({forecast_source(result, forecast)})"
    parts = [", ".join(f"{k} {v:g}" for k, v in m["settings"].items())]
    if m.get("pai") is not None:
        parts.append(f"PAI 5 % {m['pai']:.2f} over {m['months']} months")
    parts.append("chosen by the back-test")
    return f"{m['method']} ({'; '.join(p for p in parts if p)})"


def cells_json(result, forecast: str = "tuned") -> dict:
    """`cell_size_m` and every cell with non-zero risk (the forecast method's
    expected incidents in the next 28 days) and where that method came from."""
    import polars as pl

    c = result.cells.filter(pl.col("risk") > 0).sort("cell")
    cells = [
        {
            "cell_id": cid,
            "lat": round(lat, 6),
            "lon": round(lon, 6),
            "count": round(n, 3),
            "gi_z": round(z, 4),
            "is_hot": bool(h),
            "risk": float(f"{r:.6g}"),
        }
        for cid, lat, lon, n, z, h, r in zip(
            c["cell_id"],
            c["lat"],
            c["lon"],
            c["count"],
            c["gi_z"],
            c["is_hot"],
            c["risk"],
            strict=True,
        )
    ]
    return {
        "as_of": result.as_of.isoformat(),
        "target_type": result.target_group,
        "window": [result.window[0].isoformat(), result.window[1].isoformat()],
        "cell_size_m": result.grid.cell_m,
        "crs": "EPSG:25833",
        "risk_method": result.params.method,
        "risk_method_source": forecast_source(result, forecast),
        "horizon_days": result.params.horizon_days,
        "near_repeat": {
            "found": result.near_repeat.found,
            "distance_m": result.near_repeat.distance_m,
            "days": result.near_repeat.days,
            "ratio": round(result.near_repeat.ratio, 3),
        },
        "cells": cells,
    }

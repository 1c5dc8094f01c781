"""The `hotspot_cells` table: the latest all-targets hotspot grid, for researchers.

One row per grid cell that had incidents, a hot/cold class, an emerging class or a
forecast risk; places only, no case or person ids. The rest of the analysis (per
target group cells, weekly counts, the near-repeat figure) is stored beside it
(`store.prevention`), and the combined prevention map draws it from there.

First, the night's back-test (`analytics.selftune`): every forecast method and its
settings scored per target group on the last six months of the force's own data,
stored in `hotspot_backtest`; the all-targets forecast (the `risk` column) is
its winner's, and the target-group maps read theirs from the table.
"""

from __future__ import annotations

import datetime as dt
import time

from gjenganger.store import frames, prevention


def build_hotspot_cells(con, as_of: dt.date | None = None) -> dict:
    """Back-test the forecasts, then analyse all targets as of `as_of` with the
    winner and replace the stored analysis; the summary names each group's
    winner and its figure (the run report's entry)."""
    from gjenganger.analytics import hotspots as hs
    from gjenganger.flows.steps.hotspots import analyse, load, run_backtest, tuned

    day = frames.resolve_as_of(con, as_of)
    prepared = hs.prepare(load(con, day))
    started = time.perf_counter()
    table = run_backtest(prepared, day)
    prevention.save_backtest(con, day, table)
    seconds = round(time.perf_counter() - started, 2)
    params, measured = tuned(table, hs.ALL)
    result = analyse(con, day, hs.ALL, params=params, incidents=prepared)
    result.measured = measured
    n = prevention.save_result(con, result)  # the latest run only
    return {
        "as_of": day.isoformat(),
        "cells": n,
        "hot_cells": int(result.cells["is_hot"].sum()),
        "backtest": backtest_summary(table),
        "backtest_seconds": seconds,
    }


def backtest_summary(table) -> dict:
    """Per target group, the chosen method, its settings and figures at 5 % of
    the area (pooled over the months scored) and the prior-28-days count's PAI."""
    import json

    import polars as pl

    out = {}
    for group in table["target_group"].unique(maintain_order=True).to_list():
        rows = table.filter(pl.col("target_group") == group)
        best = rows.row(0, named=True)
        base = rows.filter(pl.col("method") == "baseline")["pai"]
        out[group] = {
            "method": best["method"],
            "settings": json.loads(best["settings"]),
            "pai_5": round(best["pai"], 3),
            "pei_5": round(best["pei"], 3),
            "hit_5": round(best["hit"], 3),
            "months": int(best["months"]),
            "baseline_pai_5": round(float(base[0]), 3) if base.len() else None,
            "ceiling_pai_5": round(best["ceiling_pai"], 3),
        }
    return out

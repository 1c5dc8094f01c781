"""`gjenganger evaluate hotspots`: PAI and PEI of each forecasting method.

For each as-of date of a rolling series (the given date and the `--dates - 1`
dates before it, `--step-days` apart), every method forecasts the next
`--horizon-days` from the incidents known at the end of that date
(`frames.load_incidents(con, as_of=date)`); the forecast is scored against the
incidents that occurred in the horizon as known now (aoristic weights inside the
horizon), at 1 % and 5 % of the study area (the region's municipalities on a
250 m grid). Methods: `baseline` (the previous horizon's counts), `kde`,
`gistar` (z of the previous year) and `prospective` (the default risk).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import numpy as np
import polars as pl

from gjenganger.analytics import hotspots as hs
from gjenganger.analytics.aoristic import period_weight
from gjenganger.analytics.grid import cell_counts
from gjenganger.analytics.hit_rates import pai_pei
from gjenganger.errors import UserError

SHARES = (0.01, 0.05)


def evaluate(
    con,
    last_as_of: dt.date,
    *,
    horizon_days: int = 28,
    n_dates: int = 12,
    step_days: int | None = None,
    target_group: str = hs.ALL,
    params: hs.Params | None = None,
    methods=hs.METHODS,
) -> dict[str, Any]:
    """The rolling evaluation; returns per-date rows and per-method means."""
    from gjenganger.flows.steps.hotspots import study_area
    from gjenganger.store import frames

    if horizon_days < 1 or n_dates < 1:
        raise UserError("--horizon-days and --dates must be >= 1")
    step = step_days or horizon_days
    params = hs.with_params(params or hs.Params(), horizon_days=horizon_days)
    dates = [last_as_of - dt.timedelta(days=step * k) for k in range(n_dates)][::-1]
    truth = hs.prepare(frames.load_incidents(con))  # as known now
    truth = hs._group_filter(truth, target_group)
    grid, mask = hs.study_grid(truth, params.cell_m, study_area())
    rows = []
    started = time.perf_counter()
    for day in dates:
        known = hs._group_filter(
            hs.prepare(frames.load_incidents(con, as_of=day)), target_group
        )
        end = hs._end_day(day)
        actual = (
            cell_counts(
                grid,
                truth["x"].to_numpy(),
                truth["y"].to_numpy(),
                period_weight(
                    truth["t0"].to_numpy(),
                    truth["t1"].to_numpy(),
                    end,
                    end + horizon_days,
                ),
            )
            * mask
        )
        if actual.sum() <= 0 or known.height == 0:
            continue
        bands = (
            hs.knox_bands(known, day, params)[1] if "prospective" in methods else None
        )
        for method in methods:
            f = hs.forecast(method, grid, mask, known, day, params, bands)
            scores = pai_pei(f, actual, mask, SHARES)
            rows.append(
                {
                    "as_of": day.isoformat(),
                    "method": method,
                    "n_future": round(float(actual.sum()), 2),
                    **scores,
                }
            )
    if not rows:
        raise UserError(
            "no incidents in any evaluation horizon; choose an earlier --as-of"
        )
    table = pl.DataFrame(rows)
    means = (
        table.group_by("method")
        .agg(pl.exclude("as_of", "method").mean(), pl.len().alias("n_dates"))
        .sort("method")
    )
    summary = {
        r["method"]: {
            k: (round(v, 4) if isinstance(v, float) else v)
            for k, v in r.items()
            if k != "method"
        }
        for r in means.to_dicts()
    }
    base = summary.get("baseline", {}).get("pai_5")
    best = max(
        (m for m in summary if m != "baseline"),
        key=lambda m: summary[m]["pai_5"],
        default=None,
    )
    return {
        "as_of_dates": [d.isoformat() for d in dates],
        "horizon_days": horizon_days,
        "cell_size_m": params.cell_m,
        "study_cells": int(mask.sum()),
        "target_type": target_group,
        "methods": summary,
        "best_method": best,
        "best_vs_baseline_pai_5": (
            round(summary[best]["pai_5"] / base, 3) if best and base else None
        ),
        "rows": table.to_dicts(),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _np(x: Any) -> Any:  # pragma: no cover - json helper
    return x.item() if isinstance(x, np.generic) else x


def world_figures(
    con,
    as_of: dt.date | None = None,
    *,
    months: int = 6,
    groups: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The self-tuned forecast measured on months it has not seen (issue 15's
    hotspot targets, per world of the sweep): for each of the last `months`
    28-day months before the end of `as_of` (default: the newest report), the
    method the nightly back-test would have chosen from the six months before
    it, scored at 5 % of the area; pooled PAI of that choice, of the prior-28-days
    count (baseline), of the smoothed long-run count (`selftune.REFERENCE`) and of
    the future-known ceiling, per target group; with the two targets (>= 1.2 x
    the baseline where the ceiling leaves room for it; not below the long-run
    count, 1 % tolerance for ties)."""
    from gjenganger.analytics import selftune as st
    from gjenganger.flows.steps.hotspots import GROUPS, study_grid
    from gjenganger.store import frames

    day = frames.resolve_as_of(con, as_of)
    prepared = hs.prepare(frames.load_incidents(con))
    grid, mask = study_grid(hs.Params().cell_m)
    ends = st.month_ends(int(hs._end_day(day)), months + st.MONTHS)
    ref = st.CANDIDATES.index(st.REFERENCE)
    out: dict[str, Any] = {"as_of": day.isoformat(), "months": months, "groups": {}}
    started = time.perf_counter()
    for group in groups or GROUPS:
        frame = hs._group_filter(prepared, group)
        scores = st.score_months(frame, grid, mask, ends)
        chosen = st.walk_forward(scores)
        if chosen.height == 0:
            continue
        test = scores.filter(pl.col("end").is_in(chosen["end"].implode()))
        base = st.pooled_pai(test.filter(pl.col("candidate") == 0))
        longrun = st.pooled_pai(test.filter(pl.col("candidate") == ref))
        first = test.filter(pl.col("candidate") == 0)
        ceiling = float(first["best"].sum() / first["total"].sum() / st.SHARE)
        pai = st.pooled_pai(chosen)
        room = ceiling >= 1.2 * base
        out["groups"][group] = {
            "pai_5": round(pai, 3),
            "baseline_pai_5": round(base, 3),
            "longrun_pai_5": round(longrun, 3),
            "ceiling_pai_5": round(ceiling, 3),
            "vs_baseline": round(pai / base, 3) if base > 0 else None,
            "vs_longrun": round(pai / longrun, 4) if longrun > 0 else None,
            "room_for_1_2": room,
            "meets_1_2": (pai >= 1.2 * base) if room else None,
            "not_below_longrun": pai >= 0.99 * longrun,
            "months_scored": chosen.height,
            "incidents": round(float(chosen["total"].sum()), 1),
            "chosen": [st.CANDIDATES[i].method for i in chosen["candidate"]],
        }
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out

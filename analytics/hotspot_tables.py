"""The frames `hotspots.analyse` returns, and the Gi* study area it compares in.

Pure helpers of `analyse`: the table of cells with anything to show
(`cell_table`), hot cells per prevention target group (`target_hotspots`) and
the weekly series (`weekly_counts`). Cell counts are aoristic (`aoristic`,
`grid`), hot cells are Getis-Ord Gi* with FDR (`gistar`). The frames hold cells
and counts only, never incidents, persons or points.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from gjenganger.analytics import emerging as emerging_mod
from gjenganger.analytics import gistar
from gjenganger.analytics.aoristic import binned_weights, period_weight
from gjenganger.analytics.grid import Grid, cell_counts


def active_cells(
    g: Grid, mask: np.ndarray, prepared: pl.DataFrame, start: float, end: float
) -> np.ndarray:
    """The Gi* study area: cells of `mask` with at least one incident of any
    target type between `start` and `end` (the history and the window).

    As ArcGIS Optimized Hot Spot Analysis does without a bounding polygon, empty
    forest, sea and farmland are left out of the comparison, so hot spots are hot
    relative to the places where crime happens at all, not to the whole region
    (where every city cell would be "hot"). Falls back to `mask` when fewer than
    30 cells are active.
    """
    w = period_weight(prepared["t0"].to_numpy(), prepared["t1"].to_numpy(), start, end)
    act = (
        cell_counts(g, prepared["x"].to_numpy(), prepared["y"].to_numpy(), w) > 0
    ) & mask
    return act if act.sum() >= 30 else mask


def target_hotspots(
    g: Grid,
    mask,
    prepared: pl.DataFrame,
    groups: dict[str, tuple[str, ...]],
    start: float,
    end: float,
    band: float,
    k_min: int,
) -> pl.DataFrame:
    """Gi* hot and cold cells per prevention target group (`groups`: group ->
    contract target types) from the incidents between `start` and `end`: one row
    per group and cell with a non-zero Gi* bin (the map shows those only)."""
    frames = []
    for group, types in groups.items():
        f = prepared.filter(pl.col("target_type").is_in(types))
        if f.height == 0:
            continue
        w = period_weight(f["t0"].to_numpy(), f["t1"].to_numpy(), start, end)
        c = cell_counts(g, f["x"].to_numpy(), f["y"].to_numpy(), w) * mask
        if c.sum() <= 0:
            continue
        gi = gistar.hotspots(g, c, mask, band, min_count=k_min)
        idx = np.flatnonzero(gi["bin"] != 0)  # the map shows the hot cells only
        frames.append(
            pl.DataFrame(
                {
                    "target_group": [group] * idx.size,
                    "cell": idx,
                    "count": c[idx],
                    "gi_z": gi["z"][idx],
                    "gi_bin": gi["bin"][idx],
                }
            )
        )
    if not frames:
        return pl.DataFrame(
            schema={
                "target_group": pl.String,
                "cell": pl.Int64,
                "count": pl.Float64,
                "gi_z": pl.Float64,
                "gi_bin": pl.Int8,
            }
        )
    return pl.concat(frames)


def weekly_counts(
    g: Grid, mask, x, y, t0, t1, end: float, n_weeks: int
) -> pl.DataFrame:
    """Aoristic counts per (week, cell) of the last `n_weeks` weeks up to `end`."""
    origin = end - 7.0 * n_weeks
    rows, bins, w = binned_weights(t0, t1, origin, 7.0, n_weeks)
    cell = g.index(x[rows], y[rows])
    ok = cell >= 0
    ok[ok] = mask[cell[ok]]
    f = pl.DataFrame({"week": bins[ok], "cell": cell[ok], "count": w[ok]})
    f = f.group_by(["week", "cell"]).agg(pl.col("count").sum()).sort(["week", "cell"])
    start = dt.date(1970, 1, 1) + dt.timedelta(days=int(round(origin)))
    return f.with_columns(
        (pl.lit(start) + pl.duration(days=pl.col("week") * 7)).alias("week_start")
    )


def cell_table(
    g: Grid,
    mask: np.ndarray,
    recent: np.ndarray,
    previous: np.ndarray,
    risk: np.ndarray,
    gi: dict,
    dens: np.ndarray,
    em: dict,
) -> pl.DataFrame:
    """One row per cell of the mask with anything to show: counts, Gi*, density,
    risk and the emerging-hotspot class."""
    keep = mask & (
        (recent > 0)
        | (previous > 0)
        | (risk > 0)
        | (gi["bin"] != 0)
        | (em["code"] != 0)
    )
    idx = np.flatnonzero(keep)
    lat, lon = g.centres_wgs84(idx)
    return pl.DataFrame(
        {
            "cell": idx,
            "cell_id": g.cell_ids(idx),
            "lat": lat,
            "lon": lon,
            "count": recent[idx],
            "previous": previous[idx],
            "gi_z": gi["z"][idx],
            "gi_bin": gi["bin"][idx],
            "is_hot": gi["bin"][idx] >= 2,
            "density": dens[idx],
            "risk": risk[idx],
            "emerging": [emerging_mod.CLASSES[c] for c in em["code"][idx]],
            "rate_ratio": em["rate_ratio"][idx],
        }
    )

"""Prospective (near-repeat-weighted) risk surface.

Provenance: Bowers, Johnson & Pease (2004), "Prospective hot-spotting: the future
of crime mapping?" (Br J Criminol 44(5)), as implemented in open_cp's
`ProspectiveHotSpot`: every recent incident raises the risk of the cells around
it by

    w = 1 / (1 + d) * 1 / (1 + a)

with d the distance between cell centres in cell units (within the space band)
and a the incident's age in whole weeks (within the time band). Bands come from a
Knox test on the data (`analytics.knox.near_repeat`), defaulting to Bowers et
al.'s 400 m and 8 weeks when the test finds nothing.

Extension (documented, off with `long_term_weight=0`): a share of the forecast
comes from the smoothed counts of the longer history (a kernel density of the
last `history_days`), because near-repeat risk alone forgets the chronic
hotspots; the blend is rescaled to the expected number of incidents in the next
`horizon_days` (the history's average rate), so a cell reads as "expected
incidents in the next 28 days".

Caveats: the weighting is a heuristic, not a fitted model; time uses aoristic
weekly bins (an incident whose window spans weeks is split across ages).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from gjenganger.analytics.aoristic import binned_weights, period_weight
from gjenganger.analytics.grid import Grid, cell_counts
from gjenganger.analytics.kde import density

DEFAULT_SPACE_BAND_M = 400.0
DEFAULT_TIME_BAND_DAYS = 56.0


def _kernel(cell_m: float, band_m: float) -> np.ndarray:
    r = int(np.floor(band_m / cell_m + 1e-9))
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    d = np.hypot(dx, dy)
    return np.where(d * cell_m <= band_m * (1 + 1e-9), 1.0 / (1.0 + d), 0.0)


def prospective_surface(
    grid: Grid,
    x,
    y,
    start,
    end,
    as_of: float,
    space_band_m: float = DEFAULT_SPACE_BAND_M,
    time_band_days: float = DEFAULT_TIME_BAND_DAYS,
) -> np.ndarray:
    """Bowers-Johnson-Pease risk score per cell (flat), from incidents with
    coordinates x, y (m) and windows [start, end] (days) before `as_of` (days).
    Only the part of each window inside (as_of - time band, as_of] counts."""
    if not (space_band_m >= grid.cell_m * 0.5 and time_band_days >= 1):
        raise ValueError(
            f"space_band_m must be >= half a cell ({grid.cell_m / 2} m) and "
            f"time_band_days >= 1, got {space_band_m}, {time_band_days}"
        )
    n_weeks = int(np.ceil(time_band_days / 7.0))
    origin = as_of - n_weeks * 7.0
    rows, bins, w = binned_weights(start, end, origin, 7.0, n_weeks)
    age = (n_weeks - 1) - bins  # whole weeks before as_of
    weights = w / (1.0 + age)
    x = np.asarray(x, dtype="float64")[rows]
    y = np.asarray(y, dtype="float64")[rows]
    g = cell_counts(grid, x, y, weights).reshape(grid.shape)
    k = _kernel(grid.cell_m, space_band_m)
    return ndimage.convolve(g, k, mode="constant", cval=0.0).ravel()


def forecast(
    grid: Grid,
    x,
    y,
    start,
    end,
    as_of: float,
    *,
    mask=None,
    space_band_m: float = DEFAULT_SPACE_BAND_M,
    time_band_days: float = DEFAULT_TIME_BAND_DAYS,
    history_days: float = 365.0,
    horizon_days: float = 28.0,
    long_term_weight: float = 0.8,
    bandwidth_m: float | None = None,
) -> np.ndarray:
    """Expected incidents per cell in (as_of, as_of + horizon_days]: the
    prospective surface blended with the long-term density (`long_term_weight`
    of the total), both scaled to the history's average rate."""
    if not 0 <= long_term_weight <= 1:
        raise ValueError(f"long_term_weight must be in [0, 1], got {long_term_weight}")
    hist_w = period_weight(start, end, as_of - history_days, as_of)
    total = hist_w.sum() * horizon_days / history_days
    pro = prospective_surface(
        grid, x, y, start, end, as_of, space_band_m, time_band_days
    )
    if mask is not None:
        pro = np.where(np.asarray(mask, dtype=bool), pro, 0.0)
    pro = pro / pro.sum() if pro.sum() > 0 else pro
    if long_term_weight > 0:
        lt = density(grid, cell_counts(grid, x, y, hist_w), bandwidth_m, mask)
        lt = lt / lt.sum() if lt.sum() > 0 else lt
        surf = (1 - long_term_weight) * pro + long_term_weight * lt
    else:
        surf = pro
    return surf * total

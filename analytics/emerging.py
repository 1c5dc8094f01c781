"""Emerging hotspots: the last `window_days` (28) against the previous year.

Provenance: a two-period simplification of ArcGIS Emerging Hot Spot Analysis
(which runs Gi* per time step of a space-time cube and a Mann-Kendall trend).
Here Gi* (FDR, 95 %) runs on the recent window's counts and on the previous
year's counts; the neighbourhood sums of the two periods are compared with an
exact Poisson test (recent count against the previous year's rate scaled to the
window's length):

- new: hot now, not hot in the previous year;
- intensifying: hot in the previous year, and the recent count is significantly
  above the previous year's rate (one-sided p < 0.05);
- persistent: hot in the previous year, and neither significantly above nor below;
- diminishing: hot in the previous year, and significantly below its rate.

Previously hot cells are classed by the rate test, not by "hot now", because 28
days of a rare offence (cabins) rarely make a Gi* hot spot: its absence is no
evidence of a decline.

Caveats: 28 days of a rare offence rarely make a hot spot; the rate comparison
ignores seasonality (a cabin area in winter against the yearly average); the
previous year is the `history_days` just before the window.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from gjenganger.analytics.gistar import band_weights, hotspots
from gjenganger.analytics.grid import Grid

CLASSES = ("none", "new", "intensifying", "persistent", "diminishing")
CODES = {name: i for i, name in enumerate(CLASSES)}


def emerging(
    grid: Grid,
    recent,
    previous,
    *,
    window_days: float = 28.0,
    history_days: float = 365.0,
    mask=None,
    band_m: float | None = None,
    alpha: float = 0.05,
    min_count: float = 0.0,
) -> dict[str, np.ndarray]:
    """Classes (codes into `CLASSES`) per cell for flat counts `recent` (the
    window) and `previous` (the `history_days` before it). Returns `code`,
    `hot_now`, `hot_before`, `rate_ratio` (recent / expected from previous).
    `min_count`: the fewest incidents within the band for a hot cell (see
    `gistar.hotspots`), applied to each period."""
    recent = np.asarray(recent, dtype="float64")
    previous = np.asarray(previous, dtype="float64")
    if recent.shape != (grid.n,) or previous.shape != (grid.n,):
        raise ValueError(
            f"recent and previous must be flat arrays of {grid.n} cells, "
            f"got {recent.shape} and {previous.shape}"
        )
    band = band_m or 2 * grid.cell_m
    now = hotspots(grid, recent, mask, band, min_count=min_count)
    before = hotspots(grid, previous, mask, band, min_count=min_count)
    hot_now = now["bin"] >= 2
    hot_before = before["bin"] >= 2
    w, cells = band_weights(grid, mask, band)
    r_nb = np.zeros(grid.n)
    e_nb = np.zeros(grid.n)
    r_nb[cells] = w @ recent[cells]
    e_nb[cells] = w @ previous[cells] * (window_days / history_days)
    k = np.round(r_nb)
    p_up = np.where(e_nb > 0, stats.poisson.sf(k - 1, np.maximum(e_nb, 1e-12)), 0.0)
    p_down = np.where(e_nb > 0, stats.poisson.cdf(k, np.maximum(e_nb, 1e-12)), 1.0)
    up = p_up < alpha
    down = p_down < alpha
    code = np.zeros(grid.n, dtype="int8")
    code[hot_before & down] = CODES["diminishing"]
    code[hot_before & ~up & ~down] = CODES["persistent"]
    code[hot_before & up] = CODES["intensifying"]
    code[hot_now & ~hot_before] = CODES["new"]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(e_nb > 0, r_nb / np.where(e_nb > 0, e_nb, 1.0), np.nan)
    return {
        "code": code,
        "hot_now": hot_now,
        "hot_before": hot_before,
        "rate_ratio": ratio,
    }

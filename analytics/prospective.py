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

Self-exciting boost (`self_exciting`, the "nearrepeat" method): the long-run
smoothed count blended with an exponentially decaying near-repeat term, the shape
of a self-exciting point process (Mohler et al. 2011, "Self-exciting point process
modeling of crime", JASA 106(493)): lambda(s) = (1 - b) mu(s) + b B(s), with mu the
kernel density of the long run and B(s) = sum_i exp(-age_i / tau) g(s - s_i), g a
Gaussian of one cell, both normalised to one over the study area. The background,
decay tau and boost share b are not fitted by EM but picked by the nightly
back-test (`analytics.selftune`).

Caveats: the weighting is a heuristic, not a fitted model; time uses aoristic
daily bins (an incident whose window spans days is split across ages).
"""

from __future__ import annotations

import numpy as np

from gjenganger.analytics.aoristic import binned_weights, period_weight
from gjenganger.analytics.grid import Grid, cell_counts
from gjenganger.analytics.kde import density, scatter, smooth

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
    counts = aged_counts(grid, x, y, start, end, as_of, week_weights(time_band_days))
    return spread(grid, counts, space_band_m)


def week_weights(time_band_days: float) -> np.ndarray:
    """Bowers et al.'s weight of an incident by its age in days (index 0 = the
    last day): 1 / (1 + whole weeks), for the whole weeks covering the band."""
    n_weeks = int(np.ceil(time_band_days / 7.0))
    return 1.0 / (1.0 + np.arange(n_weeks * 7) // 7)


def decay_weights(decay_days: float) -> np.ndarray:
    """The self-exciting boost's weight by age in days: exp(-(age + 1/2) / tau),
    over the days where it is above exp(-4) (2 % of a fresh incident's)."""
    if not decay_days > 0:
        raise ValueError(f"decay_days must be positive, got {decay_days!r}")
    n = int(np.ceil(4 * decay_days))
    return np.exp(-(np.arange(n) + 0.5) / decay_days)


def aged_counts(grid: Grid, x, y, start, end, as_of: float, day_weights) -> np.ndarray:
    """Flat cell counts of incidents weighted by their age: an incident's
    aoristic share of the day `age` days before `as_of` (0 = the last day)
    counts `day_weights[age]`; older days do not count."""
    day_weights = np.asarray(day_weights, dtype="float64")
    n = len(day_weights)
    rows, bins, w = binned_weights(start, end, as_of - n, 1.0, n)
    x = np.asarray(x, dtype="float64")[rows]
    y = np.asarray(y, dtype="float64")[rows]
    return cell_counts(grid, x, y, w * day_weights[(n - 1) - bins])


def spread(grid: Grid, counts, space_band_m: float) -> np.ndarray:
    """Bowers et al.'s spatial spread of flat `counts`: each cell's weight
    reaches the cells within `space_band_m` as 1 / (1 + distance in cells)."""
    counts = np.asarray(counts, dtype="float64")
    return scatter(
        grid, counts, np.flatnonzero(counts), _kernel(grid.cell_m, space_band_m)
    )


def _unit(surface: np.ndarray, mask) -> np.ndarray:
    """`surface` inside `mask` (all cells when None), scaled to sum to one."""
    if mask is not None:
        surface = np.where(np.asarray(mask, dtype=bool), surface, 0.0)
    total = surface.sum()
    return surface / total if total > 0 else surface


def boost_surface(grid: Grid, boost_counts) -> np.ndarray:
    """The near-repeat boost: decayed counts smoothed by a Gaussian of one cell."""
    return smooth(grid, boost_counts, 1.0)


def self_exciting(
    long_run,
    boost,
    *,
    mask=None,
    boost_share: float,
    total: float,
) -> np.ndarray:
    """Expected incidents per cell: `(1 - boost_share)` of the long-run surface
    `long_run` plus `boost_share` of the `boost_surface`, each normalised to one
    inside `mask`, scaled to `total` incidents."""
    if not 0 <= boost_share <= 1:
        raise ValueError(f"boost_share must be in [0, 1], got {boost_share!r}")
    surf = (1 - boost_share) * _unit(long_run, mask) + boost_share * _unit(boost, mask)
    return surf * total


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

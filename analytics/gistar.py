"""Getis-Ord Gi* hot and cold spots on a grid, with FDR-controlled classes.

Provenance: Getis & Ord (1992), Ord & Getis (1995) "Local spatial autocorrelation
statistics" (Geographical Analysis 27(4)), the statistic behind ArcGIS Hot Spot
Analysis / Optimized Hot Spot Analysis. For cell i with binary neighbourhood
weights w_ij (cells whose centres lie within `band_m` of i's centre, i itself
included):

    z_i = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n sum_j w_ij^2 - W_i^2) / (n - 1)))

with xbar and S the mean and (population) standard deviation of all n cells of
the study area and W_i = sum_j w_ij. This is esda's `G_Local(star=True,
transform="B")` Zs (checked in the tests to 1e-6). p-values are two-sided
normal; classes use Benjamini-Hochberg FDR at 90/95/99 % (`analytics.fdr`).

Caveats: the normal approximation is poor for very sparse counts (most cells 0);
results depend on the study area (cells outside `mask` are not part of the
comparison) and on the band. `choose_band` picks the band the way Optimized Hot
Spot Analysis does: the first peak of global Moran's I z-scores over increasing
distances (incremental spatial autocorrelation), else the largest z.
"""

from __future__ import annotations

import hashlib

import numpy as np
import scipy.sparse as sp
from scipy import stats

from gjenganger.analytics.fdr import confidence_bins
from gjenganger.analytics.grid import Grid


def _offsets(cell_m: float, band_m: float) -> list[tuple[int, int]]:
    r = int(np.floor(band_m / cell_m + 1e-9))
    return [
        (dx, dy)
        for dx in range(-r, r + 1)
        for dy in range(-r, r + 1)
        if (dx * dx + dy * dy) * cell_m**2 <= band_m**2 * (1 + 1e-9)
    ]


def band_weights(
    grid: Grid, mask: np.ndarray | None, band_m: float, self_weight: bool = True
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Binary distance-band weights among the study-area cells.

    Returns (w, cells): w is n x n (n = cells in `mask`, in flat-index order),
    w_ij = 1 when the centres are within `band_m` (and i == j if `self_weight`);
    `cells` are the flat grid indices of the rows.
    """
    if not band_m > 0:
        raise ValueError(f"band_m must be positive metres, got {band_m!r}")
    mask = np.ones(grid.n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if mask.shape != (grid.n,):
        raise ValueError(
            f"mask must have one entry per grid cell ({grid.n}), got {mask.shape}"
        )
    key = (
        grid,
        float(band_m),
        bool(self_weight),
        hashlib.sha1(np.packbits(mask)).hexdigest(),
    )
    if key not in _W_CACHE:
        if len(_W_CACHE) >= 8:
            _W_CACHE.pop(next(iter(_W_CACHE)))
        _W_CACHE[key] = _band_weights(grid, mask, float(band_m), bool(self_weight))
    w, cells = _W_CACHE[key]
    return w.copy(), cells.copy()


_W_CACHE: dict[tuple, tuple[sp.csr_matrix, np.ndarray]] = {}


def _band_weights(
    grid: Grid, mask: np.ndarray, band_m: float, self_weight: bool
) -> tuple[sp.csr_matrix, np.ndarray]:
    cells = np.flatnonzero(mask)
    pos = np.full(grid.n, -1, dtype="int64")
    pos[cells] = np.arange(cells.size)
    ix, iy = grid.ixy(cells)
    rows, cols = [], []
    for dx, dy in _offsets(grid.cell_m, band_m):
        if (dx, dy) == (0, 0) and not self_weight:
            continue
        jx, jy = ix + dx, iy + dy
        ok = (jx >= 0) & (jx < grid.nx) & (jy >= 0) & (jy < grid.ny)
        j = pos[jy[ok] * grid.nx + jx[ok]]
        good = j >= 0
        rows.append(np.flatnonzero(ok)[good])
        cols.append(j[good])
    r = np.concatenate(rows) if rows else np.empty(0, "int64")
    c = np.concatenate(cols) if cols else np.empty(0, "int64")
    w = sp.csr_matrix((np.ones(r.size), (r, c)), shape=(cells.size, cells.size))
    return w, cells


def gi_star(values, w: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z-scores and two-sided normal p-values of `values` under weights `w`
    (self-weights on the diagonal). Constant values give z = 0, p = 1."""
    x = np.asarray(values, dtype="float64").ravel()
    n = x.size
    if w.shape != (n, n):
        raise ValueError(f"w must be {n} x {n} for {n} values, got {w.shape}")
    if n < 3:
        raise ValueError(f"Gi* needs at least 3 cells, got {n}")
    if not np.all(np.isfinite(x)):
        raise ValueError("values must be finite")
    w = sp.csr_matrix(w)
    xbar = x.mean()
    s = np.sqrt(max((x * x).mean() - xbar * xbar, 0.0))
    wi = np.asarray(w.sum(axis=1)).ravel()
    wi2 = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    num = w @ x - xbar * wi
    den = s * np.sqrt(np.clip(n * wi2 - wi * wi, 0.0, None) / (n - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    p = 2 * stats.norm.sf(np.abs(z))
    return z, p


def moran_z(values, w: sp.spmatrix) -> float:
    """Global Moran's I z-score under normality (w without self-weights)."""
    x = np.asarray(values, dtype="float64").ravel()
    n = x.size
    w = sp.csr_matrix(w)
    w = w - sp.diags(w.diagonal())
    d = x - x.mean()
    s0 = w.sum()
    if s0 == 0 or (d @ d) == 0:
        return 0.0
    i_stat = n / s0 * (d @ (w @ d)) / (d @ d)
    ei = -1.0 / (n - 1)
    s1 = 0.5 * (w + w.T).multiply(w + w.T).sum()
    s2 = (
        (np.asarray(w.sum(axis=1)).ravel() + np.asarray(w.sum(axis=0)).ravel()) ** 2
    ).sum()
    var = (n * n * s1 - n * s2 + 3 * s0 * s0) / ((n * n - 1) * s0 * s0) - ei * ei
    return float((i_stat - ei) / np.sqrt(var)) if var > 0 else 0.0


def choose_band(grid: Grid, counts, mask=None, multiples=(1, 1.5, 2, 3, 4, 6)) -> float:
    """Distance band (metres) at the first peak of Moran's I z over `multiples`
    of the cell size; the largest z when there is no peak."""
    counts = np.asarray(counts, dtype="float64")
    bands = [m * grid.cell_m for m in multiples]
    zs = []
    for b in bands:
        w, cells = band_weights(grid, mask, b, self_weight=False)
        zs.append(moran_z(counts[cells], w))
    for k in range(1, len(zs) - 1):
        if zs[k] > zs[k - 1] and zs[k] >= zs[k + 1]:
            return bands[k]
    return bands[int(np.argmax(zs))]


def hotspots(
    grid: Grid,
    counts,
    mask=None,
    band_m: float | None = None,
    fdr: bool = True,
    min_count: float = 0.0,
) -> dict[str, np.ndarray | float]:
    """Gi* over the study-area cells of a flat `counts` array.

    Returns a dict of arrays over all grid cells (cells outside `mask` get z = 0,
    p = 1, bin = 0): `z`, `p`, `bin` (-3..3, FDR-corrected at 90/95/99 %), `local`
    (the count within the band) and `band_m` used. With `min_count`, a cell is
    classed hot only if at least that many incidents lie within its band: with
    sparse counts (a few incidents in thousands of empty cells) the normal
    approximation makes any non-empty neighbourhood "significant". FDR is applied
    to all cells first, so the rule only removes hot cells (conservative).
    """
    counts = np.asarray(counts, dtype="float64")
    if counts.shape != (grid.n,):
        raise ValueError(
            f"counts must be a flat array of {grid.n} cells, got {counts.shape}"
        )
    band = float(band_m) if band_m else choose_band(grid, counts, mask)
    w, cells = band_weights(grid, mask, band)
    z = np.zeros(grid.n)
    p = np.ones(grid.n)
    bins = np.zeros(grid.n, dtype="int8")
    local = np.zeros(grid.n)
    if cells.size >= 3:
        zc, pc = gi_star(counts[cells], w)
        z[cells], p[cells] = zc, pc
        b = confidence_bins(zc, pc, fdr=fdr)
        local[cells] = w @ counts[cells]
        if min_count > 0:
            b = np.where((b > 0) & (local[cells] < min_count), 0, b).astype("int8")
        bins[cells] = b
    return {"z": z, "p": p, "bin": bins, "local": local, "band_m": band}

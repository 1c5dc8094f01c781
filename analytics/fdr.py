"""False-discovery-rate control for many simultaneous local tests.

Provenance: Benjamini & Hochberg (1995). ArcGIS's Hot Spot Analysis "Apply False
Discovery Rate (FDR) Correction" and esda's `fdr` use the same step-up rule: sort
the m p-values, find the largest k with p_(k) <= k/m * alpha, reject the k
smallest. Caveat: BH assumes independent or positively dependent tests; Gi*
scores of neighbouring cells overlap (positive dependence), which BH tolerates
(Benjamini & Yekutieli 2001).
"""

from __future__ import annotations

import numpy as np

CONFIDENCE_LEVELS = (0.90, 0.95, 0.99)


def bh_threshold(p, alpha: float) -> float:
    """The largest p-value rejected by Benjamini-Hochberg at level `alpha`
    (0.0 when none is rejected)."""
    p = np.asarray(p, dtype="float64").ravel()
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if p.size == 0:
        return 0.0
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must be finite numbers in [0, 1]")
    ps = np.sort(p)
    ok = ps <= alpha * np.arange(1, p.size + 1) / p.size
    return float(ps[np.nonzero(ok)[0].max()]) if ok.any() else 0.0


def bh_reject(p, alpha: float) -> np.ndarray:
    """Boolean mask of the tests Benjamini-Hochberg rejects at level `alpha`."""
    p = np.asarray(p, dtype="float64")
    thr = bh_threshold(p, alpha)
    return (p <= thr) & (thr > 0)


def confidence_bins(z, p, fdr: bool = True) -> np.ndarray:
    """ArcGIS-style Gi_Bin: +3/+2/+1 hot at 99/95/90 % confidence, -3/-2/-1 cold,
    0 not significant; with `fdr` each level's threshold comes from BH."""
    z = np.asarray(z, dtype="float64")
    p = np.asarray(p, dtype="float64")
    out = np.zeros(z.shape, dtype="int8")
    for level, conf in enumerate(CONFIDENCE_LEVELS, start=1):
        alpha = 1 - conf
        sig = bh_reject(p, alpha) if fdr else p <= alpha
        out = np.where(sig, np.int8(level), out)
    return (np.sign(z) * out).astype("int8")

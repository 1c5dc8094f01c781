"""Forecast accuracy: prediction accuracy index (PAI) and predictive efficiency
index (PEI) at a share of the study area.

Provenance: PAI, Chainey, Tompson & Uhlig (2008) "The utility of hotspot mapping
for predicting spatial patterns of crime" (Security Journal 21): (n/N) / (a/A),
the hit rate over the area share, for the a cells ranked highest by the
forecast. PEI, Hunt (2016): n / n*, where n* is the most any a cells could have
caught (the a cells with the most actual incidents); 1 is a perfect ranking.

Caveats: PAI depends on the study area A (bigger empty areas inflate it), so
compare methods on the same grid and mask only; ties in the forecast are broken
by cell index (deterministic), which slightly favours south-western cells.
"""

from __future__ import annotations

import numpy as np


def pai_pei(forecast, actual, mask=None, area_shares=(0.01, 0.05)) -> dict[str, float]:
    """{"pai_1": ..., "pei_1": ..., "hit_1": ..., "pai_5": ...} for each share
    (percent suffix). `forecast` and `actual` are flat arrays over grid cells;
    `actual` are the incidents (or aoristic weights) of the evaluation period."""
    f = np.asarray(forecast, dtype="float64")
    a = np.asarray(actual, dtype="float64")
    if f.shape != a.shape or f.ndim != 1:
        raise ValueError(
            "forecast and actual must be flat arrays of one length, "
            f"got {f.shape}, {a.shape}"
        )
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        f, a = f[m], a[m]
    n_cells = f.size
    total = a.sum()
    out: dict[str, float] = {}
    order = np.lexsort(
        (np.arange(n_cells), -f)
    )  # highest forecast first, ties by index
    best = np.sort(a)[::-1]
    for share in area_shares:
        if not 0 < share <= 1:
            raise ValueError(f"area shares must be in (0, 1], got {share}")
        k = max(1, int(round(share * n_cells)))
        hit = a[order[:k]].sum()
        key = f"{share * 100:g}"
        out[f"hit_{key}"] = float(hit / total) if total > 0 else float("nan")
        out[f"pai_{key}"] = (
            float((hit / total) / (k / n_cells)) if total > 0 else float("nan")
        )
        top = best[:k].sum()
        out[f"pei_{key}"] = float(hit / top) if top > 0 else float("nan")
    return out

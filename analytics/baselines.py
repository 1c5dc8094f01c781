"""Two baselines the linkage model must beat.

1. **Nearest known case** (`nearest_case_scores`): rank persons by the distance from
   the open case to their nearest known case, nothing else. Cases without
   coordinates (online fraud) fall back to the time gap, so they are not ranked at
   random.

2. **Porter's naive Bayes** (`NaiveBayesLinkage`): Porter (2016), "A statistical
   approach to crime linkage", The American Statistician 70(2), and the R package
   `crimelinkage` (ported to Python as `crimeserieslinkage`). Each evidence
   variable is binned (continuous ones at quantiles), the linked and unlinked bin
   counts get pseudo-counts so each density has `df` effective degrees of freedom,
   and the pair's log Bayes factor is the sum over variables of
   log(p_linked(bin) / p_unlinked(bin)). An open case is linked to a person's series
   by a linkage function over the log Bayes factors to the person's known cases
   (Porter's `seriesOffenderID`: 'average' by default, or 'single' = max).

   The PyPI port works for fitting (`naivebayesfit`), but compares crimes in a
   Python loop (about 0.6 ms a pair: an hour for the demo's pairs) and imports
   igraph and matplotlib at load; so the method is re-implemented here,
   vectorised, with the same binning and shrinkage formulas (`getBF`).
"""

# ruff: noqa: N803, N806 - X, K, F, A, B, L: the usual maths notation

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gjenganger.analytics.linkage import TAU_DAYS_PER_KM
from gjenganger.analytics.pair_features import PAIR_FEATURES

# Porter's evidence variables mapped onto ours: continuous (binned at quantiles)
# and categorical (match / no match / unknown).
NB_CONTINUOUS = (
    "distance_km",
    "gap_days",
    "tod_diff_h",
    "dow_diff_d",
    "value_log_diff",
    "participants_diff",
)
NB_CATEGORICAL = (
    "same_offence",
    "same_target",
    "same_entry",
    "same_planned",
    "same_place",
)


def _df2a(df: float, k: int, n: float) -> float:
    """Pseudo-count per bin giving `df` effective degrees of freedom (getBF)."""
    return (n / k) * ((k - df) / (df - 1))


@dataclass
class _Component:
    column: int
    breaks: np.ndarray | None  # None: categorical with levels 0, 1, NaN
    log_bf: np.ndarray  # per bin; last bin = missing

    def bins(self, x: np.ndarray) -> np.ndarray:
        miss = np.isnan(x)
        if self.breaks is None:
            b = np.where(miss, 2, np.clip(x, 0, 1)).astype(np.int64)
        else:
            nb = len(self.breaks) - 1
            b = np.clip(np.searchsorted(self.breaks, x, side="right") - 1, 0, nb - 1)
            b = np.where(miss, nb, b)
        return b


@dataclass
class NaiveBayesLinkage:
    """Porter's naive Bayes over binned evidence; `log_bf(X)` per pair."""

    components: list[_Component]
    log_prior_odds: float = 0.0

    @classmethod
    def fit(
        cls,
        X: np.ndarray,
        y: np.ndarray,
        log_offset: float = 0.0,
        *,
        nbins: int = 15,
        df: float = 10.0,
    ) -> NaiveBayesLinkage:
        """Fit on a pair sample (`X` columns = PAIR_FEATURES, `y` 1 linked)."""
        y = np.asarray(y).astype(bool)
        comps: list[_Component] = []
        names = list(PAIR_FEATURES)
        for name in NB_CONTINUOUS + NB_CATEGORICAL:
            j = names.index(name)
            x = X[:, j].astype(float)
            if name in NB_CONTINUOUS:
                ok = x[~np.isnan(x)]
                q = (
                    np.unique(np.quantile(ok, np.linspace(0, 1, nbins + 1)))
                    if len(ok)
                    else []
                )
                breaks = np.asarray(q, float)
                if len(breaks) < 2:
                    breaks = np.array([-np.inf, np.inf])
                breaks[0], breaks[-1] = -np.inf, np.inf
                comp = _Component(j, breaks, np.zeros(0))
                k = len(breaks)  # bins + missing
            else:
                comp = _Component(j, None, np.zeros(0))
                k = 3
            b = comp.bins(x)
            n1 = np.bincount(b[y], minlength=k).astype(float)
            n0 = np.bincount(b[~y], minlength=k).astype(float)
            dfk = min(df, k - 1e-8)
            a1 = _df2a(dfk, k, n1.sum())
            a0 = _df2a(dfk, k, n0.sum())
            p1 = (n1 + a1) / np.sum(n1 + a1)
            p0 = (n0 + a0) / np.sum(n0 + a0)
            comp.log_bf = np.log(p1 / p0)
            comps.append(comp)
        prior = np.log(y.mean() / (1 - y.mean())) + log_offset
        return cls(comps, float(prior))

    def log_bf(self, X: np.ndarray) -> np.ndarray:
        """Sum of component log Bayes factors (no prior)."""
        out = np.zeros(len(X))
        for c in self.components:
            out += c.log_bf[c.bins(X[:, c.column].astype(float))]
        return out

    def logit(self, X: np.ndarray) -> np.ndarray:
        """Posterior log-odds of a link: log BF + log prior odds."""
        return self.log_bf(X) + self.log_prior_odds


def series_linkage(
    values: np.ndarray, groups: np.ndarray, n_groups: int, method: str
) -> np.ndarray:
    """Porter's linkage function over each group's values: 'average' or 'single'."""
    if method == "average":
        s = np.bincount(groups, weights=values, minlength=n_groups)
        c = np.bincount(groups, minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(c > 0, s / c, np.nan)
    if method == "single":
        out = np.full(n_groups, -np.inf)
        np.maximum.at(out, groups, values)
        return np.where(np.isfinite(out), out, np.nan)
    raise ValueError(f"linkage method {method!r}: use 'average' or 'single'")


def nearest_case_scores(
    min_distance_km: np.ndarray, min_gap_days: np.ndarray
) -> np.ndarray:
    """Score = minus the distance to the person's nearest known case (km).

    Where the case has no coordinates, minus the time gap expressed in km
    (gap / TAU days per km) minus a 5 km penalty, so such cases still get an order.
    """
    d = np.asarray(min_distance_km, float)
    g = np.asarray(min_gap_days, float)
    fallback = -(np.nan_to_num(g, nan=1e4) / TAU_DAYS_PER_KM) - 5.0
    return np.where(np.isnan(d), fallback, -d)

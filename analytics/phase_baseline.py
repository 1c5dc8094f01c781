"""The naive baseline the phase model must beat: gap segmentation.

Rule (issue 4): a run of >= 2 days without cases is `rest`; every other run of days
(an *active run*, which may contain single empty days) is split in thirds, the first
third `phase1`, the middle `phase2`, the last `phase3`. Custody days are `inactive`
(the register says so; giving the baseline this makes the comparison fairer, not
easier for the model). A day "has cases" when its weighted count reaches
`min_weight` (attributed cases carry probabilities and aoristic spreading splits a
case over its window, so a bare `> 0` would call almost every day active).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from gjenganger.data_schema.contract import PHASES

REST, PHASE1, PHASE2, PHASE3, INACTIVE = range(5)


def gap_labels(
    n: np.ndarray,
    custody: np.ndarray | None = None,
    *,
    min_gap: int = 2,
    min_weight: float = 0.3,
) -> np.ndarray:
    """Baseline phase indices (N, T) from daily counts `n` (N, T) and custody mask."""
    n = np.atleast_2d(n)
    out = np.full(n.shape, REST, dtype=np.int8)
    cust = np.zeros(n.shape, bool) if custody is None else np.atleast_2d(custody)
    for i in range(n.shape[0]):
        has = (n[i] >= min_weight) & ~cust[i]
        quiet = ~has
        # mark days in quiet runs of length >= min_gap (and custody) as breaks
        brk = np.zeros_like(quiet)
        t, t_n = 0, quiet.size
        while t < t_n:
            if quiet[t]:
                e = t
                while e < t_n and quiet[e]:
                    e += 1
                if e - t >= min_gap or cust[i, t:e].any():
                    brk[t:e] = True
                t = e
            else:
                t += 1
        brk |= cust[i]
        t = 0
        while t < t_n:
            if not brk[t]:
                e = t
                while e < t_n and not brk[e]:
                    e += 1
                length = e - t
                k = np.arange(length)
                out[i, t:e] = PHASE1 + np.minimum(3 * k // max(length, 1), 2)
                t = e
            else:
                t += 1
        out[i, cust[i]] = INACTIVE
    return out


def baseline_daily(person_days: pl.DataFrame, **kw) -> pl.DataFrame:
    """Per person-day baseline phase: `person_id, date, phase` (p is 1 by fiat)."""
    frame = person_days.sort("person_id", "date")
    persons = frame["person_id"].unique(maintain_order=True).to_list()
    n_p = len(persons)
    n_t = frame.height // max(n_p, 1)
    n = frame["n_cases"].to_numpy().astype(float).reshape(n_p, n_t)
    cust = frame["custody"].to_numpy().astype(bool).reshape(n_p, n_t)
    labels = gap_labels(n, cust, **kw)
    return frame.select("person_id", "date").with_columns(
        pl.Series(
            "phase",
            np.array(PHASES, dtype=object)[labels.ravel()].tolist(),
            dtype=pl.String,
        ),
        pl.lit(1.0).alias("p"),
    )

"""Aoristic weights: each incident's weight of 1 spread uniformly over its time
window [occurred_from, occurred_to].

Provenance: Ratcliffe (2000, 2002), "Aoristic analysis: the spatial interpretation
of unspecific temporal events" (IJGIS 14(7)). An incident whose window lies 30 %
inside a period contributes 0.3 to that period's count. Caveats: uniform spread
is an assumption (offences are not equally likely at 03:00 and 15:00); windows of
zero length put the whole weight at their instant; weights across periods sum to
1 only when the periods cover the whole window.

Times are floats in days since 1970-01-01 (naive local time, as the store gives
them); `to_days` converts Polars datetimes.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

US_PER_DAY = 86_400_000_000


def to_days(values) -> np.ndarray:
    """Float days since 1970-01-01 from a Polars Datetime series, numpy
    datetime64 array, or a date/datetime scalar (returned as a 0-d array)."""
    if isinstance(values, pl.Series):
        if not isinstance(values.dtype, pl.Datetime | pl.Date):
            raise ValueError(f"expected a Datetime or Date series, got {values.dtype}")
        return (
            values.cast(pl.Datetime("us")).dt.epoch("us").to_numpy().astype("float64")
            / US_PER_DAY
        )
    if isinstance(values, dt.datetime | dt.date):
        values = np.datetime64(values, "us")
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.datetime64):
        return (
            arr.astype("datetime64[us]").astype("int64").astype("float64") / US_PER_DAY
        )
    return arr.astype("float64")


def _check(start, end) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(start, dtype="float64")
    e = np.asarray(end, dtype="float64")
    if s.shape != e.shape:
        raise ValueError(
            f"start and end must have the same shape, got {s.shape} and {e.shape}"
        )
    if np.any(e < s):
        raise ValueError(
            f"{int(np.sum(e < s))} windows end before they start "
            "(occurred_to < occurred_from)"
        )
    return s, e


def period_weight(start, end, period_start: float, period_end: float) -> np.ndarray:
    """Share of each window [start, end] inside the period [period_start,
    period_end). Zero-length windows count 1 if their instant is in the period."""
    s, e = _check(start, end)
    if not period_end > period_start:
        raise ValueError(
            f"period must have positive length, got [{period_start}, {period_end})"
        )
    length = e - s
    overlap = np.clip(
        np.minimum(e, period_end) - np.maximum(s, period_start), 0.0, None
    )
    point = (s >= period_start) & (s < period_end)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(
            length > 0, overlap / np.where(length > 0, length, 1.0), point.astype(float)
        )
    return w


def binned_weights(
    start, end, origin: float, bin_days: float, n_bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse aoristic weights over equal bins [origin + k*bin_days, ...), k < n_bins.

    Returns (row, bin, weight) triplets: incident row index, bin index and the
    share of the incident's window in that bin (only non-zero shares). Vectorised:
    one entry per (incident, bin touched), no per-incident loop.
    """
    s, e = _check(start, end)
    if not (bin_days > 0 and n_bins > 0):
        raise ValueError(
            f"bin_days and n_bins must be positive, got {bin_days}, {n_bins}"
        )
    lo = np.floor((s - origin) / bin_days).astype("int64")
    hi = np.floor((e - origin) / bin_days).astype("int64")
    # a window ending exactly on an edge does not touch the next bin
    on_edge = (e > s) & np.isclose((e - origin) / bin_days, hi, rtol=0.0, atol=1e-9)
    hi = np.where(on_edge, hi - 1, hi)
    lo_c = np.clip(lo, 0, n_bins)
    hi_c = np.clip(hi, -1, n_bins - 1)
    span = np.maximum(hi_c - lo_c + 1, 0)
    rows = np.repeat(np.arange(len(s)), span)
    first = np.repeat(lo_c, span)
    offset = np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)
    bins = first + offset
    b0 = origin + bins * bin_days
    ss, ee = s[rows], e[rows]
    length = ee - ss
    overlap = np.clip(np.minimum(ee, b0 + bin_days) - np.maximum(ss, b0), 0.0, None)
    w = np.where(length > 0, overlap / np.where(length > 0, length, 1.0), 1.0)
    keep = w > 0
    return rows[keep], bins[keep], w[keep]

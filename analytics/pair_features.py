"""Evidence for crime linkage: what two cases have in common, as numbers.

The linkage literature (Bennell & Canter 2002; Tonkin et al. 2011; Porter 2016,
R package `crimelinkage`) compares two cases on *behavioural evidence*:

- inter-crime distance (km) - the strongest single cue in every study;
- temporal proximity - the expected absolute gap between the two offence windows,
  which handles uncertain times ("between Friday 18:00 and Monday 07:00") by
  treating the offence time as uniform over `occurred_from..occurred_to`
  (Porter's `expabsdiff`);
- time-of-day and day-of-week similarity, circular (23:00 and 01:00 are 2 hours
  apart, not 22), again as an expectation over the window ("aoristic" hour/day
  masses, Ratcliffe 2002);
- modus operandi: offence code and group, target type, entry method, planning,
  value band, number of participants;
- the same target hit again (repeat victimisation): same target type within 10 m.

Everything is vectorised over arbitrary index pairs `(ia, ib)` into two prepared
`CaseArrays`, chunked so millions of pairs stay within a few hundred MB.
"""

# ruff: noqa: N803, N806 - X, K, F, A, B, L: the usual maths notation

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from gjenganger.data_schema.contract import (
    ENTRY_METHODS,
    OFFENCE_CODES,
    OFFENCE_GROUPS,
    TARGET_TYPES,
)

# Names of the case-case evidence columns, in a fixed order (tests import them).
PAIR_FEATURES: tuple[str, ...] = (
    "distance_km",
    "gap_days",
    "gap_min_days",
    "tod_diff_h",
    "dow_diff_d",
    "same_offence",
    "same_group",
    "same_target",
    "same_entry",
    "same_planned",
    "value_log_diff",
    "participants_diff",
    "same_place",
)
SAME_PLACE_KM = (
    0.01  # repeat victimisation: same target type within 10 m (same address)
)
TOD_BINS = 24
DOW_BINS = 7
_GROUPS = ("acquisitive", "fraud", "drugs", "vandalism", "violence", "other")
_EPS_DAYS = 1e-4  # a point-in-time offence is a window of ~9 seconds
_CHUNK = 400_000


# ------------------------------------------------------------------ primitives
def circular_diff(a: np.ndarray, b: np.ndarray, period: float) -> np.ndarray:
    """Shortest distance between positions `a` and `b` on a circle of `period`.

    `circular_diff(23, 1, 24) == 2`: 23:00 and 01:00 are two hours apart.
    """
    d = np.abs(np.asarray(a, float) - np.asarray(b, float)) % period
    return np.minimum(d, period - d)


def expected_abs_gap(
    a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray
) -> np.ndarray:
    """E|X - Y| for X ~ U[a0, a1], Y ~ U[b0, b1] (Porter's `expabsdiff`), vectorised.

    Closed form: with H(u) = |u|^3 / 6,
    E|X-Y| = [H(a1-b0) - H(a0-b0) - H(a1-b1) + H(a0-b1)] / (La * Lb).
    Disjoint windows give the gap between midpoints exactly; the closed form is
    only used where windows overlap, where it is numerically stable.
    """
    a0, a1, b0, b1 = (np.asarray(v, float) for v in (a0, a1, b0, b1))
    a1 = np.maximum(a1, a0 + _EPS_DAYS)
    b1 = np.maximum(b1, b0 + _EPS_DAYS)
    mid = np.abs((a0 + a1) / 2 - (b0 + b1) / 2)
    overlap = (a0 < b1) & (b0 < a1)
    if not overlap.any():
        return mid

    def h(u: np.ndarray) -> np.ndarray:
        return np.abs(u) ** 3 / 6.0

    o = overlap
    x0, x1, y0, y1 = a0[o], a1[o], b0[o], b1[o]
    e = (h(x1 - y0) - h(x0 - y0) - h(x1 - y1) + h(x0 - y1)) / ((x1 - x0) * (y1 - y0))
    out = mid.copy()
    out[o] = e
    return out


def min_gap(
    a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray
) -> np.ndarray:
    """Smallest possible time between two windows: 0 where they overlap."""
    return np.maximum(0.0, np.maximum(a0, b0) - np.minimum(a1, b1))


def aoristic(
    start: np.ndarray, length: np.ndarray, period: float, nbins: int
) -> np.ndarray:
    """Share of each window falling in each of `nbins` bins of a circular `period`.

    `start` is the window start's position on the circle (e.g. hour of day),
    `length` its duration in the same unit. Windows at least one period long are
    uniform over the circle. Rows sum to 1.
    """
    start = np.asarray(start, float) % period
    length = np.asarray(length, float)
    w = period / nbins
    lo = (np.arange(nbins) * w)[None, :]
    span = np.maximum(length, 1e-9)[:, None]
    s = start[:, None]
    e = s + span
    ov = np.clip(np.minimum(e, lo + w) - np.maximum(s, lo), 0, None) + np.clip(
        np.minimum(e, lo + period + w) - np.maximum(s, lo + period), 0, None
    )
    m = ov / span
    m /= m.sum(axis=1, keepdims=True)
    m[length >= period] = 1.0 / nbins
    return m


def _circular_bin_distance(period: float, nbins: int) -> np.ndarray:
    """Expected circular distance between uniform draws from bins i and j."""
    w = period / nbins
    k = np.arange(nbins)
    d = circular_diff(k[:, None] * w, k[None, :] * w, period)
    np.fill_diagonal(d, w / 3.0)
    return d


_D_TOD = _circular_bin_distance(24.0, TOD_BINS)
_D_DOW = _circular_bin_distance(7.0, DOW_BINS)


# ------------------------------------------------------------------ case table
def _project_km(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 -> UTM 33N (EPSG:25833) in km; NaN stays NaN."""
    try:  # the hotspot engineer's shared projection, when present
        from gjenganger.analytics.geo import to_utm33  # type: ignore[import-not-found]

        x, y = to_utm33(lat, lon)
        return np.asarray(x, float) / 1000.0, np.asarray(y, float) / 1000.0
    except ImportError:
        from pyproj import Transformer

        tr = Transformer.from_crs("EPSG:4326", "EPSG:25833", always_xy=True)
        x, y = tr.transform(lon, lat)
        return np.asarray(x, float) / 1000.0, np.asarray(y, float) / 1000.0


def _days(col: pl.Series) -> np.ndarray:
    """Naive local datetimes -> float days since 1970-01-01 local."""
    return (
        col.cast(pl.Datetime("us")).dt.epoch("us").to_numpy().astype(float) / 86_400e6
    )


def _codes(values: pl.Series, vocab: tuple[str, ...]) -> np.ndarray:
    """Vocabulary index per value, -1 for null or unknown."""
    lut = {v: i for i, v in enumerate(vocab)}
    return np.array(
        [lut.get(v, -1) if v is not None else -1 for v in values.to_list()],
        dtype=np.int16,
    )


@dataclass(frozen=True)
class CaseArrays:
    """Cases as NumPy arrays ready for vectorised pair comparison."""

    incident_id: np.ndarray
    x_km: np.ndarray
    y_km: np.ndarray
    t0: np.ndarray  # occurred_from, days since epoch (local)
    t1: np.ndarray  # occurred_to
    tod_hist: np.ndarray  # (n, 24) hour-of-day masses
    tod_proj: np.ndarray  # tod_hist @ D_TOD, so a pair's expectation is one dot
    dow_hist: np.ndarray  # (n, 7) day-of-week masses (Monday = 0)
    dow_proj: np.ndarray
    offence: np.ndarray
    group: np.ndarray
    target: np.ndarray
    entry: np.ndarray
    planned: np.ndarray  # 1, 0, or -1 unknown
    participants: np.ndarray  # float, NaN unknown
    log_value: np.ndarray  # log10(1 + value_nok), NaN unknown

    def __len__(self) -> int:
        return len(self.incident_id)

    @cached_property
    def has_xy(self) -> np.ndarray:
        """Computed once (attribution asks for it per person and chunk)."""
        return ~np.isnan(self.x_km)

    @cached_property
    def id_hash(self) -> np.ndarray:
        """`id_hashes` of the incident ids, computed once."""
        return id_hashes(self.incident_id)

    @cached_property
    def t_mid(self) -> np.ndarray:
        return (self.t0 + self.t1) / 2


def id_hashes(ids) -> np.ndarray:
    """crc32 of each id (int64): a fixed pseudo-random number per case that does
    not depend on the night's row order."""
    return np.fromiter((zlib.crc32(str(i).encode()) for i in ids), np.int64, len(ids))


def case_arrays(incidents: pl.DataFrame) -> CaseArrays:
    """Prepare an incidents frame (store.load_incidents columns) for comparison."""
    n = incidents.height
    lat = incidents["lat"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    lon = incidents["lon"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    ok = ~(np.isnan(lat) | np.isnan(lon))
    if ok.any():
        x[ok], y[ok] = _project_km(lat[ok], lon[ok])
    t0 = _days(incidents["occurred_from"])
    t1 = np.maximum(_days(incidents["occurred_to"]), t0)
    length = t1 - t0
    tod = aoristic((t0 * 24.0) % 24.0, length * 24.0, 24.0, TOD_BINS)
    # 1970-01-01 was a Thursday: Monday-based position in the week is days + 3.
    dow = aoristic((t0 + 3.0) % 7.0, length, 7.0, DOW_BINS)
    planned = (
        incidents["planned"].cast(pl.Int8).fill_null(-1).to_numpy().astype(np.int8)
    )
    value = incidents["value_nok"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    part = incidents["participants"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    groups = incidents["offence_code"].replace_strict(OFFENCE_GROUPS, default=None)
    return CaseArrays(
        incident_id=incidents["incident_id"].to_numpy().astype(str),
        x_km=x,
        y_km=y,
        t0=t0,
        t1=t1,
        tod_hist=tod.astype(np.float32),
        tod_proj=(tod @ _D_TOD).astype(np.float32),
        dow_hist=dow.astype(np.float32),
        dow_proj=(dow @ _D_DOW).astype(np.float32),
        offence=_codes(incidents["offence_code"], OFFENCE_CODES),
        group=_codes(groups, _GROUPS),
        target=_codes(incidents["target_type"], TARGET_TYPES),
        entry=_codes(incidents["entry_method"], ENTRY_METHODS),
        planned=planned,
        participants=part,
        log_value=np.log10(1.0 + value),
    )


# ------------------------------------------------------------------ pairs
def _match(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1.0 equal, 0.0 different, NaN where either side is unknown (-1)."""
    out = (a == b).astype(np.float32)
    out[(a < 0) | (b < 0)] = np.nan
    return out


def _pair_chunk(
    A: CaseArrays, ia: np.ndarray, B: CaseArrays, ib: np.ndarray
) -> np.ndarray:
    out = np.empty((len(ia), len(PAIR_FEATURES)), dtype=np.float32)
    dist = np.hypot(A.x_km[ia] - B.x_km[ib], A.y_km[ia] - B.y_km[ib])
    out[:, 0] = dist
    out[:, 1] = expected_abs_gap(A.t0[ia], A.t1[ia], B.t0[ib], B.t1[ib])
    out[:, 2] = min_gap(A.t0[ia], A.t1[ia], B.t0[ib], B.t1[ib])
    out[:, 3] = np.einsum("ij,ij->i", A.tod_proj[ia], B.tod_hist[ib])
    out[:, 4] = np.einsum("ij,ij->i", A.dow_proj[ia], B.dow_hist[ib])
    out[:, 5] = A.offence[ia] == B.offence[ib]
    out[:, 6] = A.group[ia] == B.group[ib]
    same_target = A.target[ia] == B.target[ib]
    out[:, 7] = same_target
    out[:, 8] = _match(A.entry[ia], B.entry[ib])
    out[:, 9] = _match(A.planned[ia], B.planned[ib])
    out[:, 10] = np.abs(A.log_value[ia] - B.log_value[ib])
    out[:, 11] = np.abs(A.participants[ia] - B.participants[ib])
    out[:, 12] = np.where(np.isnan(dist), np.nan, (dist <= SAME_PLACE_KM) & same_target)
    return out


def pair_matrix(
    A: CaseArrays, ia: np.ndarray, B: CaseArrays, ib: np.ndarray
) -> np.ndarray:
    """Evidence matrix (n_pairs x len(PAIR_FEATURES)), float32, NaN = unknown."""
    ia = np.asarray(ia, dtype=np.int64)
    ib = np.asarray(ib, dtype=np.int64)
    if len(ia) <= _CHUNK:
        return _pair_chunk(A, ia, B, ib)
    parts = [
        _pair_chunk(A, ia[s : s + _CHUNK], B, ib[s : s + _CHUNK])
        for s in range(0, len(ia), _CHUNK)
    ]
    return np.concatenate(parts)


def pair_features(
    incidents_a: pl.DataFrame, incidents_b: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Evidence for every row-aligned pair of two incident frames (or all pairs of one).

    With one frame, every unordered pair (i < j) is compared; with two frames of
    equal height, row i of `a` is compared with row i of `b`. The result has
    `incident_id_a`, `incident_id_b` and the `PAIR_FEATURES` columns.
    """
    A = case_arrays(incidents_a)
    if incidents_b is None:
        ia, ib = np.triu_indices(len(A), k=1)
        B = A
    else:
        if incidents_b.height != incidents_a.height:
            raise ValueError("pair_features: frames must have equal height")
        B = case_arrays(incidents_b)
        ia = ib = np.arange(len(A))
    m = pair_matrix(A, ia, B, ib)
    cols = {"incident_id_a": A.incident_id[ia], "incident_id_b": B.incident_id[ib]}
    cols |= {name: m[:, k].astype(float) for k, name in enumerate(PAIR_FEATURES)}
    return pl.DataFrame(cols)

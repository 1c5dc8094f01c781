"""Knox test for space-time clustering (near repeats), and the sentence a
prevention officer can say aloud.

Provenance: Knox (1964); the Monte Carlo form of the Near Repeat Calculator
(Ratcliffe 2009) used by Johnson & Bowers (2004) and Townsley, Homel & Chaseling
(2003): count pairs of incidents by distance band x time band, then permute the
dates among the locations (`n_perm` times, explicit `seed`) to get the pairs
expected if space and time were independent. Knox ratio = observed / mean
permuted; p = (1 + #perms with >= observed) / (1 + n_perm).

Caveats: each incident gets one date (the midpoint of its window; long windows
blur the timing); the test finds space-time interaction, not its cause (one
prolific offender, or many); permuting keeps each area's overall intensity, so
long-term hotspots alone do not produce near repeats; above `max_events` a
seeded random subsample is tested (fewer pairs, wider p-values, same ratios).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

DEFAULT_DIST_BANDS = (100.0, 200.0, 300.0, 400.0, 500.0)
DEFAULT_TIME_BANDS = (7.0, 14.0, 21.0, 28.0, 42.0, 56.0)


@dataclass(frozen=True)
class NearRepeat:
    """ "After one incident, the risk within `distance_m` is `ratio` times normal
    for `days` days" (or `found` False)."""

    found: bool
    distance_m: float
    days: float
    ratio: float
    p_value: float
    n_events: int

    def sentence(self, what: str, lang: str = "nb") -> str:
        from_nb = {
            True: "Etter {what} er risikoen innenfor {m} m {x} ganger normalt "
            "i {d} dager.",
            False: "Ingen påviselig nærgjentakelse for {what}.",
        }
        from_en = {
            True: "After {what}, the risk within {m} m is {x} times normal "
            "for {d} days.",
            False: "No detectable near-repeat pattern for {what}.",
        }
        tpl = (from_nb if lang == "nb" else from_en)[self.found]
        x = (
            f"{self.ratio:.1f}".replace(".", ",")
            if lang == "nb"
            else f"{self.ratio:.1f}"
        )
        return tpl.format(what=what, m=f"{self.distance_m:g}", x=x, d=f"{self.days:g}")


def _bands(edges, name: str) -> np.ndarray:
    e = np.asarray(edges, dtype="float64")
    if e.ndim != 1 or e.size == 0 or np.any(np.diff(e) <= 0) or e[0] <= 0:
        raise ValueError(
            f"{name} must be increasing positive upper edges, got {edges!r}"
        )
    return e


def knox_table(
    x,
    y,
    t,
    dist_bands=DEFAULT_DIST_BANDS,
    time_bands=DEFAULT_TIME_BANDS,
    n_perm: int = 99,
    seed: int = 0,
    max_events: int | None = 20_000,
) -> pl.DataFrame:
    """Knox pairs by (distance band, time band): columns `dist_lo, dist_hi,
    time_lo, time_hi, observed, expected, ratio, p_value`, and the cumulative
    block from the origin to each band (`cum_observed, cum_expected, cum_ratio,
    cum_p_value`: pairs within dist_hi metres and time_hi days).

    x, y are metres (EPSG:25833), t days. Distance band k holds pairs with
    dist_bands[k-1] < d <= dist_bands[k] (the first from 0, same place included);
    time bands likewise in days.
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    t = np.asarray(t, dtype="float64")
    if not (x.shape == y.shape == t.shape) or x.ndim != 1:
        raise ValueError(
            "x, y, t must be 1-d arrays of one length, "
            f"got {x.shape}, {y.shape}, {t.shape}"
        )
    if not np.all(np.isfinite(x) & np.isfinite(y) & np.isfinite(t)):
        raise ValueError("x, y, t must be finite (drop incidents without coordinates)")
    db = _bands(dist_bands, "dist_bands")
    tb = _bands(time_bands, "time_bands")
    if n_perm < 1:
        raise ValueError(f"n_perm must be >= 1, got {n_perm}")
    if max_events is not None and x.size > max_events:
        # a seeded random subsample keeps the time span; observed and expected
        # pair counts shrink alike, so Knox ratios are unbiased
        keep = np.sort(
            np.random.default_rng(seed).choice(x.size, max_events, replace=False)
        )
        x, y, t = x[keep], y[keep], t[keep]
    table = _pair_table(x, y, db, tb)
    obs = table(t)
    rng = np.random.default_rng(seed)
    sims = np.stack([table(t[rng.permutation(t.size)]) for _ in range(n_perm)])
    return _knox_frame(obs, sims, db, tb, n_perm)


def _pair_table(x: np.ndarray, y: np.ndarray, db: np.ndarray, tb: np.ndarray):
    """A function of the event times giving the (distance band x time band)
    counts of the pairs within the last distance band; the pairs and their
    distance bands are found once, so each permutation only re-bins the times."""
    nd, nt = db.size, tb.size
    pairs = (
        cKDTree(np.column_stack([x, y])).query_pairs(db[-1], output_type="ndarray")
        if x.size > 1
        else np.empty((0, 2), dtype="int64")
    )
    i, j = pairs[:, 0], pairs[:, 1]
    d = np.hypot(x[i] - x[j], y[i] - y[j])
    dbin = np.searchsorted(db, d, side="left")  # d <= edge -> that band

    i = i.astype("int32")
    j = j.astype("int32")
    dbin_nt = (dbin * nt).astype("int32")

    integer_edges = bool(np.all(tb == np.round(tb)))
    # day -> time band lookup (band nt = beyond the last edge), for whole-day edges
    lut = np.searchsorted(tb, np.arange(int(tb[-1]) + 2), side="left").astype("int32")

    def table(tt: np.ndarray) -> np.ndarray:
        dt = np.abs(tt[i] - tt[j])
        if integer_edges:  # dt <= edge  <=>  ceil(dt) <= edge
            tbin = lut[np.minimum(np.ceil(dt), tb[-1] + 1).astype("int32")]
        else:
            tbin = np.searchsorted(tb, dt, side="left").astype("int32")
        ok = tbin < nt
        return np.bincount((dbin_nt + tbin)[ok], minlength=nd * nt).reshape(nd, nt)

    return table


def _knox_frame(
    obs: np.ndarray, sims: np.ndarray, db: np.ndarray, tb: np.ndarray, n_perm: int
) -> pl.DataFrame:
    """The Knox table from observed and permuted counts (see `knox_table`)."""
    nd, nt = db.size, tb.size
    cum = lambda a: np.cumsum(np.cumsum(a, axis=-1), axis=-2)  # noqa: E731
    cobs, csims = cum(obs), cum(sims)
    exp, cexp = sims.mean(axis=0), csims.mean(axis=0)
    p = (1 + (sims >= obs).sum(axis=0)) / (1 + n_perm)
    cp = (1 + (csims >= cobs).sum(axis=0)) / (1 + n_perm)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(exp > 0, obs / np.where(exp > 0, exp, 1), np.nan)
        cratio = np.where(cexp > 0, cobs / np.where(cexp > 0, cexp, 1), np.nan)
    dlo = np.concatenate([[0.0], db[:-1]])
    tlo = np.concatenate([[0.0], tb[:-1]])
    di, ti = np.meshgrid(np.arange(nd), np.arange(nt), indexing="ij")
    return pl.DataFrame(
        {
            "dist_lo": dlo[di.ravel()],
            "dist_hi": db[di.ravel()],
            "time_lo": tlo[ti.ravel()],
            "time_hi": tb[ti.ravel()],
            "observed": obs.ravel().astype("int64"),
            "expected": exp.ravel(),
            "ratio": ratio.ravel(),
            "p_value": p.ravel(),
            "cum_observed": cobs.ravel().astype("int64"),
            "cum_expected": cexp.ravel(),
            "cum_ratio": cratio.ravel(),
            "cum_p_value": cp.ravel(),
        }
    )


def near_repeat(
    table: pl.DataFrame, alpha: float = 0.05, min_ratio: float = 1.1, n_events: int = 0
) -> NearRepeat:
    """The near-repeat figure from a `knox_table`.

    Distance X: the largest distance band whose cell in the first time band is
    significant (p < alpha, ratio >= min_ratio) with all nearer bands also so.
    Days Z: the largest time band whose cell at every distance band up to X is
    significant the same way, contiguous from the first. Ratio Y: the cumulative
    Knox ratio of the block [0, X] x [0, Z] (pairs observed / expected).
    """
    if table.height == 0:
        return NearRepeat(False, 0.0, 0.0, 1.0, 1.0, n_events)
    db = np.sort(table["dist_hi"].unique().to_numpy())
    tb = np.sort(table["time_hi"].unique().to_numpy())
    shape = (db.size, tb.size)
    tab = table.sort(["dist_hi", "time_hi"])
    sig = (
        (tab["p_value"].to_numpy() < alpha)
        & (np.nan_to_num(tab["ratio"].to_numpy(), nan=0.0) >= min_ratio)
    ).reshape(shape)
    if not sig[0, 0]:
        return NearRepeat(False, 0.0, 0.0, 1.0, 1.0, n_events)
    kx = 0
    while kx + 1 < db.size and sig[kx + 1, 0]:
        kx += 1
    kz = 0
    while kz + 1 < tb.size and sig[: kx + 1, kz + 1].all():
        kz += 1
    k = kx * tb.size + kz
    return NearRepeat(
        True,
        float(db[kx]),
        float(tb[kz]),
        float(tab["cum_ratio"][k]),
        float(tab["cum_p_value"][k]),
        n_events,
    )

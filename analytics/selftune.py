"""Hotspot forecasts tuned on the force's own history: a rolling back-test.

For each target group, every candidate forecast (`CANDIDATES`: a method and its
settings) forecasts each of the last `MONTHS` horizons of `HORIZON_DAYS` (a
"month") from the incidents reported before the horizon began, and is scored on
the incidents that occurred in it (aoristic weights, as known now) at `SHARE`
(5 %) of the study area: the share of the month's incidents inside the marked
cells (hit), PAI = hit / area share (Chainey et al. 2008) and PEI = hit / the
most any cells of that area could have caught (Hunt 2016), pooled over the
months (sums of hits over sums of incidents). The candidate with the highest
pooled PAI (then PEI) is the map's forecast, and its hit share is the figure the
map states. `ceiling_pai` is the PAI of the best cells chosen with the month's
own counts: what no forecast can beat.

Methods (`analytics.hotspots.forecast` computes the same surfaces from points for
the published map; tests/test_hotspots_selftune.py checks they agree):

- baseline: the prior 28 days' counts;
- kde: the long-run smoothed count (the last `window_days`, Gaussian `bandwidth_m`);
- prospective: Bowers, Johnson & Pease (2004), 1/(1+d) * 1/(1+weeks) inside the
  space and time bands, alone (no long-run part);
- nearrepeat: the long-run smoothed count with a self-exciting boost decaying
  with `decay_days`, `boost_share` of the forecast (`prospective.self_exciting`).

Cheap and vectorised: each group's incidents are binned once into sparse daily
cell counts (`DayCounts`); a month's forecasts reuse its window counts and
smoothed surfaces; all candidates of a month are scored in one partition of a
(candidates x cells) matrix. Ties at the 5 % threshold (cells of equal forecast)
count by their mean, the hit a random choice among them would expect, so no
method gains from the order of cell ids.

Caveat: the winner's figure is measured on the same months that chose it, so it
is slightly optimistic; `benchmarks/hotspots.py` measures the choice on months it
has not seen (walk-forward).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from gjenganger.analytics import kde, prospective
from gjenganger.analytics.aoristic import binned_weights
from gjenganger.analytics.grid import Grid

MONTHS = 6
HORIZON_DAYS = 28
SHARE = 0.05
BASELINE_DAYS = 28


@dataclass(frozen=True)
class Candidate:
    """One forecast of the back-test: a method and its settings (0 = not used)."""

    method: str
    window_days: int = 0
    bandwidth_m: float = 0.0
    space_band_m: float = 0.0
    time_band_days: float = 0.0
    decay_days: float = 0.0
    boost_share: float = 0.0

    def settings(self) -> dict[str, float]:
        """The settings this method uses (for the table and the run report)."""
        keys = {
            "baseline": ("window_days",),
            "kde": ("window_days", "bandwidth_m"),
            "prospective": ("space_band_m", "time_band_days"),
            "nearrepeat": ("window_days", "bandwidth_m", "decay_days", "boost_share"),
        }[self.method]
        return {k: getattr(self, k) for k in keys}

    def params(self) -> dict[str, Any]:
        """The `analytics.hotspots.Params` changes that make the map's forecast
        this candidate's."""
        if self.method == "baseline":
            return {"method": "baseline", "horizon_days": HORIZON_DAYS}
        if self.method == "prospective":
            return {
                "method": "prospective",
                "space_band_m": self.space_band_m,
                "time_band_days": self.time_band_days,
                "long_term_weight": 0.0,
            }
        out = {
            "method": self.method,
            "forecast_days": self.window_days,
            "forecast_bandwidth_m": self.bandwidth_m,
        }
        if self.method == "nearrepeat":
            out |= {"decay_days": self.decay_days, "boost_share": self.boost_share}
        return out


#: the candidate grid, capped at 17 forecasts (each scored for every month and group)
CANDIDATES: tuple[Candidate, ...] = (
    Candidate("baseline", BASELINE_DAYS),
    *(Candidate("kde", w, b) for w in (91, 182, 365) for b in (250.0, 500.0)),
    *(
        Candidate("prospective", space_band_m=s, time_band_days=d)
        for s in (400.0, 750.0)
        for d in (28.0, 56.0)
    ),
    *(
        Candidate("nearrepeat", 365, 250.0, decay_days=tau, boost_share=b)
        for tau in (7.0, 21.0)
        for b in (0.15, 0.35, 0.6)
    ),
)
#: the smoothed long-run count every other candidate must clearly beat
REFERENCE = Candidate("kde", 365, 250.0)
#: how clearly (standard errors of the mean monthly gain) it must be beaten: 3, not
#: 2, because 16 challengers are tried on six months (the best of 16 noisy z often
#: passes 2 by chance; at 2, cabins of the near-repeat world fell 1.2 % below the
#: long-run count on unseen months, benchmarks/hotspot_worlds.py)
Z_MIN = 3.0


@dataclass(frozen=True)
class DayCounts:
    """One group's incidents as sparse daily cell counts: entry i is the aoristic
    share `weight[i]` of an incident in cell `cell[i]` on day `day[i]` (days since
    1970), reported at `reported[i]` (days; -inf when unknown)."""

    grid: Grid
    cell: np.ndarray
    day: np.ndarray
    weight: np.ndarray
    reported: np.ndarray

    @classmethod
    def build(cls, grid: Grid, prepared: pl.DataFrame, first: int, last: int):
        """The counts of days first..last-1 from a `hotspots.prepare` frame."""
        idx = grid.index(prepared["x"].to_numpy(), prepared["y"].to_numpy())
        t0, t1 = prepared["t0"].to_numpy(), prepared["t1"].to_numpy()
        tr = prepared["tr"].to_numpy() if "tr" in prepared.columns else None
        rows, bins, w = binned_weights(t0, t1, float(first), 1.0, max(last - first, 1))
        keep = idx[rows] >= 0
        rows, bins, w = rows[keep], bins[keep], w[keep]
        rep = np.full(len(rows), -np.inf) if tr is None else tr[rows]
        return cls(grid, idx[rows], bins + first, w, np.nan_to_num(rep, nan=-np.inf))

    def window(self, end: int, days: int, known_by: float | None = None):
        """Flat counts of the `days` days before day `end`, of incidents reported
        before `known_by` (all when None)."""
        sel = (self.day >= end - days) & (self.day < end)
        if known_by is not None:
            sel &= self.reported < known_by
        return np.bincount(
            self.cell[sel], weights=self.weight[sel], minlength=self.grid.n
        )

    def aged(self, end: int, day_weights: np.ndarray, known_by: float):
        """Flat counts weighted by age (`day_weights[0]` = the day before `end`),
        of incidents reported before `known_by`."""
        age = (end - 1) - self.day
        sel = (age >= 0) & (age < len(day_weights)) & (self.reported < known_by)
        w = self.weight[sel] * day_weights[age[sel]]
        return np.bincount(self.cell[sel], weights=w, minlength=self.grid.n)


def forecasts(
    counts: DayCounts, end: int, mask: np.ndarray, candidates=CANDIDATES
) -> np.ndarray:
    """(candidates x study cells) forecasts for the horizon starting at day `end`,
    from incidents reported before it; windows and smoothings shared."""
    grid = counts.grid
    m = np.asarray(mask, dtype=bool)
    memo: dict[tuple, np.ndarray] = {}

    def once(key: tuple, make) -> np.ndarray:
        if key not in memo:
            memo[key] = make()
        return memo[key]

    def window(days: int) -> np.ndarray:
        return once(("w", days), lambda: counts.window(end, days, known_by=end))

    def long_run(days: int, bw: float) -> np.ndarray:
        return once(
            ("k", days, bw),
            lambda: kde.density(grid, window(days), bw, m) * (HORIZON_DAYS / days),
        )

    def boost(decay: float) -> np.ndarray:
        weights = prospective.decay_weights(decay)
        return once(
            ("b", decay),
            lambda: prospective.boost_surface(grid, counts.aged(end, weights, end)),
        )

    out = np.empty((len(candidates), int(m.sum())))
    for i, c in enumerate(candidates):
        if c.method == "baseline":
            surf = window(c.window_days)
        elif c.method == "kde":
            surf = long_run(c.window_days, c.bandwidth_m)
        elif c.method == "prospective":
            aged = counts.aged(end, prospective.week_weights(c.time_band_days), end)
            surf = prospective.spread(grid, aged, c.space_band_m)
        elif c.method == "nearrepeat":
            lt = long_run(c.window_days, c.bandwidth_m)
            surf = prospective.self_exciting(
                lt,
                boost(c.decay_days),
                mask=m,
                boost_share=c.boost_share,
                total=lt.sum(),
            )
        else:
            raise ValueError(f"unknown back-test method {c.method!r}")
        out[i] = surf[m]
    return out


def _selection(
    forecast: np.ndarray, actual: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """(per row of `forecast` the weight of each used cell in its `k` highest:
    1 above the threshold, the tie's share at it; the used cells' actual counts;
    the most any `k` cells hold). Used cells: any forecast or actual above 0
    (idle cells only fill ties at 0, where they catch nothing)."""
    n = actual.size
    k = min(max(k, 1), n)
    best = float(np.partition(actual, n - k)[n - k :].sum())
    used = np.flatnonzero(forecast.any(axis=0) | (actual > 0))
    f, a = forecast[:, used], actual[used]
    idle = n - used.size  # zero forecast, zero actual
    if used.size >= k:
        thr = np.partition(f, used.size - k, axis=1)[:, used.size - k]
    else:
        thr = np.zeros(len(f))
    above = f > thr[:, None]
    tie = f == thr[:, None]
    n_tie = tie.sum(axis=1) + np.where(thr == 0, idle, 0)
    tie_share = (k - above.sum(axis=1)) / np.maximum(n_tie, 1)
    return np.where(above, 1.0, np.where(tie, tie_share[:, None], 0.0)), a, best


def top_share_hits(
    forecast: np.ndarray, actual: np.ndarray, k: int, ref: int | None = None
) -> tuple[np.ndarray, float, np.ndarray]:
    """Per row of `forecast` (candidates x cells, values >= 0): the actual
    incidents in its `k` highest cells, ties at the threshold counted at their
    mean; the most any `k` cells hold (PEI's denominator); and per row the
    incidents in cells that row marks and row `ref` does not, or the other way
    round (sum of actual x |selection - ref's|; zeros without `ref`). With
    Poisson counts that discord is the variance of the row's hit minus ref's
    (McNemar's discordant pairs), so a challenger that differs from the
    reference in a few quiet cells cannot look clearly better on a handful of
    incidents."""
    sel, a, best = _selection(forecast, actual, k)
    disc = np.abs(sel - sel[ref]) @ a if ref is not None else np.zeros(len(sel))
    return sel @ a, best, disc


def month_ends(as_of_end: int, months: int = MONTHS) -> list[int]:
    """The first days of the back-test's horizons, oldest first: the last one
    ends with `as_of_end` (the day after as-of)."""
    return [as_of_end - HORIZON_DAYS * k for k in range(months, 0, -1)]


def score_months(
    prepared: pl.DataFrame,
    grid: Grid,
    mask: np.ndarray,
    ends: list[int],
    *,
    share: float = SHARE,
    candidates=CANDIDATES,
) -> pl.DataFrame:
    """One row per horizon start and candidate: `hit`, `total`, `best` (the
    incidents in the marked cells, in all cells, in the best cells) and
    `discord` (the incidents where its cells and the reference's differ)."""
    ref = candidates.index(REFERENCE) if REFERENCE in candidates else None
    longest = max(c.window_days for c in candidates)
    counts = DayCounts.build(grid, prepared, min(ends) - longest - 60, max(ends) + 28)
    m = np.asarray(mask, dtype=bool)
    k = max(1, int(round(share * int(m.sum()))))
    rows = []
    for end in ends:
        actual = counts.window(end + HORIZON_DAYS, HORIZON_DAYS)[m]
        if actual.sum() <= 0:
            continue
        fc = forecasts(counts, end, m, candidates)
        hit, best, disc = top_share_hits(fc, actual, k, ref)
        rows += [
            {
                "end": end,
                "candidate": i,
                "hit": float(h),
                "total": float(actual.sum()),
                "best": best,
                "discord": float(d),
            }
            for i, (h, d) in enumerate(zip(hit, disc, strict=True))
        ]
    schema = {
        "end": pl.Int64,
        "candidate": pl.Int64,
        "hit": pl.Float64,
        "total": pl.Float64,
        "best": pl.Float64,
        "discord": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


def rank(
    scores: pl.DataFrame,
    *,
    share: float = SHARE,
    candidates=CANDIDATES,
    z_min: float = Z_MIN,
) -> pl.DataFrame:
    """Pooled figures per candidate over the horizons of `scores`, the chosen
    one first (rank 1): method, settings (JSON), pai, pei, hit, months,
    incidents, ceiling_pai, and `z`, how clearly it beats the long-run count
    (`REFERENCE`): the smaller of two z. Over the months: the mean of its
    monthly hit-share gains over the reference's, in standard errors of that
    mean (a method must win month after month, not by one lucky month). Over
    the incidents: its summed gain in hits over the square root of the
    discordant incidents (`discord`; six calm months of a rare target can agree
    by chance on a gain of a few incidents). Only the reference and candidates
    with `z >= z_min` may be chosen; among them the highest PAI, then PEI."""
    ref = candidates.index(REFERENCE) if REFERENCE in candidates else 0
    gain = (
        scores.with_columns((pl.col("hit") / pl.col("total")).alias("h"))
        .with_columns(
            (pl.col("h") - pl.col("h").filter(pl.col("candidate") == ref).first())
            .over("end")
            .alias("d")
        )
        .with_columns(
            (pl.col("hit") - pl.col("hit").filter(pl.col("candidate") == ref).first())
            .over("end")
            .alias("gain")
        )
        .group_by("candidate")
        .agg(
            (
                pl.col("d").mean()
                / (pl.col("d").std() / pl.len().sqrt()).clip(lower_bound=1e-12)
            ).alias("z_months"),
            (
                pl.col("gain").sum()
                / pl.col("discord").sum().sqrt().clip(lower_bound=1e-12)
            ).alias("z_counts"),
        )
        .with_columns(pl.min_horizontal("z_months", "z_counts").alias("z"))
        .drop("z_months", "z_counts")
    )
    pooled = (
        scores.group_by("candidate")
        .agg(
            (pl.col("hit").sum() / pl.col("total").sum()).alias("hit"),
            (pl.col("hit").sum() / pl.col("best").sum()).alias("pei"),
            (pl.col("best").sum() / pl.col("total").sum() / share).alias("ceiling_pai"),
            pl.len().alias("months"),
            pl.col("total").sum().alias("incidents"),
        )
        .join(gain, on="candidate")
        .with_columns(
            (pl.col("hit") / share).alias("pai"),
            pl.when(pl.col("candidate") == ref)
            .then(0.0)
            .otherwise(pl.col("z").fill_nan(0.0).fill_null(0.0))
            .alias("z"),
        )
        .with_columns(
            ((pl.col("candidate") == ref) | (pl.col("z") >= z_min)).alias("eligible")
        )
        .sort(
            ["eligible", "pai", "pei", "candidate"],
            descending=[True, True, True, False],
        )
        .with_row_index("rank", offset=1)
    )
    names = [candidates[i].method for i in pooled["candidate"]]
    settings = [json.dumps(candidates[i].settings()) for i in pooled["candidate"]]
    return pooled.with_columns(
        pl.Series("method", names), pl.Series("settings", settings)
    ).select(
        "rank",
        "candidate",
        "method",
        "settings",
        "pai",
        "pei",
        "hit",
        "months",
        "incidents",
        "ceiling_pai",
        "z",
    )


def backtest(
    prepared: pl.DataFrame,
    grid: Grid,
    mask: np.ndarray,
    as_of_end: int,
    groups: dict[str, tuple[str, ...] | None],
    *,
    months: int = MONTHS,
) -> pl.DataFrame:
    """The nightly back-test: `rank` of every candidate for every group (name ->
    its target types, None for all) over the `months` horizons ending at
    `as_of_end`; groups without an incident in any horizon are left out."""
    ends = month_ends(as_of_end, months)
    out = []
    for group, types in groups.items():
        frame = (
            prepared
            if types is None
            else prepared.filter(pl.col("target_type").is_in(types))
        )
        scores = score_months(frame, grid, mask, ends)
        if scores.height:
            out.append(rank(scores).with_columns(pl.lit(group).alias("target_group")))
    if not out:
        return pl.DataFrame()
    return pl.concat(out).select("target_group", pl.exclude("target_group"))


def measured(table: pl.DataFrame, group: str) -> dict[str, Any] | None:
    """The winner of `group` in a `backtest` table: its Params changes and its
    figures (pai, pei, hit, months, share); None when the group was not scored."""
    rows = table.filter((pl.col("target_group") == group) & (pl.col("rank") == 1))
    if rows.height == 0:
        return None
    r = rows.row(0, named=True)
    settings = json.loads(r["settings"])
    return {
        "method": r["method"],
        "settings": settings,
        "params": Candidate(r["method"], **settings).params(),
        "pai": r["pai"],
        "pei": r["pei"],
        "hit": r["hit"],
        "months": r["months"],
        "share": SHARE,
        "ceiling_pai": r["ceiling_pai"],
    }


def walk_forward(
    scores: pl.DataFrame,
    *,
    tune_months: int = MONTHS,
    share: float = SHARE,
    candidates=CANDIDATES,
    z_min: float = Z_MIN,
) -> pl.DataFrame:
    """The choice measured on months it has not seen: for each horizon of
    `scores` with `tune_months` horizons before it, the winner of those earlier
    horizons (`rank`) and its score there. Columns: end, candidate (chosen),
    hit, total, best."""
    ends = sorted(scores["end"].unique().to_list())
    rows = []
    for i in range(tune_months, len(ends)):
        past = scores.filter(pl.col("end").is_in(ends[i - tune_months : i]))
        chosen = int(
            rank(past, share=share, candidates=candidates, z_min=z_min)["candidate"][0]
        )
        rows.append(
            scores.filter((pl.col("end") == ends[i]) & (pl.col("candidate") == chosen))
        )
    return pl.concat(rows) if rows else scores.clear()


def pooled_pai(scores: pl.DataFrame, share: float = SHARE) -> float:
    """PAI of the pooled hits of `scores` (sum of hits over sum of incidents,
    over the area share)."""
    total = float(scores["total"].sum())
    return float(scores["hit"].sum()) / total / share if total > 0 else float("nan")

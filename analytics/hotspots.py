"""Hotspot analysis for crime prevention: one pure function, `analyse`, that runs
the sibling methods on an incidents frame and returns aggregated cells only.

Methods (one module each, see their docstrings for provenance and caveats):
aoristic counts on a 250 m grid in EPSG:25833 (`aoristic`, `grid`), Getis-Ord
Gi* with FDR (`gistar`, `fdr`), kernel density (`kde`), Knox test and the
near-repeat sentence (`knox`), prospective risk (`prospective`), emerging
hotspots (`emerging`), and PAI/PEI (`hit_rates`) for the evaluation.

Input: the frame of `store.load_incidents` (columns `incident_id, offence_code,
offence_group, target_type, lat, lon, occurred_from, occurred_to, ...`; naive
local timestamps). Output frames hold cells (ids derived from coordinates),
counts and scores; never incident ids, person ids, points or free text.

Periods, with `as_of` a date meaning "the end of that day": the window is the
last `window_days` (default 28) up to the end of `as_of`, the history the
`history_days` (365) before the window; counts are aoristic (an incident's weight
is spread over its occurred_from..occurred_to window).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from gjenganger.analytics import emerging as emerging_mod
from gjenganger.analytics import gistar, kde, knox, prospective
from gjenganger.analytics.aoristic import period_weight, to_days
from gjenganger.analytics.geo import to_utm33, with_xy
from gjenganger.analytics.grid import DEFAULT_CELL_M, Grid, cell_counts
from gjenganger.analytics.hotspot_tables import (
    active_cells,
    cell_table,
    target_hotspots,
    weekly_counts,
)

TARGET_GROUPS: dict[str, tuple[str, ...]] = {
    "business": ("business", "shop"),
    "construction_site": ("construction_site",),
    "cabin": ("cabin",),
    "storage_mailbox": ("storage_room", "mailbox"),
    "vehicle": ("vehicle",),
}
ALL = "all"
METHODS = ("baseline", "kde", "gistar", "prospective", "nearrepeat")
# without a back-test (`analytics.selftune`, run every night, picks the method and
# its settings): prospective (near-repeat weighted, blended with the year's
# density) ties KDE within 0.5 % of PAI on the demo data and reacts to near repeats
DEFAULT_METHOD = "prospective"
RISK_FLOOR = 1e-4  # expected incidents per cell and horizon below which risk is 0
REQUIRED = ("target_type", "lat", "lon", "occurred_from", "occurred_to")


@dataclass(frozen=True)
class Params:
    """Every tunable of the analysis, with its default."""

    cell_m: float = DEFAULT_CELL_M
    window_days: int = 28
    history_days: int = 365
    horizon_days: int = 28
    band_m: float | None = None  # Gi* distance band; None: 2 cells
    kde_bandwidth_m: float | None = None  # None: 1 cell
    k_min: int = 5  # disclosure control: smaller counts are not shown
    slider_weeks: int = 26
    knox_n_perm: int = 99
    knox_max_events: int = 3000
    long_term_weight: float = 0.8
    method: str = DEFAULT_METHOD
    seed: int = 0
    # the forecast's own settings (the nightly back-test sets them): long-run
    # window and bandwidth of kde / nearrepeat (None: history_days, kde_bandwidth_m),
    # prospective bands (None: from the Knox test), the self-exciting boost
    forecast_days: int | None = None
    forecast_bandwidth_m: float | None = None
    space_band_m: float | None = None
    time_band_days: float | None = None
    decay_days: float = 7.0
    boost_share: float = 0.35

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        for name in (
            "window_days",
            "history_days",
            "horizon_days",
            "k_min",
            "slider_weeks",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if not self.cell_m > 0:
            raise ValueError(f"cell_m must be positive metres, got {self.cell_m!r}")


@dataclass
class Result:
    """What `analyse` found: aggregated cells, weekly series, near-repeat figures."""

    grid: Grid
    mask: np.ndarray
    params: Params
    as_of: dt.date
    window: tuple[dt.date, dt.date]  # first and last day of the window
    history: tuple[dt.date, dt.date]
    target_group: str
    n_incidents: int
    cells: pl.DataFrame
    by_target: pl.DataFrame
    weekly: pl.DataFrame
    knox: pl.DataFrame
    near_repeat: knox.NearRepeat
    bands: dict[str, float] = field(default_factory=dict)
    # the back-test's figure of the forecast's method (`analytics.selftune`): method,
    # settings, pai/pei/hit at the area share, months scored; None when not measured
    measured: dict[str, Any] | None = None


def target_types(group: str) -> tuple[str, ...] | None:
    """Contract target types of a prevention group (None for "all"); a plain
    contract target type stands for itself."""
    from gjenganger.data_schema.contract import TARGET_TYPES

    if group == ALL:
        return None
    if group in TARGET_GROUPS:
        return TARGET_GROUPS[group]
    if group in TARGET_TYPES:
        return (group,)
    raise ValueError(
        f"target type {group!r} is not known; use one of "
        f"{[ALL, *TARGET_GROUPS]} or a contract target type {list(TARGET_TYPES)}"
    )


def prepare(incidents: pl.DataFrame) -> pl.DataFrame:
    """Placed incidents with `x, y` (EPSG:25833), `t0, t1` (days since 1970),
    `tr` (the report's instant, days; NaN when the frame has no `reported_at`: the
    back-test's "known by then") and `target_group`; only the columns the analysis
    needs (no ids, no text)."""
    if not isinstance(incidents, pl.DataFrame):
        raise ValueError(
            f"incidents must be a polars DataFrame, got {type(incidents).__name__}"
        )
    missing = [c for c in REQUIRED if c not in incidents.columns]
    if missing:
        raise ValueError(
            f"incidents frame lacks columns {missing}; got {incidents.columns}, "
            f"needs {list(REQUIRED)} (as store.load_incidents returns)"
        )
    for c in ("occurred_from", "occurred_to"):
        if not isinstance(incidents.schema[c], pl.Datetime | pl.Date):
            raise ValueError(f"column {c} must be Datetime, got {incidents.schema[c]}")
    lookup = {t: g for g, ts in TARGET_GROUPS.items() for t in ts}
    cols = ["target_type", "lat", "lon", "occurred_from", "occurred_to"]
    if "offence_group" in incidents.columns:
        cols.append("offence_group")
    reported = "reported_at" in incidents.columns and isinstance(
        incidents.schema["reported_at"], pl.Datetime | pl.Date
    )
    if reported:
        cols.append("reported_at")
    f = with_xy(incidents.select(cols))
    t0 = to_days(f["occurred_from"])
    t1 = to_days(f["occurred_to"])
    t1 = np.maximum(
        t0, t1
    )  # a reversed window (quarantined upstream) counts at its start
    tr = to_days(f["reported_at"]) if reported else np.full(f.height, np.nan)
    return f.drop(
        "occurred_from", "occurred_to", "reported_at", strict=False
    ).with_columns(
        pl.Series("t0", t0),
        pl.Series("t1", t1),
        pl.Series("tr", tr),
        pl.col("target_type")
        .replace_strict(lookup, default="other")
        .alias("target_group"),
    )


def is_prepared(frame: pl.DataFrame) -> bool:
    """True for the output of `prepare` (reusable across target groups)."""
    return isinstance(frame, pl.DataFrame) and {
        "x",
        "y",
        "t0",
        "t1",
        "target_group",
    } <= set(frame.columns)


def study_grid(
    prepared: pl.DataFrame, cell_m: float = DEFAULT_CELL_M, study_area: Any = None
) -> tuple[Grid, np.ndarray]:
    """Grid and study-area mask: the cells whose centre lies in `study_area`
    (shapely geometries in WGS84 lon/lat) or, without it, every cell of the
    box around the incidents."""
    if study_area is not None:
        import shapely

        geoms = [
            shapely.transform(g, lambda c: np.column_stack(to_utm33(c[:, 1], c[:, 0])))
            for g in study_area
        ]
        xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
        grid = Grid.covering(xmin, ymin, xmax, ymax, cell_m)
        return grid, grid.mask_from_polygons(geoms)
    if prepared.height == 0:
        raise ValueError(
            "no incidents with coordinates and no study area: nothing to grid"
        )
    x, y = prepared["x"].to_numpy(), prepared["y"].to_numpy()
    grid = Grid.covering(x.min(), y.min(), x.max(), y.max(), cell_m)
    return grid, np.ones(grid.n, dtype=bool)


def _end_day(as_of: dt.date) -> float:
    return float(to_days(dt.datetime.combine(as_of, dt.time()) + dt.timedelta(days=1)))


def forecast(
    method: str,
    grid: Grid,
    mask: np.ndarray,
    prepared: pl.DataFrame,
    as_of: dt.date,
    params: Params = Params(),
    bands: dict[str, float] | None = None,
) -> np.ndarray:
    """Flat forecast surface (higher = more expected) of `method` for the
    `horizon_days` after the end of `as_of`, from incidents known by then.

    baseline: the previous `horizon_days`' counts; kde: density of the last
    `forecast_days` (default the history year); gistar: Gi* z of the history year;
    prospective: `prospective.forecast` (bands `space_band_m`, `time_band_days`
    when set, else from the Knox test); nearrepeat: the kde surface with a
    self-exciting boost (`prospective.self_exciting`).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    end = _end_day(as_of)
    x, y = prepared["x"].to_numpy(), prepared["y"].to_numpy()
    t0, t1 = prepared["t0"].to_numpy(), prepared["t1"].to_numpy()
    p = params
    if method == "baseline":
        return (
            cell_counts(grid, x, y, period_weight(t0, t1, end - p.horizon_days, end))
            * mask
        )
    if method == "gistar":
        hist = cell_counts(grid, x, y, period_weight(t0, t1, end - p.history_days, end))
        return gistar.hotspots(grid, hist, mask, p.band_m or 2 * grid.cell_m)["z"]
    days = p.forecast_days or p.history_days
    bw = p.kde_bandwidth_m if p.forecast_bandwidth_m is None else p.forecast_bandwidth_m
    if method in ("kde", "nearrepeat"):
        hist = cell_counts(grid, x, y, period_weight(t0, t1, end - days, end))
        long_run = kde.density(grid, hist, bw, mask) * (p.horizon_days / days)
        if method == "kde":
            return long_run
        boost = prospective.aged_counts(
            grid, x, y, t0, t1, end, prospective.decay_weights(p.decay_days)
        )
        return prospective.self_exciting(
            long_run,
            prospective.boost_surface(grid, boost),
            mask=mask,
            boost_share=p.boost_share,
            total=long_run.sum(),
        )
    if p.space_band_m is not None and p.time_band_days is not None:
        bands = {"space_band_m": p.space_band_m, "time_band_days": p.time_band_days}
    b = bands or knox_bands(prepared, as_of, p)[1]
    return prospective.forecast(
        grid,
        x,
        y,
        t0,
        t1,
        end,
        mask=mask,
        space_band_m=b["space_band_m"],
        time_band_days=b["time_band_days"],
        history_days=days,
        horizon_days=p.horizon_days,
        long_term_weight=p.long_term_weight,
        bandwidth_m=bw,
    )


def knox_bands(
    prepared: pl.DataFrame, as_of: dt.date, params: Params = Params()
) -> tuple[pl.DataFrame, dict[str, float], knox.NearRepeat]:
    """Knox table over the history year, and the prospective bands it implies
    (the near-repeat distance and days; Bowers et al.'s 400 m / 56 days when the
    test finds nothing)."""
    end = _end_day(as_of)
    t0, t1 = prepared["t0"].to_numpy(), prepared["t1"].to_numpy()
    mid = (t0 + t1) / 2
    inside = (mid >= end - params.history_days) & (mid < end)
    table = knox.knox_table(
        prepared["x"].to_numpy()[inside],
        prepared["y"].to_numpy()[inside],
        mid[inside],
        n_perm=params.knox_n_perm,
        seed=params.seed,
        max_events=params.knox_max_events,
    )
    nr = knox.near_repeat(table, n_events=int(inside.sum()))
    if nr.found:
        bands = {
            "space_band_m": max(nr.distance_m, grid_half(params)),
            "time_band_days": max(nr.days, 7.0),
        }
    else:
        bands = {
            "space_band_m": prospective.DEFAULT_SPACE_BAND_M,
            "time_band_days": prospective.DEFAULT_TIME_BAND_DAYS,
        }
    return table, bands, nr


def grid_half(params: Params) -> float:
    """Half a grid cell in metres: the smallest near-repeat distance band."""
    return params.cell_m / 2


def _group_filter(prepared: pl.DataFrame, group: str) -> pl.DataFrame:
    types = target_types(group)
    return (
        prepared
        if types is None
        else prepared.filter(pl.col("target_type").is_in(types))
    )


def analyse(
    incidents: pl.DataFrame,
    as_of: dt.date,
    *,
    target_group: str = ALL,
    params: Params = Params(),
    study_area: Any = None,
    grid: tuple[Grid, np.ndarray] | None = None,
) -> Result:
    """Hotspots of `target_group` (`"all"`, a key of `TARGET_GROUPS`, or a
    contract target type) as of the end of `as_of`.

    `study_area`: shapely geometries (WGS84) bounding the grid (e.g. the region's
    municipalities); `grid`: a (Grid, mask) to reuse instead.
    """
    if not isinstance(as_of, dt.date):
        raise ValueError(f"as_of must be a datetime.date, got {as_of!r}")
    prepared_all = incidents if is_prepared(incidents) else prepare(incidents)
    g, mask = grid or study_grid(prepared_all, params.cell_m, study_area)
    p = params
    end = _end_day(as_of)
    w_start = end - p.window_days
    h_start = w_start - p.history_days
    prepared, (x, y, t0, t1) = _known(_group_filter(prepared_all, target_group), end)

    recent = cell_counts(g, x, y, period_weight(t0, t1, w_start, end)) * mask
    previous = cell_counts(g, x, y, period_weight(t0, t1, h_start, w_start)) * mask
    band = p.band_m or 2 * g.cell_m
    active = active_cells(g, mask, prepared_all, h_start, end)
    gi = gistar.hotspots(g, recent, active, band, min_count=p.k_min)
    dens = kde.density(g, recent, p.kde_bandwidth_m, mask)
    em = emerging_mod.emerging(
        g,
        recent,
        previous,
        window_days=p.window_days,
        history_days=p.history_days,
        mask=active,
        band_m=band,
        min_count=p.k_min,
    )
    table, bands, nr = knox_bands(prepared, as_of, p)
    if p.space_band_m is not None and p.time_band_days is not None:
        bands = {"space_band_m": p.space_band_m, "time_band_days": p.time_band_days}
    risk = _risk(g, mask, prepared, as_of, p, bands)
    cells = cell_table(g, mask, recent, previous, risk, gi, dens, em)

    by_target = target_hotspots(
        g,
        active,
        prepared_all.filter(pl.col("t0") < end),
        TARGET_GROUPS,
        w_start,
        end,
        band,
        p.k_min,
    )
    weekly = weekly_counts(g, mask, x, y, t0, t1, end, p.slider_weeks)
    window = (as_of - dt.timedelta(days=p.window_days - 1), as_of)
    history = (
        window[0] - dt.timedelta(days=p.history_days),
        window[0] - dt.timedelta(days=1),
    )
    return Result(
        g,
        mask,
        p,
        as_of,
        window,
        history,
        target_group,
        int(x.size),
        cells,
        by_target,
        weekly,
        table,
        nr,
        {**bands, "gi_band_m": band},
    )


def _known(
    prepared: pl.DataFrame, end: float
) -> tuple[pl.DataFrame, tuple[np.ndarray, ...]]:
    """The incidents that began before `end`, and their x, y, t0, t1 arrays (the
    store already filters by report date; this guards against the future)."""
    x, y = prepared["x"].to_numpy(), prepared["y"].to_numpy()
    t0, t1 = prepared["t0"].to_numpy(), prepared["t1"].to_numpy()
    known = t0 < end
    x, y, t0, t1 = x[known], y[known], t0[known], t1[known]
    return prepared.filter(pl.Series(known)), (x, y, t0, t1)


def _risk(
    g: Grid,
    mask: np.ndarray,
    prepared: pl.DataFrame,
    as_of: dt.date,
    p: Params,
    bands: dict[str, float],
) -> np.ndarray:
    """The forecast of `p.method` inside the mask, as expected incidents: no
    negative risk, and kernel tails below `RISK_FLOOR` set to zero."""
    risk = forecast(p.method, g, mask, prepared, as_of, p, bands)
    risk = np.where(mask, risk, 0.0)
    if p.method == "gistar":  # z is not a count; no negative risk
        risk = np.clip(risk, 0, None)
    return np.where(risk >= RISK_FLOOR, risk, 0.0)  # kernel tails: effectively zero


def with_params(params: Params, **changes: Any) -> Params:
    """A copy of `params` with `changes` (validated)."""
    return replace(params, **changes)

"""The stored all-targets hotspot analysis: written by the hotspot_cells step, read
back by the combined ("all") prevention map instead of analysing again.

One `analytics.hotspots.Result` is kept in four tables, each tagged with `as_of`
and replaced by every run (places only, no case or person ids):

- `hotspot_cells`: the cells (the researchers' table, see `flows/steps/research`);
- `hotspot_target_cells`: the cells Gi* classes for each target group alone;
- `hotspot_weekly`: aoristic counts per week and cell (the map's weekly slider);
- `hotspot_run`: one row: window, history, incidents, the near-repeat figure, the
  prospective bands and the parameters (JSON).

Beside them, `hotspot_backtest` keeps every night's back-test (`analytics.selftune`:
each forecast method and its settings scored per target group; rank 1 is the
method the maps use), one set of rows per `as_of`.

Cells are keyed by their stable `cell_id`; `load_result` turns ids back into
indexes of the study grid it is given. The Knox table itself is not kept (no page
draws it): a loaded result carries the near-repeat figure that sums it up.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from gjenganger.analytics import hotspots as hs
from gjenganger.analytics.grid import Grid
from gjenganger.analytics.knox import NearRepeat
from gjenganger.errors import UserError
from gjenganger.store import frames
from gjenganger.store.db import table_exists

TABLES = (
    "hotspot_cells",
    "hotspot_target_cells",
    "hotspot_weekly",
    "hotspot_run",
    "hotspot_backtest",
)
#: fields of `NearRepeat`, stored as `near_repeat_<field>`
_NEAR_REPEAT = tuple(f.name for f in dataclasses.fields(NearRepeat))
_BANDS = ("space_band_m", "time_band_days", "gi_band_m")


def _ids(frame: pl.DataFrame, grid: Grid) -> pl.DataFrame:
    """`frame` with its grid index `cell` replaced by the stable `cell_id`."""
    ids = grid.cell_ids(frame["cell"].to_numpy()) if frame.height else []
    return frame.with_columns(cell=pl.Series(ids, dtype=pl.String)).rename(
        {"cell": "cell_id"}
    )


def _run_row(result: hs.Result) -> pl.DataFrame:
    """The one row of `hotspot_run` describing `result`."""
    nr = result.near_repeat
    row: dict[str, Any] = {
        "as_of": result.as_of,
        "target_group": result.target_group,
        "n_incidents": result.n_incidents,
        "window_start": result.window[0],
        "window_end": result.window[1],
        "history_start": result.history[0],
        "history_end": result.history[1],
        **{f"near_repeat_{k}": getattr(nr, k) for k in _NEAR_REPEAT},
        **{k: float(result.bands[k]) for k in _BANDS},
        "params": json.dumps(dataclasses.asdict(result.params)),
    }
    return pl.DataFrame([row], schema_overrides={"n_incidents": pl.Int64})


def save_result(con, result: hs.Result) -> int:
    """Replace the stored analysis with `result` (all four tables); cells written.

    Called by the hotspot_cells step inside its transaction, so the tables always
    describe one and the same run.
    """
    day = pl.lit(result.as_of).alias("as_of")
    cells = result.cells.drop("cell").with_columns(day)
    n = frames.replace_rows(con, "hotspot_cells", cells)
    targets = _ids(result.by_target, result.grid).select(
        "target_group", "cell_id", "count", "gi_z", "gi_bin", day
    )
    frames.replace_rows(con, "hotspot_target_cells", targets)
    weekly = _ids(result.weekly, result.grid).select(
        "week", "cell_id", "count", "week_start", day
    )
    frames.replace_rows(con, "hotspot_weekly", weekly)
    frames.replace_rows(con, "hotspot_run", _run_row(result))
    return n


def save_backtest(con, as_of: dt.date, table: pl.DataFrame) -> int:
    """Replace the back-test rows of `as_of` with `table` (`selftune.backtest`)."""
    from gjenganger.analytics.selftune import SHARE

    rows = (
        table.rename({"months": "months_scored", "z": "z_vs_longrun"})
        .drop("candidate")
        .with_columns(
            pl.lit(as_of).alias("as_of"),
            pl.lit(SHARE).alias("area_share"),
            pl.col("rank").cast(pl.Int32),
            pl.col("months_scored").cast(pl.Int32),
        )
        if table.height
        else pl.DataFrame()
    )
    return frames.replace_rows(con, "hotspot_backtest", rows, as_of)


def load_backtest(con, as_of: dt.date) -> pl.DataFrame | None:
    """The back-test rows stored for `as_of` in `selftune.backtest`'s columns
    (`measured` reads them); None when that night stored none."""
    if not table_exists(con, "hotspot_backtest"):
        return None
    rows = con.execute(
        'select target_group, "rank", method, settings, pai, pei, hit, '
        "months_scored as months, incidents, ceiling_pai, z_vs_longrun as z "
        'from hotspot_backtest where as_of = ? order by target_group, "rank"',
        [as_of],
    ).pl()
    return rows if rows.height else None


def _cells(con, table: str, grid: Grid, order: tuple[Any, ...]) -> pl.DataFrame:
    """A stored cell table without `as_of`, `cell_id` turned back into the grid
    index `cell` (first column), sorted by `order` as the analysis sorts it."""
    frame = con.execute(f"select * exclude (as_of) from {table}").pl()
    east = pl.col("cell_id").str.extract(r"_E(-?\d+)_N", 1).cast(pl.Float64)
    north = pl.col("cell_id").str.extract(r"_N(-?\d+)$", 1).cast(pl.Float64)
    ix = ((east - grid.x0) / grid.cell_m).round(0).cast(pl.Int64)
    iy = ((north - grid.y0) / grid.cell_m).round(0).cast(pl.Int64)
    return (
        frame.with_columns((iy * grid.nx + ix).alias("cell"))
        .select("cell", pl.exclude("cell"))
        .sort(*order)
    )


def _run(con, as_of: dt.date) -> dict[str, Any]:
    """The stored run's row; a one-line `UserError` when none is stored for `as_of`."""
    missing = UserError(
        f"no stored hotspot analysis as of {as_of}; run the hotspot_cells step "
        "(the nightly flow) for that date first"
    )
    if not table_exists(con, "hotspot_run"):
        raise missing
    rows = con.execute(
        "select * from hotspot_run where as_of = ? and target_group = ?",
        [as_of, hs.ALL],
    ).pl()
    if rows.height != 1:
        raise missing
    return rows.row(0, named=True)


def load_result(
    con,
    as_of: dt.date,
    study_grid: Callable[[float], tuple[Grid, np.ndarray]],
) -> hs.Result:
    """The all-targets analysis the hotspot_cells step stored for `as_of`.

    `study_grid(cell_m)` gives the (grid, mask) the analysis ran on; the stored
    cells are placed on it. Equal to the `Result` that was saved, except that the
    Knox table is empty (see the module docstring).
    """
    run = _run(con, as_of)
    params = hs.Params(**json.loads(run["params"]))
    grid, mask = study_grid(params.cell_m)
    group_order = {g: i for i, g in enumerate(hs.TARGET_GROUPS)}
    by_group = pl.col("target_group").replace_strict(group_order, return_dtype=pl.Int64)
    targets = _cells(con, "hotspot_target_cells", grid, (by_group, "cell"))
    weekly = _cells(con, "hotspot_weekly", grid, ("week", "cell"))
    return hs.Result(
        grid=grid,
        mask=mask,
        params=params,
        as_of=run["as_of"],
        window=(run["window_start"], run["window_end"]),
        history=(run["history_start"], run["history_end"]),
        target_group=run["target_group"],
        n_incidents=run["n_incidents"],
        cells=_cells(con, "hotspot_cells", grid, ("cell",)),
        by_target=targets.select("target_group", "cell", "count", "gi_z", "gi_bin"),
        weekly=weekly.select("week", "cell", "count", "week_start"),
        knox=pl.DataFrame(),
        near_repeat=NearRepeat(**{k: run[f"near_repeat_{k}"] for k in _NEAR_REPEAT}),
        bands={k: run[k] for k in _BANDS},
    )

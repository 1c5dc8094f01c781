"""Hotspot step: incidents -> `analytics.hotspots.analyse` -> offline maps.

The nightly flow publishes the prevention bundle with `publish_hotspot_map`, one
task per group: `hotspots/<group>.html` for "all" and each target group
(business, construction_site, cabin, storage_mailbox, vehicle), then
`write_hotspot_index` links them from `hotspots/index.html`; all self-contained (no
network). The "all" map draws the analysis the hotspot_cells step stored earlier
in the night (`store.prevention`); each target group is analysed here. Every map's
forecast is the method the night's back-test chose for its group (stored in
`hotspot_backtest`, see `analytics.selftune`), and the map and the index state its
measured figure. `analyse` and `write_map` serve the `gjenganger hotspots`
command. Only aggregated cells leave this step. The basemap is the configured
tile source (`store.settings.tile_source`: `--tiles-url` or
`$GJENGANGER_TILES_URL`), else the offline outline map.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from gjenganger.analytics import hotspots as hs
from gjenganger.analytics.grid import Grid
from gjenganger.data_schema import GEODATA
from gjenganger.errors import UserError
from gjenganger.maps.hotspots import (
    build_map,
    measured_text,
    near_repeat_text,
    period_text,
    render_index_page,
)
from gjenganger.maps.offline import assert_no_remote_refs, render_offline
from gjenganger.store import frames, prevention, publish, settings

GROUPS = (hs.ALL, *hs.TARGET_GROUPS)


@cache
def study_area() -> tuple[Any, ...]:
    """The region's municipality polygons (WGS84 shapely geometries)."""
    from shapely.geometry import shape

    fc = json.loads((GEODATA / "trondheim_region.geojson").read_text(encoding="utf-8"))
    return tuple(shape(f["geometry"]) for f in fc["features"])


@cache
def study_grid(cell_m: float) -> tuple[Grid, np.ndarray]:
    """The grid over the region and its study-area mask, built once per process
    (the same for every group's analysis, and for the stored one)."""
    return hs.study_grid(pl.DataFrame(), cell_m, study_area())


def load(con, as_of: dt.date):
    """Incidents as known at the end of `as_of` (with coordinates or not)."""
    return frames.load_incidents(con, as_of=as_of)


def run_backtest(prepared: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """The back-test of every forecast per group (`selftune.backtest`) on the
    region's grid, over the six months before the end of `day`."""
    from gjenganger.analytics import selftune

    grid, mask = study_grid(hs.Params().cell_m)
    groups = {g: hs.target_types(g) for g in GROUPS}
    return selftune.backtest(prepared, grid, mask, int(hs._end_day(day)), groups)


def tuned(
    table: pl.DataFrame | None, group: str, params: hs.Params | None = None
) -> tuple[hs.Params, dict[str, Any] | None]:
    """The parameters of `group`'s map from a back-test table: `params` (the
    defaults if None) with its winner's method and settings, and the winner's
    figure; `params` as given and None when the group was not scored."""
    from gjenganger.analytics import selftune

    params = params or hs.Params()
    measured = None if table is None else selftune.measured(table, group)
    if measured is None:
        return params, None
    return hs.with_params(params, **measured["params"]), measured


def stored_tuning(
    con, as_of: dt.date | None, group: str, params: hs.Params | None = None
) -> tuple[hs.Params, dict[str, Any] | None]:
    """`tuned` on the back-test the night of `as_of` (None: the newest data date)
    stored: the forecast it chose for `group`, as the published map uses;
    `params` as given and None when no back-test of that date scored the group
    (the step did not run for it, or a contract target type)."""
    day = frames.resolve_as_of(con, as_of)
    return tuned(prevention.load_backtest(con, day), group, params)


def analyse(
    con,
    as_of: dt.date | None = None,
    target_group: str = hs.ALL,
    params: hs.Params | None = None,
    incidents=None,
    grid=None,
) -> hs.Result:
    """Run the analysis for one target group (reads the store unless given
    `incidents`)."""
    day = frames.resolve_as_of(con, as_of)
    params = params or hs.Params()
    try:
        hs.target_types(target_group)
        frame = load(con, day) if incidents is None else incidents
        prepared = frame if hs.is_prepared(frame) else hs.prepare(frame)
        result = hs.analyse(
            prepared,
            day,
            target_group=target_group,
            params=params,
            study_area=None if grid else study_area(),
            grid=grid,
        )
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    if target_group != hs.ALL:  # the all-targets map counts its own (stored alike)
        result.bands["gi_cells_tested"] = cells_tested(result, prepared)
    return result


def cells_tested(result: hs.Result, prepared: pl.DataFrame) -> int:
    """How many cells the Gi* test of `result` compared: the active cells (an
    incident of any kind in the window or the history year), which a map with no
    hot cell names in its empty state."""
    from gjenganger.analytics.aoristic import to_days
    from gjenganger.analytics.hotspot_tables import active_cells

    day_after = dt.datetime.combine(result.as_of, dt.time()) + dt.timedelta(days=1)
    end = float(to_days(day_after))
    start = end - result.params.window_days - result.params.history_days
    active = active_cells(result.grid, result.mask, prepared, start, end)
    return int(active.sum())


def write_map(
    result: hs.Result, path: Path, lang: str = "nb", tiles_url: str | None = None
) -> int:
    """Render one map to `path` on the configured basemap (`tiles_url`, else
    `$GJENGANGER_TILES_URL`, else the offline outlines); its size in bytes."""
    tiles = settings.tile_source(tiles_url)
    m = build_map(
        result,
        lang,
        tiles_url=tiles and tiles["url"],
        tiles_attribution=tiles and tiles["attribution"],
        tiles_name=tiles and tiles["name"],
    )
    page = render_offline(m, allow_online_tiles=bool(tiles))
    publish.write_text(path, page)
    return len(page.encode("utf-8"))


def publish_hotspot_map(
    con, out_dir: str | Path, as_of: dt.date | None, group: str, lang: str = "nb"
) -> dict[str, Any]:
    """Write `out_dir/hotspots/<group>.html`; its summary entry and index row.

    One unit of the prevention bundle, so the nightly flow can map target groups
    over task workers. The "all" map is the stored analysis of the hotspot_cells
    step (which must have run for `as_of`); a target group is analysed here with
    the default parameters. Holds places and counts only.
    """
    day = frames.resolve_as_of(con, as_of)
    folder = publish.make_folder(Path(out_dir) / "hotspots")
    params, measured = stored_tuning(con, day, group)
    if group == hs.ALL:
        res = prevention.load_result(con, day, study_grid)
    else:
        res = analyse(con, day, group, params, grid=study_grid(params.cell_m))
    res.measured = measured
    name = f"{group}.html"
    return {
        "group": group,
        "file": f"hotspots/{name}",
        "bytes": write_map(res, folder / name, lang),
        "hot_cells": int(res.cells["is_hot"].sum()),
        "near_repeat": near_repeat_text(res, lang),
        "bands": res.bands,
        "window_total": float(res.cells["count"].sum()),
        "period": period_text(res, lang),
        "measured": measured,
        "measured_text": measured_text(res, lang),
    }


def write_hotspot_index(
    out_dir: str | Path, as_of: dt.date, maps: list[dict[str, Any]], lang: str = "nb"
) -> dict[str, Any]:
    """Write `out_dir/hotspots/index.html` linking the maps; the step summary."""
    folder = Path(out_dir) / "hotspots"
    rows = [
        (
            m["group"],
            f"{m['group']}.html",
            m["hot_cells"],
            m["window_total"],
            m["near_repeat"],
            m["period"],
            m.get("measured_text") or "",
        )
        for m in maps
    ]
    index = render_index_page(rows, as_of, lang, hs.Params().k_min)
    assert_no_remote_refs(index)
    publish.write_text(folder / "index.html", index)
    keys = ("file", "bytes", "hot_cells", "near_repeat", "bands", "measured")
    return {
        "as_of": as_of.isoformat(),
        "folder": str(folder),
        "maps": {m["group"]: {k: m.get(k) for k in keys} for m in maps},
        "index": "hotspots/index.html",
    }

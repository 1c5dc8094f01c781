"""The `hotspot_cells` table: the latest all-targets hotspot grid, for researchers.

One row per grid cell that had incidents, a hot/cold class, an emerging class or a
forecast risk; places only, no case or person ids.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from gjenganger.store import frames


def build_hotspot_cells(con, as_of: dt.date | None = None) -> dict:
    """Analyse all targets as of `as_of` and replace `hotspot_cells`."""
    from gjenganger.analytics import hotspots as hs
    from gjenganger.flows.steps.hotspots import analyse

    day = frames.resolve_as_of(con, as_of)
    result = analyse(con, day, hs.ALL)
    cells = result.cells.drop("cell").with_columns(pl.lit(day).alias("as_of"))
    n = frames.write_frame(con, "hotspot_cells", cells)
    return {
        "as_of": day.isoformat(),
        "cells": n,
        "hot_cells": int(cells["is_hot"].sum()),
    }

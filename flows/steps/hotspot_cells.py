"""The `hotspot_cells` table: the latest all-targets hotspot grid, for researchers.

One row per grid cell that had incidents, a hot/cold class, an emerging class or a
forecast risk; places only, no case or person ids. The rest of the analysis (per
target group cells, weekly counts, the near-repeat figure) is stored beside it
(`store.prevention`), and the combined prevention map draws it from there.
"""

from __future__ import annotations

import datetime as dt

from gjenganger.store import frames, prevention


def build_hotspot_cells(con, as_of: dt.date | None = None) -> dict:
    """Analyse all targets as of `as_of` and replace the stored analysis."""
    from gjenganger.analytics import hotspots as hs
    from gjenganger.flows.steps.hotspots import analyse

    day = frames.resolve_as_of(con, as_of)
    result = analyse(con, day, hs.ALL)
    n = prevention.save_result(con, result)  # the latest run only
    return {
        "as_of": day.isoformat(),
        "cells": n,
        "hot_cells": int(result.cells["is_hot"].sum()),
    }

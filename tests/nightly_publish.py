"""The nightly flow's publishing, as tests run it: the flow's own tasks, called
through `.fn` (no Prefect server), in the flow's order, preceded by the step each
bundle reads from (`flows.tasks.publish_analyst` / `publish_prevention`, which
map the same tasks over a task runner)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gjenganger.flows import tasks
from gjenganger.flows.steps.hotspots import GROUPS


def publish_analyst(db_path, out_dir, as_of: dt.date, lang: str = "nb") -> dict:
    """The episodes step, then the analyst bundle into `out_dir`; its summary."""
    db, out = str(db_path), str(Path(out_dir))
    tasks.episodes_task.fn(db, as_of)
    ranks = tasks.ranks_task.fn(db, as_of)
    pages = [tasks.timeline_page_task.fn(db, out, as_of, r, lang) for r in ranks]
    return tasks.analyst_index_task.fn(db, out, as_of, pages, lang)


def publish_prevention(db_path, out_dir, as_of: dt.date, lang: str = "nb") -> dict:
    """The hotspot_cells step, then the prevention maps into `out_dir`; the
    summary."""
    db, out = str(db_path), str(Path(out_dir))
    tasks.hotspot_cells_task.fn(db, as_of)
    maps = [tasks.hotspot_map_task.fn(db, out, as_of, g, lang) for g in GROUPS]
    return tasks.hotspot_index_task.fn(out, as_of, maps, lang)

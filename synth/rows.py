"""The in-memory incident rows: their columns, empty rows, and the regime of a row.

Every step of the generator adds to or fills these columns (`Columns`, one NumPy
array per column); the writer turns them into the export contract's tables.
"""

from __future__ import annotations

import numpy as np

from gjenganger.data_schema.contract import TARGET_TYPES
from gjenganger.synth import modus
from gjenganger.synth.columns import Columns
from gjenganger.synth.cycles import PHASE1
from gjenganger.synth.population import MAS, MINUS, MIXED, PLUS, Population

_TARGET_INDEX = {t: i for i, t in enumerate(TARGET_TYPES)}
TEMPLATE_TARGET = np.array(
    [_TARGET_INDEX[t.target] for t in modus.TEMPLATES], dtype=np.int16
)

COLUMNS = (
    "person",
    "day",
    "regime",
    "template",
    "t",
    "forced",
    "scripted",
    "level",
    "planned",
    "participants",
    "entry",
    "target",
    "value",
    "lat",
    "lon",
    "t_from",
    "t_to",
    "t_report",
    "repeat_of",
    "card",
    "source",
    "gen",
)


def empty(n: int) -> Columns:
    """`n` incident rows with neutral values (filled in by the steps below)."""
    i64 = lambda v: np.full(n, v, dtype=np.int64)  # noqa: E731
    return Columns(
        person=i64(0),
        day=i64(0),
        regime=np.zeros(n, np.int8),
        template=np.zeros(n, np.int16),
        t=i64(0),
        forced=np.zeros(n, bool),
        scripted=np.zeros(n, bool),
        level=np.ones(n, np.int8),
        planned=np.full(n, -1, np.int8),
        participants=np.ones(n, np.int16),
        entry=np.full(n, -1, np.int16),
        target=np.zeros(n, np.int16),
        value=np.full(n, np.nan),
        lat=np.full(n, np.nan),
        lon=np.full(n, np.nan),
        t_from=i64(0),
        t_to=i64(0),
        t_report=i64(0),
        repeat_of=i64(-1),
        card=i64(-1),
        source=i64(-1),
        gen=i64(0),
    )


def regime_of(pop: Population, person: np.ndarray, state: np.ndarray) -> np.ndarray:
    """Regime index of offences by `person` on a day in `state`."""
    g = pop.group[person]
    phase = np.clip(state.astype(np.int64) - PHASE1, 0, 2)
    out = np.select(
        [g == PLUS, g == MIXED, g == MINUS, g == MAS],
        [
            phase,
            3 + phase,
            np.full_like(phase, modus.R_MINUS),
            np.full_like(phase, modus.R_MAS),
        ],
        modus.R_BACKGROUND,
    )
    return out.astype(np.int8)

"""Time windows and report times: how uncertain the offence time is to the police.

The victim can only say the offence happened between `occurred_from` and
`occurred_to` (minutes when witnessed, a night for business burglaries, weeks for
cabins) and reports it some time after: the ranges by window family below, report
delays times the world's `report_delay_factor`.
"""

from __future__ import annotations

import numpy as np

from gjenganger.synth import modus
from gjenganger.synth.clock import HOUR, Clock
from gjenganger.synth.columns import Columns
from gjenganger.synth.worlds import BASELINE, World


def _u(rng, n, lo, hi):
    return rng.uniform(lo, hi, n)


#: (before, after, report delay) ranges in hours, per window family.
WINDOWS = {
    "witnessed": ((0, 0.17), (0, 0.17), (0.05, 1.0)),
    "overnight": ((1, 9), (1, 8), (0.1, 1.0)),
    "weekend": ((2, 40), (2, 40), (0.2, 1.5)),
    "cabin": ((24, 14 * 24), (12, 14 * 24), (0.2, 3.0)),
    "days": ((1, 72), (1, 48), (0.2, 4.0)),
    "hours": ((0.5, 8), (0.5, 8), (0.1, 2.0)),
    "fraud": ((0, 6), (0, 6), (24, 240)),
}


#: Families whose offences are discovered later: reported in the daytime (07-22).
DISCOVERED = ("overnight", "weekend", "cabin", "days", "hours")


def time_windows(
    rng, rows: Columns, clock: Clock, only=None, world: World = BASELINE
) -> None:
    """`t_from <= t <= t_to <= t_report` in whole minutes, by window family.

    Report delays are the family's range times the world's `report_delay_factor`;
    offences found afterwards are reported between 07:00 and 22:00."""
    f = world.report_delay_factor
    idx = np.arange(rows.n) if only is None else np.flatnonzero(only)
    fam = np.array([t.window for t in modus.TEMPLATES], dtype=object)[
        rows["template"][idx]
    ]
    t = rows["t"][idx]
    t_from, t_to, t_rep = t.copy(), t.copy(), t.copy()
    for name, (before, after, delay) in WINDOWS.items():
        m = fam == name
        k = int(m.sum())
        if not k:
            continue
        t_from[m] = t[m] - (_u(rng, k, *before) * HOUR).astype(np.int64)
        t_to[m] = t[m] + (_u(rng, k, *after) * HOUR).astype(np.int64)
        late_h = _u(rng, k, delay[0] * f, delay[1] * f)
        t_rep[m] = t_to[m] + (late_h * HOUR).astype(np.int64)
        if name in DISCOVERED:
            hour = clock.hour_of(t_rep[m])
            late = (hour >= 22) | (hour < 7)
            day = clock.day_of(t_rep[m]) + (hour >= 22)
            morning = clock.at(day, 7 + rng.uniform(0, 2.5, k))
            t_rep[m] = np.where(late, morning, t_rep[m])
    rows["t_from"][idx] = t_from - t_from % 60
    rows["t_to"][idx] = t_to - t_to % 60 + np.where(t_to % 60 > 0, 60, 0)
    t_rep = np.maximum(t_rep, rows["t_to"][idx])
    rows["t_report"][idx] = t_rep - t_rep % 60 + np.where(t_rep % 60 > 0, 60, 0)


def arrest_windows(rng, rows: Columns, mask: np.ndarray) -> None:
    """Witnessed, caught on the spot: a few minutes' window, reported at once."""
    k = int(mask.sum())
    t = rows["t"][mask]
    rows["t_from"][mask] = t - (rng.integers(0, 11, k) * 60)
    rows["t_to"][mask] = t
    rows["t_report"][mask] = t + rng.integers(5, 46, k) * 60

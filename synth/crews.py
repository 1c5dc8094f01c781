"""Who took part: the principal offender and, for crews, co-offenders.

Co-offenders come from the principal's associates (three fellow plus/mixed users
living nearby, or two fellow minus users) when they are active that day; otherwise a
background offender stands in. The truth names every participant, so `participants`
always equals the number of truth rows of the case.
"""

from __future__ import annotations

import numpy as np

from gjenganger.synth.columns import Columns
from gjenganger.synth.cycles import States
from gjenganger.synth.population import BACKGROUND, Population


def assign(rng, pop: Population, states: States, rows: Columns) -> Columns:
    """Truth rows (gen, person, principal) of every incident in `rows`."""
    gen, person, day = rows["gen"], rows["person"], rows["day"]
    k = rows["participants"].astype(np.int64)
    parts = [Columns(gen=gen, person=person, principal=np.ones(rows.n, dtype=bool))]
    bg = np.flatnonzero(pop.group == BACKGROUND)
    available = states.available()
    d = np.clip(day, 0, available.shape[1] - 1)
    taken = [person]
    for slot in range(1, int(k.max(initial=1))):
        idx = np.flatnonzero(k > slot)
        if not len(idx):
            break
        cand = pop.associates[person[idx], rng.integers(0, 3, len(idx))]
        ok = cand >= 0
        ok[ok] = available[cand[ok], d[idx][ok]]
        for prev in taken:
            ok &= cand != prev[idx]
        if len(bg):
            sub = bg[rng.integers(0, len(bg), len(idx))]
        else:  # no background persons: crews of one
            sub = np.full(len(idx), -1)
        chosen = np.where(ok, cand, sub)
        full = np.full(rows.n, -1, dtype=np.int64)
        full[idx] = chosen
        taken.append(full)
        keep = chosen >= 0
        parts.append(
            Columns(
                gen=gen[idx][keep],
                person=chosen[keep],
                principal=np.zeros(keep.sum(), dtype=bool),
            )
        )
    crew = Columns.concat(*parts)
    order = np.lexsort((~crew["principal"], crew["gen"]))
    crew = crew.take(order)
    key = crew["gen"] * pop.n + crew["person"]
    _, first = np.unique(key, return_index=True)  # a stand-in drawn twice counts once
    return crew.take(np.sort(first))


def recount(rows: Columns, crew: Columns) -> None:
    """Set `participants` to the number of truth rows of each incident."""
    pos = np.searchsorted(rows["gen"], crew["gen"])
    rows["participants"] = np.bincount(pos, minlength=rows.n).astype(np.int16)

"""Use periods: the day-by-day state of every person who is not a background offender.

Plus and mixed users cycle (report, "Rusperioder"): an active period of 7-30 days,
split into phase 1 (3-8 days, low activity), phase 2 (5-15 days, crime every day) and
phase 3 (2-6 days, impulsive, caught), then a gap:

- `rest`: 2-7 days of collapse, no activity;
- `prison`: the period ended with an arrest on its last phase-3 day, then remand and
  prison for 1.5-10 months (inactive);
- `sober`: a drug-free spell of 2-12 months, half of them in treatment (inactive).

Blocks and gaps are drawn forwards and backwards from an anchor block, so the process
is already running when the generated period starts. Minus users and MAS persons do
not cycle: they are `steady` (active every day) apart from prison or treatment spells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gjenganger.synth.population import HEROINE, MINUS, Population

REST, PHASE1, PHASE2, PHASE3, INACTIVE, STEADY = range(6)
#: Names of the truth phases, by state code (STEADY is not a truth phase).
STATE_NAMES = ("rest", "phase1", "phase2", "phase3", "inactive", "steady")
ACTIVE_MIN, ACTIVE_MAX = 7, 30
REST_MIN, REST_MAX = 2, 7
#: Days before the episode day E at which the heroine's active period starts, and its
#: phase lengths: phase 2 covers E-4 .. E+4.
HEROINE_BLOCK = (9, (5, 9, 4))


@dataclass
class Spells:
    """Inactive spells: prison (after an arrest), sober (treatment or not)."""

    person: np.ndarray
    kind: np.ndarray  # object: prison | treatment | sober
    first_day: np.ndarray
    last_day: np.ndarray  # inclusive

    @property
    def arrest_day(self) -> np.ndarray:
        """The day of the arrest that led to a prison spell (-10**6 for other kinds)."""
        return np.where(self.kind == "prison", self.first_day - 1, -(10**6))


@dataclass
class States:
    state: np.ndarray  # (n_steady, days) int8 state codes
    spells: Spells
    forced_arrests: tuple[np.ndarray, np.ndarray]  # (person, day) inside the period

    def available(self) -> np.ndarray:
        """(n_steady, days) bool: the person may offend that day."""
        s = self.state
        return (s == PHASE1) | (s == PHASE2) | (s == PHASE3) | (s == STEADY)


def _block(rng: np.random.Generator) -> tuple[int, int, int]:
    p1 = int(rng.integers(3, 9)) if rng.random() > 0.1 else 2
    p2 = int(rng.integers(5, 16)) if rng.random() > 0.1 else int(rng.integers(3, 5))
    p3 = int(rng.integers(2, 7))
    p2 -= max(0, p1 + p2 + p3 - ACTIVE_MAX)
    return p1, p2, p3


def _gap(rng: np.random.Generator, p_prison: float, p_sober: float) -> tuple[str, int]:
    u = rng.random()
    if u < p_prison:
        return "prison", int(np.clip(rng.lognormal(np.log(110), 0.5), 45, 300))
    if u < p_prison + p_sober:
        kind = "treatment" if rng.random() < 0.5 else "sober"
        return kind, int(np.clip(rng.lognormal(np.log(150), 0.5), 60, 420))
    return "rest", int(rng.integers(REST_MIN, REST_MAX + 1))


def _cycle_person(rng, days, p_prison, p_sober, anchor, forced_block=None):
    """Segments (state_or_kind, first_day, length) covering the period."""
    segs: list[tuple[object, int, int]] = []

    def add_block(start: int, block) -> None:
        p1, p2, p3 = block
        segs.extend(
            [
                (PHASE1, start, p1),
                (PHASE2, start + p1, p2),
                (PHASE3, start + p1 + p2, p3),
            ]
        )

    d = anchor
    block = forced_block or _block(rng)
    while d < days:
        add_block(d, block)
        d += sum(block)
        kind, length = _gap(rng, p_prison, p_sober)
        segs.append((kind, d, length))
        d += length
        block = _block(rng)
    d = anchor
    while d > 0:
        kind, length = _gap(rng, p_prison, p_sober)
        d -= length
        segs.append((kind, d, length))
        if d <= 0:
            break
        block = _block(rng)
        d -= sum(block)
        add_block(d, block)
    return segs


def _steady_spells(rng, days, group):
    """(kind, first_day, length) prison/treatment spells of a minus or MAS person."""
    if group == MINUS:
        rates = (("prison", 0.4, 20, 120), ("treatment", 0.2, 21, 90))
    else:
        rates = (("treatment", 0.3, 14, 60),)
    span = days + 200
    out = []
    for kind, per_year, lo, hi in rates:
        for _ in range(rng.poisson(per_year * span / 365)):
            out.append(
                (kind, int(rng.integers(-200, days)), int(rng.integers(lo, hi + 1)))
            )
    out.sort(key=lambda x: (x[1], x[0]))
    kept, end = [], -(10**9)
    for kind, start, length in out:
        if start > end + 2:
            kept.append((kind, start, length))
            end = start + length - 1
    return kept


def simulate(
    rng: np.random.Generator, pop: Population, days: int, episode_day: int | None
) -> States:
    """The state of every non-background person on every day of the period."""
    n_steady = pop.n_steady
    state = np.full((n_steady, days), STEADY, dtype=np.int8)
    sp_person, sp_kind, sp_first, sp_last = [], [], [], []
    cycling = pop.cycling
    for i in range(n_steady):
        if cycling[i]:
            if i == HEROINE and episode_day is not None:
                anchor = episode_day - HEROINE_BLOCK[0]
                segs = _cycle_person(
                    rng, days, pop.p_prison[i], pop.p_sober[i], anchor, HEROINE_BLOCK[1]
                )
            else:
                anchor = int(rng.integers(-40, days))
                segs = _cycle_person(rng, days, pop.p_prison[i], pop.p_sober[i], anchor)
        else:
            segs = _steady_spells(rng, days, pop.group[i])
        for what, first, length in segs:
            lo, hi = max(first, 0), min(first + length, days)
            if isinstance(what, str):
                if what != "rest":
                    sp_person.append(i)
                    sp_kind.append(what)
                    sp_first.append(first)
                    sp_last.append(first + length - 1)
                code = REST if what == "rest" else INACTIVE
            else:
                code = what
            if lo < hi:
                state[i, lo:hi] = code
    spells = Spells(
        person=np.asarray(sp_person, dtype=np.int64),
        kind=np.asarray(sp_kind, dtype=object),
        first_day=np.asarray(sp_first, dtype=np.int64),
        last_day=np.asarray(sp_last, dtype=np.int64),
    )
    order = np.lexsort((spells.first_day, spells.person))
    spells = Spells(
        spells.person[order],
        spells.kind[order],
        spells.first_day[order],
        spells.last_day[order],
    )
    arrest = spells.arrest_day
    inside = (arrest >= 0) & (arrest < days)
    return States(state, spells, (spells.person[inside], arrest[inside]))

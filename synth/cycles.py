"""Use periods: the day-by-day state of every person who is not a background offender.

Plus and mixed users cycle (report, "Rusperioder"): an active period of 7-30 days,
split into phase 1 (3-8 days, low activity), phase 2 (5-15 days, crime every day) and
phase 3 (2-6 days, impulsive, caught), then a gap:

- `rest`: 2-7 days of collapse, no activity;
- `prison`: the period ended with an arrest on its last phase-3 day, then remand and
  prison for 1.5-10 months (inactive);
- `sober`: a drug-free spell of 2-12 months, half of them in treatment (inactive).

Those are the baseline world's figures; every length and share comes from the run's
`World` (`worlds.py`), lengths times its `phase_length_factor` or
`custody_length_factor`.

Blocks and gaps are drawn forwards and backwards from an anchor block, so the process
is already running when the generated period starts. Minus users and MAS persons do
not cycle: they are `steady` (active every day) apart from prison or treatment spells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gjenganger.synth.population import HEROINE, MINUS, Population
from gjenganger.synth.worlds import BASELINE, World, scaled

REST, PHASE1, PHASE2, PHASE3, INACTIVE, STEADY = range(6)
#: Names of the truth phases, by state code (STEADY is not a truth phase).
STATE_NAMES = ("rest", "phase1", "phase2", "phase3", "inactive", "steady")
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


@dataclass(frozen=True)
class Lengths:
    """A world's phase and spell lengths in days, scaled by its factors."""

    p1: tuple[int, ...]
    p2: tuple[int, ...]
    p3: tuple[int, ...]
    active_max: int
    rest: tuple[int, ...]
    short: float
    prison: tuple[float, float, float]  # median, min, max
    sober: tuple[float, float, float]
    treatment: float

    @staticmethod
    def of(world: World) -> Lengths:
        """The lengths of `world` (identical numbers at factors 1)."""
        f, c = world.phase_length_factor, world.custody_length_factor
        return Lengths(
            p1=scaled(world.phase1_days, f),
            p2=scaled(world.phase2_days, f),
            p3=scaled(world.phase3_days, f),
            active_max=scaled((world.active_max_days,), f)[0],
            rest=scaled(world.rest_days, f),
            short=world.short_phase_share,
            prison=(world.prison_days_median * c, *(d * c for d in world.prison_days)),
            sober=(world.sober_days_median * c, *(d * c for d in world.sober_days)),
            treatment=world.treatment_share,
        )


def _block(rng: np.random.Generator, ln: Lengths) -> tuple[int, int, int]:
    """Phase 1, 2 and 3 lengths of one active period."""
    (a1, b1), (a2, b2), (a3, b3) = ln.p1, ln.p2, ln.p3
    p1 = int(rng.integers(a1, b1 + 1)) if rng.random() > ln.short else max(1, a1 - 1)
    if rng.random() > ln.short:
        p2 = int(rng.integers(a2, b2 + 1))
    else:
        p2 = int(rng.integers(max(1, a2 - 2), max(2, a2)))
    p3 = int(rng.integers(a3, b3 + 1))
    p2 -= max(0, p1 + p2 + p3 - ln.active_max)
    return p1, p2, p3


def _gap(rng, p_prison: float, p_sober: float, ln: Lengths) -> tuple[str, int]:
    """What follows an active period: prison, a sober spell or a rest."""
    u = rng.random()
    if u < p_prison:
        median, lo, hi = ln.prison
        return "prison", int(np.clip(rng.lognormal(np.log(median), 0.5), lo, hi))
    if u < p_prison + p_sober:
        kind = "treatment" if rng.random() < ln.treatment else "sober"
        median, lo, hi = ln.sober
        return kind, int(np.clip(rng.lognormal(np.log(median), 0.5), lo, hi))
    return "rest", int(rng.integers(ln.rest[0], ln.rest[1] + 1))


def _cycle_person(rng, days, p_prison, p_sober, anchor, ln, forced_block=None):
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
    block = forced_block or _block(rng, ln)
    while d < days:
        add_block(d, block)
        d += sum(block)
        kind, length = _gap(rng, p_prison, p_sober, ln)
        segs.append((kind, d, length))
        d += length
        block = _block(rng, ln)
    d = anchor
    while d > 0:
        kind, length = _gap(rng, p_prison, p_sober, ln)
        d -= length
        segs.append((kind, d, length))
        if d <= 0:
            break
        block = _block(rng, ln)
        d -= sum(block)
        add_block(d, block)
    return segs


def steady_rates(world: World) -> dict[int, tuple]:
    """(kind, spells a year, min days, max days) of minus users (MINUS) and MAS
    persons (any other key), with the world's custody factors applied."""
    f, c = world.custody_rate_factor, world.custody_length_factor

    def spell(kind, per_year, days):
        return (kind, per_year * f, *scaled(days, c))

    return {
        MINUS: (
            spell("prison", world.minus_prison_per_year, world.minus_prison_days),
            spell(
                "treatment", world.minus_treatment_per_year, world.minus_treatment_days
            ),
        ),
        -1: (
            spell("treatment", world.mas_treatment_per_year, world.mas_treatment_days),
        ),
    }


def _steady_spells(rng, days, group, steady):
    """(kind, first_day, length) prison/treatment spells of a minus or MAS person."""
    rates = steady[MINUS] if group == MINUS else steady[-1]
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
    rng: np.random.Generator,
    pop: Population,
    days: int,
    episode_day: int | None,
    world: World = BASELINE,
) -> States:
    """The state of every non-background person on every day of the period."""
    ln, steady = Lengths.of(world), steady_rates(world)
    n_steady = pop.n_steady
    state = np.full((n_steady, days), STEADY, dtype=np.int8)
    sp_person, sp_kind, sp_first, sp_last = [], [], [], []
    cycling = pop.cycling
    for i in range(n_steady):
        if cycling[i]:
            if i == HEROINE and episode_day is not None:
                anchor = episode_day - HEROINE_BLOCK[0]
                segs = _cycle_person(
                    rng,
                    days,
                    pop.p_prison[i],
                    pop.p_sober[i],
                    anchor,
                    ln,
                    HEROINE_BLOCK[1],
                )
            else:
                anchor = int(rng.integers(-40, days))
                segs = _cycle_person(
                    rng, days, pop.p_prison[i], pop.p_sober[i], anchor, ln
                )
        else:
            segs = _steady_spells(rng, days, pop.group[i], steady)
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

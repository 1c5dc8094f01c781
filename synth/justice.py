"""What the police get to know: catches, arrests, custody, solved cases and links.

- Each offence is *caught* with the person's catch probability times the regime's
  multiplier (phase 3 x2.4, phase 2 x0.55) and the template's (CCTV in shops, cabins
  found weeks later), times `--catch-rate-factor`.
- A caught, witnessed offence by one person may end in an *arrest at the scene*
  (custody for 3-12 hours); the phase-3 arrest before a prison spell always does,
  followed by remand and prison.
- Custody is exclusive: offences of a person while in custody are removed, and a
  co-offender in custody is replaced by a stand-in.
- A caught case is *solved* at once (arrest) or after a delay of days to months
  (lognormal, median 20 days); some open cases are *dropped* after 1-6 months.
- Solved cases link their participants (co-offenders 85 %), as suspect or charged,
  some later charged or convicted (MAS persons are never convicted); 1.5 % of solved
  cases first link a wrong suspect who is retracted weeks later.

Those are the baseline world's figures; catch, custody, solve delays and linking
follow the run's `World` (`worlds.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gjenganger.synth import modus
from gjenganger.synth.clock import DAY, HOUR, Clock
from gjenganger.synth.columns import Columns
from gjenganger.synth.cycles import States
from gjenganger.synth.population import BACKGROUND, HEROINE, MAS, Population
from gjenganger.synth.windows import arrest_windows
from gjenganger.synth.worlds import BASELINE, World, scaled

ROLE_SUSPECT, ROLE_CHARGED, ROLE_CONVICTED = 0, 1, 2
SOLVE_MAX_DAYS = 240
DROP_SHARE = 0.08
WRONG_SUSPECT_SHARE = 0.015
ROLE_UPDATE_SHARE = 0.4
MAX_CATCH = 0.95
_BIG = np.int64(1) << 36  # > any epoch second in range


@dataclass
class Intervals:
    """Custody periods sorted by (person, start), non-overlapping per person."""

    person: np.ndarray
    kind: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @staticmethod
    def build(person, kind, start, end) -> Intervals:
        order = np.lexsort((start, person))
        return Intervals(
            np.asarray(person)[order],
            np.asarray(kind, dtype=object)[order],
            np.asarray(start)[order],
            np.asarray(end)[order],
        )

    def overlaps(self, person: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """True where [a, b] meets a custody period of `person` that began before b."""
        if not len(self.person):
            return np.zeros(len(person), dtype=bool)
        keys = self.person * _BIG + self.start
        idx = np.searchsorted(keys, person * _BIG + b, side="left") - 1
        ok = idx >= 0
        idx = np.clip(idx, 0, None)
        return ok & (self.person[idx] == person) & (self.end[idx] >= a)


def spell_custody(
    states: States, clock: Clock, rows: Columns, rng, world: World = BASELINE
) -> Intervals:
    """Arrest, remand, prison and treatment periods of the inactive spells."""
    remand_lo, remand_hi = scaled(world.remand_days, world.custody_length_factor)
    sp = states.spells
    forced = np.flatnonzero(rows["forced"])
    f_key = rows["person"][forced] * 100_000 + rows["day"][forced]
    f_t = rows["t"][forced]
    person, kind, start, end = [], [], [], []
    for i in range(len(sp.person)):
        p, k, s, e = (
            int(sp.person[i]),
            sp.kind[i],
            int(sp.first_day[i]),
            int(sp.last_day[i]),
        )
        release = int(clock.at(e + 1, 9.0))
        if k == "treatment":
            person.append(p), kind.append("treatment")
            start.append(int(clock.at(s, 12.0))), end.append(int(clock.at(e + 1, 12.0)))
            continue
        if k != "prison":
            continue
        hit = np.flatnonzero(f_key == p * 100_000 + (s - 1))
        t_arrest = int(f_t[hit[0]]) if len(hit) else int(clock.at(s - 1, 21.0))
        court = int(clock.at(s, 10.0))
        (
            person.append(p),
            kind.append("arrest"),
            start.append(t_arrest),
            end.append(court),
        )
        r = int(rng.integers(remand_lo, remand_hi + 1))
        if s + r >= e + 1:
            (
                person.append(p),
                kind.append("remand"),
                start.append(court),
                end.append(release),
            )
        else:
            mid = int(clock.at(s + r, 13.0))
            (
                person.append(p),
                kind.append("remand"),
                start.append(court),
                end.append(mid),
            )
            (
                person.append(p),
                kind.append("prison"),
                start.append(mid),
                end.append(release),
            )
    return Intervals.build(
        np.asarray(person, dtype=np.int64),
        kind,
        np.asarray(start, dtype=np.int64),
        np.asarray(end, dtype=np.int64),
    )


def drop_in_custody(rows: Columns, crew: Columns, iv: Intervals, pop: Population, rng):
    """Remove offences committed in custody; stand-ins for co-offenders in custody."""
    cards = rows["template"] == modus.CARD_FRAUD
    a = np.where(cards, rows["t_from"], rows["t"])
    b = np.where(cards, rows["t_to"], rows["t"])
    bad = iv.overlaps(rows["person"], a, b) & ~rows["scripted"]
    keep = ~bad
    rows = rows.take(keep)
    crew = crew.take(np.isin(crew["gen"], rows["gen"]))
    co = np.flatnonzero(~crew["principal"])
    if len(co):
        t = rows["t"][np.searchsorted(rows["gen"], crew["gen"][co])]
        busy = co[iv.overlaps(crew["person"][co], t, t)]
        bg = np.flatnonzero(pop.group == BACKGROUND)
        if len(busy) and len(bg):
            crew["person"][busy] = bg[rng.integers(0, len(bg), len(busy))]
        key = crew["gen"] * pop.n + crew["person"]
        _, first = np.unique(key, return_index=True)
        crew = crew.take(np.sort(first))
    return rows, crew


def catch_mult(world: World) -> np.ndarray:
    """Catch multiplier per regime: the world's phase 1/2/3 multipliers (raised to
    `catch_phase_bias`) for plus and mixed users, 1 for the steady regimes."""
    phase = np.asarray(world.catch_phase, dtype=float)
    if world.catch_phase_bias != 1:
        phase = phase**world.catch_phase_bias
    return np.r_[phase, phase, 1.0, 1.0, 1.0]


def catch(
    rng, pop: Population, rows: Columns, factor: float, world: World = BASELINE
) -> np.ndarray:
    """Which offences the police will solve (sooner or later)."""
    p = (
        pop.catch[rows["person"]]
        * catch_mult(world)[rows["regime"]]
        * modus.TEMPLATE_CATCH[rows["template"]]
        * factor
    )
    caught = rng.random(rows.n) < np.minimum(p, MAX_CATCH)
    return (
        caught
        | rows["forced"]
        | rows["scripted"] & (rows["template"] == modus.CARD_FRAUD)
    )


def arrests(rng, rows: Columns, caught: np.ndarray, e_day, world: World = BASELINE):
    """Arrests at the scene and their custody periods (random ones: the world's
    `arrest_hours`, baseline 3-12 hours)."""
    regime = rows["regime"]
    arrest = (
        caught
        & modus.ARRESTABLE[rows["template"]]
        & (rows["participants"] == 1)
        & (rng.random(rows.n) < modus.ARREST_SHARE[regime])
        & ~rows["scripted"]
    )
    # no random arrest on a day ending in a forced arrest, nor around the 44k card
    f = rows["forced"]
    f_days = set(zip(rows["person"][f].tolist(), rows["day"][f].tolist(), strict=True))
    if e_day is not None:
        f_days |= {(HEROINE, d) for d in range(e_day - 1, e_day + 2)}
    cand = np.flatnonzero(arrest)
    clash = [i for i in cand if (int(rows["person"][i]), int(rows["day"][i])) in f_days]
    arrest[clash] = False
    hours = rng.uniform(*world.arrest_hours, rows.n)
    order = np.flatnonzero(arrest)
    order = order[np.lexsort((rows["t"][order], rows["person"][order]))]
    last_end: dict[int, int] = {}
    person, start, end = [], [], []
    for i in order:
        p, t = int(rows["person"][i]), int(rows["t"][i])
        if t <= last_end.get(p, -1):
            arrest[i] = False
            continue
        e = t + int(hours[i] * HOUR)
        e -= e % 60
        last_end[p] = e
        person.append(p), start.append(t), end.append(e)
    arrest |= rows["forced"]
    arrest_windows(rng, rows, arrest)
    return arrest, Intervals.build(
        np.asarray(person, dtype=np.int64),
        np.full(len(person), "arrest", dtype=object),
        np.asarray(start, dtype=np.int64),
        np.asarray(end, dtype=np.int64),
    )


def _working_hour(
    clock: Clock, t: np.ndarray, delay_days: np.ndarray, rng
) -> np.ndarray:
    day = clock.day_of(t) + np.ceil(delay_days).astype(np.int64)
    return clock.at(day, rng.uniform(8, 16, len(t)))


def outcomes(rng, rows: Columns, caught, arrest, clock: Clock, world: World = BASELINE):
    """solved_at and dropped_at (-1: never) of every case."""
    n = rows.n
    median = world.solve_median_days
    delay = np.clip(rng.lognormal(np.log(median), 1.0, n), 1, SOLVE_MAX_DAYS)
    delay[rows["scripted"]] = 5
    solved_at = np.where(caught, _working_hour(clock, rows["t_report"], delay, rng), -1)
    solved_at = np.where(arrest, rows["t_report"], solved_at)
    drop = ~caught & (rng.random(n) < DROP_SHARE)
    dropped_at = np.where(
        drop, _working_hour(clock, rows["t_report"], rng.uniform(30, 180, n), rng), -1
    )
    return solved_at.astype(np.int64), dropped_at.astype(np.int64)


def links(
    rng,
    pop: Population,
    rows: Columns,
    crew: Columns,
    solved_at,
    arrest,
    world: World = BASELINE,
) -> Columns:
    """Versions of case-person links: (gen, person, role, updated, retracted)."""
    pos = np.searchsorted(rows["gen"], crew["gen"])
    solved = solved_at[pos] >= 0
    co_linked = rng.random(crew.n) < world.co_offender_linked
    linked = solved & (crew["principal"] | co_linked)
    c = crew.take(linked)
    p = pos[linked]
    m = c.n
    at = solved_at[p]
    role = np.where(
        rng.random(m) < np.where(arrest[p], 0.5, 0.3), ROLE_CHARGED, ROLE_SUSPECT
    )
    mas = pop.group[c["person"]] == MAS
    first = Columns(
        gen=c["gen"],
        person=c["person"],
        role=role.astype(np.int8),
        updated=at,
        retracted=np.zeros(m, dtype=bool),
    )
    upd = (rng.random(m) < ROLE_UPDATE_SHARE) & ~(mas & (role == ROLE_CHARGED))
    later = first.take(upd)
    later["role"] = np.minimum(later["role"] + 1, ROLE_CONVICTED).astype(np.int8)
    later["updated"] = at[upd] + (rng.uniform(20, 150, upd.sum()) * DAY).astype(
        np.int64
    )
    later["updated"] -= later["updated"] % 60

    # wrong suspects, cleared later
    cases = np.flatnonzero(solved_at >= 0)
    wrong = cases[rng.random(len(cases)) < WRONG_SUSPECT_SHARE]
    g = pop.group[rows["person"][wrong]]
    same = [np.flatnonzero(pop.group == k) for k in range(5)]
    pick = np.array([same[k][rng.integers(0, len(same[k]))] for k in g], dtype=np.int64)
    in_crew = set(zip(crew["gen"].tolist(), crew["person"].tolist(), strict=True))
    ok = np.array(
        [
            (int(a), int(b)) not in in_crew
            for a, b in zip(rows["gen"][wrong], pick, strict=True)
        ],
        dtype=bool,
    )
    wrong, pick = wrong[ok], pick[ok]
    w1 = Columns(
        gen=rows["gen"][wrong],
        person=pick,
        role=np.full(len(wrong), ROLE_SUSPECT, dtype=np.int8),
        updated=solved_at[wrong],
        retracted=np.zeros(len(wrong), dtype=bool),
    )
    w2 = w1.take(np.arange(w1.n))
    w2["updated"] = w1["updated"] + (rng.uniform(3, 60, w1.n) * DAY).astype(np.int64)
    w2["updated"] -= w2["updated"] % 60
    w2["retracted"] = np.ones(w1.n, dtype=bool)
    return Columns.concat(first, later, w1, w2)

"""What each person does each day: offence counts, modus and hours (then places and
windows, see `places` and `windows`).

Daily counts are Poisson with a rate set by the person's state (phase 1 low, phase 2
every day, phase 3 highest; minus users and MAS steady; nothing on rest or inactive
days), times a personal activity level and a personal season (some more active in the
dark winter, some less). Each offence then takes its template from the regime's mix
times the person's preferences, a local hour from the person's hour profile (within
the hours the template allows), level, planning, crew size, entry method, value, a
place around the person's anchors (distance decay with a personal spread, or an
earlier target hit again, even on the same date a year later) and the uncertain time
window the victim can report. Rates, crews and places follow the run's `World`.
"""

from __future__ import annotations

import numpy as np

from gjenganger.data_schema.contract import ENTRY_METHODS
from gjenganger.synth import modus, places, windows
from gjenganger.synth.clock import Clock
from gjenganger.synth.columns import Columns
from gjenganger.synth.cycles import STEADY, States
from gjenganger.synth.geography import Geography
from gjenganger.synth.population import BACKGROUND, MAS, MINUS, MIXED, PLUS, Population
from gjenganger.synth.rows import TEMPLATE_TARGET, empty, regime_of
from gjenganger.synth.worlds import BASELINE, World

#: Background offenders commit 1, 2 or 3 offences with these probabilities.
BACKGROUND_COUNTS = (0.55, 0.30, 0.15)
#: Templates of the phase-3 offence that ends in an arrest and a prison spell.
FORCED_TEMPLATES = {
    "shoplifting": 0.5,
    "theft_from_vehicle": 0.2,
    "other_theft": 0.15,
    "biz_burglary": 0.15,
}
_ENTRY_INDEX = {m: i for i, m in enumerate(ENTRY_METHODS)}


def season(pop: Population, persons: np.ndarray, clock: Clock) -> np.ndarray:
    """(len(persons), days) personal seasonal factor: amplitude > 0 means more active in
    midwinter (mid-January), < 0 more active in summer."""
    doy = np.array([clock.date_of(d).timetuple().tm_yday for d in range(clock.days)])
    phase = np.cos(2 * np.pi * (doy - 15) / 365.25)
    return 1.0 + pop.season_amp[persons][:, None] * phase[None, :]


# ---------------------------------------------------------------- daily counts
def bursts(rng, n: int, days: int, world: World = BASELINE) -> np.ndarray:
    """(n, days) rate multipliers: alternating heavy and quiet spells (baseline: mean
    20 days x1.9, 25 days x0.1, so ~1 on average)."""
    (on_days, off_days), (on_mult, off_mult) = (
        world.minus_burst_days,
        world.minus_burst_mult,
    )
    out = np.empty((n, days))
    for i in range(n):
        d = -int(rng.integers(0, on_days + off_days))
        on = bool(rng.random() < 0.5)
        while d < days:
            mean, mult = (on_days, on_mult) if on else (off_days, off_mult)
            length = 1 + int(rng.geometric(1 / mean))
            out[i, max(d, 0) : max(d + length, 0)] = mult
            d += length
            on = not on
    return out


def daily_offences(
    rng, pop: Population, states: States, clock: Clock, world: World = BASELINE
) -> Columns:
    """One row per offence (person, day, regime), the forced arrests included.

    Cycling persons: a floor plus a Poisson count by state (rest, phase 1-3,
    inactive), the world's rates times the person's activity level."""
    days = clock.days
    n_steady = pop.n_steady
    persons_s = np.arange(n_steady)
    st = states.state
    rate = np.zeros(st.shape)
    for g, rates in ((PLUS, world.plus_rates), (MIXED, world.mixed_rates)):
        rows = np.flatnonzero(pop.group[:n_steady] == g)
        by_state = (0.0, *rates, 0.0, 0.0)  # rest, phase 1-3, inactive, steady
        rate[rows] = np.asarray(by_state)[st[rows]] * pop.rate[rows, None]
    steady = (pop.group[:n_steady] == MINUS) | (pop.group[:n_steady] == MAS)
    rate[steady] = (st[steady] == STEADY) * pop.rate[:n_steady][steady, None]
    minus = np.flatnonzero(pop.group[:n_steady] == MINUS)
    rate[minus] *= bursts(rng, len(minus), days, world)
    rate *= season(pop, persons_s, clock)
    weekday = np.array([clock.date_of(d).weekday() for d in range(days)])
    rate *= pop.weekday[:n_steady][:, weekday]
    counts = rng.poisson(np.clip(rate, 0, None))
    cyc = pop.cycling[:n_steady]
    counts[cyc] += np.asarray((0, *world.phase_floor, 0))[st[cyc]]
    p_idx, d_idx = np.nonzero(counts)
    reps = counts[p_idx, d_idx]
    person = np.repeat(p_idx, reps)
    day = np.repeat(d_idx, reps)

    bg = np.flatnonzero(pop.group == BACKGROUND)
    k = rng.choice(len(BACKGROUND_COUNTS), size=len(bg), p=BACKGROUND_COUNTS) + 1
    bg_person = np.repeat(bg, k)
    bg_day = rng.integers(0, days, len(bg_person))

    f_person, f_day = states.forced_arrests
    person = np.concatenate([person, bg_person, f_person]).astype(np.int64)
    day = np.concatenate([day, bg_day, f_day]).astype(np.int64)
    rows = empty(len(person))
    rows["person"], rows["day"] = person, day
    rows["forced"][len(person) - len(f_person) :] = True
    state = np.full(len(person), STEADY, dtype=np.int8)
    s_mask = person < n_steady
    state[s_mask] = st[person[s_mask], day[s_mask]]
    rows["regime"] = regime_of(pop, person, state)
    return rows


# ---------------------------------------------------------------- modus
def _categorical(
    rng, cum_rows: np.ndarray, which: np.ndarray, chunk: int = 200_000
) -> np.ndarray:
    """Draw one category per row from cumulative distributions `cum_rows[which]`."""
    out = np.empty(len(which), dtype=np.int64)
    u = rng.random(len(which))
    k = cum_rows.shape[1]
    for s in range(0, len(which), chunk):
        c = cum_rows[which[s : s + chunk]]
        out[s : s + chunk] = np.minimum((c < u[s : s + chunk, None]).sum(axis=1), k - 1)
    return out


def choose_templates(rng, pop: Population, rows: Columns) -> None:
    """Template of each offence: the regime's base mix times the person's
    preferences; forced arrests take the forced templates."""
    base = modus.regime_weights()
    key = rows["person"] * len(modus.REGIMES) + rows["regime"]
    uniq, inv = np.unique(key, return_inverse=True)
    prob = base[uniq % len(modus.REGIMES)] * pop.pref[uniq // len(modus.REGIMES)]
    prob /= prob.sum(axis=1, keepdims=True)
    rows["template"] = _categorical(rng, np.cumsum(prob, axis=1), inv).astype(np.int16)
    forced = np.flatnonzero(rows["forced"])
    names = list(FORCED_TEMPLATES)
    pick = rng.choice(len(names), size=len(forced), p=list(FORCED_TEMPLATES.values()))
    rows["template"][forced] = [modus.TEMPLATE_INDEX[names[i]] for i in pick]


def choose_times(rng, pop: Population, rows: Columns, clock: Clock) -> None:
    """Local hour from the person's two-peak profile, redrawn into allowed hours."""
    n = rows.n
    person, tmpl = rows["person"], rows["template"].astype(np.int64)
    hours = np.full(n, np.nan)
    todo = np.arange(n)
    p3 = np.isin(rows["regime"], (2, 5))
    for _ in range(12):
        if not len(todo):
            break
        p = person[todo]
        first = rng.random(len(todo)) < pop.peak_weight[p]
        peak = np.where(first, pop.peak_hour[p, 0], pop.peak_hour[p, 1])
        sd = pop.hour_sd[p] + np.where(p3[todo], 1.5, 0.0)
        h = (peak + rng.normal(0, 1, len(todo)) * sd) % 24
        ok = modus.TEMPLATE_HOURS[tmpl[todo], h.astype(np.int64) % 24]
        hours[todo[ok]] = h[ok]
        todo = todo[~ok]
    if len(todo):  # the allowed hour nearest the person's first peak, +-1 hour
        masks = modus.TEMPLATE_HOURS[tmpl[todo]]
        peak = pop.peak_hour[person[todo], 0]
        gap = np.abs(np.arange(24)[None, :] + 0.5 - peak[:, None])
        gap = np.minimum(gap, 24 - gap) + rng.uniform(0, 1.5, (len(todo), 24))
        hrs = np.argmin(np.where(masks, gap, np.inf), axis=1)
        hours[todo] = hrs + rng.random(len(todo))
    forced = rows["forced"]
    hours[forced] = rng.uniform(20.0, 23.5, forced.sum())
    rows["t"] = clock.at(rows["day"], hours)


def choose_modus(rng, pop: Population, rows: Columns, world: World = BASELINE) -> None:
    """Level, planning, crew size, entry method, target type and value."""
    n = rows.n
    person, regime = rows["person"], rows["regime"].astype(np.int64)
    tmpl = rows["template"].astype(np.int64)
    level = modus.REGIME_LEVEL[regime].astype(np.int8)
    lift = (
        np.isin(regime, (1, 4))
        & modus.LEVEL3_ABLE[tmpl]
        & (rng.random(n) < pop.p_level3[person])
    )
    level[lift] = 3
    level[tmpl == modus.TEMPLATE_INDEX["drug_import"]] = 3
    bg2 = (regime == modus.R_BACKGROUND) & np.isin(
        tmpl,
        [
            modus.TEMPLATE_INDEX[x]
            for x in (
                "biz_burglary",
                "home_burglary",
                "storage",
                "vehicle_theft",
                "other_fraud",
                "identity_fraud",
                "cabin",
                "construction",
            )
        ],
    )
    level[bg2 & (rng.random(n) < 0.5)] = 2
    rows["level"] = level
    rows["participants"] = _participants(rng, rows, regime, level, world)

    planned = (rng.random(n) < modus.PLANNED[regime]) | (level == 3)
    planned = planned.astype(np.int8)
    planned[modus.PLANNED_NULL[tmpl] | (rng.random(n) < 0.03)] = -1
    planned[rows["forced"]] = 0
    rows["planned"] = planned
    rows["entry"] = _entries(rng, pop, person, regime, tmpl, level)
    rows["target"] = TEMPLATE_TARGET[tmpl]
    rows["value"] = _values(rng, regime, tmpl, level)


def _participants(rng, rows: Columns, regime, level, world: World) -> np.ndarray:
    """Crew size: a second participant by regime (times the world's `co_offending`),
    level-3 crews of three or four, a few background trios; forced arrests alone."""
    n = rows.n
    second = modus.SECOND_PARTICIPANT[regime] * world.co_offending
    participants = 1 + (rng.random(n) < second)
    four = rng.random(n) < world.crew_of_four_share
    participants = np.where(level == 3, 3 + four, participants)
    trio = rng.random(n) < 0.02 * world.co_offending
    participants[(regime == modus.R_BACKGROUND) & trio] = 3
    participants[rows["forced"]] = 1
    return participants.astype(np.int16)


def _entries(rng, pop: Population, person, regime, tmpl, level) -> np.ndarray:
    """Entry method by the template's family, the regime's style and the person's
    habits (cylinder vs window frame, smashed window vs forced door)."""
    n = len(person)
    style = modus.ENTRY_STYLE[regime].copy()
    style[level == 3] = 0
    entry = np.full(n, -1, dtype=np.int16)
    families = np.array([t.entry for t in modus.TEMPLATES], dtype=object)[tmpl]
    for fam, (names, table) in modus.ENTRY_TABLES.items():
        idx = np.flatnonzero(families == fam)
        if not len(idx):
            continue
        cum = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
        slot = _categorical(rng, cum, style[idx])
        chosen = np.array(names, dtype=object)[slot]
        skilled = chosen == "SKILLED"
        cyl = rng.random(len(idx)) < pop.cylinder_share[person[idx]]
        chosen[skilled] = np.where(cyl[skilled], "cylinder_snap", "window_frame")
        crude = chosen == "CRUDE"
        p_smash = pop.smash_share[person[idx]]
        p_smash = np.where(
            style[idx] == 2, 0.6 + 0.4 * p_smash, p_smash
        )  # phase 3: smash
        smash = rng.random(len(idx)) < p_smash
        chosen[crude] = np.where(smash[crude], "smash_window", "forced_door")
        entry[idx] = [(-1 if c is None else _ENTRY_INDEX[c]) for c in chosen]
    drill = (level == 3) & (families == "break") & (rng.random(n) < 0.5)
    entry[drill] = _ENTRY_INDEX["other"]  # air drills
    return entry


def _values(rng, regime, tmpl, level) -> np.ndarray:
    """Value in NOK by level: a quarter of the template's median at level 1, the
    median at level 2, NOK 0.2-1.2 million at level 3; some unknown."""
    n = len(regime)
    median = np.array(
        [np.nan if t.value_nok is None else t.value_nok for t in modus.TEMPLATES]
    )
    m = median[tmpl] * modus.VALUE_MULT[regime]
    value = np.where(
        level == 1,
        np.clip(m * 0.25 * np.exp(rng.normal(0, 0.8, n)), 20, 15_000),
        np.clip(m * np.exp(rng.normal(0, 0.9, n)), 300, 200_000),
    )
    big = np.exp(rng.uniform(np.log(200_000), np.log(1_200_000), n))
    value = np.where(level == 3, big, value)
    value[tmpl == modus.TEMPLATE_INDEX["drug_import"]] = np.nan
    value[rng.random(n) < 0.04] = np.nan
    return np.where(value < 1000, np.round(value, -1), np.round(value, -2))


def generate(
    rng,
    geo: Geography,
    pop: Population,
    states: States,
    clock: Clock,
    world: World = BASELINE,
) -> Columns:
    """Every offence of the period except card frauds (see `cards`), with windows."""
    rows = daily_offences(rng, pop, states, clock, world)
    rows["gen"] = np.arange(rows.n, dtype=np.int64)
    choose_templates(rng, pop, rows)
    choose_times(rng, pop, rows, clock)
    choose_modus(rng, pop, rows, world)
    places.choose_places(rng, geo, pop, rows, world)
    places.repeat_targets(rng, pop, rows)
    extra = places.anniversaries(rng, pop, states, rows, clock, world)
    extra["gen"] = rows.n + np.arange(extra.n, dtype=np.int64)
    rows = Columns.concat(rows, extra)
    extra = places.near_repeats(rng, geo, pop, states, rows, clock, world)
    extra["gen"] = rows.n + np.arange(extra.n, dtype=np.int64)
    rows = Columns.concat(rows, extra)
    windows.time_windows(rng, rows, clock, world=world)
    return rows

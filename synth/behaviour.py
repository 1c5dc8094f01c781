"""What each person does each day: offence counts, modus, hours, places and windows.

Daily counts are Poisson with a rate set by the person's state (phase 1 low, phase 2
every day, phase 3 highest; minus users and MAS steady; nothing on rest or inactive
days), times a personal activity level and a personal season (some more active in the
dark winter, some less). Each offence then takes its template from the regime's mix
times the person's preferences, a local hour from the person's hour profile (within
the hours the template allows), level, planning, crew size, entry method, value, a
place around the person's anchors (distance decay with a personal spread, or an
earlier target hit again, even on the same date a year later) and the uncertain time
window the victim can report.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from gjenganger.data_schema.contract import ENTRY_METHODS, TARGET_TYPES
from gjenganger.synth import modus
from gjenganger.synth.clock import HOUR, Clock
from gjenganger.synth.columns import Columns
from gjenganger.synth.cycles import PHASE1, PHASE2, STEADY, States
from gjenganger.synth.geography import Geography
from gjenganger.synth.population import BACKGROUND, MAS, MINUS, MIXED, PLUS, Population

#: Offences a day by state (rest, phase1, phase2, phase3, inactive), cycling groups:
#: a floor (phases 2 and 3: crime every day) plus a Poisson count with this mean.
PHASE_FLOOR = (0, 0, 1, 1, 0)
PHASE_RATES = {PLUS: (0.0, 1.4, 2.0, 2.4, 0.0), MIXED: (0.0, 1.3, 1.7, 2.5, 0.0)}
#: Background offenders commit 1, 2 or 3 offences with these probabilities.
BACKGROUND_COUNTS = (0.55, 0.30, 0.15)
#: Templates of the phase-3 offence that ends in an arrest and a prison spell.
FORCED_TEMPLATES = {
    "shoplifting": 0.5,
    "theft_from_vehicle": 0.2,
    "other_theft": 0.15,
    "biz_burglary": 0.15,
}
ANNIVERSARY_SHARE = 0.08
_ENTRY_INDEX = {m: i for i, m in enumerate(ENTRY_METHODS)}
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


def season(pop: Population, persons: np.ndarray, clock: Clock) -> np.ndarray:
    """(len(persons), days) personal seasonal factor: amplitude > 0 means more active in
    midwinter (mid-January), < 0 more active in summer."""
    doy = np.array([clock.date_of(d).timetuple().tm_yday for d in range(clock.days)])
    phase = np.cos(2 * np.pi * (doy - 15) / 365.25)
    return 1.0 + pop.season_amp[persons][:, None] * phase[None, :]


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


# ---------------------------------------------------------------- daily counts
#: Minus users' heavy and quiet spells: (mean days, rate multiplier).
BURST_ON, BURST_OFF = (20, 1.9), (25, 0.1)


def bursts(rng, n: int, days: int) -> np.ndarray:
    """(n, days) rate multipliers: alternating heavy and quiet spells (mean ~1)."""
    out = np.empty((n, days))
    for i in range(n):
        d = -int(rng.integers(0, BURST_ON[0] + BURST_OFF[0]))
        on = bool(rng.random() < 0.5)
        while d < days:
            mean, mult = BURST_ON if on else BURST_OFF
            length = 1 + int(rng.geometric(1 / mean))
            out[i, max(d, 0) : max(d + length, 0)] = mult
            d += length
            on = not on
    return out


def daily_offences(rng, pop: Population, states: States, clock: Clock) -> Columns:
    """One row per offence (person, day, regime), the forced arrests included."""
    days = clock.days
    n_steady = pop.n_steady
    persons_s = np.arange(n_steady)
    st = states.state
    rate = np.zeros(st.shape)
    for g, rates in PHASE_RATES.items():
        rows = np.flatnonzero(pop.group[:n_steady] == g)
        rate[rows] = np.asarray(rates + (0.0,))[st[rows]] * pop.rate[rows, None]
    steady = (pop.group[:n_steady] == MINUS) | (pop.group[:n_steady] == MAS)
    rate[steady] = (st[steady] == STEADY) * pop.rate[:n_steady][steady, None]
    minus = np.flatnonzero(pop.group[:n_steady] == MINUS)
    rate[minus] *= bursts(rng, len(minus), days)
    rate *= season(pop, persons_s, clock)
    weekday = np.array([clock.date_of(d).weekday() for d in range(days)])
    rate *= pop.weekday[:n_steady][:, weekday]
    counts = rng.poisson(np.clip(rate, 0, None))
    cyc = pop.cycling[:n_steady]
    counts[cyc] += np.asarray(PHASE_FLOOR)[st[cyc]]
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


def choose_modus(rng, pop: Population, rows: Columns) -> None:
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

    participants = 1 + (rng.random(n) < modus.SECOND_PARTICIPANT[regime])
    participants = np.where(level == 3, 3 + (rng.random(n) < 0.3), participants)
    participants[(regime == modus.R_BACKGROUND) & (rng.random(n) < 0.02)] = 3
    participants[rows["forced"]] = 1
    rows["participants"] = participants.astype(np.int16)

    planned = (rng.random(n) < modus.PLANNED[regime]) | (level == 3)
    planned = planned.astype(np.int8)
    planned[modus.PLANNED_NULL[tmpl] | (rng.random(n) < 0.03)] = -1
    planned[rows["forced"]] = 0
    rows["planned"] = planned

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
    rows["entry"] = entry
    rows["target"] = TEMPLATE_TARGET[tmpl]

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
    value = np.where(value < 1000, np.round(value, -1), np.round(value, -2))
    rows["value"] = value


# ---------------------------------------------------------------- places
def choose_places(rng, geo: Geography, pop: Population, rows: Columns) -> None:
    """Coordinates around the person's anchors, on land; null for online offences."""
    n = rows.n
    person, tmpl = rows["person"], rows["template"].astype(np.int64)
    place = np.array([t.place for t in modus.TEMPLATES], dtype=object)[tmpl]
    alt = rng.random(n) < pop.alt_share[person]
    lat0 = np.where(alt, pop.alt_lat[person], pop.home_lat[person])
    lon0 = np.where(alt, pop.alt_lon[person], pop.home_lon[person])
    sd = pop.spread_km[person].copy()
    poi_slot = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    poi = pop.pois[person, poi_slot]
    is_poi = place == "poi"
    lat0[is_poi], lon0[is_poi], sd[is_poi] = (
        geo.poi_lat[poi[is_poi]],
        geo.poi_lon[poi[is_poi]],
        0.35,
    )
    rural = (place == "rural") | ((place == "mixed_rural") & (rng.random(n) < 0.5))
    lat0[rural], lon0[rural] = (
        pop.rural_lat[person[rural]],
        pop.rural_lon[person[rural]],
    )
    sd[rural] = np.where(place[rural] == "rural", 4.0, 3.0)
    has = place != "none"
    lat, lon = geo.scatter(rng, lat0[has], lon0[has], sd[has])
    rows["lat"][has], rows["lon"][has] = lat, lon


def repeat_targets(rng, pop: Population, rows: Columns) -> None:
    """Some offences hit an earlier target of the same person and template again."""
    n = rows.n
    if not n:
        return
    has_place = ~np.isnan(rows["lat"])
    key = np.lexsort((rows["gen"], rows["t"], rows["template"], rows["person"]))
    person, tmpl = rows["person"][key], rows["template"][key]
    new_group = np.r_[True, (person[1:] != person[:-1]) | (tmpl[1:] != tmpl[:-1])]
    start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    rank = np.arange(n) - start
    again = (rank > 0) & (rng.random(n) < pop.p_repeat[person]) & has_place[key]
    target = np.arange(n)
    target[again] = start[again] + (rng.random(again.sum()) * rank[again]).astype(
        np.int64
    )
    while True:  # follow chains back to the first hit
        nxt = target[target]
        if np.array_equal(nxt, target):
            break
        target = nxt
    src = key[target]
    dst = key
    moved = src != dst
    for col in ("lat", "lon"):
        rows[col][dst[moved]] = rows[col][src[moved]]
    rows["repeat_of"][dst[moved]] = rows["gen"][src[moved]]


def anniversaries(
    rng, pop: Population, states: States, rows: Columns, clock: Clock
) -> Columns:
    """Business/construction targets hit again on the same date a year later."""
    able = np.isin(
        rows["template"],
        [
            modus.TEMPLATE_INDEX[x]
            for x in (
                "biz_burglary",
                "shop_burglary",
                "construction",
                "public_burglary",
            )
        ],
    )
    cand = np.flatnonzero(
        able & np.isin(rows["regime"], (1, 4)) & (rows["day"] + 366 < clock.days)
    )
    cand = cand[rng.random(len(cand)) < ANNIVERSARY_SHARE]
    new_day = np.array(
        [(_next_year(clock.date_of(d)) - clock.start).days for d in rows["day"][cand]],
        dtype=np.int64,
    )
    ok = new_day < clock.days
    cand, new_day = cand[ok], new_day[ok]
    state = states.state[rows["person"][cand], new_day]
    ok = (state == PHASE1) | (state == PHASE2)
    cand, new_day, state = cand[ok], new_day[ok], state[ok]
    out = rows.take(cand)
    hours = clock.hour_of(out["t"]) + rng.normal(0, 0.5, len(cand))
    out["day"] = new_day
    out["t"] = clock.at(new_day, np.clip(hours, 0, 23.9))
    out["regime"] = regime_of(pop, out["person"], state)
    root = np.where(out["repeat_of"] >= 0, out["repeat_of"], out["gen"])
    out["repeat_of"] = root
    return out


def _next_year(d):
    try:
        return d.replace(year=d.year + 1)
    except ValueError:  # 29 February
        return d + timedelta(days=365)


# ---------------------------------------------------------------- windows
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


def time_windows(rng, rows: Columns, clock: Clock, only=None) -> None:
    """`t_from <= t <= t_to <= t_report` in whole minutes, by window family.

    Offences found afterwards are reported between 07:00 and 22:00."""
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
        t_rep[m] = t_to[m] + (_u(rng, k, *delay) * HOUR).astype(np.int64)
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


def generate(rng, geo, pop, states, clock) -> Columns:
    """Every offence of the period except card frauds (see `cards`), with windows."""
    rows = daily_offences(rng, pop, states, clock)
    rows["gen"] = np.arange(rows.n, dtype=np.int64)
    choose_templates(rng, pop, rows)
    choose_times(rng, pop, rows, clock)
    choose_modus(rng, pop, rows)
    choose_places(rng, geo, pop, rows)
    repeat_targets(rng, pop, rows)
    extra = anniversaries(rng, pop, states, rows, clock)
    extra["gen"] = rows.n + np.arange(extra.n, dtype=np.int64)
    rows = Columns.concat(rows, extra)
    time_windows(rng, rows, clock)
    return rows

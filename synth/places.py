"""Where offences happen: around the person's anchors, at earlier targets again, and
near-repeat follow-ups.

A place is drawn around the person's home (or second anchor), the nearest centres
(shops, card use) or the rural hunting ground (cabins, construction sites), on land.
With the person's repeat habit an offence returns to an earlier target of the same
template; some business jobs are hit again on the same date a year later; with the
world's `near_repeat_rate` an offence is followed within days by another of the same
kind by the same person close by (the report: "if it goes well I do it again and
again").
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from gjenganger.synth import modus
from gjenganger.synth.clock import Clock
from gjenganger.synth.columns import Columns
from gjenganger.synth.cycles import PHASE1, PHASE2, States
from gjenganger.synth.geography import Geography
from gjenganger.synth.population import Population
from gjenganger.synth.rows import regime_of
from gjenganger.synth.worlds import BASELINE, World


def choose_places(
    rng, geo: Geography, pop: Population, rows: Columns, world: World = BASELINE
) -> None:
    """Coordinates around the person's anchors, on land; null for online offences.

    Spreads: the person's own around home, 0.35 km around a centre, 3-4 km around
    the rural ground, the last two times the world's `target_dispersion` (the
    personal spread has it already)."""
    disp = world.target_dispersion
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
        0.35 * disp,
    )
    rural = (place == "rural") | ((place == "mixed_rural") & (rng.random(n) < 0.5))
    lat0[rural], lon0[rural] = (
        pop.rural_lat[person[rural]],
        pop.rural_lon[person[rural]],
    )
    sd[rural] = np.where(place[rural] == "rural", 4.0 * disp, 3.0 * disp)
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
    rng,
    pop: Population,
    states: States,
    rows: Columns,
    clock: Clock,
    world: World = BASELINE,
) -> Columns:
    """Business/construction targets hit again on the same date a year later (the
    world's `anniversary_share` of phase-2 jobs, if the person is active then)."""
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
    cand = cand[rng.random(len(cand)) < world.anniversary_share]
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


def near_repeats(
    rng,
    geo: Geography,
    pop: Population,
    states: States,
    rows: Columns,
    clock: Clock,
    world: World = BASELINE,
) -> Columns:
    """Near-repeat follow-ups: with the world's `near_repeat_rate`, an offence with a
    place by a plus, mixed, minus or MAS person is followed 1 to `near_repeat_days`
    days later by one of the same kind about `near_repeat_km` away (normal sd), if
    the person may offend that day. Returns the new rows (none at rate 0, and then no
    random number is drawn, so the baseline world is unchanged)."""
    if world.near_repeat_rate <= 0 or not rows.n:
        return rows.take(np.zeros(0, dtype=np.int64))
    able = (
        ~np.isnan(rows["lat"])
        & ~rows["forced"]
        & ~rows["scripted"]
        & (rows["person"] < pop.n_steady)
    )
    cand = np.flatnonzero(able & (rng.random(rows.n) < world.near_repeat_rate))
    new_day = rows["day"][cand] + rng.integers(1, world.near_repeat_days + 1, len(cand))
    ok = new_day < clock.days
    cand, new_day = cand[ok], new_day[ok]
    ok = states.available()[rows["person"][cand], new_day]
    cand, new_day = cand[ok], new_day[ok]
    out = rows.take(cand)
    hours = clock.hour_of(out["t"]) + rng.normal(0, 0.5, len(cand))
    out["day"] = new_day
    out["t"] = clock.at(new_day, np.clip(hours, 0, 23.9))
    out["regime"] = regime_of(pop, out["person"], states.state[out["person"], new_day])
    out["lat"], out["lon"] = geo.scatter(
        rng, out["lat"], out["lon"], world.near_repeat_km
    )
    out["repeat_of"] = np.full(out.n, -1, dtype=np.int64)
    return out


def _next_year(d):
    try:
        return d.replace(year=d.year + 1)
    except ValueError:  # 29 February
        return d + timedelta(days=365)

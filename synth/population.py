"""Who offends: the population of the region and each person's personal signature.

Groups (report: "Gjengangerkriminalitet i Midt-Norge", 2017), counts at scale 1:

- `plus` (35): amphetamine users, the strategists: use periods, skilled level-2/3
  crime, caught for 5-10 % of offences, operate across the six municipalities.
- `mixed` (25): mixed users: use periods, more level-1 crime, caught more often.
- `mas` (4): persons not criminally responsible, minus users, by far the highest
  counts, business thefts in the city centre and just south of it, ignore cameras.
- `minus` (300): heroin/pill users, many small level-1 offences in the centre.
- `background` (1,500 a year of period): one to three offences each.

A quarter of the plus and mixed users are the *core* (the recurring 10-20 persons):
fewer sober months, more level-3 crews. Every person has a home base, a personal
spread (distance decay), preferred templates and entry methods, preferred hours, a
repeat-target habit and a catch probability; `HEROINE` (person 0) is the top-list
woman of the report's 44,000-kr card episode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gjenganger.synth import habits, modus
from gjenganger.synth.geography import SURROUNDING, Geography
from gjenganger.synth.groups import (  # noqa: F401 (GROUPS re-exported)
    BACKGROUND,
    GROUPS,
    HEROINE,
    MAS,
    MINUS,
    MIXED,
    PLUS,
)
from gjenganger.synth.worlds import BASELINE, World

CENTRE_POIS = ("Torvet (city square)", "Trondheim Torg", "Byhaven", "Solsiden Senter")
SOUTH_POIS = ("City Syd", "Moholt Storsenter", "Heimdal sentrum")


@dataclass
class Population:
    group: np.ndarray  # int8, GROUPS index
    core: np.ndarray  # bool
    female: np.ndarray  # bool
    home_lat: np.ndarray
    home_lon: np.ndarray
    alt_lat: np.ndarray  # second anchor (MAS: centre <-> City Syd; others = home)
    alt_lon: np.ndarray
    alt_share: np.ndarray
    rural_lat: np.ndarray  # cabin / construction hunting ground
    rural_lon: np.ndarray
    spread_km: np.ndarray
    peak_hour: np.ndarray  # (n, 2)
    peak_weight: np.ndarray  # weight of the first peak
    hour_sd: np.ndarray
    rate: np.ndarray  # activity multiplier (cycling, MAS) or daily rate (minus)
    catch: np.ndarray  # base catch probability
    season_amp: np.ndarray
    weekday: np.ndarray  # (n, 7) activity by weekday (Monday first), mean 1
    pref: np.ndarray  # (n, T) template preference multipliers
    cylinder_share: np.ndarray  # of skilled entries: cylinder_snap vs window_frame
    smash_share: np.ndarray  # of crude entries: smash_window vs forced_door
    p_repeat: np.ndarray
    p_card: np.ndarray
    pin_known: np.ndarray
    p_level3: np.ndarray
    p_prison: np.ndarray
    p_sober: np.ndarray
    associates: np.ndarray  # (n, 3) person indices, -1 = none
    pois: np.ndarray  # (n, 3) preferred POI indices, nearest first

    @property
    def n(self) -> int:
        return len(self.group)

    @property
    def cycling(self) -> np.ndarray:
        return (self.group == PLUS) | (self.group == MIXED)

    @property
    def n_cycling(self) -> int:
        """Cycling persons come first: indices 0 .. n_cycling-1."""
        return int(self.cycling.sum())

    @property
    def n_steady(self) -> int:
        """Persons with a day-by-day state (all but background): 0 .. n_steady-1."""
        return int((self.group != BACKGROUND).sum())


def group_counts(scale: float, days: int, world: World = BASELINE) -> dict[str, int]:
    """Persons per group: the world's counts at scale 1 (background: per 365 days)."""
    base = {
        "plus": world.plus_users,
        "mixed": world.mixed_users,
        "mas": world.mas_persons,
        "minus": world.minus_users,
        "background": world.background_per_year,
    }
    counts = {g: int(round(base[g] * scale + 1e-9)) for g in GROUPS}
    counts["background"] = int(round(base["background"] * scale * days / 365))
    counts["plus"] = max(counts["plus"], 1)  # the 44,000-kr woman is a plus user
    return counts


def _near(
    geo: Geography, rng, poi_idx: np.ndarray, sd_km
) -> tuple[np.ndarray, np.ndarray]:
    return geo.scatter(rng, geo.poi_lat[poi_idx], geo.poi_lon[poi_idx], sd_km)


def _pick(rng, options: list[int], n: int, weights=None) -> np.ndarray:
    w = None if weights is None else np.asarray(weights, float) / np.sum(weights)
    return np.asarray(options)[rng.choice(len(options), size=n, p=w)]


def _home_bases(geo: Geography, rng, group: np.ndarray, outer_share: float):
    n = len(group)
    trd = geo.pois_where(kommune="Trondheim")
    trd_outer = [i for i in trd if geo.pois[i].name not in CENTRE_POIS]
    centre = [geo.pois_where(names=(name,))[0] for name in CENTRE_POIS]
    south = [geo.pois_where(names=(name,))[0] for name in SOUTH_POIS]
    local = [i for i in range(len(geo.pois)) if geo.pois[i].kommune != "Trondheim"]
    poi = np.zeros(n, dtype=np.int64)
    sd = np.zeros(n)
    alt = np.zeros(n, dtype=np.int64)
    for g, (p_out, inner, sd_in, sd_out) in {
        PLUS: (0.5, trd_outer, 3.5, 5.0),
        MIXED: (0.3, trd, 3.0, 4.0),
        MINUS: (0.0, centre, 1.0, 1.0),
        BACKGROUND: (0.35, trd, 2.0, 3.0),
    }.items():
        idx = np.flatnonzero(group == g)
        out = rng.random(len(idx)) < p_out
        poi[idx] = np.where(
            out, _pick(rng, local, len(idx)), _pick(rng, inner, len(idx))
        )
        sd[idx] = np.where(out, sd_out, sd_in)
    minus = np.flatnonzero(group == MINUS)
    rest = minus[rng.random(len(minus)) < outer_share]
    poi[rest] = _pick(rng, trd_outer, len(rest))
    sd[rest] = 0.8
    mas = np.flatnonzero(group == MAS)
    for k, i in enumerate(mas):  # alternately centre-based and City Syd-based
        a, b = (centre, south) if k % 2 == 0 else (south, centre)
        poi[i] = a[0] if a is centre else _pick(rng, a, 1, [0.6, 0.25, 0.15])[0]
        alt[i] = b[0] if b is centre else _pick(rng, b, 1, [0.6, 0.25, 0.15])[0]
        sd[i] = 0.4
    lat, lon = _near(geo, rng, poi, sd)
    alt_lat, alt_lon = lat.copy(), lon.copy()
    if len(mas):
        alat, alon = _near(geo, rng, alt[mas], 0.4)
        alt_lat[mas], alt_lon[mas] = alat, alon
    return lat, lon, alt_lat, alt_lon


def _rural_grounds(geo: Geography, rng, group, home_lat, home_lon):
    """A cabin/construction hunting ground in a surrounding municipality."""
    n = len(group)
    local_by_code = {}
    for code in SURROUNDING:
        name = geo.municipality_names[geo.municipality_codes.index(code)]
        local_by_code[code] = geo.pois_where(kommune=name)[0]
    home_code = geo.municipality_no(home_lat, home_lon)
    codes = np.array(SURROUNDING, dtype=object)[rng.integers(0, len(SURROUNDING), n)]
    stay = np.array([c in SURROUNDING for c in home_code]) & (rng.random(n) < 0.6)
    codes[stay] = home_code[stay]
    poi = np.array([local_by_code[c] for c in codes])
    lat, lon = _near(geo, rng, poi, 12.0)
    cyc = (group == PLUS) | (group == MIXED)
    return np.where(cyc, lat, home_lat), np.where(cyc, lon, home_lon)


def _associates(rng, group, lat, lon):
    n = len(group)
    out = np.full((n, 3), -1, dtype=np.int64)
    cyc = np.flatnonzero((group == PLUS) | (group == MIXED))
    if len(cyc) > 1:
        y = lat[cyc] * 111.2
        x = lon[cyc] * 111.2 * np.cos(np.radians(63.4))
        for k, i in enumerate(cyc):
            d = np.hypot(x - x[k], y - y[k])
            w = np.exp(-d / 8.0)
            w[k] = 0
            m = min(3, len(cyc) - 1)
            out[i, :m] = cyc[rng.choice(len(cyc), size=m, replace=False, p=w / w.sum())]
    minus = np.flatnonzero(group == MINUS)
    if len(minus) > 1:
        for col in range(2):
            pick = minus[rng.integers(0, len(minus), len(minus))]
            pick = np.where(pick == minus, -1, pick)
            out[minus, col] = pick
    mas = np.flatnonzero(group == MAS)
    if len(minus) and len(mas):
        out[mas, 0] = minus[rng.integers(0, len(minus), len(mas))]
    return out


def _nearest_pois(geo: Geography, lat, lon, k=3):
    d = np.hypot(
        (lat[:, None] - geo.poi_lat[None, :]) * 111.2,
        (lon[:, None] - geo.poi_lon[None, :]) * 111.2 * np.cos(np.radians(63.4)),
    )
    return np.argsort(d, axis=1, kind="stable")[:, :k]


def _groups(counts: dict[str, int]) -> np.ndarray:
    """Group code per person: plus and mixed first (person 0 = the heroine), then
    MAS, minus and background."""
    order = (
        ("plus", PLUS),
        ("mixed", MIXED),
        ("mas", MAS),
        ("minus", MINUS),
        ("background", BACKGROUND),
    )
    return np.concatenate([np.full(counts[g], c, dtype=np.int8) for g, c in order])


def _core_and_sex(rng, group: np.ndarray, world: World):
    """The core (a `core_share` of plus and mixed users, the heroine always) and sex."""
    n = len(group)
    cyc = (group == PLUS) | (group == MIXED)
    n_cyc = int(cyc.sum())
    core = np.zeros(n, dtype=bool)
    n_core = max(1, int(round(world.core_share * n_cyc)))
    core[rng.permutation(n_cyc)[:n_core]] = True
    core[HEROINE] = True
    female = rng.random(n) < np.where(cyc, 0.25, 0.3)
    female[HEROINE] = True
    return core, female


def _places(geo: Geography, rng, group: np.ndarray, world: World) -> dict:
    """Home, second anchor, rural ground and spread of every person (Population
    fields); spreads times the world's `target_dispersion`."""
    home_lat, home_lon, alt_lat, alt_lon = _home_bases(
        geo, rng, group, world.minus_outer_share
    )
    # the heroine lives in Trondheim and uses stolen cards at its shopping centres
    malls = [
        i
        for i, p in enumerate(geo.pois)
        if p.category == "shopping_centre"
        and p.kommune == "Trondheim"
        and p.name not in CENTRE_POIS
    ]
    h_lat, h_lon = _near(geo, rng, np.array([malls[rng.integers(len(malls))]]), 1.0)
    home_lat[HEROINE], home_lon[HEROINE] = h_lat[0], h_lon[0]
    alt_lat[HEROINE], alt_lon[HEROINE] = h_lat[0], h_lon[0]
    rural_lat, rural_lon = _rural_grounds(geo, rng, group, home_lat, home_lon)
    km = world.spread_km
    spread = np.exp(rng.normal(0, 0.35, len(group))) * np.select(
        [group == PLUS, group == MIXED, group == MINUS, group == MAS], km[:4], km[4]
    )
    return {
        "home_lat": home_lat,
        "home_lon": home_lon,
        "alt_lat": alt_lat,
        "alt_lon": alt_lon,
        "alt_share": np.where(group == MAS, 0.4, 0.0),
        "rural_lat": rural_lat,
        "rural_lon": rural_lon,
        "spread_km": spread * world.target_dispersion,
    }


def build(
    rng: np.random.Generator,
    geo: Geography,
    scale: float,
    days: int,
    world: World = BASELINE,
) -> Population:
    """The population of a run: cycling persons first (person 0 = the heroine), then
    MAS, minus and background persons, with the world's counts and habits."""
    group = _groups(group_counts(scale, days, world))
    core, female = _core_and_sex(rng, group, world)
    pref = habits.preferences(rng, group)
    pref[HEROINE, modus.TEMPLATE_INDEX["mail"]] = 8.0
    pref[HEROINE, modus.TEMPLATE_INDEX["storage"]] = 5.0
    places = _places(geo, rng, group, world)
    peak, peak_w, hour_sd = habits.hours(rng, group, pref)
    peak[HEROINE] = (7.0, 12.0)
    hour_sd[HEROINE] = 2.0
    traits = habits.traits(rng, group, core, world)
    home_lat, home_lon = places["home_lat"], places["home_lon"]
    return Population(
        group=group,
        core=core,
        female=female,
        peak_hour=peak,
        peak_weight=peak_w,
        hour_sd=hour_sd,
        pref=pref,
        **places,
        **traits,
        associates=_associates(rng, group, home_lat, home_lon),
        pois=_nearest_pois(geo, home_lat, home_lon),
    )

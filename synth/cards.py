"""Stolen cards: mail and storage-room thefts that end in card fraud, and their uses.

A card found in a mailbox or storage room is used, with the person's card habit, from
a few minutes to a few hours after the theft: a run of 3-12 purchases over 1-30 hours
at the merchants of the person's nearest shopping centres, some online. Without the
PIN, in-store purchases over NOK 500 are declined (contactless limit); with a PIN
found in the mail, ATM withdrawals and larger purchases go through. The card owner
reports the fraud one to ten days later: a `card_fraud` case whose transactions
arrive in the batch of that report.

`scripted_episode` is the report's "44,000-kr card": the top-list woman (person 0) out
from about 04:00 stealing mail, then draining one card of NOK 45,500-47,500 within
about 34 hours, with the PIN, until the card is blocked. It is placed 21 days before
the end of the period (any seed), so a 28-day window always sees it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gjenganger.data_schema.contract import (
    ENTRY_METHODS,
    MERCHANT_CATEGORIES,
    TARGET_TYPES,
)
from gjenganger.synth import ids, modus
from gjenganger.synth.clock import HOUR, Clock
from gjenganger.synth.columns import Columns
from gjenganger.synth.cycles import States
from gjenganger.synth.geography import Geography
from gjenganger.synth.population import HEROINE, Population
from gjenganger.synth.rows import empty, regime_of
from gjenganger.synth.worlds import BASELINE, World

CAT = {c: i for i, c in enumerate(MERCHANT_CATEGORIES)}
STORE_CATEGORIES = tuple(c for c in MERCHANT_CATEGORIES if c != "online")
#: Category weights of a card's uses without / with a known PIN.
WEIGHTS_NO_PIN = {
    "grocery": 0.22,
    "kiosk": 0.22,
    "electronics": 0.10,
    "clothing": 0.14,
    "fuel": 0.10,
    "pharmacy": 0.05,
    "online": 0.12,
    "other": 0.05,
}
WEIGHTS_PIN = dict(WEIGHTS_NO_PIN, atm=0.12)
#: Amount range (NOK) per merchant category, drawn log-uniformly.
AMOUNTS = {
    "grocery": (40, 900),
    "kiosk": (25, 350),
    "electronics": (300, 7000),
    "clothing": (150, 2500),
    "fuel": (150, 900),
    "pharmacy": (40, 500),
    "online": (150, 5000),
    "atm": (500, 5000),
    "other": (50, 1500),
}
#: Thefts that may yield a card, in the order of `World.card_sources`.
SOURCES = ("mail", "storage", "other_theft")
ONLINE_MERCHANTS = 24
MERCHANTS_PER_SLOT = 2
EPISODE_TARGET_NOK = (45_500, 47_500)
#: The 44,000-kr card: (day offset, local time, category, NOK before scaling, PIN used,
#: approved). The last two are tries after the card was blocked.
SCRIPT = (
    (0, "06:50", "fuel", 389, False, True),
    (0, "07:35", "grocery", 412, False, True),
    (0, "09:05", "atm", 5000, True, True),
    (0, "09:40", "electronics", 7990, True, True),
    (0, "10:20", "clothing", 2499, True, True),
    (0, "11:05", "pharmacy", 349, False, True),
    (0, "12:10", "atm", 5000, True, True),
    (0, "13:30", "clothing", 1899, True, True),
    (0, "14:10", "kiosk", 129, False, True),
    (0, "15:20", "grocery", 687, True, True),
    (0, "19:40", "online", 3499, False, True),
    (0, "21:15", "online", 2999, False, True),
    (1, "05:10", "kiosk", 89, False, True),
    (1, "07:05", "fuel", 612, True, True),
    (1, "08:30", "atm", 5000, True, True),
    (1, "09:15", "electronics", 8990, True, True),
    (1, "10:05", "clothing", 2199, True, True),
    (1, "11:30", "atm", 4000, True, True),
    (1, "12:45", "online", 1999, False, True),
    (1, "14:20", "grocery", 540, True, True),
    (1, "16:05", "electronics", 4490, True, True),
    (1, "17:15", "atm", 5000, True, False),
    (1, "18:20", "electronics", 3990, True, False),
)
SCRIPT_MAIL_THEFT = "04:20"
SCRIPT_REPORT = (1, "19:30")
SCRIPT_SOLVE_DAYS = 5


def episode_day(days: int) -> int | None:
    """Day index of the 44,000-kr card's first day (None if the period is too short)."""
    if days >= 40:
        return days - 21
    return days - 2 if days >= 3 else None


@dataclass
class Merchants:
    ref: np.ndarray  # pseudonyms
    category: np.ndarray  # index into MERCHANT_CATEGORIES
    lat: np.ndarray  # nan online
    lon: np.ndarray
    store_slot: np.ndarray  # (n_pois, n_store_categories, MERCHANTS_PER_SLOT) indices
    online: np.ndarray  # indices of online merchants


def merchants(rng, geo: Geography) -> Merchants:
    """Merchants: two per store category at every named centre, plus online ones."""
    n_poi, n_cat = len(geo.pois), len(STORE_CATEGORIES)
    n_store = n_poi * n_cat * MERCHANTS_PER_SLOT
    poi = np.repeat(np.arange(n_poi), n_cat * MERCHANTS_PER_SLOT)
    cat = np.tile(
        np.repeat([CAT[c] for c in STORE_CATEGORIES], MERCHANTS_PER_SLOT), n_poi
    )
    lat, lon = geo.scatter(rng, geo.poi_lat[poi], geo.poi_lon[poi], 0.25)
    n = n_store + ONLINE_MERCHANTS
    return Merchants(
        ref=ids.pseudonyms(rng, n, "M", 11),
        category=np.concatenate([cat, np.full(ONLINE_MERCHANTS, CAT["online"])]),
        lat=np.concatenate([lat, np.full(ONLINE_MERCHANTS, np.nan)]),
        lon=np.concatenate([lon, np.full(ONLINE_MERCHANTS, np.nan)]),
        store_slot=np.arange(n_store).reshape(n_poi, n_cat, MERCHANTS_PER_SLOT),
        online=np.arange(n_store, n),
    )


def _pick_merchants(rng, m: Merchants, pop: Population, person, category) -> np.ndarray:
    n = len(person)
    out = m.online[rng.integers(0, len(m.online), n)]
    store = category != CAT["online"]
    slot = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    poi = pop.pois[person, slot]
    store_cat = {CAT[c]: i for i, c in enumerate(STORE_CATEGORIES)}
    cat_idx = np.array([store_cat.get(c, 0) for c in category], dtype=np.int64)
    which = rng.integers(0, MERCHANTS_PER_SLOT, n)
    out[store] = m.store_slot[poi[store], cat_idx[store], which[store]]
    return out


def _weights(table: dict) -> np.ndarray:
    w = np.array([table.get(c, 0.0) for c in MERCHANT_CATEGORIES])
    return np.cumsum(w / w.sum())


def _transactions(rng, pop, m: Merchants, ep_person, ep_start, pin_known, world):
    """Uses of each card: (episode, at, amount, category, merchant, approved, pin)."""
    n_ep = len(ep_person)
    lo_uses, hi_uses = world.card_uses
    n_tx = lo_uses + rng.poisson(world.card_uses_extra, n_ep)
    n_tx = np.minimum(n_tx, hi_uses)
    ep = np.repeat(np.arange(n_ep), n_tx)
    dur = rng.uniform(*world.card_hours, n_ep)
    off = rng.random(len(ep))
    order = np.lexsort((off, ep))
    ep, off = ep[order], off[order]
    first = np.ones(len(ep), dtype=bool)
    first[1:] = ep[1:] != ep[:-1]
    off[first] = 0.0
    at = ep_start[ep] + (off * dur[ep] * HOUR).astype(np.int64)
    at -= at % 60
    pin = pin_known[ep]
    cum = np.where(
        pin[:, None], _weights(WEIGHTS_PIN)[None, :], _weights(WEIGHTS_NO_PIN)[None, :]
    )
    category = np.minimum(
        (cum < rng.random(len(ep))[:, None]).sum(axis=1), len(CAT) - 1
    )
    lo = np.array([AMOUNTS[c][0] for c in MERCHANT_CATEGORIES])[category]
    hi = np.array([AMOUNTS[c][1] for c in MERCHANT_CATEGORIES])[category]
    amount = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    amount = np.where(category == CAT["atm"], np.round(amount, -2), np.round(amount, 2))
    in_store = (category != CAT["online"]) & (category != CAT["atm"])
    over = in_store & (amount > world.no_pin_limit)
    pin_used = pin & ((category == CAT["atm"]) | over)
    approved = ~(~pin & over) & (rng.random(len(ep)) > 0.04)
    merchant = _pick_merchants(rng, m, pop, ep_person[ep], category)
    return Columns(
        episode=ep,
        at=at,
        amount=amount,
        category=category,
        merchant=merchant,
        approved=approved,
        pin_used=pin_used,
    )


def _fraud_cases(
    rng,
    pop,
    states,
    clock,
    m: Merchants,
    tx: Columns,
    ep_person,
    ep_source,
    ep_scripted,
    world: World = BASELINE,
) -> Columns:
    """One card_fraud case per episode, from its transactions."""
    n_ep = len(ep_person)
    if not n_ep:
        return empty(0)
    ep = tx["episode"]
    bounds = np.r_[0, np.flatnonzero(ep[1:] != ep[:-1]) + 1]
    t_first = tx["at"][bounds]
    t_last = np.maximum.reduceat(tx["at"], bounds)
    online = tx["category"] == CAT["online"]
    all_online = np.logical_and.reduceat(online, bounds)
    any_pin = np.logical_or.reduceat(tx["pin_used"], bounds)
    first_store = np.full(n_ep, -1)
    store_pos = np.flatnonzero(~online)
    eps, first_pos = np.unique(ep[store_pos], return_index=True)
    first_store[eps] = tx["merchant"][store_pos[first_pos]]
    total = np.add.reduceat(np.where(tx["approved"], tx["amount"], 0.0), bounds)

    rows = empty(n_ep)
    rows["person"] = ep_person
    rows["day"] = clock.day_of(t_first)
    state = _state_on(pop, states, ep_person, rows["day"])
    rows["regime"] = regime_of(pop, ep_person, state)
    rows["template"][:] = modus.CARD_FRAUD
    rows["t"] = t_first
    rows["scripted"] = ep_scripted
    rows["level"][:] = 2
    rows["planned"][:] = -1  # not applicable to card use
    entry = np.where(
        all_online, "online", np.where(any_pin, "card_with_pin", "card_no_pin")
    )
    rows["entry"] = np.array([ENTRY_METHODS.index(e) for e in entry], dtype=np.int16)
    rows["target"] = np.where(
        all_online, TARGET_TYPES.index("online"), TARGET_TYPES.index("person")
    ).astype(np.int16)
    rows["value"] = np.round(total, 2)
    has = first_store >= 0
    rows["lat"][has] = m.lat[first_store[has]]
    rows["lon"][has] = m.lon[first_store[has]]
    rows["t_from"] = t_first
    rows["t_to"] = t_last
    lo, hi = (h * world.report_delay_factor for h in world.card_report_hours)
    report = t_last + (rng.uniform(lo, hi, n_ep) * HOUR).astype(np.int64)
    rows["t_report"] = report - report % 60
    rows["card"] = np.arange(n_ep, dtype=np.int64)
    rows["source"] = ep_source
    return rows


def _state_on(pop, states: States, person, day):
    state = np.full(len(person), 5, dtype=np.int8)  # STEADY for background persons
    s = person < pop.n_steady
    d = np.clip(day, 0, states.state.shape[1] - 1)
    state[s] = states.state[person[s], d[s]]
    return state


def _hm(text: str) -> float:
    h, mnt = text.split(":")
    return int(h) + int(mnt) / 60


def scripted_episode(rng, geo, pop: Population, clock: Clock, m: Merchants, e_day: int):
    """The 44,000-kr card: the mail theft at dawn and the card's uses (scaled)."""
    mail = empty(1)
    mail["person"][:] = HEROINE
    mail["day"][:] = e_day
    mail["regime"][:] = 1  # plus phase 2
    mail["template"][:] = modus.TEMPLATE_INDEX["mail"]
    mail["t"] = clock.at(
        np.array([e_day]), _hm(SCRIPT_MAIL_THEFT) + rng.uniform(-0.15, 0.15)
    )
    mail["scripted"][:] = True
    mail["level"][:], mail["planned"][:], mail["participants"][:] = 2, 1, 1
    mail["entry"][:] = ENTRY_METHODS.index("key")
    mail["target"][:] = TARGET_TYPES.index("mailbox")
    mail["value"][:] = 300.0
    lat, lon = geo.scatter(rng, pop.home_lat[[HEROINE]], pop.home_lon[[HEROINE]], 0.6)
    mail["lat"], mail["lon"] = lat, lon

    day = np.array([e_day + s[0] for s in SCRIPT])
    hours = np.array([_hm(s[1]) for s in SCRIPT]) + rng.uniform(-8, 8, len(SCRIPT)) / 60
    at = clock.at(day, hours)
    category = np.array([CAT[s[2]] for s in SCRIPT])
    base = np.array([s[3] for s in SCRIPT], dtype=float) * rng.uniform(
        0.9, 1.1, len(SCRIPT)
    )
    approved = np.array([s[5] for s in SCRIPT])
    atm = category == CAT["atm"]
    base[atm] = np.array([s[3] for s in SCRIPT], dtype=float)[atm]
    target = float(rng.integers(*EPISODE_TARGET_NOK))
    scalable = approved & ~atm
    base[scalable] *= (target - base[approved & atm].sum()) / base[scalable].sum()
    amount = np.round(base)
    big = np.flatnonzero(scalable)[np.argmax(amount[scalable])]
    amount[big] += target - amount[approved].sum()
    tx = Columns(
        episode=np.zeros(len(SCRIPT), dtype=np.int64),
        at=at,
        amount=amount,
        category=category,
        merchant=_pick_merchants(rng, m, pop, np.full(len(SCRIPT), HEROINE), category),
        approved=approved,
        pin_used=np.array([s[4] for s in SCRIPT]),
    )
    report = clock.at(np.array([e_day + SCRIPT_REPORT[0]]), _hm(SCRIPT_REPORT[1]))
    return mail, tx, report


def generate(
    rng,
    geo,
    pop: Population,
    states: States,
    clock: Clock,
    rows: Columns,
    e_day: int | None,
    world: World = BASELINE,
):
    """Card-fraud cases and transactions from the thefts in `rows` (plus the scripted
    44,000-kr card). Returns (new incident rows, transactions, card refs, merchants);
    the scripted mail theft is among the new rows. A theft yields a used card with
    the template's `card_sources` share times the person's habit times `card_rate`."""
    m = merchants(rng, geo)
    tmpl = rows["template"]
    share = np.zeros(modus.T)
    for name, v in zip(SOURCES, world.card_sources, strict=True):
        share[modus.TEMPLATE_INDEX[name]] = v
    p = share[tmpl] * pop.p_card[rows["person"]] * world.card_rate
    src = np.flatnonzero((rng.random(rows.n) < p) & ~rows["forced"])
    wait = 10 / 60 + rng.exponential(world.card_start_hours, len(src))
    start = rows["t"][src] + (wait * HOUR).astype(np.int64)
    start -= start % 60
    person = rows["person"][src]
    s_day = clock.day_of(start)
    state = _state_on(pop, states, person, s_day)
    ok = (s_day < clock.days) & np.isin(state, (1, 2, 3, 5))
    src, start, person = src[ok], start[ok], person[ok]
    pin_known = rng.random(len(src)) < pop.pin_known[person]
    tx = _transactions(rng, pop, m, person, start, pin_known, world)
    ep_source = rows["gen"][src]
    scripted = np.zeros(len(src), dtype=bool)
    new_rows = []
    if e_day is not None:
        mail, s_tx, s_report = scripted_episode(rng, geo, pop, clock, m, e_day)
        mail["gen"][:] = rows["gen"].max() + 1 if rows.n else 0
        s_tx["episode"][:] = len(src)
        tx = Columns.concat(tx, s_tx)
        person = np.r_[person, HEROINE]
        ep_source = np.r_[ep_source, mail["gen"]]
        scripted = np.r_[scripted, True]
        new_rows.append(mail)
    frauds = _fraud_cases(
        rng, pop, states, clock, m, tx, person, ep_source, scripted, world
    )
    if e_day is not None:
        frauds["t_report"][-1] = s_report[0]
    gen0 = (rows["gen"].max() + 2) if rows.n else 1
    frauds["gen"] = gen0 + np.arange(frauds.n, dtype=np.int64)
    new_rows.append(frauds)
    cards = ids.pseudonyms(rng, frauds.n, "C", 15)
    return Columns.concat(*new_rows), tx, cards, m

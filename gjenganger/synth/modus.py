"""The offence menu: templates (offence code + target), and how each regime uses them.

A *template* is one kind of offence with a fixed `offence_code` and `target_type` (so
code and target always match: `burglary_cabin` is always a `cabin`), an entry-method
family, a time-window family (how long the offence time stays uncertain), a place
family (where around the offender it happens), a typical value and allowed hours.

A *regime* is what a person is doing on a day: phase 1/2/3 of a plus or mixed user's
use period, or the steady behaviour of minus users, MAS persons and background
offenders. Each regime has base weights over the templates (the report's offence mix
and three-level model); each person multiplies them with a personal preference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_schema.contract import ENTRY_METHODS, OFFENCE_CODES, TARGET_TYPES


@dataclass(frozen=True)
class Template:
    name: str
    code: str
    target: str
    entry: str  # entry-method family, see ENTRY_TABLES
    window: str  # time-window family, see behaviour.WINDOWS
    place: str  # home | poi | rural | mixed_rural | none
    value_nok: float | None  # median value at level 2 (None: no value)
    hours: str  # allowed-hours mask, see HOUR_MASKS


TEMPLATES: tuple[Template, ...] = (
    Template("biz_burglary", "burglary_business", "business", "break", "overnight", "home", 30000, "night"),
    Template("shop_burglary", "burglary_business", "shop", "break", "overnight", "poi", 25000, "night"),
    Template("public_burglary", "burglary_public", "public_building", "break", "overnight", "home", 20000, "night"),
    Template("construction", "burglary_construction", "construction_site", "break", "weekend", "mixed_rural", 40000, "evening_night"),
    Template("cabin", "burglary_cabin", "cabin", "break", "cabin", "rural", 15000, "all"),
    Template("storage", "burglary_storage", "storage_room", "break", "days", "home", 8000, "all"),
    Template("home_burglary", "burglary_home", "private_home", "break", "hours", "home", 30000, "day"),
    Template("vehicle_theft", "vehicle_theft", "vehicle", "vehicle", "overnight", "home", 60000, "night"),
    Template("theft_from_vehicle", "theft_from_vehicle", "vehicle", "vehicle", "overnight", "home", 6000, "all"),
    Template("bicycle", "bicycle_theft", "bicycle", "bike", "hours", "home", 5000, "all"),
    Template("shoplifting", "shoplifting", "shop", "none", "witnessed", "poi", 2500, "shop"),
    Template("mail", "mail_theft", "mailbox", "mailbox", "hours", "home", 400, "all"),
    Template("other_theft", "other_theft", "other", "none", "hours", "home", 4000, "all"),
    Template("other_fraud", "other_fraud", "business", "none", "fraud", "home", 10000, "day"),
    Template("identity_fraud", "identity_fraud", "online", "online", "fraud", "none", 12000, "all"),
    Template("card_fraud", "card_fraud", "person", "card", "fraud", "poi", None, "all"),
    Template("drug_use", "drug_use", "other", "null", "witnessed", "home", None, "all"),
    Template("drug_sale", "drug_sale", "other", "null", "witnessed", "home", None, "all"),
    Template("drug_import", "drug_import", "vehicle", "null", "witnessed", "rural", None, "all"),
    Template("vandalism", "vandalism", "public_building", "vandal", "hours", "home", 5000, "all"),
    Template("violence", "violence", "person", "null", "witnessed", "home", None, "evening_night"),
    Template("robbery", "robbery", "person", "none", "witnessed", "home", 3000, "all"),
    Template("other", "other", "other", "null", "witnessed", "home", None, "all"),
)  # fmt: skip
T = len(TEMPLATES)
TEMPLATE_INDEX = {t.name: i for i, t in enumerate(TEMPLATES)}
CARD_FRAUD = TEMPLATE_INDEX["card_fraud"]
HOME_BURGLARY = TEMPLATE_INDEX["home_burglary"]
for _t in TEMPLATES:
    assert _t.code in OFFENCE_CODES and _t.target in TARGET_TYPES, _t

#: Regimes: what a person's day looks like. Cycling persons take the phase regimes.
REGIMES = (
    "plus_p1", "plus_p2", "plus_p3", "mixed_p1", "mixed_p2", "mixed_p3",
    "minus", "mas", "background",
)  # fmt: skip
R_MINUS, R_MAS, R_BACKGROUND = 6, 7, 8

_W: dict[str, dict[str, float]] = {
    "plus_p1": dict(biz_burglary=.16, shop_burglary=.04, public_burglary=.03, construction=.14,
                    cabin=.10, storage=.12, home_burglary=.005, vehicle_theft=.12,
                    theft_from_vehicle=.04, mail=.13, other_fraud=.03, identity_fraud=.02,
                    drug_sale=.06, other_theft=.02),
    "plus_p2": dict(biz_burglary=.22, shop_burglary=.05, public_burglary=.05, construction=.18,
                    cabin=.16, storage=.10, home_burglary=.005, vehicle_theft=.07, mail=.08,
                    drug_sale=.03, drug_import=.006, other_fraud=.01),
    "plus_p3": dict(shoplifting=.24, theft_from_vehicle=.15, bicycle=.10, other_theft=.10,
                    storage=.10, biz_burglary=.06, mail=.06, vandalism=.06, drug_use=.08,
                    vehicle_theft=.02, violence=.015, robbery=.01, home_burglary=.003),
    "mixed_p1": dict(biz_burglary=.14, shop_burglary=.05, public_burglary=.02, construction=.08,
                     cabin=.05, storage=.16, home_burglary=.005, vehicle_theft=.10,
                     theft_from_vehicle=.06, mail=.16, other_fraud=.02, shoplifting=.06,
                     drug_sale=.06, other_theft=.03),
    "mixed_p2": dict(biz_burglary=.24, shop_burglary=.07, public_burglary=.05, construction=.12,
                     cabin=.08, storage=.16, home_burglary=.005, vehicle_theft=.08, mail=.10,
                     drug_sale=.04, shoplifting=.03),
    "mixed_p3": dict(shoplifting=.30, theft_from_vehicle=.14, bicycle=.10, other_theft=.10,
                     storage=.08, biz_burglary=.05, mail=.05, vandalism=.06, drug_use=.08,
                     violence=.02, robbery=.01, home_burglary=.003),
    "minus": dict(shoplifting=.40, other_theft=.12, bicycle=.10, theft_from_vehicle=.08,
                  storage=.06, drug_use=.10, drug_sale=.03, vandalism=.04, violence=.02,
                  robbery=.01, biz_burglary=.03, home_burglary=.01),
    "mas": dict(shoplifting=.36, biz_burglary=.25, shop_burglary=.14, other_theft=.12,
                vandalism=.05, theft_from_vehicle=.03, drug_use=.03, violence=.02),
    "background": dict(shoplifting=.16, bicycle=.10, theft_from_vehicle=.08, vehicle_theft=.05,
                       other_theft=.10, vandalism=.10, violence=.10, drug_use=.09,
                       drug_sale=.02, home_burglary=.04, storage=.04, biz_burglary=.03,
                       other_fraud=.03, identity_fraud=.02, robbery=.01, other=.03, cabin=.01,
                       construction=.01),
}  # fmt: skip


def regime_weights() -> np.ndarray:
    """Base template weights, shape (len(REGIMES), T), rows summing to 1."""
    w = np.zeros((len(REGIMES), T))
    for r, name in enumerate(REGIMES):
        for tname, v in _W[name].items():
            w[r, TEMPLATE_INDEX[tname]] = v
        w[r] /= w[r].sum()
    return w


#: Probability that an offence was planned (reconnaissance, tools), per regime.
PLANNED = np.array([0.20, 0.90, 0.03, 0.18, 0.80, 0.03, 0.02, 0.03, 0.12])
#: Probability of a second participant, per regime (level-3 crews come on top).
SECOND_PARTICIPANT = np.array([0.10, 0.18, 0.04, 0.10, 0.14, 0.04, 0.05, 0.0, 0.12])
#: Level (1-3) of the regime's offences; phase-2 crews may reach level 3.
REGIME_LEVEL = np.array([2, 2, 1, 2, 2, 1, 1, 1, 1])
#: Value multiplier per regime: phase 2 hauls are bigger, phase 1 smaller.
VALUE_MULT = np.array([0.6, 1.5, 1.0, 0.6, 1.4, 1.0, 1.0, 1.0, 1.0])
#: Catch-probability multiplier per regime: caught mostly in phase 3.
CATCH_MULT = np.array([0.8, 0.55, 2.4, 0.8, 0.55, 2.4, 1.0, 1.0, 1.0])
#: Share of offences witnessed and caught that end in an arrest at the scene.
ARREST_SHARE = np.array([0.25, 0.15, 0.6, 0.25, 0.15, 0.6, 0.6, 0.7, 0.5])
#: Regimes whose entries are skilled (0), mixed (1) or crude (2).
ENTRY_STYLE = np.array([1, 0, 2, 1, 0, 2, 2, 2, 3])

_CATCH_BY_TEMPLATE = dict(shoplifting=1.4, cabin=0.4, mail=0.6, identity_fraud=0.6,
                          drug_use=2.0, drug_sale=1.5, violence=2.0, robbery=1.5,
                          card_fraud=1.2, construction=0.7)  # fmt: skip
TEMPLATE_CATCH = np.array([_CATCH_BY_TEMPLATE.get(t.name, 1.0) for t in TEMPLATES])
_ARRESTABLE = ("shoplifting", "other_theft", "theft_from_vehicle", "bicycle", "vandalism",
               "drug_use", "drug_sale", "violence", "robbery", "biz_burglary", "storage")  # fmt: skip
ARRESTABLE = np.array([t.name in _ARRESTABLE for t in TEMPLATES])
#: Templates a phase-2 crew may lift to level 3 (air drills, rental-car import).
LEVEL3_ABLE = np.array(
    [t.name in ("biz_burglary", "construction", "public_burglary", "drug_import") for t in TEMPLATES]
)
#: Templates whose `planned` is not applicable (written as null).
PLANNED_NULL = np.array([t.name in ("drug_use", "violence", "other", "card_fraud")
                         for t in TEMPLATES])

# ---------------------------------------------------------------- entry methods
#: Entry methods of each family and their weights by style
#: (0 skilled, 1 mixed, 2 crude, 3 background). `skilled`/`crude` slots are split per
#: person (cylinder vs window frame; smashed window vs forced door).
ENTRY_TABLES: dict[str, tuple[tuple[str, ...], np.ndarray]] = {
    "break": (
        ("SKILLED", "CRUDE", "unlocked", "key", "other"),
        np.array([[0.86, 0.04, 0.05, 0.02, 0.03],
                  [0.30, 0.38, 0.20, 0.06, 0.06],
                  [0.02, 0.83, 0.12, 0.00, 0.03],
                  [0.08, 0.60, 0.20, 0.05, 0.07]]),
    ),
    "vehicle": (
        ("key", "unlocked", "smash_window", "forced_door", "other"),
        np.array([[0.35, 0.25, 0.10, 0.20, 0.10],
                  [0.25, 0.30, 0.20, 0.15, 0.10],
                  [0.02, 0.30, 0.58, 0.08, 0.02],
                  [0.10, 0.40, 0.35, 0.10, 0.05]]),
    ),
    "mailbox": (
        ("key", "forced_door", "unlocked"),
        np.array([[0.50, 0.30, 0.20], [0.35, 0.40, 0.25], [0.02, 0.60, 0.38], [0.1, 0.5, 0.4]]),
    ),
    "bike": (("other", "unlocked"), np.array([[0.8, 0.2]] * 4)),
    "vandal": (("smash_window", "other", "none"), np.array([[0.5, 0.3, 0.2]] * 4)),
    "none": (("none",), np.ones((4, 1))),
    "online": (("online",), np.ones((4, 1))),
    "null": ((None,), np.ones((4, 1))),
    "card": (("card_no_pin",), np.ones((4, 1))),
}  # fmt: skip
for _names, _w in ENTRY_TABLES.values():
    assert all(n in ENTRY_METHODS or n in (None, "SKILLED", "CRUDE") for n in _names)

# ---------------------------------------------------------------- hours
_MASKS = {
    "all": range(24),
    "night": [*range(21, 24), *range(0, 6)],
    "evening_night": [*range(17, 24), *range(0, 7)],
    "shop": range(9, 21),
    "day": range(8, 17),
}
HOUR_MASKS = {k: np.isin(np.arange(24), list(v)) for k, v in _MASKS.items()}
#: (T, 24) allowed local hours of each template.
TEMPLATE_HOURS = np.array([HOUR_MASKS[t.hours] for t in TEMPLATES])

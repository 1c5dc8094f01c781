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

from gjenganger.data_schema.contract import ENTRY_METHODS, OFFENCE_CODES, TARGET_TYPES


@dataclass(frozen=True)
class Template:
    name: str
    code: str
    target: str
    entry: str  # entry-method family, see ENTRY_TABLES
    window: str  # time-window family, see windows.WINDOWS
    place: str  # home | poi | rural | mixed_rural | none
    value_nok: float | None  # median value at level 2 (None: no value)
    hours: str  # allowed-hours mask, see HOUR_MASKS


def _rows(table: str) -> list[list[str]]:
    return [line.split() for line in table.strip().splitlines()[1:]]


# What each template is: offence code and target type.
_WHAT = """
name                code                   target
biz_burglary        burglary_business      business
shop_burglary       burglary_business      shop
public_burglary     burglary_public        public_building
construction        burglary_construction  construction_site
cabin               burglary_cabin         cabin
storage             burglary_storage       storage_room
home_burglary       burglary_home          private_home
vehicle_theft       vehicle_theft          vehicle
theft_from_vehicle  theft_from_vehicle     vehicle
bicycle             bicycle_theft          bicycle
shoplifting         shoplifting            shop
mail                mail_theft             mailbox
other_theft         other_theft            other
other_fraud         other_fraud            business
identity_fraud      identity_fraud         online
card_fraud          card_fraud             person
drug_use            drug_use               other
drug_sale           drug_sale              other
drug_import         drug_import            vehicle
vandalism           vandalism              public_building
violence            violence               person
robbery             robbery                person
other               other                  other
"""
# How it happens: entry family, window family, place family, median NOK, hours.
_HOW = """
name                entry    window     place        value  hours
biz_burglary        break    overnight  home         30000  night
shop_burglary       break    overnight  poi          25000  night
public_burglary     break    overnight  home         20000  night
construction        break    weekend    mixed_rural  40000  evening_night
cabin               break    cabin      rural        15000  all
storage             break    days       home         8000   all
home_burglary       break    hours      home         30000  day
vehicle_theft       vehicle  overnight  home         60000  night
theft_from_vehicle  vehicle  overnight  home         6000   all
bicycle             bike     hours      home         5000   all
shoplifting         none     witnessed  poi          2500   shop
mail                mailbox  hours      home         400    all
other_theft         none     hours      home         4000   all
other_fraud         none     fraud      home         10000  day
identity_fraud      online   fraud      none         12000  all
card_fraud          card     fraud      poi          -      all
drug_use            null     witnessed  home         -      all
drug_sale           null     witnessed  home         -      all
drug_import         null     witnessed  rural        -      all
vandalism           vandal   hours      home         5000   all
violence            null     witnessed  home         -      evening_night
robbery             none     witnessed  home         3000   all
other               null     witnessed  home         -      all
"""


def _templates() -> tuple[Template, ...]:
    what, how = _rows(_WHAT), _rows(_HOW)
    if [w[0] for w in what] != [h[0] for h in how]:
        raise ValueError("_WHAT and _HOW must list the templates in the same order")
    return tuple(
        Template(*w, h[1], h[2], h[3], None if h[4] == "-" else float(h[4]), h[5])
        for w, h in zip(what, how, strict=True)
    )


TEMPLATES = _templates()
T = len(TEMPLATES)
TEMPLATE_INDEX = {t.name: i for i, t in enumerate(TEMPLATES)}
CARD_FRAUD = TEMPLATE_INDEX["card_fraud"]
HOME_BURGLARY = TEMPLATE_INDEX["home_burglary"]
for _t in TEMPLATES:
    assert _t.code in OFFENCE_CODES and _t.target in TARGET_TYPES, _t

#: Regimes: what a person's day looks like. Cycling persons take the phase regimes.
REGIMES = (
    "plus_p1",
    "plus_p2",
    "plus_p3",
    "mixed_p1",
    "mixed_p2",
    "mixed_p3",
    "minus",
    "mas",
    "background",
)
R_MINUS, R_MAS, R_BACKGROUND = 6, 7, 8

# Base weight (per cent) of each template in each regime; rows need not sum to 100.
# Phase 1: level-2 work at a low rate; phase 2: skilled break-ins (businesses,
# construction sites, cabins); phase 3 and minus users: petty, impulsive offences;
# MAS: shoplifting and business thefts; background: a bit of everything.
_WEIGHTS = """
template            plus_p1 plus_p2 plus_p3 mixed_p1 mixed_p2 mixed_p3 minus  mas   bg
biz_burglary        16      22      6       14       24       5        3      25    3
shop_burglary       4       5       0       5        7        0        0      14    0
public_burglary     3       5       0       2        5        0        0      0     0
construction        14      18      0       8        12       0        0      0     1
cabin               10      16      0       5        8        0        0      0     1
storage             12      10      10      16       16       8        6      0     4
home_burglary       0.5     0.5     0.3     0.5      0.5      0.3      1      0     4
vehicle_theft       12      7       2       10       8        0        0      0     5
theft_from_vehicle  4       0       15      6        0        14       8      3     8
bicycle             0       0       10      0        0        10       10     0     10
shoplifting         0       0       24      6        3        30       40     36    16
mail                13      8       6       16       10       5        0      0     0
other_theft         2       0       10      3        0        10       12     12    10
other_fraud         3       1       0       2        0        0        0      0     3
identity_fraud      2       0       0       0        0        0        0      0     2
card_fraud          0       0       0       0        0        0        0      0     0
drug_use            0       0       8       0        0        8        10     3     9
drug_sale           6       3       0       6        4        0        3      0     2
drug_import         0       0.6     0       0        0        0        0      0     0
vandalism           0       0       6       0        0        6        4      5     10
violence            0       0       1.5     0        0        2        2      2     10
robbery             0       0       1       0        0        1        1      0     1
other               0       0       0       0        0        0        0      0     3
"""


def regime_weights() -> np.ndarray:
    """Base template weights, shape (len(REGIMES), T), rows summing to 1."""
    rows = _rows(_WEIGHTS)
    assert [r[0] for r in rows] == [t.name for t in TEMPLATES]
    w = np.array([[float(x) for x in r[1:]] for r in rows]).T
    return w / w.sum(axis=1, keepdims=True)


#: Probability that an offence was planned (reconnaissance, tools), per regime.
PLANNED = np.array([0.20, 0.90, 0.03, 0.18, 0.80, 0.03, 0.02, 0.03, 0.12])
#: Probability of a second participant, per regime (level-3 crews come on top),
#: times the world's `co_offending`.
SECOND_PARTICIPANT = np.array([0.10, 0.18, 0.04, 0.10, 0.14, 0.04, 0.05, 0.0, 0.12])
#: Level (1-3) of the regime's offences; phase-2 crews may reach level 3.
REGIME_LEVEL = np.array([2, 2, 1, 2, 2, 1, 1, 1, 1])
#: Value multiplier per regime: phase 2 hauls are bigger, phase 1 smaller.
VALUE_MULT = np.array([0.6, 1.5, 1.0, 0.6, 1.4, 1.0, 1.0, 1.0, 1.0])
#: (The catch multiplier per phase is the world's `catch_phase`, see justice.catch.)
#: Share of offences witnessed and caught that end in an arrest at the scene.
ARREST_SHARE = np.array([0.25, 0.15, 0.6, 0.25, 0.15, 0.6, 0.6, 0.7, 0.5])
#: Regimes whose entries are skilled (0), mixed (1) or crude (2).
ENTRY_STYLE = np.array([1, 0, 2, 1, 0, 2, 2, 2, 3])

_CATCH_BY_TEMPLATE = {
    "shoplifting": 1.4,
    "cabin": 0.4,
    "mail": 0.6,
    "identity_fraud": 0.6,
    "drug_use": 2.0,
    "drug_sale": 1.5,
    "violence": 2.0,
    "robbery": 1.5,
    "card_fraud": 1.2,
    "construction": 0.7,
}
TEMPLATE_CATCH = np.array([_CATCH_BY_TEMPLATE.get(t.name, 1.0) for t in TEMPLATES])
_ARRESTABLE = (
    "shoplifting",
    "other_theft",
    "theft_from_vehicle",
    "bicycle",
    "vandalism",
    "drug_use",
    "drug_sale",
    "violence",
    "robbery",
    "biz_burglary",
    "storage",
)
ARRESTABLE = np.array([t.name in _ARRESTABLE for t in TEMPLATES])
#: Templates a phase-2 crew may lift to level 3 (air drills, rental-car import).
LEVEL3_ABLE = np.array(
    [
        t.name in ("biz_burglary", "construction", "public_burglary", "drug_import")
        for t in TEMPLATES
    ]
)
#: Templates whose `planned` is not applicable (written as null).
PLANNED_NULL = np.array(
    [t.name in ("drug_use", "violence", "other", "card_fraud") for t in TEMPLATES]
)

# ---------------------------------------------------------------- entry methods
#: Entry methods of each family and their weights by style
#: (0 skilled, 1 mixed, 2 crude, 3 background). `skilled`/`crude` slots are split per
#: person (cylinder vs window frame; smashed window vs forced door).
ENTRY_TABLES: dict[str, tuple[tuple[str, ...], np.ndarray]] = {
    "break": (
        ("SKILLED", "CRUDE", "unlocked", "key", "other"),
        np.array(
            [
                [0.86, 0.04, 0.05, 0.02, 0.03],
                [0.30, 0.38, 0.20, 0.06, 0.06],
                [0.02, 0.83, 0.12, 0.00, 0.03],
                [0.08, 0.60, 0.20, 0.05, 0.07],
            ]
        ),
    ),
    "vehicle": (
        ("key", "unlocked", "smash_window", "forced_door", "other"),
        np.array(
            [
                [0.35, 0.25, 0.10, 0.20, 0.10],
                [0.25, 0.30, 0.20, 0.15, 0.10],
                [0.02, 0.30, 0.58, 0.08, 0.02],
                [0.10, 0.40, 0.35, 0.10, 0.05],
            ]
        ),
    ),
    "mailbox": (
        ("key", "forced_door", "unlocked"),
        np.array(
            [
                [0.50, 0.30, 0.20],
                [0.35, 0.40, 0.25],
                [0.02, 0.60, 0.38],
                [0.10, 0.50, 0.40],
            ]
        ),
    ),
    "bike": (("other", "unlocked"), np.array([[0.8, 0.2]] * 4)),
    "vandal": (("smash_window", "other", "none"), np.array([[0.5, 0.3, 0.2]] * 4)),
    "none": (("none",), np.ones((4, 1))),
    "online": (("online",), np.ones((4, 1))),
    "null": ((None,), np.ones((4, 1))),
    "card": (("card_no_pin",), np.ones((4, 1))),
}
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

"""A world: every assumption of the generator that the report leaves open, as one value.

The report (domain brief, `/work/shared/seed/`) gives ranges and anecdotes, not one
model: phase lengths, how often and when offenders are caught, how long they sit in
prison or treatment, how many minus users there are and how unequal they are, how far
from home they strike and how often they come back, how often they work in crews, how
late victims report, how stolen cards are used. `World` holds one reading of each; the
defaults are the generator's original reading (the `baseline` preset, byte-identical
to the output before worlds existed). Named readings are in `presets.py`.

Each field carries its valid range and a one-line meaning (`metadata`), used by
`World.problems()` and by `gjenganger generate`, which offers one flag per field.
Tuples are (min, max) ranges unless the comment says otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

#: Groups in the order of `spread_km` (as `population.GROUPS`).
SPREAD_GROUPS = ("plus", "mixed", "minus", "mas", "background")
#: Two-valued fields that are pairs of values, not (min, max) ranges.
NOT_RANGES = frozenset({"minus_burst_days", "minus_burst_mult"})


def _f(default, lo: float, hi: float, text: str):
    """A field with its default, valid range (every element) and meaning."""
    return field(default=default, metadata={"range": (lo, hi), "help": text})


@dataclass(frozen=True)
class World:
    """One reading of the report: the generator's open assumptions (see module)."""

    # ---- use periods: active 7-30 days, rest 2-7 ("Rusperioder"); phase 2 comes
    # "after 7-10 days awake", a wake period "at least 5 days, preferably nine"
    phase1_days: tuple[int, int] = _f((3, 8), 1, 60, "phase 1 length in days")
    phase2_days: tuple[int, int] = _f((5, 15), 1, 60, "phase 2 length in days")
    phase3_days: tuple[int, int] = _f((2, 6), 1, 60, "phase 3 length in days")
    short_phase_share: float = _f(
        0.1,
        0,
        1,
        "chance of a phase 1 one day under its minimum, and (apart) of a phase 2 "
        "one or two days under",
    )
    active_max_days: int = _f(30, 3, 180, "longest active period (report: 30 days)")
    rest_days: tuple[int, int] = _f((2, 7), 1, 60, "rest (collapse) length in days")
    phase_length_factor: float = _f(
        1.0, 0.25, 4, "multiplies every phase, rest and active-period length"
    )
    # ---- offences a day per phase 1/2/3 (low / "crime every day" / hyper-criminal)
    plus_rates: tuple[float, float, float] = _f(
        (1.4, 2.0, 2.4), 0, 20, "plus users' Poisson offences a day in phase 1/2/3"
    )
    mixed_rates: tuple[float, float, float] = _f(
        (1.3, 1.7, 2.5), 0, 20, "mixed users' Poisson offences a day in phase 1/2/3"
    )
    phase_floor: tuple[int, int, int] = _f(
        (0, 1, 1), 0, 5, "offences a day on top of the Poisson count, phase 1/2/3"
    )
    # ---- catch: "at most 20 %, most said 5-10 %", a minus user "about 50 %",
    # "mostly caught in phase 3"
    catch_plus: float = _f(0.065, 0, 0.95, "plus users' base catch probability")
    catch_mixed: float = _f(0.11, 0, 0.95, "mixed users' base catch probability")
    catch_minus: tuple[float, float] = _f(
        (0.18, 0.45), 0, 0.95, "minus users' base catch probability (uniform)"
    )
    catch_mas: tuple[float, float] = _f(
        (0.40, 0.55), 0, 0.95, "MAS persons' base catch probability (uniform)"
    )
    catch_background: float = _f(0.22, 0, 0.95, "background offenders' catch")
    catch_phase: tuple[float, float, float] = _f(
        (0.8, 0.55, 2.4), 0, 20, "catch multiplier in phase 1/2/3"
    )
    catch_phase_bias: float = _f(
        1.0, 0, 4, "exponent on the phase multipliers: 0 = phase does not matter"
    )
    catch_group_bias: float = _f(
        1.0, 0, 4, "exponent on base catch / background catch: 0 = groups alike"
    )
    solve_median_days: float = _f(20.0, 1, 240, "median days from report to solved")
    # ---- custody: prison after a phase-3 arrest, sober spells (half in treatment),
    # "in prison (nearly drug free) or sober spells of months or years"
    prison_share_core: tuple[float, float] = _f(
        (0.03, 0.07), 0, 0.6, "core users: chance a period ends in prison (uniform)"
    )
    prison_share: tuple[float, float] = _f(
        (0.07, 0.14), 0, 0.6, "other plus/mixed: chance a period ends in prison"
    )
    prison_mixed_mult: float = _f(1.3, 0, 3, "mixed users' prison chance multiplier")
    sober_share_core: tuple[float, float] = _f(
        (0.005, 0.03), 0, 0.9, "core users: chance a period ends in a sober spell"
    )
    sober_share: tuple[float, float] = _f(
        (0.15, 0.35), 0, 0.9, "other plus/mixed: chance of a sober spell"
    )
    treatment_share: float = _f(0.5, 0, 1, "share of sober spells in treatment")
    prison_days_median: float = _f(110.0, 1, 1000, "median remand + prison days")
    prison_days: tuple[int, int] = _f((45, 300), 1, 2000, "remand + prison days")
    sober_days_median: float = _f(150.0, 1, 2000, "median sober-spell days")
    sober_days: tuple[int, int] = _f((60, 420), 1, 4000, "sober-spell days")
    remand_days: tuple[int, int] = _f((14, 60), 1, 365, "remand before prison, days")
    minus_prison_per_year: float = _f(0.4, 0, 12, "minus users' prison spells a year")
    minus_prison_days: tuple[int, int] = _f((20, 120), 1, 1000, "their length, days")
    minus_treatment_per_year: float = _f(0.2, 0, 12, "minus treatment spells a year")
    minus_treatment_days: tuple[int, int] = _f((21, 90), 1, 1000, "their length")
    mas_treatment_per_year: float = _f(0.3, 0, 12, "MAS treatment spells a year")
    mas_treatment_days: tuple[int, int] = _f((14, 60), 1, 1000, "their length, days")
    arrest_hours: tuple[float, float] = _f(
        (3.0, 12.0), 0.5, 72, "custody after an arrest at the scene, hours"
    )
    custody_rate_factor: float = _f(
        1.0, 0, 5, "multiplies every prison/sober chance and spells a year"
    )
    custody_length_factor: float = _f(
        1.0, 0.1, 5, "multiplies every prison, remand, sober and treatment length"
    )
    # ---- who offends: "40-100 persons fit", core "10-20", MAS "3-4", drug scene
    # 1,050 known by name, 1,500-2,000 in all; 5 % do over half of all offences
    plus_users: float = _f(35.0, 1, 1000, "plus users at scale 1")
    mixed_users: float = _f(25.0, 0, 1000, "mixed users at scale 1")
    mas_persons: float = _f(3.5, 0, 100, "MAS persons at scale 1")
    minus_users: float = _f(300.0, 0, 10000, "minus users at scale 1")
    background_per_year: float = _f(1500.0, 0, 100000, "background offenders a year")
    core_share: float = _f(0.25, 0, 1, "share of plus/mixed users in the core")
    minus_rate_shape: float = _f(
        0.8, 0.05, 10, "Gamma shape of minus users' daily rate: lower = concentrated"
    )
    minus_rate_scale: float = _f(0.1, 0.001, 5, "Gamma scale of that rate")
    minus_rate_max: float = _f(0.7, 0.01, 10, "largest minus daily rate")
    minus_burst_days: tuple[int, int] = _f(
        (20, 25), 1, 365, "minus users' mean heavy / quiet spell days (not a range)"
    )
    minus_burst_mult: tuple[float, float] = _f(
        (1.9, 0.1), 0, 10, "rate multiplier in heavy / quiet spells (not a range)"
    )
    minus_outer_share: float = _f(
        0.2, 0, 1, "share of minus users based outside the city centre"
    )
    # ---- places: "Trondheim and the surrounding municipalities"; "if it goes well
    # I do it again and again", the same target on the same date every year
    spread_km: tuple[float, float, float, float, float] = _f(
        (1.0, 0.9, 0.4, 0.5, 2.0),
        0.05,
        20,
        "median spread around home, km: plus, mixed, minus, MAS, background (not a "
        "range)",
    )
    target_dispersion: float = _f(
        1.0, 0.1, 10, "multiplies every spread (home, centres, rural grounds)"
    )
    repeat_share_cycling: tuple[float, float] = _f(
        (0.2, 0.45), 0, 1, "plus/mixed: chance an offence hits an earlier target"
    )
    repeat_share_minus: tuple[float, float] = _f(
        (0.25, 0.5), 0, 1, "minus users: chance of an earlier target again"
    )
    repeat_share_mas: float = _f(0.35, 0, 1, "MAS: chance of an earlier target again")
    anniversary_share: float = _f(
        0.08, 0, 1, "phase-2 business jobs hit again on the same date a year later"
    )
    near_repeat_rate: float = _f(
        0.0, 0, 1, "chance an offence is followed by a near-repeat by the same person"
    )
    near_repeat_days: int = _f(7, 1, 60, "near-repeat follow-up at most days later")
    near_repeat_km: float = _f(0.1, 0.01, 5, "near-repeat distance sd, km")
    # ---- crews: level 3 "three or more persons cooperating"
    co_offending: float = _f(
        1.0, 0, 5, "multiplies the chance of a second participant (per regime)"
    )
    crew_of_four_share: float = _f(0.3, 0, 1, "level-3 crews of four (else three)")
    co_offender_linked: float = _f(0.85, 0, 1, "solved: co-offenders linked too")
    # ---- reports: witnessed minutes, discovered hours, cabins weeks, cards days
    report_delay_factor: float = _f(
        1.0, 0.1, 20, "multiplies every report delay (after the window ends)"
    )
    card_report_hours: tuple[float, float] = _f(
        (24.0, 240.0), 1, 5000, "card owner reports, hours after the last use"
    )
    # ---- cards: "stolen from mailboxes, used in shopping centres, online ...
    # often without PIN"; one card drained of NOK 44,000 in a day and a half
    card_rate: float = _f(
        1.0, 0, 10, "multiplies the chance a theft yields a used card"
    )
    card_sources: tuple[float, float, float] = _f(
        (1.0, 0.5, 0.3), 0, 1, "card-yielding share of mail/storage/other thefts"
    )
    card_uses: tuple[int, int] = _f((3, 12), 1, 100, "uses of one stolen card")
    card_uses_extra: float = _f(4.0, 0, 50, "Poisson mean of uses above the minimum")
    card_hours: tuple[float, float] = _f((1.0, 30.0), 0.1, 500, "card used over hours")
    card_start_hours: float = _f(3.0, 0, 240, "mean hours from theft to first use")
    pin_known: float = _f(0.25, 0, 1, "chance the PIN is found with the card")
    no_pin_limit: float = _f(500.0, 0, 10000, "NOK limit of in-store uses without PIN")

    def problems(self) -> list[str]:
        """What is wrong with the values, as one-line messages naming the flag."""
        out = []
        for f in fields(self):
            value, (lo, hi) = getattr(self, f.name), f.metadata["range"]
            flag = "--" + f.name.replace("_", "-")
            items = value if isinstance(value, tuple) else (value,)
            if any(not lo <= v <= hi for v in items):
                out.append(f"{flag} must be between {lo} and {hi} (got {_text(value)})")
            elif _whole(f.default) and not all(float(v).is_integer() for v in items):
                out.append(f"{flag} takes whole numbers (got {_text(value)})")
            elif isinstance(f.default, tuple) and len(items) != len(f.default):
                out.append(f"{flag} takes {len(f.default)} values (got {_text(value)})")
            elif is_range(f.name) and items[0] > items[1]:
                out.append(
                    f"{flag} must be MIN,MAX with MIN <= MAX (got {_text(value)})"
                )
        if not out:
            out += self._cross_problems()
        return out

    def _cross_problems(self) -> list[str]:
        """Checks between fields: an active period must fit its phases."""
        f = self.phase_length_factor
        p1, p3 = scaled(self.phase1_days, f), scaled(self.phase3_days, f)
        if p1[1] + p3[1] + 1 > scaled((self.active_max_days,), f)[0]:
            return [
                "--active-max-days must leave room for phase 2 after the longest "
                f"phases 1 and 3 (got {self.active_max_days})"
            ]
        return []

    def values(self) -> dict:
        """Every field as plain JSON values (tuples as lists)."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()
        }


def _whole(default) -> bool:
    """Whether a field holds whole numbers (its default is made of ints)."""
    items = default if isinstance(default, tuple) else (default,)
    return all(isinstance(x, int) for x in items)


def _text(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def scaled(days: tuple, factor: float) -> tuple[int, ...]:
    """Day counts times `factor`, rounded, at least 1 (unchanged at factor 1)."""
    return tuple(max(1, int(round(d * factor))) for d in days)


def is_range(name: str) -> bool:
    """Whether World field `name` is a (min, max) range rather than a value list."""
    default = FIELDS[name].default
    return isinstance(default, tuple) and len(default) == 2 and name not in NOT_RANGES


FIELDS = {f.name: f for f in fields(World)}
BASELINE = World()

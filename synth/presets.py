"""Named worlds: plausible readings of the report, some at its edges.

`gjenganger generate --world NAME` picks one; every field can still be overridden by
its own flag. `baseline` is the generator's original reading (byte-identical output);
the others change one assumption each (or a few that belong together), so a model can
be judged on the sweep, worst world first. docs/synthetic-data.md has one line per
preset on why it is plausible and a table of measured figures.
"""

from __future__ import annotations

from dataclasses import replace

from gjenganger.synth.worlds import BASELINE, World


def _w(**changes) -> World:
    return replace(BASELINE, **changes)


#: name -> (one-line description, world)
PRESETS: dict[str, tuple[str, World]] = {
    "baseline": (
        "the original reading: phases 3-8/5-15/2-6 days, plus users caught for ~7 %, "
        "300 minus users, no near-repeat follow-ups",
        BASELINE,
    ),
    "short-phases": (
        "active periods at the short end (7-14 days: phase 1 2-4, phase 2 4-7, "
        "phase 3 1-3 days) and rests of 2-4 days",
        _w(
            phase1_days=(2, 4),
            phase2_days=(4, 7),
            phase3_days=(1, 3),
            rest_days=(2, 4),
            active_max_days=14,
        ),
    ),
    "long-phases": (
        "phase 2 only 'after 7-10 days awake' (phase 1 7-10 days, phase 2 8-16, "
        "phase 3 3-6, periods up to 30 days) and rests of 3-7 days",
        _w(
            phase1_days=(7, 10),
            phase2_days=(8, 16),
            phase3_days=(3, 6),
            rest_days=(3, 7),
            short_phase_share=0.0,
        ),
    ),
    "low-catch": (
        "caught at the low end: plus ~3.5 %, mixed 6 %, minus 10-28 %, MAS 25-40 % "
        "base catch, solved later (median 30 days)",
        _w(
            catch_plus=0.035,
            catch_mixed=0.06,
            catch_minus=(0.10, 0.28),
            catch_mas=(0.25, 0.40),
            catch_background=0.12,
            solve_median_days=30.0,
        ),
    ),
    "biased-catch": (
        "catch depends strongly on phase and group: phase 3 x5.8, phase 2 x0.3, groups "
        "further apart (plus rarer, minus and MAS more often)",
        _w(catch_phase_bias=2.0, catch_group_bias=1.5),
    ),
    "even-catch": (
        "phase matters little for catch (phase 3 x1.3, phase 2 x0.84): 'caught in "
        "phase 3' read as the interviewees' memory of arrests",
        _w(catch_phase_bias=0.3),
    ),
    "much-custody": (
        "frequent, long custody: prison and sober chances x1.6, every prison, "
        "remand, sober and treatment spell x1.5",
        _w(custody_rate_factor=1.6, custody_length_factor=1.5),
    ),
    "little-custody": (
        "rarely out of the cycle: prison and sober chances x0.4, spells x0.6",
        _w(custody_rate_factor=0.4, custody_length_factor=0.6),
    ),
    "dispersed-targets": (
        "targets spread wide (every spread x2.5) and few repeat targets "
        "(3-10 % plus/mixed, 5-15 % minus, 2 % anniversaries)",
        _w(
            target_dispersion=2.5,
            repeat_share_cycling=(0.03, 0.10),
            repeat_share_minus=(0.05, 0.15),
            repeat_share_mas=0.10,
            anniversary_share=0.02,
        ),
    ),
    "near-repeat": (
        "a quarter of offences followed within a week by one of the same kind by the "
        "same person about 100 m away",
        _w(near_repeat_rate=0.25, near_repeat_days=7, near_repeat_km=0.1),
    ),
    "crews": (
        "much co-offending: second participants x2.5, level-3 crews of four half the "
        "time, co-offenders of solved cases linked 70 %",
        _w(co_offending=2.5, crew_of_four_share=0.5, co_offender_linked=0.7),
    ),
    "slow-reports": (
        "victims report late: every report delay x5 (card owners 5-50 days after "
        "the last use)",
        _w(report_delay_factor=5.0),
    ),
    "card-heavy": (
        "stolen cards used often: x2.5, storage and other thefts yield more cards, "
        "PIN found 45 %, 3-20 uses",
        _w(
            card_rate=2.5,
            card_sources=(1.0, 0.8, 0.5),
            pin_known=0.45,
            card_uses=(3, 20),
            card_uses_extra=7.0,
        ),
    ),
    "card-light": (
        "stolen cards rarely used (x0.3), PIN found 10 %, 2-8 uses before blocked",
        _w(card_rate=0.3, pin_known=0.1, card_uses=(2, 8), card_uses_extra=2.0),
    ),
    "few-minus-users": (
        "only 120 minus users offend (of the 1,050 the health team knows)",
        _w(minus_users=120.0),
    ),
    "concentrated": (
        "minus offending concentrated on a few heavy users (Gamma shape 0.15, same "
        "mean, up to 3 a day), 95 % based in the city centre",
        _w(
            minus_rate_shape=0.15,
            minus_rate_scale=0.53,
            minus_rate_max=3.0,
            minus_outer_share=0.05,
        ),
    ),
    "wide-scene": (
        "the report's upper count: 100 plus and mixed users (60 + 40), a core of 15 %",
        _w(plus_users=60.0, mixed_users=40.0, core_share=0.15),
    ),
}


def names() -> list[str]:
    """The preset names, baseline first."""
    return list(PRESETS)


def world(name: str) -> World:
    """The preset `name`; KeyError if there is none."""
    return PRESETS[name][1]


def describe(name: str) -> str:
    """The preset's one-line description."""
    return PRESETS[name][0]


def listing() -> str:
    """Every preset with its description, one per line (for `--world list`)."""
    width = max(map(len, PRESETS))
    return "\n".join(f"{n:<{width}}  {d}" for n, (d, _w) in PRESETS.items())


def overrides(name: str, chosen: World) -> dict:
    """The fields where `chosen` differs from the preset `name` (baseline if `name`
    is not a preset), as plain JSON values."""
    base = PRESETS[name][1] if name in PRESETS else BASELINE
    mine, theirs = chosen.values(), base.values()
    return {k: v for k, v in mine.items() if v != theirs[k]}


def record(name: str, chosen: World) -> dict:
    """What `truth/world.json` says: name, description, overrides, every value."""
    return {
        "name": name,
        "description": PRESETS[name][0] if name in PRESETS else "",
        "overrides": overrides(name, chosen),
        "values": chosen.values(),
    }

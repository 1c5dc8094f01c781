"""Personal habits drawn for every person: hours, template preferences, weekday
rhythm, catch probability and the chances that a use period ends in custody.

Split from `population` (which draws the places and ties and puts it all together);
catch and custody chances follow the run's `World`.
"""

from __future__ import annotations

import numpy as np

from gjenganger.synth import modus
from gjenganger.synth.groups import BACKGROUND, HEROINE, MAS, MINUS, MIXED, PLUS
from gjenganger.synth.worlds import World


def hours(rng, group, pref):
    """Two preferred hours per person (peaks, weight of the first, spread in hours):
    plus/mixed mostly night, mail specialists morning, minus/MAS daytime."""
    n = len(group)
    peak = np.zeros((n, 2))
    weight = np.full(n, 0.75)
    cyc = (group == PLUS) | (group == MIXED)
    kind = rng.choice(3, size=n, p=[0.55, 0.25, 0.20])  # night, evening, morning
    base = np.select(
        [kind == 0, kind == 1],
        [rng.uniform(-1, 4, n), rng.uniform(19, 23, n)],
        rng.uniform(5, 10, n),
    )
    mail_like = (
        pref[:, modus.TEMPLATE_INDEX["mail"]] + pref[:, modus.TEMPLATE_INDEX["storage"]]
    ) > 4
    base = np.where(cyc & mail_like, rng.uniform(6, 10, n), base)
    base = np.where(group == MINUS, rng.uniform(10, 18, n), base)
    base = np.where(group == MAS, rng.uniform(10, 16, n), base)
    base = np.where(group == BACKGROUND, rng.uniform(0, 24, n), base)
    peak[:, 0] = base % 24
    peak[:, 1] = (base + rng.uniform(-7, 7, n)) % 24
    sd = np.select(
        [cyc, group == BACKGROUND],
        [rng.uniform(0.8, 1.6, n), np.full(n, 6.0)],
        rng.uniform(1.5, 2.5, n),
    )
    return peak, weight, sd


def preferences(rng, group):
    """(n, T) template preference multipliers: log-normal noise and two favourites
    x6 per person; private homes never favoured by plus/mixed users."""
    n = len(group)
    pref = np.exp(rng.normal(0, 0.9, (n, modus.T)))
    weights = modus.regime_weights()
    for g, regimes in ((PLUS, [0, 1, 2]), (MIXED, [3, 4, 5]), (MINUS, [6]), (MAS, [7])):
        idx = np.flatnonzero(group == g)
        usable = np.flatnonzero(weights[regimes].max(axis=0) > 0.03)
        for i in idx:
            fav = rng.choice(usable, size=2, replace=False)
            pref[i, fav] *= 6.0
    cyc = (group == PLUS) | (group == MIXED)
    pref[cyc, modus.HOME_BURGLARY] = np.minimum(pref[cyc, modus.HOME_BURGLARY], 1.0)
    pref[group == BACKGROUND] = 1.0
    return pref


def weekdays(rng, n: int) -> np.ndarray:
    """Personal weekday rhythm: some work weekends, some avoid them."""
    w = np.exp(rng.normal(0, 0.35, (n, 7)))
    return w / w.mean(axis=1, keepdims=True)


def catch(rng, group: np.ndarray, world: World) -> np.ndarray:
    """Base catch probability per person; `catch_group_bias` stretches the groups'
    distance from the background offenders' catch (1: as drawn, 0: all alike)."""
    n = len(group)
    catch = np.select(
        [group == PLUS, group == MIXED, group == MINUS, group == MAS],
        [
            world.catch_plus * np.exp(rng.normal(0, 0.25, n)),
            world.catch_mixed * np.exp(rng.normal(0, 0.25, n)),
            rng.uniform(*world.catch_minus, n),
            rng.uniform(*world.catch_mas, n),
        ],
        world.catch_background,
    )
    if world.catch_group_bias != 1:
        ref = max(world.catch_background, 1e-3)
        catch = np.minimum(ref * (catch / ref) ** world.catch_group_bias, 0.95)
    return catch


def custody_chances(rng, group, core, world: World):
    """Chance that a use period ends in prison / a sober spell, per person."""
    n = len(group)
    p_prison = np.where(
        core,
        rng.uniform(*world.prison_share_core, n),
        rng.uniform(*world.prison_share, n),
    )
    p_prison = np.where(group == MIXED, p_prison * world.prison_mixed_mult, p_prison)
    p_sober = np.where(
        core,
        rng.uniform(*world.sober_share_core, n),
        rng.uniform(*world.sober_share, n),
    )
    p_prison = np.minimum(p_prison * world.custody_rate_factor, 0.6)
    p_sober = np.minimum(p_sober * world.custody_rate_factor, 0.9 - p_prison)
    p_prison[HEROINE], p_sober[HEROINE] = 0.03, 0.01
    return p_prison, p_sober


def traits(rng, group: np.ndarray, core: np.ndarray, world: World) -> dict:
    """Activity, catch, level-3, custody, card, season, weekday, entry and repeat
    habits of every person (Population fields), drawn in a fixed order."""
    n = len(group)
    cyc = (group == PLUS) | (group == MIXED)
    rate = np.select(
        [cyc, group == MAS, group == MINUS],
        [
            np.exp(rng.normal(0, 0.2, n)) * np.where(core, 1.1, 1.0),
            2.5 * rng.uniform(0.8, 1.2, n),
            np.clip(
                rng.gamma(world.minus_rate_shape, world.minus_rate_scale, n),
                0.005,
                world.minus_rate_max,
            ),
        ],
        0.0,
    )
    catch_p = catch(rng, group, world)
    p_level3 = np.select(
        [(group == PLUS) & core, group == PLUS, group == MIXED],
        [
            rng.uniform(0.08, 0.2, n),
            rng.uniform(0.02, 0.08, n),
            rng.uniform(0.01, 0.04, n),
        ],
        0.0,
    )
    p_prison, p_sober = custody_chances(rng, group, core, world)
    p_card = np.select(
        [cyc, group == MINUS], [rng.beta(2, 4, n), np.full(n, 0.1)], 0.05
    )
    p_card[HEROINE] = 0.9
    out = {
        "rate": rate,
        "catch": catch_p,
        "p_level3": p_level3,
        "p_prison": p_prison,
        "p_sober": p_sober,
        "p_card": p_card,
        "pin_known": np.full(n, world.pin_known),
        "season_amp": rng.uniform(-0.25, 0.25, n),
        "weekday": weekdays(rng, n),
        "cylinder_share": rng.beta(0.6, 0.6, n),
        "smash_share": rng.beta(0.9, 0.7, n),
    }
    out["p_repeat"] = np.select(
        [cyc, group == MAS, group == MINUS],
        [
            rng.uniform(*world.repeat_share_cycling, n),
            np.full(n, world.repeat_share_mas),
            rng.uniform(*world.repeat_share_minus, n),
        ],
        0.0,
    )
    return out

"""Where each person is in the use-period cycle, per day, with honest uncertainty.

The report (*Gjengangerkriminalitet i Midt-Norge*, 2017, "Rusperioder", figur 1, 2
and 6) describes a repeat offender's life as use periods of 7-30 days followed by 2-7
days of collapse, and inside a use period three phases:

- **phase1**: near-normal rhythm, little crime, level 2;
- **phase2** (after 7-10 days awake): crime every day, planned, level 2-3 (the
  high-functioning hyper-criminal);
- **phase3**: exhausted, impulsive, unplanned, level 1, most arrests (the
  low-functioning hyper-criminal);
- **rest**: no activity at all for 2-7 days, then a new use period;
- **inactive**: long drug-free spells, in prison (custody is known from the register)
  or sober.

Model. A hidden semi-Markov model (`analytics.semi_markov`): the five phases are its
states; each has its own duration distribution (non-parametric pmf over 1..D days,
with a geometric tail for `inactive`), and phases follow each other along the
report's cycle rest -> phase1 -> phase2 -> phase3 -> rest, with exits to and from
`inactive` (arrest, prison, sober spell). Each day's observation is the person-day
row (`analytics.person_days`): the (aoristic, probability-weighted) number of cases
is Poisson with rate `scale_person * rate_phase`, counted separately for *sharp*
cases (time window up to a day) and *diffuse* ones (long windows, whose aoristic
weight also lands on rest days; `rate_diffuse_phase`); given the cases, their levels are
categorical (`level_mix_phase`), planned/unplanned and arrested/not are Bernoulli
(`planned_phase`, `arrest_phase`). A custody day allows only `inactive`.

Borrowing strength. All phase parameters (rates, marks, durations, transitions) are
shared by every person and fitted by EM pooled over all persons, with weak priors
from the report; each person only adds an activity scale with a Gamma(k, k) prior
(mean 1), so a person with a handful of cases is read with the population's rhythm
and mix, and a busy person's own level of activity. This is empirical Bayes.

Steady offenders. The report's MAS persons and minus users offend every day without
use periods. Each person's series is also scored under a steady alternative
(`steady_loglik`); the posterior `p_cycling` weighs the person's share in the shared
parameters (EM for the two-component mixture), so a few rhythm-less heavy offenders
on the top list cannot bend the phases, and their phases are flagged.

Output. Per person-day the posterior probability of each phase (forward-backward),
the most likely phase and its probability; the most likely joint path (Viterbi) for
use-period segments; per person the state on the last day, days into the current
use period, and the expected days until the next rest (from the posterior over
sub-states, i.e. how long the person has been in the phase).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from gjenganger.analytics.phase_em import e_step, m_step
from gjenganger.analytics.phase_model import (
    PhaseConfig,
    PhaseParams,
    SeriesArrays,
    coverage,
    initial_params,
    log_emissions,
    p_cycling,
    rate_bases,
    steady_loglik,
    to_arrays,
)
from gjenganger.analytics.semi_markov import forward_backward, viterbi
from gjenganger.data_schema.contract import PHASES

# the entry: fit a `PhaseConfig` to person-days, decode a `PhaseFit`
__all__ = ["PhaseConfig", "PhaseFit", "arrays", "decode", "fit"]


@dataclass
class PhaseFit:
    """A fitted phase model and its per-person-day and per-person results."""

    params: PhaseParams
    scale: np.ndarray
    persons: list[str]
    dates: list[dt.date]
    phase_post: np.ndarray  # (N, T, 5)
    path: np.ndarray  # (N, T) Viterbi phase indices
    last_state: np.ndarray  # (N, S)
    init: np.ndarray
    p_cycling: np.ndarray  # (N,) P(the person's data follow the use-period cycle)
    #: the power the daily log-likelihoods were read with (`choose_power`)
    emission_power: float = 1.0

    def daily(self) -> pl.DataFrame:
        """Per person-day: most likely phase, its probability, all five, Viterbi
        phase."""
        n_p, n_t, _ = self.phase_post.shape
        best = self.phase_post.argmax(axis=2)
        cols = {
            "person_id": np.repeat(np.array(self.persons, dtype=object), n_t),
            "date": np.tile(np.array(self.dates, dtype="datetime64[D]"), n_p),
            "phase": np.array(PHASES, dtype=object)[best.ravel()],
            "p": self.phase_post.max(axis=2).ravel(),
        }
        frame = pl.DataFrame(
            {
                "person_id": pl.Series(cols["person_id"].tolist(), dtype=pl.String),
                "date": pl.Series(cols["date"]).cast(pl.Date),
                "phase": pl.Series(cols["phase"].tolist(), dtype=pl.String),
                "p": cols["p"],
            }
        )
        extra = {
            f"p_{ph}": self.phase_post[:, :, i].ravel() for i, ph in enumerate(PHASES)
        }
        extra["path_phase"] = np.array(PHASES, dtype=object)[self.path.ravel()].tolist()
        return frame.with_columns(
            [pl.Series(k, v) for k, v in extra.items() if k != "path_phase"]
            + [pl.Series("path_phase", extra["path_phase"], dtype=pl.String)]
        )


def fit(
    person_days: pl.DataFrame,
    config: PhaseConfig | None = None,
    *,
    seed: int = 0,
    params: PhaseParams | None = None,
) -> PhaseFit:
    """Fit the phase model by EM pooled over every person in `person_days`, then decode.

    `params` skips fitting (decode with given parameters). `seed` is accepted for the
    pipeline's reproducibility contract; EM here is deterministic (starts from the
    report's priors), so it does not change the result.
    """
    del seed
    config = config or PhaseConfig()
    # The forward-backward does 2 x T small matrix products per chunk: BLAS threads
    # only add synchronisation (and stall badly on a busy machine), so use one.
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(person_days, config, params)


def arrays(person_days: pl.DataFrame, config: PhaseConfig) -> SeriesArrays:
    """The person-day frame as arrays, with the evidence coverage of each day."""
    x = to_arrays(person_days)
    if x.persons:
        x.exposure = coverage(x, config)
    return x


def _fit(
    person_days: pl.DataFrame, config: PhaseConfig, params: PhaseParams | None
) -> PhaseFit:
    x = arrays(person_days, config)
    if not x.persons:
        raise ValueError("no persons to fit")
    p0, scale = initial_params(x, config)
    free = ~x.custody
    bases = rate_bases(x, max(x.n[free].sum() / max(free.sum() * 0.6, 1.0), 1e-3))
    if params is None:
        params = p0
        prev = -np.inf
        for _ in range(config.n_iter):
            init = params.chain.stationary()
            steady = (
                steady_loglik(x, params, scale, config) if config.model_steady else None
            )
            st = e_step(
                x, params, scale, init, config.chunk, steady, config.prior_cycling
            )
            params.loglik.append(st.loglik)
            params, scale = m_step(st, params, x, config, bases)
            if np.isfinite(prev) and abs(st.loglik - prev) <= config.tol * abs(prev):
                break
            prev = st.loglik
    else:
        # given population parameters: only the persons' activity scales are fitted
        k, total = config.scale_shape, x.n.sum(axis=1)
        for _ in range(3):
            st = e_step(x, params, scale, params.chain.stationary(), config.chunk)
            scale = (k + total) / (
                k + st.occ_person @ (params.rate + params.rate_diffuse)
            )
    return decode(x, params, scale, config)


def choose_power(
    x: SeriesArrays, params: PhaseParams, scale: np.ndarray, config: PhaseConfig
) -> tuple[float, dict[float, float]]:
    """How much each day's evidence should count, chosen on held-out days.

    The Poisson model reads each day as independent evidence; real series are not
    (a case's aoristic weight, an attributed case's p, catch that depends on the
    phase), and a model that over-reads its days states p = 0.99 where it is right
    80 % of the time. A share (`holdout_share`, seeded) of the days outside custody
    is hidden; for each power of `power_grid` the series are decoded with the
    daily log-likelihoods times the power, and each hidden day is predicted from
    the others (its phase posterior) and scored by the model's own density of what
    was recorded. The power with the best held-out score wins: (power, scores).
    With fewer than `holdout_min_days` hidden days the choice would be noise: 1.
    """
    rng = np.random.default_rng(config.holdout_seed)
    hidden = (rng.random(x.n.shape) < config.holdout_share) & ~x.custody
    if hidden.sum() < config.holdout_min_days:
        return 1.0, {}  # too few days to tell: every day read at full weight
    init = params.chain.stationary()
    scores = dict.fromkeys(config.power_grid, 0.0)
    for lo in range(0, x.n.shape[0], config.chunk):
        sl = slice(lo, min(lo + config.chunk, x.n.shape[0]))
        full = log_emissions(x, sl, params, scale)
        h = hidden[sl]
        for power in config.power_grid:
            le = full * power
            le[h] = 0.0  # a hidden day says nothing
            post = forward_backward(le, params.chain, init, want_xi=False).phase_post
            pred = np.log(np.maximum(post[h], 1e-300)) + full[h]
            top = pred.max(axis=1, keepdims=True)
            dens = top[:, 0] + np.log(np.exp(pred - top).sum(axis=1))
            scores[power] += float(dens.sum())
    best = max(config.power_grid, key=lambda pw: (scores[pw], pw))
    return best, scores


def decode(
    x: SeriesArrays, params: PhaseParams, scale: np.ndarray, config: PhaseConfig
) -> PhaseFit:
    """Posterior phase probabilities and Viterbi paths for every person.

    The daily evidence is read with `config.emission_power`, or, when that is None,
    with the power `choose_power` finds on held-out days. `p_cycling` compares the
    untempered likelihoods.
    """
    n_p, n_t = x.n.shape
    power = config.emission_power
    if power is None:
        power = choose_power(x, params, scale, config)[0]
    init = params.chain.stationary()
    post = np.empty((n_p, n_t, 5))
    path = np.empty((n_p, n_t), dtype=np.int8)
    last = np.empty((n_p, params.chain.n_states))
    cycle_ll = np.empty(n_p)
    for lo in range(0, n_p, config.chunk):
        sl = slice(lo, min(lo + config.chunk, n_p))
        le = log_emissions(x, sl, params, scale)
        fb = forward_backward(le * power, params.chain, init, want_xi=False)
        post[sl] = fb.phase_post
        last[sl] = fb.last_state
        cycle_ll[sl] = (
            fb.loglik
            if power == 1.0
            else forward_backward(le, params.chain, init, want_xi=False).loglik
        )
        path[sl] = viterbi(le * power, params.chain, init)
    if config.model_steady:
        steady = steady_loglik(x, params, scale, config)
        p_cyc = p_cycling(cycle_ll, steady, config.prior_cycling)
    else:
        p_cyc = np.ones(n_p)
    return PhaseFit(
        params, scale, x.persons, x.dates, post, path, last, init, p_cyc, power
    )

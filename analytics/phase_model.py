"""The phase model's structure, priors and likelihoods (see `phases` for the model).

Five phases (`REST`, `PHASE1`-`PHASE3`, `INACTIVE`, in the order of
`data_schema.contract.PHASES`), `PhaseConfig` (structure and the report's
priors), `PhaseParams` (the fitted population parameters), the person-day frame
as dense arrays (`SeriesArrays`), the daily log-likelihood of each phase
(`log_emissions`), and the *steady* alternative a person's series is also
scored under (`steady_loglik`, `p_cycling`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from gjenganger.analytics.semi_markov import Chain
from gjenganger.data_schema.contract import PHASES

REST, PHASE1, PHASE2, PHASE3, INACTIVE = range(5)
ACTIVE = (PHASE1, PHASE2, PHASE3)
_FORBID = -1e30


def _range_pmf(lo: int, hi: int, size: int, inside: float = 0.9) -> np.ndarray:
    """A duration prior: `inside` mass flat on [lo, hi], the rest spread outside."""
    k = np.arange(1, size + 1)
    inner = (k >= lo) & (k <= hi)
    pmf = np.where(inner, inside / inner.sum(), 0.0)
    outer = ~inner
    if outer.any():
        dist = np.where(k < lo, lo - k, k - hi).astype(float)
        w = np.where(outer, 0.6**dist, 0.0)
        pmf = pmf + (1.0 - inside) * w / w.sum()
    return pmf / pmf.sum()


def duration_prior(config: PhaseConfig, phase: int) -> np.ndarray:
    """Prior duration pmf of a phase over 1..max_days (the last day = tail for
    inactive)."""
    d = config.max_days[phase]
    if phase == INACTIVE:
        pmf = np.full(d, config.inactive_short_share / (d - 1))
        pmf[-1] = 1.0 - config.inactive_short_share
        return pmf
    lo, hi = config.duration_ranges[phase]
    return _range_pmf(lo, hi, d)


@dataclass(frozen=True)
class PhaseConfig:
    """Model structure and priors. Defaults follow the report (see module docstring).

    Duration priors (days, 90 % of the prior mass): rest 2-7 (report), phase1 3-10
    ("when you have been awake 7-10 days things start happening"), phase2 5-15,
    phase3 2-7 (ends in collapse); a use period of 7-30 days. `max_days` caps each
    phase (rest 10, phase1 12, phase2 20, phase3 10: above the report's ranges, so
    the data can stretch them). `inactive` lasts from a day to months (prison,
    sober): a pmf over 1..9 days holding `inactive_short_share` of the prior mass
    and, from day 10, a geometric tail (daily stay learned, prior
    `inactive_tail_stay`). The pmfs and transitions are re-estimated by EM with
    these priors (`duration_prior_strength` pseudo-spells, more with more data).
    """

    max_days: tuple[int, int, int, int, int] = (10, 12, 20, 10, 10)
    #: prior duration ranges of rest, phase1, phase2, phase3 (inactive: see above)
    duration_ranges: tuple[tuple[int, int], ...] = ((2, 7), (3, 10), (5, 15), (2, 7))
    duration_prior_strength: float = 3.0
    inactive_tail_stay: float = 0.97
    #: prior share of inactive spells shorter than `max_days[4]` days: the report's
    #: inactive spells are prison terms and sober spells of months
    inactive_short_share: float = 0.1
    #: allowed phase transitions with prior pseudo-counts (rows: from, cols: to)
    transition_prior: tuple[tuple[float, ...], ...] = (
        (0.0, 18.0, 0.0, 0.0, 2.0),  # rest -> phase1 (or a sober/prison spell)
        (0.0, 0.0, 18.0, 0.0, 2.0),  # phase1 -> phase2
        (0.0, 0.0, 0.0, 18.0, 2.0),  # phase2 -> phase3
        (17.0, 0.0, 0.0, 0.0, 3.0),  # phase3 -> rest (or arrest/prison)
        (5.0, 15.0, 0.0, 0.0, 0.0),  # inactive -> phase1 or rest
    )
    #: prior daily case rate per phase, relative to the mean rate on active days
    rate_prior: tuple[float, ...] = (0.03, 0.4, 1.6, 1.3, 0.01)
    #: the same for diffuse cases (times the data's diffuse share): spread over their
    #: windows, so flatter over the phases and present on rest days
    diffuse_prior: tuple[float, ...] = (0.2, 0.5, 1.2, 0.8, 0.01)
    rate_prior_days: float = 50.0
    #: prior level mix (1, 2, 3) per phase: fig. 6 of the report
    level_prior: tuple[tuple[float, float, float], ...] = (
        (0.4, 0.5, 0.1),
        (0.2, 0.7, 0.1),
        (0.1, 0.6, 0.3),
        (0.75, 0.23, 0.02),
        (0.4, 0.5, 0.1),
    )
    planned_prior: tuple[float, ...] = (0.3, 0.5, 0.75, 0.1, 0.3)
    arrest_prior: tuple[float, ...] = (0.05, 0.05, 0.05, 0.2, 0.05)
    mark_prior_cases: float = 20.0
    #: weigh each person's data by P(cycling) against a steady, rhythm-less model
    #: (the report's MAS persons and minus users offend daily without use periods)
    model_steady: bool = True
    prior_cycling: float = 0.5
    steady_prior_days: float = 30.0
    #: Gamma(k, k) prior on a person's activity scale; small k = little shrinkage
    scale_shape: float = 2.0
    n_iter: int = 30
    tol: float = 3e-5
    chunk: int = 128
    learn_durations: bool = True
    learn_transitions: bool = True
    #: evidence coverage per day (`coverage`): centred window, pseudo-cases, and
    #: the fewest persons it is estimated from (else 1 everywhere)
    coverage_days: int = 31
    coverage_prior_cases: float = 20.0
    coverage_min_persons: int = 10
    #: decoding: daily log-likelihoods times this (< 1: the days are read as less
    #: independent evidence than a Poisson model of them says); None: chosen on
    #: held-out days from `power_grid` (`phases.choose_power`)
    emission_power: float | None = None
    power_grid: tuple[float, ...] = (1.0, 0.8, 0.65, 0.5, 0.35, 0.25)
    holdout_share: float = 0.15
    holdout_min_days: int = 500
    holdout_seed: int = 0
    #: per day: posterior probability under which the phase is flagged uncertain
    low_confidence_p: float = 0.6
    #: current state flagged low-confidence with fewer cases than this in 90 days
    low_confidence_cases_90d: float = 3.0


@dataclass
class PhaseParams:
    """Fitted population parameters of the phase model."""

    chain: Chain
    rate: np.ndarray  # (5,) daily rate of sharp cases per phase (scale 1)
    rate_diffuse: np.ndarray  # (5,) daily rate of diffuse cases per phase
    level_mix: np.ndarray  # (5, 3)
    planned: np.ndarray  # (5,)
    arrest: np.ndarray  # (5,)
    loglik: list[float] = field(default_factory=list)

    def describe(self) -> pl.DataFrame:
        """One row per phase: rate, level mix, planned and arrest share, mean days."""
        means = []
        for pmf, tail, stay in zip(
            self.chain.pmfs, self.chain.tails, self.chain.tail_stay, strict=True
        ):
            k = np.arange(1, len(pmf) + 1, dtype=float)
            if tail:
                k[-1] = len(pmf) - 1 + 1.0 / max(1.0 - stay, 1e-9)
            means.append(float((pmf * k).sum()))
        return pl.DataFrame(
            {
                "phase": list(PHASES),
                "rate": self.rate.tolist(),
                "rate_diffuse": self.rate_diffuse.tolist(),
                "level1": self.level_mix[:, 0].tolist(),
                "level2": self.level_mix[:, 1].tolist(),
                "level3": self.level_mix[:, 2].tolist(),
                "planned": self.planned.tolist(),
                "arrest": self.arrest.tolist(),
                "mean_days": means,
            }
        )


@dataclass
class SeriesArrays:
    """The person-day frame as dense arrays (N persons x T days)."""

    persons: list[str]
    dates: list[dt.date]
    n: np.ndarray
    sharp: np.ndarray
    levels: np.ndarray  # (N, T, 3)
    planned: np.ndarray
    unplanned: np.ndarray
    arrests: np.ndarray
    custody: np.ndarray  # bool
    #: (N, T) how much of the offending the evidence shows on each day, relative to
    #: the window's mean (1 = as usual); see `coverage`
    exposure: np.ndarray | None = None

    def expo(self, sl: slice = slice(None)) -> np.ndarray:
        """The exposure of the rows in `sl` (ones when none was set)."""
        if self.exposure is None:
            return np.ones_like(self.n[sl])
        return self.exposure[sl]


def to_arrays(person_days: pl.DataFrame) -> SeriesArrays:
    """Dense arrays from a dense, sorted person-day frame (`build_person_days`)."""
    frame = person_days.sort("person_id", "date")
    persons = frame["person_id"].unique(maintain_order=True).to_list()
    dates = (
        frame.filter(pl.col("person_id") == persons[0])["date"].to_list()
        if persons
        else []
    )
    n_p, n_t = len(persons), len(dates)
    if frame.height != n_p * n_t:
        raise ValueError("person_days must be dense: every person on every date")

    def arr(col: str) -> np.ndarray:
        return frame[col].to_numpy().astype(float).reshape(n_p, n_t)

    levels = np.stack([arr(f"n_level{k}") for k in (1, 2, 3)], axis=2)
    return SeriesArrays(
        persons=persons,
        dates=dates,
        n=arr("n_cases"),
        sharp=np.minimum(arr("n_sharp"), arr("n_cases"))
        if "n_sharp" in frame.columns
        else arr("n_cases"),
        levels=levels,
        planned=arr("n_planned"),
        unplanned=arr("n_unplanned"),
        arrests=np.minimum(arr("n_arrests"), arr("n_cases")),
        custody=frame["custody"].to_numpy().astype(bool).reshape(n_p, n_t),
    )


def coverage(x: SeriesArrays, config: PhaseConfig) -> np.ndarray:
    """How much of the offending the evidence shows on each day: (N, T), mean 1.

    Absence of evidence is not evidence of inactivity: the evidence is thinner on
    some days for every person alike, e.g. before the attribution window (linked
    cases only), or near the as-of date (cases not yet solved). The pooled evidence
    rate per free (not in custody) person-day, in a centred window of
    `coverage_days`, over the window's mean rate, with `coverage_prior_cases`
    pseudo-cases at the mean. The persons' own cycles are not in sync, so with many
    persons pooled the rate follows the evidence, not the phases; with fewer than
    `coverage_min_persons` persons it is 1 everywhere.
    """
    n_p, n_t = x.n.shape
    if n_p < config.coverage_min_persons or n_t < 2:
        return np.ones((n_p, n_t))
    free = ~x.custody
    cases = (x.n * free).sum(axis=0)
    days = free.sum(axis=0).astype(float)
    mean = cases.sum() / max(days.sum(), 1.0)
    if mean <= 0:
        return np.ones((n_p, n_t))
    kernel = np.ones(min(config.coverage_days, n_t))
    roll_c = np.convolve(cases, kernel, mode="same")
    roll_d = np.convolve(days, kernel, mode="same")
    m = config.coverage_prior_cases
    cov = (roll_c + m) / (roll_d * mean + m)
    cov = np.clip(cov / np.average(cov, weights=np.maximum(days, 1e-9)), 0.02, 50.0)
    return np.broadcast_to(cov[None, :], (n_p, n_t)).copy()


def log_emissions(
    x: SeriesArrays,
    sl: slice,
    params: PhaseParams,
    scale: np.ndarray,
    power: float = 1.0,
) -> np.ndarray:
    """(n, T, 5) log-likelihood of each day under each phase (constants dropped)."""
    n = x.n[sl][:, :, None]
    sharp = x.sharp[sl][:, :, None]
    a = (scale[sl][:, None] * x.expo(sl))[:, :, None]
    lam = a * params.rate[None, None, :]
    mu = a * params.rate_diffuse[None, None, :]
    out = sharp * np.log(lam) - lam + (n - sharp) * np.log(mu) - mu
    out += np.einsum("ntl,pl->ntp", x.levels[sl], np.log(params.level_mix))
    out += x.planned[sl][:, :, None] * np.log(params.planned)[None, None, :]
    out += x.unplanned[sl][:, :, None] * np.log1p(-params.planned)[None, None, :]
    ar = x.arrests[sl][:, :, None]
    out += ar * np.log(params.arrest)[None, None, :]
    out += (n - ar) * np.log1p(-params.arrest)[None, None, :]
    if power != 1.0:
        out *= power
    cust = x.custody[sl]
    out[:, :, :INACTIVE] = np.where(cust[:, :, None], _FORBID, out[:, :, :INACTIVE])
    return out


def rate_bases(x: SeriesArrays, mean_rate: float) -> tuple[float, float]:
    """Scales of the sharp and diffuse rate priors: the mean rate split by the data's
    share of diffuse (long-window) case weight."""
    total = x.n.sum()
    f = float((x.n - x.sharp).sum() / total) if total > 0 else 0.0
    return (1.0 - f) * mean_rate, f * mean_rate


def initial_params(
    x: SeriesArrays, config: PhaseConfig
) -> tuple[PhaseParams, np.ndarray]:
    """Starting parameters from the report's priors, scaled to the data's mean rate."""
    free = ~x.custody
    per_person_total = x.n.sum(axis=1)
    active_share = 0.6
    mean_rate = max(x.n[free].sum() / max(free.sum() * active_share, 1.0), 1e-3)
    sharp_base, diffuse_base = rate_bases(x, mean_rate)
    pmfs = tuple(duration_prior(config, p) for p in range(5))
    tails = (False, False, False, False, True)
    trans = np.array(config.transition_prior, float)
    trans = trans / trans.sum(axis=1, keepdims=True)
    chain = Chain(
        pmfs, tails, np.array([0, 0, 0, 0, config.inactive_tail_stay], float), trans
    )
    params = PhaseParams(
        chain=chain,
        rate=np.array(config.rate_prior) * sharp_base,
        rate_diffuse=np.maximum(np.array(config.diffuse_prior) * diffuse_base, 1e-6),
        level_mix=np.array(config.level_prior, float),
        planned=np.array(config.planned_prior, float),
        arrest=np.array(config.arrest_prior, float),
    )
    days_free = np.maximum((x.expo() * free).sum(axis=1), 1)
    k = config.scale_shape
    scale = (k + per_person_total) / (k + mean_rate * active_share * days_free)
    return params, scale


def p_cycling(cycle_ll: np.ndarray, steady_ll: np.ndarray, prior: float) -> np.ndarray:
    """Posterior probability that a person follows the use-period cycle rather than
    a steady, rhythm-less activity, from the two models' log-likelihoods."""
    odds = cycle_ll - steady_ll + np.log(prior / (1.0 - prior))
    return 1.0 / (1.0 + np.exp(-np.clip(odds, -50.0, 50.0)))


def steady_loglik(
    x: SeriesArrays, params: PhaseParams, scale: np.ndarray, config: PhaseConfig
) -> np.ndarray:
    """Log-likelihood of each series under the *steady* alternative.

    The report's MAS persons and minus users offend every day without use periods.
    The steady model gives each person one daily rate (sharp and diffuse) and one
    personal mark mix (levels, planned, arrests) outside custody, with weak priors
    at the population values, and the inactive emission on custody days; a BIC
    penalty pays for its per-person parameters. Same dropped constants as
    `log_emissions`, so the two log-likelihoods compare.
    """
    free = ~x.custody
    expo = x.expo()
    n_free = (expo * free).sum(axis=1)
    pri = config.steady_prior_days
    n, sharp = x.n * free, x.sharp * free
    diffuse = n - sharp
    ref_s = params.rate[PHASE2] * 0.5 + params.rate[PHASE1] * 0.5
    ref_d = params.rate_diffuse[PHASE2] * 0.5 + params.rate_diffuse[PHASE1] * 0.5
    r_s = (sharp.sum(1) + pri * ref_s) / (n_free + pri)
    r_d = (diffuse.sum(1) + pri * ref_d) / (n_free + pri)
    ll = (
        sharp.sum(1) * np.log(r_s)
        - n_free * r_s
        + diffuse.sum(1) * np.log(r_d)
        - n_free * r_d
        + (n * np.log(expo)).sum(1)
    )
    m = config.mark_prior_cases
    lv = (x.levels * free[:, :, None]).sum(1)  # (N, 3)
    mix_pop = params.level_mix[[PHASE1, PHASE2, PHASE3]].mean(0)
    mix = (lv + m * mix_pop) / (lv.sum(1, keepdims=True) + m)
    ll += (lv * np.log(mix)).sum(1)
    pl_, up = (x.planned * free).sum(1), (x.unplanned * free).sum(1)
    rho = (pl_ + m * 0.5) / (pl_ + up + m)
    ll += pl_ * np.log(rho) + up * np.log1p(-rho)
    ar = (x.arrests * free).sum(1)
    eta = (ar + m * params.arrest[PHASE3]) / (n.sum(1) + m)
    ll += ar * np.log(eta) + (n.sum(1) - ar) * np.log1p(-eta)
    # custody days: the cycle model's inactive emission
    cust = ~free
    a = scale[:, None] * expo
    lam, mu = a * params.rate[INACTIVE], a * params.rate_diffuse[INACTIVE]
    cs, cn = x.sharp * cust, x.n * cust
    ll += (cs * np.log(lam) - cust * lam + (cn - cs) * np.log(mu) - cust * mu).sum(1)
    n_params = 6.0
    return ll - 0.5 * n_params * np.log(max(x.n.shape[1], 2))

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
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from gjenganger.analytics.semi_markov import Chain, forward_backward, viterbi
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


def _duration_prior(config: PhaseConfig, phase: int) -> np.ndarray:
    """Prior duration pmf of a phase over 1..max_days (the last day = tail for inactive)."""
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


def _log_emissions(
    x: SeriesArrays, sl: slice, params: PhaseParams, scale: np.ndarray
) -> np.ndarray:
    """(n, T, 5) log-likelihood of each day under each phase (constants dropped)."""
    n = x.n[sl][:, :, None]
    sharp = x.sharp[sl][:, :, None]
    lam = scale[sl][:, None, None] * params.rate[None, None, :]
    mu = scale[sl][:, None, None] * params.rate_diffuse[None, None, :]
    out = sharp * np.log(lam) - lam + (n - sharp) * np.log(mu) - mu
    out += np.einsum("ntl,pl->ntp", x.levels[sl], np.log(params.level_mix))
    out += x.planned[sl][:, :, None] * np.log(params.planned)[None, None, :]
    out += x.unplanned[sl][:, :, None] * np.log1p(-params.planned)[None, None, :]
    ar = x.arrests[sl][:, :, None]
    out += ar * np.log(params.arrest)[None, None, :]
    out += (n - ar) * np.log1p(-params.arrest)[None, None, :]
    cust = x.custody[sl]
    out[:, :, :INACTIVE] = np.where(cust[:, :, None], _FORBID, out[:, :, :INACTIVE])
    return out


def _bases(x: SeriesArrays, mean_rate: float) -> tuple[float, float]:
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
    sharp_base, diffuse_base = _bases(x, mean_rate)
    pmfs = tuple(_duration_prior(config, p) for p in range(5))
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
    days_free = np.maximum(free.sum(axis=1), 1)
    k = config.scale_shape
    scale = (k + per_person_total) / (k + mean_rate * active_share * days_free)
    return params, scale


@dataclass
class _Stats:
    """Expected sufficient statistics accumulated over person chunks (E-step)."""

    occ: np.ndarray  # (5,) expected person-days per phase, weighted by scale
    cases: np.ndarray  # (5,)
    sharp: np.ndarray  # (5,)
    levels: np.ndarray  # (5, 3)
    planned: np.ndarray
    unplanned: np.ndarray
    arrests: np.ndarray
    xi: np.ndarray
    occ_person: np.ndarray  # (N, 5) expected days per phase per person
    loglik: float
    p_cycling: np.ndarray  # (N,) posterior probability the person follows the cycle
    cycle_ll: np.ndarray  # (N,) log-likelihood of each series under the cycle model


def _e_step(
    x: SeriesArrays,
    params: PhaseParams,
    scale: np.ndarray,
    init: np.ndarray,
    chunk: int,
    steady_ll: np.ndarray | None = None,
    prior_cycling: float = 0.5,
) -> _Stats:
    """Expected statistics; each person's weighted by P(cycling) when `steady_ll` given."""
    n_p = len(x.persons)
    s_n = params.chain.n_states
    z = np.zeros
    st = _Stats(
        z(5),
        z(5),
        z(5),
        z((5, 3)),
        z(5),
        z(5),
        z(5),
        z((s_n, s_n)),
        z((n_p, 5)),
        0.0,
        np.ones(n_p),
        z(n_p),
    )
    for lo in range(0, n_p, chunk):
        sl = slice(lo, min(lo + chunk, n_p))
        le = _log_emissions(x, sl, params, scale)

        def weigh(loglik: np.ndarray, sl: slice = sl) -> np.ndarray:
            if steady_ll is None:
                return np.ones_like(loglik)
            return p_cycling(loglik, steady_ll[sl], prior_cycling)

        post = forward_backward(le, params.chain, init, weights=weigh)
        st.cycle_ll[sl] = post.loglik
        st.p_cycling[sl] = w = post.weights
        g = post.phase_post * w[:, None, None]
        st.occ_person[sl] = post.phase_post.sum(axis=1)
        st.occ += np.einsum("ntp,n->p", g, scale[sl])
        st.cases += np.einsum("ntp,nt->p", g, x.n[sl])
        st.sharp += np.einsum("ntp,nt->p", g, x.sharp[sl])
        st.levels += np.einsum("ntp,ntl->pl", g, x.levels[sl])
        st.planned += np.einsum("ntp,nt->p", g, x.planned[sl])
        st.unplanned += np.einsum("ntp,nt->p", g, x.unplanned[sl])
        st.arrests += np.einsum("ntp,nt->p", g, x.arrests[sl])
        st.xi += post.xi
        if steady_ll is None:
            st.loglik += float(post.loglik.sum())
        else:  # the mixture's log-likelihood: what EM with P(cycling) weights raises
            st.loglik += float(
                np.logaddexp(
                    np.log(prior_cycling) + post.loglik,
                    np.log1p(-prior_cycling) + steady_ll[sl],
                ).sum()
            )
    return st


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
    `_log_emissions`, so the two log-likelihoods compare.
    """
    free = ~x.custody
    n_free = free.sum(axis=1)
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
    lam = scale * params.rate[INACTIVE]
    mu = scale * params.rate_diffuse[INACTIVE]
    cs, cn = (x.sharp * cust).sum(1), (x.n * cust).sum(1)
    ll += (
        cs * np.log(lam) - cust.sum(1) * lam + (cn - cs) * np.log(mu) - cust.sum(1) * mu
    )
    n_params = 6.0
    return ll - 0.5 * n_params * np.log(max(x.n.shape[1], 2))


def _m_step(
    st: _Stats,
    params: PhaseParams,
    x: SeriesArrays,
    config: PhaseConfig,
    bases: tuple[float, float],
) -> tuple[PhaseParams, np.ndarray]:
    """MAP updates of the shared parameters, then each person's activity scale."""
    prior_days = config.rate_prior_days
    prior_rate = np.array(config.rate_prior) * bases[0]
    rate = (st.sharp + prior_days * prior_rate) / (st.occ + prior_days)
    prior_diffuse = np.array(config.diffuse_prior) * bases[1]
    diffuse = (st.cases - st.sharp + prior_days * prior_diffuse) / (st.occ + prior_days)
    m = config.mark_prior_cases
    level_mix = st.levels + m * np.array(config.level_prior)
    level_mix /= level_mix.sum(axis=1, keepdims=True)
    pp = np.array(config.planned_prior)
    planned = (st.planned + m * pp) / (st.planned + st.unplanned + m)
    ap = np.array(config.arrest_prior)
    arrest = (st.arrests + m * ap) / (st.cases + m)
    chain = params.chain
    if config.learn_durations or config.learn_transitions:
        chain = _update_chain(chain, st.xi, config)
    new = PhaseParams(
        chain,
        np.maximum(rate, 1e-6),
        np.maximum(diffuse, 1e-6),
        level_mix,
        np.clip(planned, 1e-4, 1 - 1e-4),
        np.clip(arrest, 1e-4, 1 - 1e-4),
        params.loglik,
    )
    k = config.scale_shape
    # person scale: posterior mean under a Gamma(k, k) prior (empirical Bayes shrinkage
    # towards the population: a person with few cases keeps a scale near 1)
    scale = (k + x.n.sum(axis=1)) / (k + st.occ_person @ (new.rate + new.rate_diffuse))
    return new, scale


def _update_chain(chain: Chain, xi: np.ndarray, config: PhaseConfig) -> Chain:
    """M-step for duration pmfs, tail stay and phase transitions from expected counts."""
    off, sizes = chain.offsets, chain.sizes
    n_ph = chain.n_phases
    entries = off
    exits = np.zeros((n_ph, n_ph))
    for q in range(n_ph):
        rows = slice(off[q], off[q] + sizes[q])
        exits[q] = xi[rows][:, entries].sum(axis=0)
    np.fill_diagonal(exits, 0.0)
    pmfs, stays = list(chain.pmfs), chain.tail_stay.copy()
    if config.learn_durations:
        for p in range(n_ph):
            o, d = off[p], sizes[p]
            idx = np.arange(o, o + d)
            # expected exits from day j of phase p (to any other phase)
            ex = xi[idx][:, entries].sum(axis=1)
            if chain.tails[p]:
                ex_last = ex[-1]
                loop = xi[idx[-1], idx[-1]]
                stays[p] = (loop + 50 * config.inactive_tail_stay) / (
                    loop + ex_last + 50
                )
            prior = _duration_prior(config, p)
            total = ex.sum()
            pmf = ex + config.duration_prior_strength * max(1.0, total / 200.0) * prior
            pmfs[p] = pmf / pmf.sum()
    trans = chain.trans
    if config.learn_transitions:
        pri = np.array(config.transition_prior, float)
        cnt = np.where(pri > 0, exits + pri, 0.0)
        trans = cnt / cnt.sum(axis=1, keepdims=True)
    return Chain(tuple(pmfs), chain.tails, stays, trans)


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

    def daily(self) -> pl.DataFrame:
        """Per person-day: most likely phase, its probability, all five, Viterbi phase."""
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


def _fit(
    person_days: pl.DataFrame, config: PhaseConfig, params: PhaseParams | None
) -> PhaseFit:
    x = to_arrays(person_days)
    if not x.persons:
        raise ValueError("no persons to fit")
    p0, scale = initial_params(x, config)
    free = ~x.custody
    bases = _bases(x, max(x.n[free].sum() / max(free.sum() * 0.6, 1.0), 1e-3))
    if params is None:
        params = p0
        prev = -np.inf
        for _ in range(config.n_iter):
            init = params.chain.stationary()
            steady = (
                steady_loglik(x, params, scale, config) if config.model_steady else None
            )
            st = _e_step(
                x, params, scale, init, config.chunk, steady, config.prior_cycling
            )
            params.loglik.append(st.loglik)
            params, scale = _m_step(st, params, x, config, bases)
            if np.isfinite(prev) and abs(st.loglik - prev) <= config.tol * abs(prev):
                break
            prev = st.loglik
    else:
        # given population parameters: only the persons' activity scales are fitted
        k, total = config.scale_shape, x.n.sum(axis=1)
        for _ in range(3):
            st = _e_step(x, params, scale, params.chain.stationary(), config.chunk)
            scale = (k + total) / (
                k + st.occ_person @ (params.rate + params.rate_diffuse)
            )
    return decode(x, params, scale, config)


def decode(
    x: SeriesArrays, params: PhaseParams, scale: np.ndarray, config: PhaseConfig
) -> PhaseFit:
    """Posterior phase probabilities and Viterbi paths for every person."""
    n_p, n_t = x.n.shape
    init = params.chain.stationary()
    post = np.empty((n_p, n_t, 5))
    path = np.empty((n_p, n_t), dtype=np.int8)
    last = np.empty((n_p, params.chain.n_states))
    cycle_ll = np.empty(n_p)
    for lo in range(0, n_p, config.chunk):
        sl = slice(lo, min(lo + config.chunk, n_p))
        le = _log_emissions(x, sl, params, scale)
        fb = forward_backward(le, params.chain, init, want_xi=False)
        post[sl] = fb.phase_post
        last[sl] = fb.last_state
        cycle_ll[sl] = fb.loglik
        path[sl] = viterbi(le, params.chain, init)
    if config.model_steady:
        steady = steady_loglik(x, params, scale, config)
        p_cyc = p_cycling(cycle_ll, steady, config.prior_cycling)
    else:
        p_cyc = np.ones(n_p)
    return PhaseFit(params, scale, x.persons, x.dates, post, path, last, init, p_cyc)


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """Runs of equal labels as (label, start index, end index inclusive)."""
    if labels.size == 0:
        return []
    cut = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], cut])
    ends = np.concatenate([cut - 1, [labels.size - 1]])
    return [(int(labels[s]), int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def segment_use_periods(labels: np.ndarray) -> list[tuple[int, int]]:
    """Use periods in a phase path: maximal runs of phase1-3 days, (start, end) inclusive."""
    active = np.isin(labels, ACTIVE).astype(np.int8)
    return [(s, e) for lab, s, e in _runs(active) if lab == 1]


USE_PERIOD_SCHEMA = {
    "person_id": pl.String,
    "period_no": pl.Int32,
    "start": pl.Date,
    "end": pl.Date,
    "days": pl.Int32,
    "phase1_start": pl.Date,
    "phase2_start": pl.Date,
    "phase3_start": pl.Date,
    "phase1_days": pl.Int32,
    "phase2_days": pl.Int32,
    "phase3_days": pl.Int32,
    "n_cases": pl.Float64,
    "n_level1": pl.Float64,
    "n_level2": pl.Float64,
    "n_level3": pl.Float64,
    "n_arrests": pl.Float64,
    "value_nok": pl.Float64,
    "mean_p": pl.Float64,
    "open_start": pl.Boolean,
    "ongoing": pl.Boolean,
}


def use_periods_from_labels(
    persons: list[str],
    dates: list[dt.date],
    labels: np.ndarray,
    person_days: pl.DataFrame | None = None,
    p: np.ndarray | None = None,
) -> pl.DataFrame:
    """Use periods (runs of phase1-3) per person with phase boundaries and offences.

    `labels` is (N, T) phase indices. A period touching the first day of the window
    has `open_start`; one touching the last day is `ongoing`. Offence columns sum
    the person-day series (weighted counts) over the period.
    """
    sums = {}
    if person_days is not None:
        arr = person_days.sort("person_id", "date")
        n_t = len(dates)
        for c in (
            "n_cases",
            "n_level1",
            "n_level2",
            "n_level3",
            "n_arrests",
            "value_nok",
        ):
            sums[c] = arr[c].to_numpy().astype(float).reshape(len(persons), n_t)
    rows = []
    for i, pid in enumerate(persons):
        for no, (s, e) in enumerate(segment_use_periods(labels[i]), start=1):
            seg = labels[i, s : e + 1]
            row = {
                "person_id": pid,
                "period_no": no,
                "start": dates[s],
                "end": dates[e],
                "days": e - s + 1,
            }
            for ph_idx, name in (
                (PHASE1, "phase1"),
                (PHASE2, "phase2"),
                (PHASE3, "phase3"),
            ):
                hit = np.flatnonzero(seg == ph_idx)
                row[f"{name}_start"] = dates[s + int(hit[0])] if hit.size else None
                row[f"{name}_days"] = int(hit.size)
            for c in (
                "n_cases",
                "n_level1",
                "n_level2",
                "n_level3",
                "n_arrests",
                "value_nok",
            ):
                row[c] = float(sums[c][i, s : e + 1].sum()) if c in sums else None
            row["mean_p"] = float(p[i, s : e + 1].mean()) if p is not None else None
            row["open_start"] = s == 0
            row["ongoing"] = e == len(dates) - 1
            rows.append(row)
    return pl.DataFrame(rows, schema=USE_PERIOD_SCHEMA)


def use_periods(
    fit_: PhaseFit, person_days: pl.DataFrame | None = None, *, source: str = "path"
) -> pl.DataFrame:
    """Use periods of every person from the Viterbi path (`source="path"`) or from
    the per-day most likely phase (`source="marginal"`)."""
    labels = fit_.path if source == "path" else fit_.phase_post.argmax(axis=2)
    p = np.take_along_axis(fit_.phase_post, labels[:, :, None].astype(np.int64), 2)[
        :, :, 0
    ]
    return use_periods_from_labels(fit_.persons, fit_.dates, labels, person_days, p)


def _absorb_inactive(chain: Chain) -> np.ndarray:
    """Per sub-state: probability of reaching `inactive` before `rest`."""
    a = chain.matrix()
    ph_of = chain.phase_of
    free = (ph_of != REST) & (ph_of != INACTIVE)
    q = a[np.ix_(free, free)]
    r = a[np.ix_(free, ph_of == INACTIVE)].sum(axis=1)
    out = np.zeros(chain.n_states)
    out[ph_of == INACTIVE] = 1.0
    out[free] = np.linalg.solve(np.eye(q.shape[0]) - q, r)
    return out


def current_state(
    fit_: PhaseFit, person_days: pl.DataFrame, config: PhaseConfig | None = None
) -> pl.DataFrame:
    """Each person's state on the last day of the window.

    `phase`, `p`: most likely phase today and its posterior probability.
    `days_in_use_period`: days since the current use period began, counting back
    the run of days whose most likely phase is phase1-3 (0 when resting or
    inactive). `expected_days_to_rest`: expected days until the next rest (the
    collapse that ends the use period) *given* today's most likely phase, from the
    posterior over its day-in-phase (how long the person has been in it) and the
    fitted durations and transitions, assuming no arrest or prison interrupts the
    cycle (0 when resting; a person inactive today first finishes the inactive
    spell). `p_interrupted`: probability, given the phase, that the current use
    period ends in `inactive` (arrest, prison) rather than rest.
    `p_cycling`: probability that the person's data follow the use-period cycle at
    all (against steady, rhythm-less offending, like the report's MAS persons).
    `low_confidence`: p below `low_confidence_p`, or fewer than
    `low_confidence_cases_90d` (weighted) cases in the last 90 days outside custody,
    or `p_cycling` below 0.5 (the phases of a steady offender mean little).
    """
    config = config or PhaseConfig()
    n_p, n_t, _ = fit_.phase_post.shape
    today = fit_.phase_post[:, -1]
    best = today.argmax(axis=1)
    chain = fit_.params.chain
    # condition today's sub-state posterior on the most likely phase
    given = fit_.last_state * (chain.phase_of[None, :] == best[:, None])
    given /= np.maximum(given.sum(axis=1, keepdims=True), 1e-300)
    exp_rest = given @ chain.expected_days_until(REST, barring=INACTIVE)
    p_int = given @ _absorb_inactive(chain)
    arr = person_days.sort("person_id", "date")
    n = arr["n_cases"].to_numpy().astype(float).reshape(n_p, n_t)
    cust = arr["custody"].to_numpy().astype(bool).reshape(n_p, n_t)
    recent = n[:, -90:].sum(axis=1)
    days_in = np.zeros(n_p, dtype=np.int32)
    marginal = fit_.phase_post.argmax(axis=2)
    for i in range(n_p):
        periods = segment_use_periods(marginal[i])
        if periods and periods[-1][1] == n_t - 1:
            days_in[i] = periods[-1][1] - periods[-1][0] + 1
    p_today = today[np.arange(n_p), best]
    low = (
        (p_today < config.low_confidence_p)
        | ((recent < config.low_confidence_cases_90d) & ~cust[:, -1])
        | (fit_.p_cycling < 0.5)
    )
    return pl.DataFrame(
        {
            "person_id": fit_.persons,
            "as_of": [fit_.dates[-1]] * n_p,
            "phase": [PHASES[b] for b in best],
            "p": p_today,
            **{f"p_{ph}": today[:, i] for i, ph in enumerate(PHASES)},
            "days_in_use_period": days_in,
            "expected_days_to_rest": np.where(best == REST, 0.0, exp_rest),
            "p_interrupted": np.where(np.isin(best, ACTIVE), p_int, 0.0),
            "cases_90d": recent,
            "in_custody": cust[:, -1],
            "p_cycling": fit_.p_cycling,
            "low_confidence": low,
        },
        schema_overrides={"as_of": pl.Date},
    )

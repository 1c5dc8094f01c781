"""EM for the phase model: expected statistics (E) and MAP updates (M).

The E-step runs the forward-backward of the semi-Markov chain over person chunks
and sums expected phase occupancies, marks and sub-state transitions, each
person weighted by P(cycling) against the steady alternative; the M-step updates
the shared rates, mark mixes, durations and transitions under the report's
priors, then each person's activity scale (empirical Bayes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gjenganger.analytics.phase_model import (
    PhaseConfig,
    PhaseParams,
    SeriesArrays,
    duration_prior,
    log_emissions,
    p_cycling,
)
from gjenganger.analytics.semi_markov import Chain, forward_backward


@dataclass
class ExpectedStats:
    """Expected sufficient statistics accumulated over person chunks (E-step)."""

    occ: np.ndarray  # (5,) expected person-days per phase, weighted by scale
    cases: np.ndarray  # (5,)
    sharp: np.ndarray  # (5,)
    levels: np.ndarray  # (5, 3)
    planned: np.ndarray
    unplanned: np.ndarray
    arrests: np.ndarray
    xi: np.ndarray
    occ_person: np.ndarray  # (N, 5) expected (exposure-weighted) days per phase
    loglik: float
    p_cycling: np.ndarray  # (N,) posterior probability the person follows the cycle
    cycle_ll: np.ndarray  # (N,) log-likelihood of each series under the cycle model


def e_step(
    x: SeriesArrays,
    params: PhaseParams,
    scale: np.ndarray,
    init: np.ndarray,
    chunk: int,
    steady_ll: np.ndarray | None = None,
    prior_cycling: float = 0.5,
) -> ExpectedStats:
    """Expected statistics; each person's weighted by P(cycling) when `steady_ll`
    is given."""
    n_p = len(x.persons)
    s_n = params.chain.n_states
    z = np.zeros
    st = ExpectedStats(
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
        le = log_emissions(x, sl, params, scale)

        def weigh(loglik: np.ndarray, sl: slice = sl) -> np.ndarray:
            if steady_ll is None:
                return np.ones_like(loglik)
            return p_cycling(loglik, steady_ll[sl], prior_cycling)

        post = forward_backward(le, params.chain, init, weights=weigh)
        st.cycle_ll[sl] = post.loglik
        st.p_cycling[sl] = w = post.weights
        g = post.phase_post * w[:, None, None]
        expo = x.expo(sl)
        st.occ_person[sl] = np.einsum("ntp,nt->np", post.phase_post, expo)
        st.occ += np.einsum("ntp,nt->p", g, scale[sl][:, None] * expo)
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


def m_step(
    st: ExpectedStats,
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
    """M-step for duration pmfs, tail stay and phase transitions from expected
    counts."""
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
            prior = duration_prior(config, p)
            total = ex.sum()
            pmf = ex + config.duration_prior_strength * max(1.0, total / 200.0) * prior
            pmfs[p] = pmf / pmf.sum()
    trans = chain.trans
    if config.learn_transitions:
        pri = np.array(config.transition_prior, float)
        cnt = np.where(pri > 0, exits + pri, 0.0)
        trans = cnt / cnt.sum(axis=1, keepdims=True)
    return Chain(tuple(pmfs), chain.tails, stays, trans)

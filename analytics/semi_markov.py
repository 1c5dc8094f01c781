"""Explicit-duration (semi-Markov) chains as expanded-state HMMs, many series at once.

A hidden semi-Markov model lets each state ("phase") last a number of days drawn from
its own duration distribution, instead of the geometric durations a plain HMM
implies. The standard trick (e.g. Yu 2010, "Hidden semi-Markov models", sec. 3.4) is
to expand phase p into `D_p` sub-states "day j of phase p" (count-up). From day j the
chain moves to day j+1 with probability 1 - h_p(j) or leaves the phase with the
hazard h_p(j) = d_p(j) / S_p(j), entering day 1 of the next phase q with
probability P[p, q]. If the phase has a *tail*, its last sub-state loops on itself, so
durations beyond `D_p` are geometric; otherwise `D_p` is a hard maximum.

This module holds only that machinery: building the expanded transition matrix from
duration pmfs and a phase transition matrix, scaled forward-backward (Rabiner 1989)
over many series at once (one matrix product per day for the whole batch), expected
transition counts for EM, and a Viterbi pass that exploits the sparse structure.
Emissions are given per phase (all sub-states of a phase share them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_TINY = 1e-300
#: Values under this are flushed to zero: subnormal floats make matrix products
#: 10-100 times slower, and mass this small never changes a posterior.
_FLUSH = 1e-100


@dataclass(frozen=True)
class Chain:
    """An expanded chain: `pmfs[p]` over durations 1..D_p, `tails[p]`, `trans` (P x P).

    `pmfs[p][D_p - 1]` is the probability of lasting at least `D_p` days when the
    phase has a tail; `tail_stay[p]` is then the daily probability of staying on.
    """

    pmfs: tuple[np.ndarray, ...]
    tails: tuple[bool, ...]
    tail_stay: np.ndarray
    trans: np.ndarray

    @property
    def n_phases(self) -> int:
        return len(self.pmfs)

    @property
    def sizes(self) -> np.ndarray:
        return np.array([len(p) for p in self.pmfs])

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.sizes)[:-1]])

    @property
    def n_states(self) -> int:
        return int(self.sizes.sum())

    @property
    def phase_of(self) -> np.ndarray:
        """Phase index of each expanded sub-state."""
        return np.repeat(np.arange(self.n_phases), self.sizes)

    @property
    def day_of(self) -> np.ndarray:
        """Day within the phase (1-based) of each expanded sub-state."""
        return np.concatenate([np.arange(1, s + 1) for s in self.sizes])

    def hazards(self) -> np.ndarray:
        """Daily probability of leaving the phase from each sub-state."""
        out = []
        for pmf, tail, stay in zip(self.pmfs, self.tails, self.tail_stay, strict=True):
            pmf = np.asarray(pmf, float)
            surv = np.cumsum(pmf[::-1])[::-1]
            h = np.where(surv > 0, pmf / np.maximum(surv, _TINY), 1.0)
            h[-1] = 1.0 - stay if tail else 1.0
            out.append(np.clip(h, 1e-9, 1.0))
        return np.concatenate(out)

    def matrix(self) -> np.ndarray:
        """The dense expanded transition matrix (S x S), rows sum to 1."""
        s_n = self.n_states
        h = self.hazards()
        phase = self.phase_of
        off, sizes = self.offsets, self.sizes
        a = np.zeros((s_n, s_n))
        for p in range(self.n_phases):
            o, d = off[p], sizes[p]
            idx = np.arange(o, o + d)
            if d > 1:
                a[idx[:-1], idx[1:]] = 1.0 - h[idx[:-1]]
            if self.tails[p]:
                a[idx[-1], idx[-1]] = 1.0 - h[idx[-1]]
        entries = off  # day 1 of every phase
        a[:, entries] += h[:, None] * self.trans[phase][:, :]
        return a

    def stationary(self) -> np.ndarray:
        """Stationary distribution of the expanded chain (initial-state prior)."""
        a = self.matrix()
        pi = np.full(self.n_states, 1.0 / self.n_states)
        for _ in range(2000):
            nxt = pi @ a
            if np.abs(nxt - pi).sum() < 1e-12:
                break
            pi = nxt
        return pi / pi.sum()

    def expected_days_until(
        self, target: int, *, barring: int | None = None
    ) -> np.ndarray:
        """Expected days from each sub-state until the chain first enters `target`.

        Zero for sub-states of `target`; solves (I - Q) h = 1 over the others.
        `barring`: a phase the chain may not newly enter (its incoming transitions
        from other phases are removed and the rest renormalised), e.g. the time to
        the next rest assuming no arrest interrupts the cycle.
        """
        chain = self
        if barring is not None:
            trans = self.trans.copy()
            keep = np.arange(self.n_phases) != barring
            trans[keep, barring] = 0.0
            rows = trans.sum(axis=1, keepdims=True)
            trans = np.where(rows > 0, trans / np.where(rows > 0, rows, 1.0), trans)
            chain = Chain(self.pmfs, self.tails, self.tail_stay, trans)
        a = chain.matrix()
        other = self.phase_of != target
        q = a[np.ix_(other, other)]
        out = np.zeros(self.n_states)
        try:
            out[other] = np.linalg.solve(np.eye(q.shape[0]) - q, np.ones(q.shape[0]))
        except np.linalg.LinAlgError:
            out[other] = np.inf
        return out


@dataclass
class Posterior:
    """Forward-backward output for a batch of N series of T days."""

    phase_post: np.ndarray  # (N, T, P) posterior probability of each phase
    last_state: np.ndarray  # (N, S) posterior over sub-states on the last day
    first_state: np.ndarray  # (N, S) posterior over sub-states on the first day
    xi: np.ndarray  # (S, S) expected transition counts, summed over N and t
    loglik: np.ndarray  # (N,) log-likelihood of each series
    weights: np.ndarray  # (N,) the weights used for `xi`


class _Sparse:
    """The expanded transition matrix in its sparse form: shifts, tails and entries.

    `alpha @ A` = move day j to day j+1 with (1 - h), loop on tails with (1 - h),
    and send the exit mass h of every phase to day 1 of the next via `trans`. Each
    is O(N * S) instead of the O(N * S^2) dense product.
    """

    def __init__(self, chain: Chain) -> None:
        self.h = chain.hazards()
        self.stay = 1.0 - self.h
        off, sizes = chain.offsets, chain.sizes
        src = [
            i
            for p in range(chain.n_phases)
            for i in range(off[p], off[p] + sizes[p] - 1)
        ]
        self.src = np.array(src, dtype=np.int64)
        self.dst = self.src + 1
        self.tails = np.array(
            [off[p] + sizes[p] - 1 for p in range(chain.n_phases) if chain.tails[p]],
            dtype=np.int64,
        )
        self.entries = off.astype(np.int64)
        self.trans = chain.trans
        onehot = np.zeros((chain.n_states, chain.n_phases))
        onehot[np.arange(chain.n_states), chain.phase_of] = 1.0
        self.h_onehot = onehot * self.h[:, None]  # (S, P): exit mass by phase
        self.phase = chain.phase_of
        self.stay_src = self.stay[self.src]
        self.stay_tail = self.stay[self.tails]
        self.h_s = self.h

    def forward(self, alpha: np.ndarray) -> np.ndarray:
        """alpha @ A for a batch (N, S)."""
        out = np.zeros_like(alpha)
        out[:, self.dst] = alpha[:, self.src] * self.stay_src
        if self.tails.size:
            out[:, self.tails] += alpha[:, self.tails] * self.stay_tail
        out[:, self.entries] += (alpha @ self.h_onehot) @ self.trans
        return out

    def backward(self, v: np.ndarray) -> np.ndarray:
        """A @ v for a batch (N, S) (v as rows)."""
        out = np.zeros_like(v)
        out[:, self.src] = v[:, self.dst] * self.stay_src
        if self.tails.size:
            out[:, self.tails] += v[:, self.tails] * self.stay_tail
        w = v[:, self.entries] @ self.trans.T  # (N, P): value of leaving phase q
        out += w[:, self.phase] * self.h_s
        return out


def forward_backward(
    log_emis: np.ndarray,
    chain: Chain,
    init: np.ndarray,
    *,
    want_xi: bool = True,
    weights: np.ndarray | Callable[[np.ndarray], np.ndarray] | None = None,
) -> Posterior:
    """Scaled forward-backward for N series at once.

    `log_emis` is (N, T, P): log-density of each day's observation under each phase
    (use a very negative number to forbid a phase on a day). `init` (S,) is the
    distribution over sub-states on the first day. `xi` holds the expected number of
    each sub-state transition, summed over series (weighted by `weights`, default 1)
    and days (dense S x S); `weights` may be a function of the series'
    log-likelihoods, evaluated after the forward pass. Only the two recursions
    loop over days; posteriors and expected counts are then computed for all days
    at once (arrays are day-major, (T, N, S)).
    """
    n, t_n, p_n = log_emis.shape
    sp = _Sparse(chain)
    phase = chain.phase_of
    s_n = chain.n_states
    m = log_emis.max(axis=2, keepdims=True)
    b_phase = np.exp(log_emis - m)  # (N, T, P), max 1 per day
    b_phase[b_phase < _FLUSH] = 0.0
    b = np.ascontiguousarray(b_phase.transpose(1, 0, 2))[:, :, phase]  # (T, N, S)
    alpha = np.empty((t_n, n, s_n))
    c = np.empty((t_n, n))
    cur = init[None, :] * b[0]
    c[0] = cur.sum(axis=1) + _TINY
    alpha[0] = cur / c[0][:, None]
    for t in range(1, t_n):
        cur = sp.forward(alpha[t - 1])
        cur *= b[t]
        c[t] = cur.sum(axis=1) + _TINY
        cur /= c[t][:, None]
        cur[cur < _FLUSH] = 0.0
        alpha[t] = cur
    loglik = np.log(c).sum(axis=0) + m[:, :, 0].sum(axis=1)
    if callable(weights):
        weights = weights(loglik)
    # backward: v[t] = b[t] * beta[t] / c[t] is the message entering day t; it
    # overwrites b in place; beta[t] = A v[t+1] is kept for the posteriors.
    beta = np.empty((t_n, n, s_n))
    beta[-1] = 1.0
    v = b
    for t in range(t_n - 1, 0, -1):
        vt = v[t]
        vt *= beta[t]
        vt /= c[t][:, None]
        bt = sp.backward(vt)
        bt[bt < _FLUSH] = 0.0
        beta[t - 1] = bt
    xi = np.zeros((s_n, s_n)) if want_xi else np.zeros((0, 0))
    if want_xi and t_n > 1:
        a_prev, v_next = alpha[:-1], v[1:]
        if weights is not None:
            a_prev = a_prev * np.asarray(weights, float)[None, :, None]
        # pairs (s, s+1) through views (no copies); keep those inside a phase
        shift = np.einsum("tns,tns->s", a_prev[:, :, :-1], v_next[:, :, 1:])
        xi[sp.src, sp.dst] = shift[sp.src] * sp.stay_src
        for k in sp.tails:
            loop = np.einsum("tn,tn->", a_prev[:, :, k], v_next[:, :, k])
            xi[k, k] = loop * sp.stay[k]
        exit_to = a_prev.reshape(-1, s_n).T @ v_next[:, :, sp.entries].reshape(-1, p_n)
        xi[:, sp.entries] += exit_to * sp.h[:, None] * chain.trans[phase]
    gamma = alpha
    gamma *= beta
    onehot = np.zeros((s_n, p_n))
    onehot[np.arange(s_n), phase] = 1.0
    phase_post = gamma @ onehot  # (T, N, P), unnormalised
    phase_post /= phase_post.sum(axis=2, keepdims=True) + _TINY
    phase_post = phase_post.transpose(1, 0, 2)  # (N, T, P)
    first, last = gamma[0], gamma[-1]
    first = first / (first.sum(axis=1, keepdims=True) + _TINY)
    last = last / (last.sum(axis=1, keepdims=True) + _TINY)
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    return Posterior(np.ascontiguousarray(phase_post), last, first, xi, loglik, w)


def filtered(log_emis: np.ndarray, chain: Chain, init: np.ndarray) -> np.ndarray:
    """(N, T, S) filtered sub-state distribution: day t given days 1..t only.

    What the model would have said on day t without knowing what came after: the
    normalised forward messages (the back-test predicts from these).
    """
    n, t_n, _ = log_emis.shape
    sp = _Sparse(chain)
    m = log_emis.max(axis=2, keepdims=True)
    b = np.exp(log_emis - m)[:, :, chain.phase_of]  # (N, T, S)
    out = np.empty((n, t_n, chain.n_states))
    cur = init[None, :] * b[:, 0]
    for t in range(t_n):
        if t:
            cur = sp.forward(out[:, t - 1]) * b[:, t]
        cur /= cur.sum(axis=1, keepdims=True) + _TINY
        cur[cur < _FLUSH] = 0.0
        out[:, t] = cur
    return out


def propagate(state: np.ndarray, chain: Chain, days: int) -> np.ndarray:
    """(days, N, S): the sub-state distribution 1..`days` days after `state` (N, S),
    with no observations (a forecast)."""
    sp = _Sparse(chain)
    out = np.empty((days, *state.shape))
    cur = state
    for k in range(days):
        cur = sp.forward(cur)
        out[k] = cur
    return out


def viterbi(log_emis: np.ndarray, chain: Chain, init: np.ndarray) -> np.ndarray:
    """Most likely phase path (N, T) of int8 phase indices, for N series at once.

    Uses the sparse structure: day j+1 of a phase is reached only from day j (or the
    tail loop), day 1 of phase q only by leaving another phase.
    """
    n, t_n, _ = log_emis.shape
    phase = chain.phase_of
    s_n = chain.n_states
    p_n = chain.n_phases
    off, sizes = chain.offsets, chain.sizes
    h = chain.hazards()
    with np.errstate(divide="ignore"):
        log_stay = np.log(np.clip(1.0 - h, 0.0, 1.0))
        log_exit = np.log(h)
        log_trans = np.log(chain.trans)
    is_last = np.zeros(s_n, bool)
    is_last[off + sizes - 1] = True
    is_first = np.zeros(s_n, bool)
    is_first[off] = True
    tail_state = np.array([off[p] + sizes[p] - 1 for p in range(p_n) if chain.tails[p]])
    # predecessor of each non-first sub-state within its phase
    prev_idx = np.arange(s_n) - 1
    back = np.zeros((n, t_n, s_n), dtype=np.int32)
    with np.errstate(divide="ignore"):
        delta = np.log(np.maximum(init, 0.0))[None, :] + log_emis[:, 0][:, phase]
    rows = np.arange(n)[:, None]
    for t in range(1, t_n):
        new = np.full((n, s_n), -np.inf)
        bp = np.zeros((n, s_n), dtype=np.int32)
        # stay: j-1 -> j
        inner = ~is_first
        cand = delta[:, prev_idx[inner]] + log_stay[prev_idx[inner]]
        new[:, inner] = cand
        bp[:, inner] = prev_idx[inner]
        # tail loop
        if tail_state.size:
            loop = delta[:, tail_state] + log_stay[tail_state]
            better = loop > new[:, tail_state]
            new[:, tail_state] = np.where(better, loop, new[:, tail_state])
            bp[:, tail_state] = np.where(better, tail_state[None, :], bp[:, tail_state])
        # leave: best exit per phase, then to day 1 of every phase
        ex = delta + log_exit[None, :]
        best_val = np.empty((n, p_n))
        best_arg = np.empty((n, p_n), dtype=np.int32)
        for q in range(p_n):
            seg = ex[:, off[q] : off[q] + sizes[q]]
            k = seg.argmax(axis=1)
            best_arg[:, q] = off[q] + k
            best_val[:, q] = seg[np.arange(n), k]
        for p in range(p_n):
            cand = best_val + log_trans[:, p][None, :]
            q = cand.argmax(axis=1)
            val = cand[np.arange(n), q]
            new[:, off[p]] = val
            bp[:, off[p]] = best_arg[np.arange(n), q]
        delta = new + log_emis[:, t][:, phase]
        back[:, t] = bp
    path = np.empty((n, t_n), dtype=np.int32)
    path[:, -1] = delta.argmax(axis=1)
    for t in range(t_n - 1, 0, -1):
        path[:, t - 1] = back[rows[:, 0], t, path[:, t]]
    return phase[path].astype(np.int8)

"""Training pairs for the case-case model: linked and unlinked pairs of solved cases.

*Linked* pairs share a linked person, *unlinked* pairs are sampled from solved
cases with no person in common, both within `MAX_GAP_DAYS` of each other (Porter
2016's design). Both classes are sampled, so the sample carries the log ratio of
the sampling fractions (`PairSample.log_offset`) that shifts a model's log-odds
back to the population of all solved pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gjenganger.analytics.linkage import MAX_GAP_DAYS, Links, share_person
from gjenganger.analytics.pair_features import CaseArrays


@dataclass(frozen=True)
class PairSample:
    """Training pairs with labels and the log sampling ratio for the prior shift."""

    ia: np.ndarray
    ib: np.ndarray
    y: np.ndarray
    log_offset: float  # add to sample log-odds to get population log-odds


def sample_pairs(
    cases: CaseArrays,
    links: Links,
    case_mask: np.ndarray | None = None,
    *,
    max_gap_days: float = MAX_GAP_DAYS,
    max_linked_per_person: int = 4000,
    unlinked_per_linked: float = 3.0,
    max_linked: int = 150_000,
    seed: int = 0,
) -> PairSample:
    """Linked and unlinked training pairs among linked cases (within `case_mask`).

    Linked: every pair of one person's cases within `max_gap_days` (sampled down
    per person and overall). Unlinked: random pairs of linked cases with no person
    in common, within `max_gap_days`. `log_offset` = log(f_unlinked / f_linked),
    the sampling fractions, so population odds = sample odds * exp(log_offset).
    """
    rng = np.random.default_rng(seed)
    n = len(cases)
    mask = np.ones(n, bool) if case_mask is None else np.asarray(case_mask, bool)
    keep = mask[links.case_idx]
    sub = Links(links.persons, links.case_idx[keep], links.person_idx[keep])
    ia_l, ib_l, f_link = _linked_pairs(
        sub, cases.t_mid, max_gap_days, max_linked_per_person, max_linked, rng
    )
    pool = np.unique(sub.case_idx)
    want = int(unlinked_per_linked * len(ia_l))
    ia_u, ib_u, f_unl = _unlinked_pairs(
        pool, links.person_sets(n), cases.t_mid, max_gap_days, want, rng
    )
    ia = np.concatenate([ia_l, ia_u])
    ib = np.concatenate([ib_l, ib_u])
    y = np.concatenate([np.ones(len(ia_l), np.int8), np.zeros(len(ia_u), np.int8)])
    return PairSample(ia=ia, ib=ib, y=y, log_offset=float(np.log(f_unl / f_link)))


def _linked_pairs(
    sub: Links,
    tm: np.ndarray,
    max_gap_days: float,
    max_linked_per_person: int,
    max_linked: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Pairs of one person's cases within `max_gap_days` (at most
    `max_linked_per_person` per person and `max_linked` in all, drawn from `rng`),
    with the sampling fraction of the linked pairs."""
    n = len(tm)
    la, lb, total_linked = [], [], 0
    for idx in sub.cases_of():
        m = len(idx)
        if m < 2:
            continue
        order = idx[np.argsort(tm[idx])]
        t = tm[order]
        # pairs (i<j) with t_j - t_i <= max_gap: j up to searchsorted(t_i + gap)
        hi = np.searchsorted(t, t + max_gap_days, side="right")
        counts = hi - np.arange(m) - 1
        tot = int(counts.sum())
        if tot == 0:
            continue
        total_linked += tot
        take = min(tot, max_linked_per_person)
        flat = (
            rng.choice(tot, size=take, replace=False) if take < tot else np.arange(tot)
        )
        starts = np.concatenate([[0], np.cumsum(counts)])
        i = np.searchsorted(starts, flat, side="right") - 1
        j = i + 1 + (flat - starts[i])
        la.append(order[i])
        lb.append(order[j])
    if not la:
        raise ValueError("no linked pairs: need persons with at least two linked cases")
    ia_l = np.concatenate(la)
    ib_l = np.concatenate(lb)
    key = np.minimum(ia_l, ib_l) * n + np.maximum(ia_l, ib_l)
    _, first = np.unique(key, return_index=True)  # co-offended pairs appear twice
    ia_l, ib_l = ia_l[first], ib_l[first]
    total_linked = max(total_linked * len(first) / max(len(key), 1), 1.0)
    if len(ia_l) > max_linked:
        sel = rng.choice(len(ia_l), size=max_linked, replace=False)
        ia_l, ib_l = ia_l[sel], ib_l[sel]
    return ia_l, ib_l, len(ia_l) / total_linked


def _unlinked_pairs(
    pool: np.ndarray,
    sets: np.ndarray,
    tm: np.ndarray,
    max_gap_days: float,
    want: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, float]:
    """`want` random pairs of cases in `pool` within `max_gap_days` with no person
    in common (`sets`: `Links.person_sets`), with their sampling fraction."""
    ua, ub, drawn, accepted = [], [], 0, 0
    while accepted < want and drawn < 50 * want + 1000:
        k = max(want - accepted, 1000) * 2
        a = rng.choice(pool, size=k)
        b = rng.choice(pool, size=k)
        drawn += k
        ok = (a != b) & (np.abs(tm[a] - tm[b]) <= max_gap_days)
        ok &= ~share_person(sets, a, b)
        a, b = a[ok], b[ok]
        ua.append(a)
        ub.append(b)
        accepted += len(a)
    ia_u = np.concatenate(ua)[:want]
    ib_u = np.concatenate(ub)[:want]
    # ordered draws: acceptance rate * n_pool^2 / 2 estimates the unordered total
    rate = accepted / max(drawn, 1)
    total_unlinked = max(rate * len(pool) * len(pool) / 2.0, 1.0)
    return ia_u, ib_u, len(ia_u) / total_unlinked

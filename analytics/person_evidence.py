"""Case-person evidence: how well case q fits person P's known cases.

`case_person_features` summarises q against P's known (linked, not retracted)
cases: nearest distance, a Gaussian kernel over P's cases (the
geographic-profiling activity space), nearest time gap, activity around q's time,
the pair model on P's k most similar cases (max and top-3 mean log-odds), P's
modus profile (share of P's cases with q's offence code, target type, entry
method), repeat target, co-offending, and whether P was in custody during q's
window (`custody_overlap`, any kind: partial overlap and arrests are evidence the
model weighs; a remand, prison or treatment stay over the whole window of a case
that needs presence already removed P from q's candidates, `candidates`).
`analytics.attribution` turns these into calibrated probabilities over persons
plus "none of them".
"""

# ruff: noqa: N803, N806 - F: the usual maths notation

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gjenganger.analytics import evidence_kernel as ek
from gjenganger.analytics.linkage import MAX_GAP_DAYS, TAU_DAYS_PER_KM, Custody
from gjenganger.analytics.pair_features import SAME_PLACE_KM, CaseArrays, pair_matrix

KDE_BANDWIDTHS_KM = (0.5, 2.0)  # fixed: the code derives the first from the second
K_SIMILAR = 8  # the pair model is run on this many of P's most similar cases
NO_XY_PENALTY = 5.0  # space-time distance added when a side has no coordinates

PERSON_FEATURES: tuple[str, ...] = (
    "min_distance_km",
    "log_kde_0_5km",
    "log_kde_2km",
    "log_kde_group_2km",
    "min_gap_days",
    "st_distance",
    "n_near_2km_30d",
    "n_within_2d",
    "n_within_7d",
    "n_within_30d",
    "prev_gap_days",
    "next_gap_days",
    "log_n_known",
    "max_logit",
    "top3_logit",
    "soft_count",
    "share_offence",
    "share_group",
    "share_target",
    "share_entry",
    "share_group_offending",
    "hour_profile_llr",
    "dow_profile_llr",
    "repeat_target",
    "n_same_spot",
    "custody_overlap",
    "q_has_xy",
    "q_group",
)
#: the columns `evidence_kernel.person_case_aggregates` fills, in its order: every
#: person feature but the pair-model scores and custody, computed afterwards
KERNEL_FEATURES = tuple(
    f
    for f in PERSON_FEATURES
    if f not in ("max_logit", "top3_logit", "soft_count", "custody_overlap")
)


def custody_overlap(
    cases: CaseArrays, q_cases: np.ndarray, persons: np.ndarray, custody: Custody
) -> np.ndarray:
    """Per row, the share of case `q_cases[r]`'s time window that person
    `persons[r]` spent in custody (0 to 1; a window wholly inside a stay is 1)."""
    out = np.zeros(len(q_cases))
    order = np.argsort(persons, kind="stable")
    uniq, first = np.unique(persons[order], return_index=True)
    bounds = np.append(first, len(order))
    for b, p in enumerate(uniq):
        if not len(custody.start[p]):
            continue
        rows = order[bounds[b] : bounds[b + 1]]
        qi = q_cases[rows]
        a0, a1 = cases.t0[qi][:, None], cases.t1[qi][:, None]
        cs, ce = custody.start[p][None, :], custody.end[p][None, :]
        length = np.maximum(a1 - a0, 1e-4)
        ov = np.clip(np.minimum(a1, ce) - np.maximum(a0, cs), 0, None)
        inside = (a0 >= cs) & (a1 <= ce)
        frac = np.where(inside, 1.0, ov / length).sum(axis=1)
        out[rows] = np.minimum(frac, 1.0)
    return out


@dataclass
class PersonEvidence:
    """Case-person feature matrix plus what the analyst sees (`why`)."""

    X: np.ndarray  # (rows, len(PERSON_FEATURES))
    best_case: np.ndarray  # case index of P's most similar known case, -1 none
    nearest_case: np.ndarray  # case index of P's spatially nearest known case
    n_known: np.ndarray


def case_person_features(
    cases: CaseArrays,
    q_cases: np.ndarray,
    persons: np.ndarray,
    person_cases: list[np.ndarray],
    pair_logit,
    custody: Custody | None = None,
    exclude: np.ndarray | None = None,
    k_similar: int = K_SIMILAR,
    drop_one: bool = True,
) -> PersonEvidence:
    """Evidence that person `persons[r]` did case `q_cases[r]`, for every row r.

    `pair_logit(X, q_case_indices) -> log-odds` scores case-case evidence (a
    `PairModel.logit` or `CrossFitPairModels.logit`). `exclude[r]` is a case index
    left out of the person's known cases for row r (leave-one-out in training).
    With `drop_one` (the model's evidence), every other row leaves out one of its
    person's near known cases too (`evidence_kernel.drop_one_known`), so the true
    person in training looks like every candidate of an open case; without it
    (the `why` an analyst reads, the simple baselines) every known case counts.
    Only known cases within MAX_GAP_DAYS of the query count.
    """
    n = len(q_cases)
    F = np.full((n, len(PERSON_FEATURES)), np.nan, dtype=np.float64)
    best = np.full(n, -1, np.int64)
    exclude = (
        np.full(n, -1, np.int64) if exclude is None else np.asarray(exclude, np.int64)
    )
    q_cases = np.asarray(q_cases, np.int64)
    uniq, row_p = np.unique(persons, return_inverse=True)
    indptr, known = ek.known_csr(person_cases, uniq, cases.t0)
    if drop_one:
        exclude = ek.drop_one_known(
            q_cases,
            row_p.astype(np.int64),
            exclude,
            indptr,
            known,
            cases.t0,
            cases.id_hash,
            float(MAX_GAP_DAYS),
        )
    multi = cases.participants > 1
    agg, nknown, nearest, similar = ek.person_case_aggregates(
        q_cases,
        row_p.astype(np.int64),
        exclude,
        indptr,
        known,
        cases.x_km,
        cases.y_km,
        cases.t0,
        cases.t1,
        cases.group.astype(np.int64),
        cases.target.astype(np.int64),
        cases.offence.astype(np.int64),
        cases.entry.astype(np.int64),
        multi,
        cases.tod_hist,
        cases.dow_hist,
        *ek.known_prefix(known, cases.tod_hist, cases.dow_hist, multi),
        MAX_GAP_DAYS,
        TAU_DAYS_PER_KM,
        NO_XY_PENALTY,
        SAME_PLACE_KM,
        k_similar,
    )
    F[:, [PERSON_FEATURES.index(c) for c in KERNEL_FEATURES]] = agg
    if custody is not None:
        F[:, PERSON_FEATURES.index("custody_overlap")] = custody_overlap(
            cases, q_cases, persons, custody
        )
    has_known = indptr[row_p + 1] > indptr[row_p]
    F[~has_known] = np.nan  # a person without known cases: no evidence at all
    _pair_model_scores(F, best, cases, q_cases, similar, pair_logit)
    F[~np.isfinite(F)] = np.nan
    # float32 precision: the evidence is stored at this precision between nights,
    # so a stored row and a recomputed one are the same numbers
    F = F.astype(np.float32).astype(np.float64)
    return PersonEvidence(F, best, nearest, nknown)


def _pair_model_scores(
    F: np.ndarray,
    best: np.ndarray,
    cases: CaseArrays,
    q_cases: np.ndarray,
    similar: np.ndarray,
    pair_logit,
) -> None:
    """Fill the pair-model columns of `F` (max_logit, top3_logit, soft_count) and
    `best` (the known case with the highest log-odds) in place, from each row's
    `similar` known cases (-1 padded) scored by `pair_logit`."""
    n = len(q_cases)
    col = {name: k for k, name in enumerate(PERSON_FEATURES)}
    # the k most similar known cases by space-time distance go to the pair model
    pr, slot = np.nonzero(similar >= 0)
    if len(pr):
        pq, pk = q_cases[pr], similar[pr, slot]
        lg = pair_logit(pair_matrix(cases, pq, cases, pk), pq)
        srt = np.lexsort((-lg, pr))
        pr, pk, lg = pr[srt], pk[srt], lg[srt]
        start = np.searchsorted(pr, pr, side="left")
        rank = np.arange(len(pr)) - start
        first = rank == 0
        F[pr[first], col["max_logit"]] = lg[first]
        best[pr[first]] = pk[first]
        top3 = rank < 3
        sums = np.bincount(pr[top3], weights=lg[top3], minlength=n)
        cnts = np.bincount(pr[top3], minlength=n)
        with np.errstate(invalid="ignore"):
            F[:, col["top3_logit"]] = np.where(
                cnts > 0, sums / np.maximum(cnts, 1), np.nan
            )
        soft = np.bincount(pr, weights=1.0 / (1.0 + np.exp(-lg)), minlength=n)
        F[:, col["soft_count"]] = np.log(soft + 1e-6)


def with_dropped_case_back(
    cases: CaseArrays,
    q_cases: np.ndarray,
    persons: np.ndarray,
    person_cases: list[np.ndarray],
    ev: PersonEvidence,
    pair_logit,
) -> PersonEvidence:
    """The model's evidence rows `ev` (one near known case left out,
    `drop_one=True`) with that case counted again in what the `why` shows and the
    simple baselines rank on: known cases, nearest case and distance, shortest
    gap, repeat target, and the best match where the pair model rates the case
    higher than the row's best. Far cheaper than recomputing the rows (one pair
    per row instead of the kernel and `K_SIMILAR` pairs); the hidden case of a
    training row (the query itself) stays hidden."""
    q_cases = np.asarray(q_cases, np.int64)
    uniq, row_p = np.unique(persons, return_inverse=True)
    indptr, known = ek.known_csr(person_cases, uniq, cases.t0)
    dropped = ek.drop_one_known(
        q_cases,
        row_p.astype(np.int64),
        q_cases,  # a training row's own case is kept hidden, never put back
        indptr,
        known,
        cases.t0,
        cases.id_hash,
        float(MAX_GAP_DAYS),
    )
    X, best = ev.X.copy(), ev.best_case.copy()
    near, nk = ev.nearest_case.copy(), ev.n_known.copy()
    r = np.flatnonzero((dropped >= 0) & (dropped != q_cases))
    if len(r) == 0:
        return PersonEvidence(X, best, near, nk)
    q, d = q_cases[r], dropped[r]
    col = {n: k for k, n in enumerate(PERSON_FEATURES)}
    nk[r] += 1
    dist = np.hypot(cases.x_km[q] - cases.x_km[d], cases.y_km[q] - cases.y_km[d])
    now = X[r, col["min_distance_km"]]
    closer = np.isfinite(dist) & ~(np.nan_to_num(now, nan=np.inf) <= dist)
    X[r[closer], col["min_distance_km"]] = dist[closer]
    near[r[closer]] = d[closer]
    gap = np.maximum(
        np.maximum(cases.t0[q] - cases.t1[d], cases.t0[d] - cases.t1[q]), 0.0
    )
    X[r, col["min_gap_days"]] = np.fmin(X[r, col["min_gap_days"]], gap)
    same_spot = (dist <= SAME_PLACE_KM) & (cases.target[q] == cases.target[d])
    X[r[same_spot], col["repeat_target"]] = 1.0
    lg = pair_logit(pair_matrix(cases, q, cases, d), q)
    better = ~(np.nan_to_num(X[r, col["max_logit"]], nan=-np.inf) >= lg)
    best[r[better]] = d[better]
    X[r[better], col["max_logit"]] = lg[better]
    return PersonEvidence(X, best, near, nk)

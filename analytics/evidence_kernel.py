"""Compiled inner loop of case-person evidence (`person_evidence.case_person_features`).

For each (open case q, person P) row, one pass over P's known cases within
`max_gap` days of q accumulates every aggregate at once: nearest distance, the
two kernel densities, gaps, counts, modus shares, hour and weekday profile sums,
and P's `k_similar` cases nearest in space-time (for the pair model). The NumPy
version built a dozen (rows x known cases) temporaries per feature; this loop
builds none, runs without the GIL (attribution's worker threads use both cores)
and is about an order of magnitude faster on persons with many known cases.
Pure function: arrays in, arrays out.
"""

# ruff: noqa: N803, N806 - K, F: the usual maths notation

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def person_case_aggregates(  # noqa: PLR0913, PLR0915 - one fused pass by design
    q_case,  # (n,) int64: the row's query case
    q_person,  # (n,) int64: the row's person, index into indptr
    exclude,  # (n,) int64: a case left out of the person's known cases, or -1
    indptr,  # (n_persons + 1,) int64: CSR over known cases, sorted by t0 per person
    known,  # (nnz,) int64: case indices
    x,  # (N,) float64 km, NaN unknown
    y,
    t0,  # (N,) float64 days
    t1,
    group,  # (N,) int64
    target,
    offence,
    entry,  # (N,) int64, -1 unknown
    multi,  # (N,) bool: more than one participant
    tod,  # (N, 24) float64
    dow,  # (N, 7) float64
    cum_tod,  # (nnz + 1, 24): prefix sums of tod over `known` (known_prefix)
    cum_dow,  # (nnz + 1, 7)
    cum_multi,  # (nnz + 1,) prefix counts of multi over `known`
    max_gap,
    tau,  # days of gap weighing like 1 km
    no_xy_penalty,
    same_place_km,
    k_similar,
):
    """Aggregates per row (the 24 columns of `person_evidence.KERNEL_FEATURES`, in
    that order, NaN where undefined),
    number of known cases counted, nearest known case, and the `k_similar` known
    cases nearest in space-time per row (case index, -1 padding)."""
    n = len(q_case)
    nf = 24
    F = np.full((n, nf), np.nan)
    nknown = np.zeros(n, np.int64)
    nearest = np.full(n, -1, np.int64)
    similar = np.full((n, k_similar), -1, np.int64)
    sim_d = np.empty(k_similar)
    two_pi = 2.0 * math.pi
    for r in range(n):
        q = q_case[r]
        p = q_person[r]
        a, b = indptr[p], indptr[p + 1]
        if a == b:
            continue
        tq, tq1 = t0[q], t1[q]
        # known cases with |t0_k - t0_q| <= max_gap: a slice of the t0-sorted list
        left, right = a, b
        while left < right:
            mid = (left + right) // 2
            if t0[known[mid]] < tq - max_gap:
                left = mid + 1
            else:
                right = mid
        lo = left
        left, right = lo, b
        while left < right:
            mid = (left + right) // 2
            if t0[known[mid]] <= tq + max_gap:
                left = mid + 1
            else:
                right = mid
        hi = left
        xq, yq = x[q], y[q]
        q_xy = not (math.isnan(xq) or math.isnan(yq))
        nk = 0
        nxy = 0
        ng = 0
        min_d = np.inf
        near_k = -1
        s05 = 0.0
        s2 = 0.0
        s2g = 0.0
        min_g = np.inf
        min_st = np.inf
        c_near = 0
        c2 = 0
        c7 = 0
        c30 = 0
        prev_g = np.inf
        next_g = np.inf
        s_off = 0
        s_grp = 0
        s_tgt = 0
        s_ent = 0
        repeat = 0
        spot = 0
        s_tod = 0.0
        s_dow = 0.0
        n_sim = 0
        ex = -1  # position of the excluded case in the slice, if there
        for j in range(lo, hi):
            k = known[j]
            if k == exclude[r]:
                ex = j
                continue
            nk += 1
            before = tq - t1[k]
            after = t0[k] - tq1
            g = max(before, after, 0.0)
            same_grp = group[q] == group[k]
            same_tgt = target[q] == target[k]
            valid = q_xy and not (math.isnan(x[k]) or math.isnan(y[k]))
            if valid:
                dx, dy = xq - x[k], yq - y[k]
                dd = dx * dx + dy * dy
                d = math.sqrt(dd)
                nxy += 1
                if d < min_d:
                    min_d = d
                    near_k = k
                if dd < 6000.0:  # beyond, both kernels underflow to 0 anyway
                    k2 = math.exp(-0.125 * dd)
                    k4 = k2 * k2  # the 0.5 km kernel is the 2 km one to the 16th
                    k8 = k4 * k4
                    k16 = k8 * k8
                    s05 += k16 * k16
                else:
                    k2 = 0.0
                s2 += k2
                if same_grp:
                    ng += 1
                    s2g += k2
                if d <= 2.0 and g <= 30.0:
                    c_near += 1
                if d <= same_place_km:
                    spot += 1
                    if same_tgt:
                        repeat = 1
                st = d + g / tau
            else:
                st = no_xy_penalty + g / tau
            if g < min_g:
                min_g = g
            if st < min_st:
                min_st = st
            if g <= 2.0:
                c2 += 1
            if g <= 7.0:
                c7 += 1
            if g <= 30.0:
                c30 += 1
            if before >= 0.0 and before < prev_g:
                prev_g = before
            if after >= 0.0 and after < next_g:
                next_g = after
            if offence[q] == offence[k]:
                s_off += 1
            if same_grp:
                s_grp += 1
            if same_tgt:
                s_tgt += 1
            if entry[q] >= 0 and entry[q] == entry[k]:
                s_ent += 1
            # keep the k_similar smallest space-time distances (earlier wins ties)
            if n_sim < k_similar:
                pos = n_sim
                n_sim += 1
            elif st < sim_d[k_similar - 1]:
                pos = k_similar - 1
            else:
                continue
            while pos > 0 and sim_d[pos - 1] > st:
                sim_d[pos] = sim_d[pos - 1]
                similar[r, pos] = similar[r, pos - 1]
                pos -= 1
            sim_d[pos] = st
            similar[r, pos] = k
        # profile sums and group-offending count over the kept slice: prefix
        # sums over [lo, hi), less the excluded case if it lies in the slice
        for h in range(tod.shape[1]):
            v = cum_tod[hi, h] - cum_tod[lo, h]
            if ex >= 0:
                v -= tod[known[ex], h]
            s_tod += tod[q, h] * v
        for h in range(dow.shape[1]):
            v = cum_dow[hi, h] - cum_dow[lo, h]
            if ex >= 0:
                v -= dow[known[ex], h]
            s_dow += dow[q, h] * v
        s_multi = (
            cum_multi[hi] - cum_multi[lo] - (1 if ex >= 0 and multi[known[ex]] else 0)
        )
        denom = max(nk, 1)
        F[r, 0] = min_d if nxy > 0 else np.nan
        F[r, 1] = math.log(s05 / (two_pi * 0.25) / max(nxy, 1) + 1e-9)
        F[r, 2] = math.log(s2 / (two_pi * 4.0) / max(nxy, 1) + 1e-9)
        F[r, 3] = math.log(s2g / (two_pi * 4.0) / ng + 1e-9) if ng > 0 else np.nan
        F[r, 4] = min_g
        F[r, 5] = min_st
        F[r, 6] = c_near
        F[r, 7] = c2
        F[r, 8] = c7
        F[r, 9] = c30
        F[r, 10] = prev_g
        F[r, 11] = next_g
        F[r, 12] = math.log1p(nk)
        F[r, 13] = s_off / denom
        F[r, 14] = s_grp / denom
        F[r, 15] = s_tgt / denom
        F[r, 16] = s_ent / denom if entry[q] >= 0 else np.nan
        share_multi = s_multi / denom
        F[r, 17] = share_multi if multi[q] else 1.0 - share_multi
        q_tod = 0.0
        for h in range(tod.shape[1]):
            q_tod += tod[q, h]
        q_dow = 0.0
        for h in range(dow.shape[1]):
            q_dow += dow[q, h]
        nb = tod.shape[1]
        F[r, 18] = math.log((s_tod + 0.5 * q_tod) / (nk + 0.5 * nb) * nb)
        nb = dow.shape[1]
        F[r, 19] = math.log((s_dow + 0.5 * q_dow) / (nk + 0.5 * nb) * nb)
        F[r, 20] = repeat
        F[r, 21] = spot
        F[r, 22] = 1.0 if q_xy else 0.0
        F[r, 23] = group[q]
        nknown[r] = nk
        nearest[r] = near_k
    return F, nknown, nearest, similar


def known_csr(person_cases: list[np.ndarray], persons: np.ndarray, t0: np.ndarray):
    """CSR (indptr, known) of the given persons' known cases, each sorted by t0."""
    lists = [person_cases[p] for p in persons]
    sizes = np.fromiter((len(k) for k in lists), np.int64, len(lists))
    indptr = np.zeros(len(lists) + 1, np.int64)
    np.cumsum(sizes, out=indptr[1:])
    known = (
        np.concatenate(lists).astype(np.int64) if len(lists) else np.zeros(0, np.int64)
    )
    # sort each person's slice by t0 (stable: ties keep the stored order)
    owner = np.repeat(np.arange(len(lists)), sizes)
    order = np.lexsort((t0[known], owner)) if len(known) else np.zeros(0, np.int64)
    return indptr, known[order]


def known_prefix(
    known: np.ndarray, tod: np.ndarray, dow: np.ndarray, multi: np.ndarray
):
    """Prefix sums over `known` (CSR order) of the hour and weekday profiles and
    the group-offending flag, so a slice's sum is two lookups."""
    cum_tod = np.zeros((len(known) + 1, tod.shape[1]))
    cum_dow = np.zeros((len(known) + 1, dow.shape[1]))
    cum_multi = np.zeros(len(known) + 1, np.int64)
    np.cumsum(tod[known], axis=0, out=cum_tod[1:])
    np.cumsum(dow[known], axis=0, out=cum_dow[1:])
    np.cumsum(multi[known], out=cum_multi[1:])
    return cum_tod, cum_dow, cum_multi


@numba.njit(nogil=True, cache=True)
def first_distinct(pers, n):
    """Per row of `pers` (person per neighbour, nearest first, -1 = none), the
    first `n` distinct persons in order: (row, person) pairs row by row, and the
    number of distinct persons found per row (at most `n`)."""
    nq, k = pers.shape
    out_r = np.empty(nq * n, np.int64)
    out_p = np.empty(nq * n, np.int64)
    counts = np.zeros(nq, np.int64)
    m = 0
    for i in range(nq):
        start = m
        for j in range(k):
            p = pers[i, j]
            if p < 0:
                continue
            seen = False
            for s in range(start, m):
                if out_p[s] == p:
                    seen = True
                    break
            if seen:
                continue
            out_r[m] = i
            out_p[m] = p
            m += 1
            if m - start == n:
                break
        counts[i] = m - start
    return out_r[:m], out_p[:m], counts


@numba.njit(nogil=True, cache=True)
def drop_one_known(q_case, q_person, exclude, indptr, known, t0, id_hash, max_gap):
    """The case each row leaves out of its person's known cases: `exclude[r]` when
    it is one of them (the hidden case itself, in training), else one of the
    person's known cases within `max_gap` days of the query, picked by a hash of
    the query's id and the person's first known case's id (-1 when none is near).

    Why: in training the true person has lost the hidden case (leave-one-out)
    and every other candidate has not, so "one case fewer than usual" marks the
    answer; open cases have no such mark. Leaving one near case out of every
    candidate, in training and in scoring alike, removes the mark. The pick
    depends on ids only, so a stored row and a recomputed one agree."""
    n = len(q_case)
    out = np.full(n, -1, np.int64)
    for r in range(n):
        p = q_person[r]
        a, b = indptr[p], indptr[p + 1]
        if a == b:
            continue
        own = False
        for j in range(a, b):
            if known[j] == exclude[r]:
                own = True
                break
        if own:
            out[r] = exclude[r]
            continue
        q = q_case[r]
        tq = t0[q]
        lo = a
        while lo < b and t0[known[lo]] < tq - max_gap:
            lo += 1
        hi = lo
        while hi < b and t0[known[hi]] <= tq + max_gap:
            hi += 1
        if hi == lo:
            continue
        h = id_hash[q] ^ id_hash[known[a]]  # two uniform 32-bit hashes: uniform
        out[r] = known[lo + h % (hi - lo)]
    return out

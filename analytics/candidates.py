"""Candidate pre-selection: the persons worth scoring for each case.

Each case keeps the eligible persons whose nearest known case is nearest in
space-time (km + gap / `TAU_DAYS_PER_KM`) and those nearest in plain space; cases
without coordinates use the time gap to known cases of the same offence group
(see docs/linkage.md). One search tree over all eligible persons' known cases, so
the cost grows with the cases, not cases x persons. A person in remand, prison or
treatment for the whole window of a case that needs presence is no candidate for
it (`linkage.in_custody_throughout`: custody is an alibi; an arrest is not).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from gjenganger.analytics import evidence_kernel as ek
from gjenganger.analytics.linkage import (
    TAU_DAYS_PER_KM,
    Custody,
    in_custody_throughout,
    needs_presence,
)
from gjenganger.analytics.pair_features import CaseArrays

N_SPACE_TIME = 12  # candidates per case: persons nearest in space-time ...
N_SPACE = 8  # ... and in space (the union is scored; see docs/linkage.md)


def _nearest_persons(
    tree: cKDTree,
    point_case: np.ndarray,
    point_person: np.ndarray,
    queries: np.ndarray,
    exclude: np.ndarray,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The `n` persons whose nearest point to each query is nearest, skipping the
    query's excluded case. The neighbour count grows until every row has `n`
    distinct persons or all points were seen, so the answer equals a per-person
    nearest-case search."""
    total = len(point_case)
    n_distinct = len(np.unique(point_person))
    want = min(n, n_distinct)
    rows = np.arange(len(queries))
    out_q, out_p = [], []
    k = min(total, max(4 * n, 64))
    while len(rows):
        _, idx = tree.query(queries[rows], k=k)
        idx = idx.reshape(len(rows), -1)
        ok = idx < total
        safe = np.where(ok, idx, 0)
        pers = np.where(
            ok & (point_case[safe] != exclude[rows][:, None]), point_person[safe], -1
        )
        r, p, counts = ek.first_distinct(pers, n)  # counts stop at n >= want
        done = (counts >= want) | (k >= total)
        keep = done[r]
        out_q.append(rows[r[keep]])
        out_p.append(p[keep])
        rows = rows[~done]
        k = min(total, k * 4)
    return np.concatenate(out_q), np.concatenate(out_p)


def candidate_index(
    cases: CaseArrays, person_cases: list[np.ndarray], eligible: np.ndarray
) -> dict:
    """The eligible persons' known cases as search trees: space-time and space
    (cases with coordinates), and time per offence group (for cases without)."""
    pc = [person_cases[p] for p in eligible]
    case = np.concatenate(pc) if pc else np.zeros(0, np.int64)
    person = np.repeat(eligible, [len(c) for c in pc])
    xy = cases.has_xy[case]
    cx, px = case[xy], person[xy]
    pts = np.c_[cases.x_km[cx], cases.y_km[cx], cases.t_mid[cx] / TAU_DAYS_PER_KM]
    index = {"xy": (cx, px, cKDTree(pts), cKDTree(pts[:, :2])) if len(cx) else None}
    for g in np.unique(cases.group[case]):
        m = cases.group[case] == g
        index[("group", int(g))] = (
            case[m],
            person[m],
            cKDTree(cases.t_mid[case[m]][:, None] / TAU_DAYS_PER_KM),
        )
    return index


def select_candidates(
    cases: CaseArrays,
    q: np.ndarray,
    person_cases: list[np.ndarray],
    eligible: np.ndarray,
    exclude: np.ndarray | None = None,
    *,
    n_space_time: int | None = None,
    n_space: int | None = None,
    trees: dict | None = None,
    custody: Custody | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pre-select the persons worth scoring for each query case.

    Each q keeps the `n_space_time` eligible persons whose nearest known case is
    nearest in space-time (km + gap / TAU_DAYS_PER_KM) and the `n_space` nearest in
    plain space. Cases without coordinates use the time gap to known cases of the
    same offence group. One search tree over all eligible persons' known cases
    (not one per person), so the cost grows with the cases, not cases x persons.
    `exclude[i]` is a case index hidden from q[i]'s evidence (the case itself,
    when training). Pass the same dict as `trees` across calls to reuse the trees.
    With `custody`, a person whose remand, prison or treatment covers the whole
    window of a case that needs presence is dropped from its candidates (an alibi).
    Returns (row -> q position, row -> person index).
    """
    trees = {} if trees is None else trees
    n_space_time = N_SPACE_TIME if n_space_time is None else n_space_time
    n_space = N_SPACE if n_space is None else n_space
    nq = len(q)
    if nq == 0 or len(eligible) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if "index" not in trees:
        trees["index"] = candidate_index(cases, person_cases, eligible)
    index = trees["index"]
    exclude = np.full(nq, -1) if exclude is None else np.asarray(exclude)
    n_all = len(person_cases)
    xy = cases.has_xy[q]
    rows_q, rows_p = [], []
    if index["xy"] is not None and xy.any():
        cx, px, st_tree, sp_tree = index["xy"]
        at = np.flatnonzero(xy)
        qi = q[at]
        pts = np.c_[cases.x_km[qi], cases.y_km[qi], cases.t_mid[qi] / TAU_DAYS_PER_KM]
        for tree, dims, m in ((st_tree, 3, n_space_time), (sp_tree, 2, n_space)):
            r, p = _nearest_persons(tree, cx, px, pts[:, :dims], exclude[at], m)
            rows_q.append(at[r])
            rows_p.append(p)
    for g in np.unique(cases.group[q[~xy]]):
        key = ("group", int(g))
        if key not in index:
            continue
        gc, gp, tree = index[key]
        at = np.flatnonzero(~xy & (cases.group[q] == g))
        pts = cases.t_mid[q[at]][:, None] / TAU_DAYS_PER_KM
        r, p = _nearest_persons(tree, gc, gp, pts, exclude[at], n_space_time)
        rows_q.append(at[r])
        rows_p.append(p)
    if not rows_q:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rq = np.concatenate(rows_q)
    rp = np.concatenate(rows_p)
    key = np.unique(rq * (n_all + 1) + rp)
    rq, rp = key // (n_all + 1), key % (n_all + 1)
    if custody is None:
        return rq, rp
    return without_alibi(cases, q, rq, rp, custody)


def without_alibi(
    cases: CaseArrays,
    q: np.ndarray,
    rq: np.ndarray,
    rp: np.ndarray,
    custody: Custody,
) -> tuple[np.ndarray, np.ndarray]:
    """The candidate rows (q position `rq`, person `rp`) less those whose person
    was in remand, prison or treatment for the whole window of a case that needs
    presence: they cannot have done it, so they are not candidates at all."""
    qc = q[rq]
    alibi = in_custody_throughout(
        cases.t0[qc], cases.t1[qc], needs_presence(cases.offence[qc]), rp, custody
    )
    return rq[~alibi], rp[~alibi]

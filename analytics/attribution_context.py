"""What attribution works on: the as-of context and the (case, candidate) rows.

`build_context` indexes the store frames as known on the as-of date: the cases
(`CaseArrays`), the links, the eligible persons (the top list and anyone with at
least `min_cases` linked cases), the open cases to attribute and the pseudo-open
solved cases to train on. `build_rows` pre-selects each query case's candidates
(`candidates.select_candidates`, less those in custody for the whole offence
window: an alibi) and computes their evidence
(`person_evidence.case_person_features`), leave-one-out when training, or takes
it from last night's stored rows (`attribution_reuse`).
"""

# ruff: noqa: N803, N806 - X, L: the usual maths notation

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from gjenganger.analytics import attribution_reuse as ar
from gjenganger.analytics.candidates import select_candidates
from gjenganger.analytics.linkage import Custody, Links, make_custody, make_links
from gjenganger.analytics.pair_features import CaseArrays, case_arrays
from gjenganger.analytics.person_evidence import (
    PERSON_FEATURES,
    PersonEvidence,
    case_person_features,
    with_dropped_case_back,
)

_COUNTS = threading.Lock()


def day_number(d: date) -> float:
    """Days since 1970-01-01: the time axis of `CaseArrays`."""
    return float((d - date(1970, 1, 1)).days)


def eligible_persons(
    incidents: pl.DataFrame,
    links: pl.DataFrame,
    as_of: date,
    *,
    window_days: int = 365,
    top_n: int = 20,
    min_cases: int = 5,
) -> list[str]:
    """Persons attribution ranks: the top list and anyone with >= `min_cases` links."""
    from gjenganger.analytics.toplist import rank_persons

    top = rank_persons(incidents, links, as_of, window_days=window_days)
    chosen = set(top.head(top_n)["person_id"].to_list())
    counts = links.group_by("person_id").agg(
        pl.col("incident_id").n_unique().alias("n")
    )
    chosen |= set(counts.filter(pl.col("n") >= min_cases)["person_id"].to_list())
    return sorted(chosen)


def sample_by_hash(id_hash: np.ndarray, n: int) -> np.ndarray:
    """Sorted positions of the `n` smallest id hashes (`CaseArrays.id_hash`): a
    uniform sample that depends on the ids only (not their order, not a seed),
    so a case is in it or not whatever else the night holds."""
    return np.sort(np.argsort(id_hash, kind="stable")[:n])


@dataclass
class Context:
    """Everything attribution needs as known on the as-of date, as arrays."""

    incidents: pl.DataFrame
    cases: CaseArrays
    links: Links
    person_cases: list[np.ndarray]
    eligible: np.ndarray  # person indices
    open_idx: np.ndarray  # case indices to attribute
    train_idx: np.ndarray  # pseudo-open solved cases for training
    custody: Custody
    as_of: date
    seed: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def build_context(
    incidents: pl.DataFrame,
    links: pl.DataFrame,
    custody: pl.DataFrame | None,
    as_of: date,
    *,
    eligible_ids: list[str] | None = None,
    window_days: int = 365,
    max_train_cases: int = 8000,
    seed: int = 0,
    max_open_cases: int | None = None,
) -> Context:
    """Index the frames (store.load_* as of `as_of`) for attribution.

    `max_open_cases` keeps at most that many open cases, a fixed sample by id
    (`sample_by_hash`): the back-test's past scorings at national scale, where a
    uniform sample of the open cases measures the model as well as all of them.
    """
    cutoff = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    start = datetime.combine(
        as_of - timedelta(days=window_days - 1), datetime.min.time()
    )
    inc = incidents.filter(pl.col("reported_at") < cutoff)
    cases = case_arrays(inc)
    links = links.filter(pl.col("incident_id").is_in(inc["incident_id"].implode()))
    L = make_links(cases.incident_id, links)
    person_cases = L.cases_of()
    if eligible_ids is None:
        eligible_ids = eligible_persons(inc, links, as_of, window_days=window_days)
    pos = {p: k for k, p in enumerate(L.persons.tolist())}
    eligible = np.array(
        sorted(pos[p] for p in eligible_ids if p in pos), dtype=np.int64
    )
    linked = np.zeros(len(cases), bool)
    linked[L.case_idx] = True
    in_window = (inc["occurred_from"] >= start).to_numpy()
    is_open = (inc["status"] == "open").to_numpy() & ~linked
    open_idx = np.flatnonzero(is_open & in_window)
    if max_open_cases is not None and len(open_idx) > max_open_cases:
        keep = sample_by_hash(cases.id_hash[open_idx], max_open_cases)
        open_idx = open_idx[keep]
    rng = np.random.default_rng(seed)
    train_pool = np.flatnonzero(linked & in_window)
    if len(train_pool) < max_train_cases:  # reach back a further window if short
        older = datetime.combine(
            as_of - timedelta(days=2 * window_days), datetime.min.time()
        )
        train_pool = np.flatnonzero(linked & (inc["occurred_from"] >= older).to_numpy())
    if len(train_pool) > max_train_cases:
        train_pool = np.sort(
            rng.choice(train_pool, size=max_train_cases, replace=False)
        )
    until = day_number(as_of) + 1
    return Context(
        incidents=inc,
        cases=cases,
        links=L,
        person_cases=person_cases,
        eligible=eligible,
        open_idx=open_idx,
        train_idx=train_pool,
        custody=make_custody(custody, L.persons, until),
        as_of=as_of,
        seed=seed,
    )


@dataclass
class Rows:
    """(case, candidate) rows with evidence, for one set of query cases."""

    q: np.ndarray  # case indices of the query cases (one per case position)
    row_case: np.ndarray  # row -> position in q
    row_person: np.ndarray  # row -> person index
    ev: PersonEvidence
    y: np.ndarray | None = None  # training only: is the candidate a linked person
    eligible_truth: np.ndarray | None = (
        None  # training only: per case, an eligible person did it
    )
    fresh: np.ndarray | None = None  # rows computed tonight (None: all of them)


def build_rows(
    ctx: Context,
    q: np.ndarray,
    pair_logit,
    training: bool,
    trees: dict | None = None,
    reuse: ar.Reuse | None = None,
) -> Rows:
    """Candidates and evidence for the query cases (leave-one-out when training).

    With `reuse`, rows stored from an earlier night (unchanged case and person)
    take their stored evidence; only the others are computed. The evidence is
    the model's: one near known case left out of every candidate
    (`person_evidence.case_person_features`; `full_evidence` puts it back).
    """
    exclude = q if training else None
    rc, rp = select_candidates(
        ctx.cases,
        q,
        ctx.person_cases,
        ctx.eligible,
        exclude,
        trees=trees,
        custody=ctx.custody,
    )
    fresh = None
    if reuse is not None and not training:
        ev, fresh = _evidence_with_reuse(ctx, q[rc], rp, pair_logit, reuse)
    else:
        ev = case_person_features(
            ctx.cases,
            q[rc],
            rp,
            ctx.person_cases,
            pair_logit,
            ctx.custody,
            exclude=q[rc] if training else None,
        )
    y = None
    if training:
        sets = ctx.links.person_sets(len(ctx.cases))
        y = (sets[q[rc]] == rp[:, None]).any(axis=1)
        elig = np.isin(sets[q], ctx.eligible).any(axis=1)
        return Rows(q, rc, rp, ev, y, elig)
    return Rows(q, rc, rp, ev, y, fresh=fresh)


def full_evidence(
    ctx: Context, rows: Rows, pair_logit, sel: np.ndarray | None = None
) -> PersonEvidence:
    """The evidence of `rows` (of the rows `sel`, default all) with the near
    known case the model leaves out counted again (leave-one-out kept in
    training): what the `why` shows an analyst and what the simple baselines
    rank on (`person_evidence.with_dropped_case_back`)."""
    sel = np.arange(len(rows.row_case)) if sel is None else sel
    return with_dropped_case_back(
        ctx.cases,
        rows.q[rows.row_case[sel]],
        rows.row_person[sel],
        ctx.person_cases,
        ar.take(rows.ev, sel),
        pair_logit,
    )


def _evidence_with_reuse(
    ctx: Context, qc: np.ndarray, rp: np.ndarray, pair_logit, reuse: ar.Reuse
) -> tuple[PersonEvidence, np.ndarray]:
    """Evidence for rows (qc, rp): stored where `reuse` has the row, else computed;
    with the mask of computed rows."""
    pos = ar.lookup(reuse, qc, rp)
    hit = pos >= 0
    X = np.empty((len(qc), len(PERSON_FEATURES)))
    best = np.empty(len(qc), np.int64)
    near = np.empty(len(qc), np.int64)
    nk = np.empty(len(qc), np.int64)
    X[hit], best[hit] = reuse.X[pos[hit]], reuse.best_case[pos[hit]]
    near[hit], nk[hit] = reuse.nearest_case[pos[hit]], reuse.n_known[pos[hit]]
    miss = np.flatnonzero(~hit)
    if len(miss):
        fresh = case_person_features(
            ctx.cases, qc[miss], rp[miss], ctx.person_cases, pair_logit, ctx.custody
        )
        X[miss], best[miss] = fresh.X, fresh.best_case
        near[miss], nk[miss] = fresh.nearest_case, fresh.n_known
    with _COUNTS:  # chunks run on threads
        ctx.timings["rows_reused"] = ctx.timings.get("rows_reused", 0) + int(hit.sum())
        ctx.timings["rows_computed"] = ctx.timings.get("rows_computed", 0) + len(miss)
    return PersonEvidence(X, best, near, nk), ~hit

"""Crime linkage: a calibrated case-case model and case-person evidence.

Two layers, following the linkage literature:

1. **Case-case** (`PairModel`): is pair (a, b) done by the same person? Trained on
   solved cases as known on the as-of date: *linked* pairs share a linked person,
   *unlinked* pairs are sampled from solved cases with no person in common, both
   within `MAX_GAP_DAYS` of each other (Porter 2016's design; Bennell & Canter 2002,
   Tonkin et al. 2011 find distance and time gap the strongest cues, AUC 0.8-0.94).
   The classifier is a histogram gradient-boosted tree on `PAIR_FEATURES` with Platt
   calibration on a held-out split. Because both classes are sampled, the model's
   log-odds are shifted by the known sampling fractions, so `proba` is calibrated
   to the population of all solved pairs within `MAX_GAP_DAYS`, not to the sample.

2. **Case-person** (`case_person_features`): the evidence that person P did case q,
   summarising q against P's known (linked, not retracted) cases: nearest distance,
   a Gaussian kernel over P's cases (the geographic-profiling activity space),
   nearest time gap, activity around q's time, the pair model on P's k most similar
   cases (max and top-3 mean log-odds), P's modus profile (share of P's cases with
   q's offence code, target type, entry method), repeat target, co-offending, and
   whether P was in custody during q's window. `analytics.attribution` turns these
   into calibrated probabilities over persons plus "none of them".

All randomness takes an explicit `seed`.
"""

# ruff: noqa: N803, N806 - X, K, F, A, B, L: the usual maths notation

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

from gjenganger.analytics import evidence_kernel as ek
from gjenganger.analytics.pair_features import (
    PAIR_FEATURES,
    SAME_PLACE_KM,
    CaseArrays,
    pair_matrix,
)

MAX_GAP_DAYS = 365.0  # pairs further apart in time are not modelled (Porter's `thres`)
TAU_DAYS_PER_KM = 14.0  # space-time metric: 14 days of gap weigh like 1 km
KDE_BANDWIDTHS_KM = (0.5, 2.0)  # fixed: the code derives the first from the second
K_SIMILAR = 8  # the pair model is run on this many of P's most similar cases
NO_XY_PENALTY = 5.0  # space-time distance added when a side has no coordinates
N_SPACE_TIME = 12  # candidates per case: persons nearest in space-time ...
N_SPACE = 8  # ... and in space (the union is scored; see docs/linkage.md)

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


# ------------------------------------------------------------------ links
@dataclass(frozen=True)
class Links:
    """Case-person links as index arrays into a `CaseArrays` and a person list."""

    persons: np.ndarray  # person_id strings, index = person index
    case_idx: np.ndarray  # int, one per link
    person_idx: np.ndarray  # int, one per link

    def cases_of(self) -> list[np.ndarray]:
        """Sorted case indices of every person (list indexed by person index)."""
        order = np.lexsort((self.case_idx, self.person_idx))
        ci, pi = self.case_idx[order], self.person_idx[order]
        bounds = np.searchsorted(pi, np.arange(len(self.persons) + 1))
        return [ci[bounds[k] : bounds[k + 1]] for k in range(len(self.persons))]

    def person_sets(self, n_cases: int, width: int = 4) -> np.ndarray:
        """(n_cases, width) person indices per case, -1 padded (co-offenders)."""
        out = np.full((n_cases, width), -1, dtype=np.int64)
        order = np.argsort(self.case_idx, kind="stable")
        ci, pi = self.case_idx[order], self.person_idx[order]
        first = np.searchsorted(ci, ci, side="left")
        slot = np.arange(len(ci)) - first
        keep = slot < width
        out[ci[keep], slot[keep]] = pi[keep]
        return out


def make_links(incident_ids: np.ndarray, links: pl.DataFrame) -> Links:
    """Index `links` (incident_id, person_id) against the case order `incident_ids`."""
    pos = {iid: k for k, iid in enumerate(incident_ids.tolist())}
    lk = (
        links.select("incident_id", "person_id")
        .unique()
        .sort("person_id", "incident_id")
    )
    ci = np.array([pos.get(i, -1) for i in lk["incident_id"].to_list()], dtype=np.int64)
    persons, pi = np.unique(lk["person_id"].to_numpy().astype(str), return_inverse=True)
    ok = ci >= 0
    return Links(persons=persons, case_idx=ci[ok], person_idx=pi[ok].astype(np.int64))


def share_person(sets: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """True where cases ia and ib have a linked person in common."""
    a, b = sets[ia], sets[ib]
    eq = (a[:, :, None] == b[:, None, :]) & (a[:, :, None] >= 0)
    return eq.any(axis=(1, 2))


# ------------------------------------------------------------------ pair sampling
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
    tm = cases.t_mid
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
    f_link = len(ia_l) / total_linked

    pool = np.unique(sub.case_idx)
    sets = links.person_sets(n)
    want = int(unlinked_per_linked * len(ia_l))
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
    f_unl = len(ia_u) / total_unlinked
    ia = np.concatenate([ia_l, ia_u])
    ib = np.concatenate([ib_l, ib_u])
    y = np.concatenate([np.ones(len(ia_l), np.int8), np.zeros(len(ia_u), np.int8)])
    return PairSample(ia=ia, ib=ib, y=y, log_offset=float(np.log(f_unl / f_link)))


# ------------------------------------------------------------------ pair model
def one_openmp_thread(fn):
    """Run `fn` with OpenMP (scikit-learn's gradient boosting) on one thread.

    On a shared 2-core machine, OpenMP's spinning threads slow boosting down
    up to six-fold under load (measured: 43 s vs 7.5 s for one fit); one thread
    is predictable and close to the best case.
    """
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        # threadpoolctl only limits runtimes already loaded: load scikit-learn's
        # OpenMP runtime first, or the limit silently does nothing
        import sklearn.ensemble  # noqa: F401
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="openmp"):
            return fn(*args, **kwargs)

    return wrapper


def _hgb(seed: int, max_iter: int = 250):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=max_iter,
        learning_rate=0.08,
        max_leaf_nodes=31,
        min_samples_leaf=40,
        l2_regularization=1.0,
        random_state=seed,
    )


_CATEGORICAL_PAIR = {
    "same_offence",
    "same_group",
    "same_target",
    "same_entry",
    "same_planned",
    "same_place",
}
_INTERACTION = ("distance_km", "gap_days")


@dataclass
class BinnedLogit:
    """Logistic regression on binned evidence: a discriminative Porter model.

    Each continuous feature is cut at its training quantiles (plus a bin for
    unknown), each match feature has levels 0 / 1 / unknown, and distance x time
    gap get a joint grid (the space-time interaction of near-repeat analysis).
    The log-odds is a sum of one coefficient per feature, like Porter's summed
    log Bayes factors, but fitted jointly so correlated evidence (offence code and
    target type) is not counted twice. Scoring is table look-ups: millions of
    pairs a second.
    """

    breaks: list[np.ndarray | None]
    offsets: np.ndarray
    grid: tuple[np.ndarray, np.ndarray]
    coef: np.ndarray
    intercept: float

    @staticmethod
    def _bin(x: np.ndarray, br: np.ndarray | None) -> np.ndarray:
        miss = np.isnan(x)
        if br is None:
            return np.where(miss, 2, np.clip(x, 0, 1)).astype(np.int64)
        k = len(br) + 1
        return np.where(miss, k, np.searchsorted(br, x, side="right")).astype(np.int64)

    def _indices(self, X: np.ndarray) -> np.ndarray:
        cols = [
            self.offsets[j] + self._bin(X[:, j].astype(float), br)
            for j, br in enumerate(self.breaks)
        ]
        i, g = (
            PAIR_FEATURES.index(_INTERACTION[0]),
            PAIR_FEATURES.index(_INTERACTION[1]),
        )
        bd = self._bin(X[:, i].astype(float), self.grid[0])
        bg = self._bin(X[:, g].astype(float), self.grid[1])
        cols.append(self.offsets[-1] + bd * (len(self.grid[1]) + 2) + bg)
        return np.stack(cols, axis=1)

    @classmethod
    def fit(
        cls, X: np.ndarray, y: np.ndarray, nbins: int = 12, C: float = 1.0
    ) -> BinnedLogit:
        from scipy.sparse import csr_matrix
        from sklearn.linear_model import LogisticRegression

        breaks: list[np.ndarray | None] = []
        sizes = []
        for j, name in enumerate(PAIR_FEATURES):
            if name in _CATEGORICAL_PAIR:
                breaks.append(None)
                sizes.append(3)
                continue
            x = X[:, j].astype(float)
            x = x[~np.isnan(x)]
            q = (
                np.unique(np.quantile(x, np.linspace(0, 1, nbins + 1)[1:-1]))
                if len(x)
                else np.array([])
            )
            breaks.append(q)
            sizes.append(len(q) + 2)
        coarse = []
        for name in _INTERACTION:
            x = X[:, PAIR_FEATURES.index(name)].astype(float)
            x = x[~np.isnan(x)]
            coarse.append(
                np.unique(np.quantile(x, np.linspace(0, 1, 7)[1:-1]))
                if len(x)
                else np.array([])
            )
        sizes.append((len(coarse[0]) + 2) * (len(coarse[1]) + 2))
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        # block starts: one per feature, the last one is the distance x gap grid
        model = cls(
            breaks, offsets[:-1].copy(), (coarse[0], coarse[1]), np.zeros(0), 0.0
        )
        idx = model._indices(X)
        n, k = idx.shape
        A = csr_matrix(
            (np.ones(n * k), idx.ravel(), np.arange(0, n * k + 1, k)),
            shape=(n, int(offsets[-1])),
        )
        lr = LogisticRegression(C=C, max_iter=500).fit(A, y)
        model.coef = lr.coef_[0].copy()
        model.intercept = float(lr.intercept_[0])
        return model

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Sum of one coefficient per binned feature (accumulated column by
        column: no index matrix the size of X)."""
        out = np.full(len(X), self.intercept)
        for j, br in enumerate(self.breaks):
            out += self.coef[self.offsets[j] + self._bin(X[:, j].astype(float), br)]
        i, g = (
            PAIR_FEATURES.index(_INTERACTION[0]),
            PAIR_FEATURES.index(_INTERACTION[1]),
        )
        bd = self._bin(X[:, i].astype(float), self.grid[0])
        bg = self._bin(X[:, g].astype(float), self.grid[1])
        out += self.coef[self.offsets[-1] + bd * (len(self.grid[1]) + 2) + bg]
        return out


@dataclass
class PairModel:
    """Calibrated probability that two cases were done by the same person.

    `kind="binned"` (default): `BinnedLogit`, calibrated by construction
    (logistic likelihood). `kind="hgb"`: gradient boosting with Platt
    calibration on a held-out 20 %. Either way the log-odds are shifted by the
    sampling fractions (`log_offset`) to the population of solved pairs.
    """

    clf: object = None
    log_offset: float = 0.0
    n_linked: int = 0
    n_unlinked: int = 0
    kind: str = "binned"

    @classmethod
    @one_openmp_thread
    def fit(
        cls,
        X: np.ndarray,
        y: np.ndarray,
        log_offset: float,
        seed: int = 0,
        kind: str = "binned",
    ) -> PairModel:
        if kind == "binned":
            clf = BinnedLogit.fit(X, y)
        elif kind == "hgb":
            from sklearn.calibration import CalibratedClassifierCV
            from sklearn.frozen import FrozenEstimator

            rng = np.random.default_rng(seed)
            cal = rng.random(len(y)) < 0.2
            base = _hgb(seed).fit(X[~cal], y[~cal])
            clf = CalibratedClassifierCV(FrozenEstimator(base), method="sigmoid")
            clf.fit(X[cal], y[cal])
        else:
            raise ValueError(f"pair model kind {kind!r}: use 'binned' or 'hgb'")
        return cls(clf, log_offset, int(y.sum()), int(len(y) - y.sum()), kind)

    @one_openmp_thread
    def sample_logit(self, X: np.ndarray) -> np.ndarray:
        """Log-odds under the training sample's class balance."""
        if self.kind == "binned":
            return self.clf.decision_function(X)
        p = self.clf.predict_proba(X)[:, 1]
        p = np.clip(p, 1e-7, 1 - 1e-7)
        return np.log(p / (1 - p))

    def logit(self, X: np.ndarray) -> np.ndarray:
        """Population log-odds: the sample's, shifted by the sampling fractions."""
        return self.sample_logit(X) + self.log_offset

    def proba(self, X: np.ndarray) -> np.ndarray:
        """P(same person) among all solved pairs within MAX_GAP_DAYS."""
        return 1.0 / (1.0 + np.exp(-self.logit(X)))


def fit_pair_model(
    cases: CaseArrays,
    links: Links,
    case_mask: np.ndarray | None = None,
    seed: int = 0,
    kind: str = "binned",
) -> PairModel:
    """Sample pairs among the linked cases in `case_mask` and fit a `PairModel`."""
    s = sample_pairs(cases, links, case_mask, seed=seed)
    X = pair_matrix(cases, s.ia, cases, s.ib)
    return PairModel.fit(X, s.y, s.log_offset, seed=seed, kind=kind)


@dataclass
class CrossFitPairModels:
    """Two pair models, each trained on half of the cases (split by case).

    Every case gets a half by coin flip; a pair is scored by the model of the
    other half than its query case. A training case is therefore never scored by
    a model that saw it, so the attribution model is not trained on memorised
    pairs, and an open case is scored exactly like a training case (one
    half-model), so its evidence has the same distribution.
    """

    models: tuple[PairModel, PairModel]
    fold: np.ndarray  # per case: 0 or 1

    def logit(self, X: np.ndarray, q_cases: np.ndarray) -> np.ndarray:
        f = self.fold[q_cases]
        out = np.empty(len(X))
        for k in (0, 1):
            sel = f == k
            if sel.any():
                out[sel] = self.models[1 - k].logit(X[sel])
        return out


def fold_of(incident_ids: np.ndarray, seed: int = 0) -> np.ndarray:
    """A case's half (0 or 1): a seeded hash of its incident id, so the same case
    falls in the same half on every night (a frozen model scores it the same)."""
    h = pl.Series(np.asarray(incident_ids).astype(str)).hash(seed=seed + 17).to_numpy()
    return (h & np.uint64(1)).astype(np.int8)


def fit_crossfit_pair_models(
    cases: CaseArrays, links: Links, seed: int = 0
) -> CrossFitPairModels:
    """Split cases in two by a coin flip per incident and fit one pair model per half."""
    fold = fold_of(cases.incident_id, seed)
    m0 = fit_pair_model(cases, links, fold == 0, seed=seed)
    m1 = fit_pair_model(cases, links, fold == 1, seed=seed + 1)
    return CrossFitPairModels((m0, m1), fold)


# ------------------------------------------------------------------ candidates
@dataclass(frozen=True)
class Custody:
    """Custody intervals per person index (days since epoch)."""

    start: list[np.ndarray] = field(default_factory=list)
    end: list[np.ndarray] = field(default_factory=list)


def make_custody(
    custody: pl.DataFrame | None, persons: np.ndarray, until_days: float
) -> Custody:
    """Index custody periods (arrest, remand, prison, treatment) by person."""
    n = len(persons)
    starts: list[list[float]] = [[] for _ in range(n)]
    ends: list[list[float]] = [[] for _ in range(n)]
    if custody is not None and custody.height:
        pos = {p: k for k, p in enumerate(persons.tolist())}
        s = (
            custody["start_at"].cast(pl.Datetime("us")).dt.epoch("us").to_numpy()
            / 86_400e6
        )
        e_raw = custody["end_at"].cast(pl.Datetime("us")).dt.epoch("us")
        e = e_raw.fill_null(int(until_days * 86_400e6)).to_numpy() / 86_400e6
        for pid, a, b in zip(custody["person_id"].to_list(), s, e, strict=True):
            k = pos.get(pid)
            if k is not None:
                starts[k].append(float(a))
                ends[k].append(float(b))
    return Custody([np.array(x) for x in starts], [np.array(x) for x in ends])


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
) -> tuple[np.ndarray, np.ndarray]:
    """Pre-select the persons worth scoring for each query case.

    Each q keeps the `n_space_time` eligible persons whose nearest known case is
    nearest in space-time (km + gap / TAU_DAYS_PER_KM) and the `n_space` nearest in
    plain space. Cases without coordinates use the time gap to known cases of the
    same offence group. One search tree over all eligible persons' known cases
    (not one per person), so the cost grows with the cases, not cases x persons.
    `exclude[i]` is a case index hidden from q[i]'s evidence (the case itself,
    when training). Pass the same dict as `trees` across calls to reuse the trees.
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
    return key // (n_all + 1), key % (n_all + 1)


# ------------------------------------------------------------------ case-person
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
) -> PersonEvidence:
    """Evidence that person `persons[r]` did case `q_cases[r]`, for every row r.

    `pair_logit(X, q_case_indices) -> log-odds` scores case-case evidence (a
    `PairModel.logit` or `CrossFitPairModels.logit`). `exclude[r]` is a case index
    left out of the person's known cases for row r (leave-one-out in training).
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
    F[~np.isfinite(F)] = np.nan
    # float32 precision: the evidence is stored at this precision between nights,
    # so a stored row and a recomputed one are the same numbers
    F = F.astype(np.float32).astype(np.float64)
    return PersonEvidence(F, best, nearest, nknown)

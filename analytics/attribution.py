"""Which open cases belong to which known person: calibrated attribution.

For every open case (status `open`, no current link) in the window, the eligible
persons (the top list and anyone with at least `min_cases` linked cases) are
ranked by the probability that they did it, with the probability that none of
them did. Everything is a **hypothesis** for an analyst to judge, never a link.

Method (documented in docs/linkage.md):

1. Candidate pre-selection (`linkage.select_candidates`): the persons nearest in
   space-time and in space, about 16 per case (12 + 8, merged).
2. Case-person evidence (`linkage.case_person_features`), including a cross-fitted
   case-case `PairModel` on each person's most similar known cases.
3. Stage 1: gradient boosting on (case, candidate) rows, trained on *pseudo-open*
   solved cases: a solved case's own link is hidden and it is attributed like an
   open case (leave-one-out evidence). Out-of-fold scores (3 folds by case) feed:
4. Stage 2, `ChoiceCalibrator`: a conditional-logit over the candidates plus
   "none" - P(k) = exp(a z_k + c) / (1 + sum_j exp(a z_j + c)) - fitted by maximum
   likelihood, so the candidates and "none" form one calibrated distribution.
5. Open cases differ from solved ones in how often a candidate did them (repeat
   offenders are caught less often). The share of "none" among open cases is
   re-estimated by EM (Saerens, Latinne & Decaestecker 2002, label-shift
   adjustment), which changes only the prior, not the ranking.

The baselines (`analytics.baselines`) run on the same candidate rows and get the
same stage-2 calibration, so they differ only in their evidence.
"""

# ruff: noqa: N803, N806 - X, K, F, A, B, L: the usual maths notation

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from gjenganger.analytics import attribution_reuse as ar
from gjenganger.analytics import linkage as lk
from gjenganger.analytics.baselines import (
    NaiveBayesLinkage,
    nearest_case_scores,
    series_linkage,
)
from gjenganger.analytics.pair_features import CaseArrays, case_arrays, pair_matrix

MODEL_VERSION = "attribution-hgb-choice-v2"
HYPOTHESIS = "hypothesis: statistical attribution for an analyst to judge, not a link"
METHODS = ("model", "nearest_case", "porter_nb")
_COUNTS = threading.Lock()


# ------------------------------------------------------------------ helpers
def _as_date(as_of: date | datetime | str) -> date:
    if isinstance(as_of, str):
        return date.fromisoformat(as_of)
    if isinstance(as_of, datetime):
        return as_of.date()
    return as_of


def _day_number(d: date) -> float:
    return float((d - date(1970, 1, 1)).days)


def eligible_persons(
    incidents: pl.DataFrame,
    links: pl.DataFrame,
    as_of: date | str,
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


# ------------------------------------------------------------------ stage 2
@dataclass
class ChoiceCalibrator:
    """Conditional logit over a case's candidates plus "none".

    P(k) = exp(a z_k + c) / (1 + sum_j exp(a z_j + c)); P(none) = 1 / (same). The
    prior of "none" can be moved (`none_prior`) without changing the ranking.
    """

    a: float = 1.0
    c: float = 0.0
    train_none: float = 0.5  # mean P(none) on the training cases

    @staticmethod
    def _softmax(u: np.ndarray, row_case: np.ndarray, n_cases: int):
        m = np.zeros(n_cases)
        np.maximum.at(m, row_case, u)  # "none" has utility 0, so m >= 0
        e = np.exp(u - m[row_case])
        denom = np.exp(-m) + np.bincount(row_case, weights=e, minlength=n_cases)
        return e / denom[row_case], np.exp(-m) / denom

    @classmethod
    def fit(
        cls,
        z: np.ndarray,
        row_case: np.ndarray,
        n_cases: int,
        y: np.ndarray,
        case_weight: np.ndarray | None = None,
    ) -> ChoiceCalibrator:
        """Maximum likelihood for (a, c); `y` marks each case's true candidate rows."""
        from scipy.optimize import minimize

        wc = np.ones(n_cases) if case_weight is None else np.asarray(case_weight, float)
        z = np.nan_to_num(np.asarray(z, float), nan=-20.0)
        y = np.asarray(y, bool)
        has_true = np.bincount(row_case, weights=y, minlength=n_cases) > 0

        def nll(theta: np.ndarray) -> float:
            pr, pn = cls._softmax(theta[0] * z + theta[1], row_case, n_cases)
            p_true = np.bincount(
                row_case, weights=np.where(y, pr, 0.0), minlength=n_cases
            )
            p = np.where(has_true, p_true, pn)
            return float(-np.sum(wc * np.log(np.clip(p, 1e-12, None))))

        res = minimize(
            nll,
            x0=np.array([1.0, 0.0]),
            method="Nelder-Mead",
            options={"xatol": 1e-4, "fatol": 1e-4, "maxiter": 400},
        )
        a, c = (float(v) for v in res.x)
        _, pn = cls._softmax(a * z + c, row_case, n_cases)
        return cls(a, c, float(np.average(pn, weights=wc)))

    def probs(
        self,
        z: np.ndarray,
        row_case: np.ndarray,
        n_cases: int,
        none_prior: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(P per candidate row, P(none) per case), optionally with a new none prior."""
        z = np.nan_to_num(np.asarray(z, float), nan=-20.0)
        pr, pn = self._softmax(self.a * z + self.c, row_case, n_cases)
        if none_prior is None:
            return pr, pn
        w_none = none_prior / self.train_none
        w_some = (1 - none_prior) / (1 - self.train_none)
        denom = w_none * pn + w_some * (1 - pn)
        return pr * (w_some / denom)[row_case], w_none * pn / denom

    def em_none_prior(
        self, z: np.ndarray, row_case: np.ndarray, n_cases: int, iters: int = 100
    ) -> float:
        """Saerens et al. EM: the none share the open cases' own posteriors imply."""
        prior = self.train_none
        for _ in range(iters):
            _, pn = self.probs(z, row_case, n_cases, none_prior=prior)
            new = float(np.clip(pn.mean(), 1e-4, 1 - 1e-4))
            if abs(new - prior) < 1e-6:
                break
            prior = new
        return prior


def person_prior_em(
    p_rows: np.ndarray,
    p_none: np.ndarray,
    row_case: np.ndarray,
    row_person: np.ndarray,
    train_prior: np.ndarray,
    train_none: float,
    *,
    iters: int = 300,
    tol: float = 1e-7,
    bounds: tuple[float, float] = (0.02, 50.0),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Label-shift EM over persons (Saerens et al. 2002, one class per person + none).

    The training cases are *solved* cases, so a person's share of them reflects
    how often they are caught; their share of *open* cases is larger the less
    often they are caught (a repeat offender caught for 6 % of offences has ~15
    open cases per solved one, one caught for 45 % about one). With calibrated
    posteriors p_k(x) under the training priors `train_prior` (per person index)
    and `train_none`, EM re-estimates the priors on the open cases:
    p'_k(x) ∝ (pi'_k / pi_k) p_k(x), pi'_k = mean over open cases of p'_k(x).
    The weights pi'_k / pi_k are kept within `bounds`. Returns (p_rows, p_none,
    open-case prior per person, open-case prior of none).
    """
    n_cases = len(p_none)
    n_persons = len(train_prior)
    lo, hi = bounds
    w = np.ones(n_persons)
    w_none = 1.0
    pr, pn = p_rows, p_none
    for _ in range(iters):
        num = p_rows * w[row_person]
        denom = w_none * p_none + np.bincount(row_case, weights=num, minlength=n_cases)
        pr = num / denom[row_case]
        pn = w_none * p_none / denom
        prior = np.bincount(row_person, weights=pr, minlength=n_persons) / max(
            n_cases, 1
        )
        prior_none = float(pn.mean()) if n_cases else train_none
        new_w = np.clip(prior / train_prior, lo, hi)
        new_none = float(np.clip(prior_none / train_none, lo, hi))
        if np.max(np.abs(new_w - w)) < tol and abs(new_none - w_none) < tol:
            break
        w, w_none = new_w, new_none
    return pr, pn, prior, prior_none


# ------------------------------------------------------------------ context
@dataclass
class Context:
    """Everything attribution needs as known on the as-of date, as arrays."""

    incidents: pl.DataFrame
    cases: CaseArrays
    links: lk.Links
    person_cases: list[np.ndarray]
    eligible: np.ndarray  # person indices
    open_idx: np.ndarray  # case indices to attribute
    train_idx: np.ndarray  # pseudo-open solved cases for training
    custody: lk.Custody
    as_of: date
    seed: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def build_context(
    incidents: pl.DataFrame,
    links: pl.DataFrame,
    custody: pl.DataFrame | None,
    as_of: date | str,
    *,
    eligible_ids: list[str] | None = None,
    window_days: int = 365,
    max_train_cases: int = 4000,
    seed: int = 0,
) -> Context:
    """Index the frames (store.load_* as of `as_of`) for attribution."""
    as_of = _as_date(as_of)
    cutoff = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    start = datetime.combine(
        as_of - timedelta(days=window_days - 1), datetime.min.time()
    )
    inc = incidents.filter(pl.col("reported_at") < cutoff)
    cases = case_arrays(inc)
    links = links.filter(pl.col("incident_id").is_in(inc["incident_id"].implode()))
    L = lk.make_links(cases.incident_id, links)
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
    until = _day_number(as_of) + 1
    return Context(
        incidents=inc,
        cases=cases,
        links=L,
        person_cases=person_cases,
        eligible=eligible,
        open_idx=open_idx,
        train_idx=train_pool,
        custody=lk.make_custody(custody, L.persons, until),
        as_of=as_of,
        seed=seed,
    )


@dataclass
class Rows:
    """(case, candidate) rows with evidence, for one set of query cases."""

    q: np.ndarray  # case indices of the query cases (one per case position)
    row_case: np.ndarray  # row -> position in q
    row_person: np.ndarray  # row -> person index
    ev: lk.PersonEvidence
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
    take their stored evidence; only the others are computed.
    """
    exclude = q if training else None
    rc, rp = lk.select_candidates(
        ctx.cases, q, ctx.person_cases, ctx.eligible, exclude, trees=trees
    )
    fresh = None
    if reuse is not None and not training:
        ev, fresh = _evidence_with_reuse(ctx, q[rc], rp, pair_logit, reuse)
    else:
        ev = lk.case_person_features(
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


def _evidence_with_reuse(
    ctx: Context, qc: np.ndarray, rp: np.ndarray, pair_logit, reuse: ar.Reuse
) -> tuple[lk.PersonEvidence, np.ndarray]:
    """Evidence for rows (qc, rp): stored where `reuse` has the row, else computed;
    with the mask of computed rows."""
    pos = ar.lookup(reuse, qc, rp)
    hit = pos >= 0
    X = np.empty((len(qc), len(lk.PERSON_FEATURES)))
    best = np.empty(len(qc), np.int64)
    near = np.empty(len(qc), np.int64)
    nk = np.empty(len(qc), np.int64)
    X[hit], best[hit] = reuse.X[pos[hit]], reuse.best_case[pos[hit]]
    near[hit], nk[hit] = reuse.nearest_case[pos[hit]], reuse.n_known[pos[hit]]
    miss = np.flatnonzero(~hit)
    if len(miss):
        fresh = lk.case_person_features(
            ctx.cases, qc[miss], rp[miss], ctx.person_cases, pair_logit, ctx.custody
        )
        X[miss], best[miss] = fresh.X, fresh.best_case
        near[miss], nk[miss] = fresh.nearest_case, fresh.n_known
    with _COUNTS:  # chunks run on threads
        ctx.timings["rows_reused"] = ctx.timings.get("rows_reused", 0) + int(hit.sum())
        ctx.timings["rows_computed"] = ctx.timings.get("rows_computed", 0) + len(miss)
    return lk.PersonEvidence(X, best, near, nk), ~hit


# ------------------------------------------------------------------ covariate shift
def case_covariates(cases: CaseArrays, idx: np.ndarray) -> np.ndarray:
    """What a case looks like on its own (no person): modus, value, time, place."""
    t0 = cases.t0[idx]
    hour = (t0 * 24.0) % 24.0
    return np.c_[
        cases.offence[idx],
        cases.target[idx],
        cases.entry[idx],
        cases.planned[idx],
        cases.participants[idx],
        cases.log_value[idx],
        np.sin(2 * np.pi * hour / 24),
        np.cos(2 * np.pi * hour / 24),
        np.log1p((cases.t1[idx] - t0) * 24.0),
        cases.x_km[idx],
        cases.y_km[idx],
    ]


def shift_weights(
    cases: CaseArrays,
    train_idx: np.ndarray,
    open_idx: np.ndarray,
    seed: int = 0,
    clip: tuple[float, float] = (0.1, 10.0),
) -> np.ndarray:
    """Importance weights making solved training cases resemble the open ones.

    Solved cases are a biased sample: shop thefts on CCTV and sloppy phase-3
    offences are solved far more often than planned burglaries. A classifier
    tells open from solved cases on case covariates alone (cross-fitted, 2
    folds); a training case's weight is its odds of looking open, normalised to
    mean 1 and clipped (Shimodaira 2000; Sugiyama et al. 2007).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    if len(open_idx) < 50 or len(train_idx) < 50:
        return np.ones(len(train_idx))
    rng = np.random.default_rng(seed)
    o = (
        open_idx
        if len(open_idx) <= 4 * len(train_idx)
        else rng.choice(open_idx, 4 * len(train_idx), replace=False)
    )
    X = case_covariates(cases, np.r_[train_idx, o])
    y = np.r_[np.zeros(len(train_idx)), np.ones(len(o))]
    fold = rng.integers(0, 2, len(y))
    p = np.empty(len(train_idx))
    for k in (0, 1):
        clf = HistGradientBoostingClassifier(
            max_iter=100,
            learning_rate=0.1,
            categorical_features=[0, 1, 2],
            random_state=seed,
        )
        X_cat = X.copy()
        X_cat[:, :3] = np.where(X_cat[:, :3] < 0, np.nan, X_cat[:, :3])
        clf.fit(X_cat[fold != k], y[fold != k])
        sel = (fold == k)[: len(train_idx)]
        p[sel] = clf.predict_proba(X_cat[: len(train_idx)][sel])[:, 1]
    w = p / np.clip(1 - p, 1e-6, None)
    w = np.clip(w / w.mean(), *clip)
    return w / w.mean()


# ------------------------------------------------------------------ stage 1
def _stage1(seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    cat = np.array([n == "q_group" for n in lk.PERSON_FEATURES] + [False, False])
    return HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.1,
        max_leaf_nodes=31,
        min_samples_leaf=30,
        l2_regularization=1.0,
        categorical_features=cat,
        random_state=seed,
    )


def _logit(clf, X: np.ndarray) -> np.ndarray:
    p = np.clip(clf.predict_proba(X)[:, 1], 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def _with_margin(rows: Rows) -> np.ndarray:
    """Add relational features: the candidate's max pair log-odds minus the best
    other candidate's, and its rank by that within the case."""
    X = rows.ev.X
    j = lk.PERSON_FEATURES.index("max_logit")
    v = np.nan_to_num(X[:, j], nan=-30.0)
    n = len(rows.q)
    order = np.lexsort((-v, rows.row_case))
    rc = rows.row_case[order]
    start = np.searchsorted(rc, rc, side="left")
    rank = np.empty(len(v))
    rank[order] = np.arange(len(v)) - start
    best = np.full(n, -np.inf)
    np.maximum.at(best, rows.row_case, v)
    second = np.full(n, -np.inf)
    mask = rank > 0
    np.maximum.at(second, rows.row_case[mask], v[mask])
    other = np.where(rank == 0, second[rows.row_case], best[rows.row_case])
    margin = np.where(np.isfinite(other), v - other, 30.0)
    return np.c_[X, margin, rank]


@dataclass
class AttributionModel:
    """Stage-1 classifier + stage-2 calibrator, fitted on pseudo-open solved cases."""

    clf: object
    calibrator: ChoiceCalibrator
    candidate_recall: (
        float  # share of training cases whose person survived pre-selection
    )
    n_train_cases: int


def fit_model(
    rows: Rows, seed: int = 0, case_weight: np.ndarray | None = None
) -> AttributionModel:
    """Stage 1 on two thirds of the training cases, stage 2 on the held-out third.

    One boosting fit instead of k-fold refits keeps the nightly step fast; the
    calibrator sees only scores of cases the classifier never saw, as the open
    cases will be. `case_weight` (per training case, e.g. `shift_weights`)
    weights both stages.
    """
    X = _with_margin(rows)
    y = rows.y.astype(np.int8)
    n = len(rows.q)
    wc = np.ones(n) if case_weight is None else case_weight
    held = np.random.default_rng(seed).random(n) < 1 / 3
    tr = ~held[rows.row_case]
    clf = _stage1(seed).fit(X[tr], y[tr], sample_weight=wc[rows.row_case][tr])
    z = _logit(clf, X[~tr])
    pos = np.cumsum(held) - 1  # held-out case -> position among held-out cases
    rc = pos[rows.row_case[~tr]]
    cal = ChoiceCalibrator.fit(z, rc, int(held.sum()), rows.y[~tr], wc[held])
    sets_hit = np.bincount(rows.row_case, weights=rows.y, minlength=n) > 0
    return AttributionModel(clf, cal, float(sets_hit[rows.eligible_truth].mean()), n)


# ------------------------------------------------------------------ results
@dataclass
class Attribution:
    """One method's attribution: full candidate distribution per open case."""

    method: str
    candidates: pl.DataFrame  # incident_id, person_id, p, rank, why columns
    cases: pl.DataFrame  # incident_id, p_none, n_candidates
    none_prior: float | None = None


def _why(ctx: Context, rows: Rows, sel: np.ndarray) -> dict[str, list]:
    """Evidence an analyst can check, for the rows `sel`."""
    c = ctx.cases
    F = rows.ev.X[sel]
    col = {n: k for k, n in enumerate(lk.PERSON_FEATURES)}
    qi = rows.q[rows.row_case[sel]]
    best = rows.ev.best_case[sel]
    ok = best >= 0
    b = np.where(ok, best, 0)
    fields = {
        "offence_code": c.offence,
        "target_type": c.target,
        "entry_method": c.entry,
        "planned": c.planned,
    }
    match = {k: (v[qi] == v[b]) & (v[qi] >= 0) & ok for k, v in fields.items()}
    grp = (c.participants[qi] > 1) & (c.participants[b] > 1) & ok
    # the matching field names per row, built column-wise (no Python loop per row)
    flags = pl.DataFrame({**match, "co_offending": grp})
    matching = flags.select(
        pl.concat_list(
            [pl.when(pl.col(n)).then(pl.lit(n)) for n in flags.columns]
        ).list.drop_nulls()
    ).to_series()
    near = rows.ev.nearest_case[sel]
    ids = c.incident_id

    def id_or_none(k: np.ndarray) -> pl.Series:
        return pl.Series(ids[np.maximum(k, 0)]).set(pl.Series(k < 0), None)

    return {
        "nearest_case_km": np.round(F[:, col["min_distance_km"]], 3),
        "nearest_case_days": np.round(F[:, col["min_gap_days"]], 2),
        "nearest_incident_id": id_or_none(near),
        "best_match_incident_id": id_or_none(best),
        "matching_modus": matching,
        "repeat_target": F[:, col["repeat_target"]] == 1,
        "known_cases": rows.ev.n_known[sel],
        "in_custody_share": np.round(F[:, col["custody_overlap"]], 3),
    }


WHY_TOP = 5  # evidence is assembled for the candidates that are shown and stored


def _result(
    ctx: Context,
    rows: Rows,
    p: np.ndarray,
    pn: np.ndarray,
    method: str,
    prior,
    why: bool,
) -> Attribution:
    ids = ctx.cases.incident_id
    n = len(rows.q)
    order = np.lexsort((-p, rows.row_case))
    rc = rows.row_case[order]
    rank = np.empty(len(p), np.int64)
    rank[order] = np.arange(len(p)) - np.searchsorted(rc, rc, side="left") + 1
    cols = {
        "incident_id": ids[rows.q[rows.row_case]],
        "person_id": ctx.links.persons[rows.row_person],
        "p": p,
        "rank": rank,
    }
    cand = pl.DataFrame(cols)
    if why:
        sel = np.flatnonzero(rank <= WHY_TOP)
        extra = pl.DataFrame(_why(ctx, rows, sel)).with_columns(pl.Series("_row", sel))
        cand = (
            cand.with_row_index("_row")
            .with_columns(pl.col("_row").cast(pl.Int64))
            .join(
                extra.with_columns(pl.col("_row").cast(pl.Int64)), on="_row", how="left"
            )
            .drop("_row")
        )
    cand = cand.sort(["incident_id", "rank"])
    ncand = np.bincount(rows.row_case, minlength=n)
    cases = pl.DataFrame(
        {"incident_id": ids[rows.q], "p_none": pn, "n_candidates": ncand}
    )
    return Attribution(method, cand, cases.sort("incident_id"), prior)


# ------------------------------------------------------------------ baselines
def porter_scores(
    ctx: Context,
    rows: Rows,
    nb: NaiveBayesLinkage,
    exclude: np.ndarray | None,
    method: str = "average",
) -> np.ndarray:
    """Porter's series linkage of each row's case to the person's known cases.

    Log Bayes factors to every known case of the person within MAX_GAP_DAYS,
    combined by `method` ('average' or 'single'); rows with none get NaN.
    """
    c = ctx.cases
    out = np.full(len(rows.row_case), np.nan)
    qi_all = rows.q[rows.row_case]
    for p in np.unique(rows.row_person):
        r = np.flatnonzero(rows.row_person == p)
        K = ctx.person_cases[p]
        for s in range(0, len(r), 4000):
            rr = r[s : s + 4000]
            qi = qi_all[rr]
            near = np.abs(c.t_mid[qi][:, None] - c.t_mid[K][None, :]) <= lk.MAX_GAP_DAYS
            if exclude is not None:
                near &= K[None, :] != exclude[rr][:, None]
            a, b = np.nonzero(near)
            if len(a) == 0:
                continue
            v = nb.log_bf(pair_matrix(c, qi[a], c, K[b]))
            agg = series_linkage(v, a, len(rr), method)
            out[rr] = agg
    return out


# ------------------------------------------------------------------ main entry
@dataclass
class Fitted:
    """The cross-fitted case-case pair models, which later nights may reuse.

    The pair models feed the stored evidence rows (max / top-3 pair log-odds), so
    keeping them fixed keeps those rows valid; the stage-1 model and calibrator
    are cheap and are trained again every night on the current links.
    """

    pairs: lk.CrossFitPairModels
    as_of: date
    window_days: int
    seed: int

    def pair_logit_for(self, cases: CaseArrays):
        """The cross-fitted pair models with tonight's case order (halves by id)."""
        from dataclasses import replace

        return replace(self.pairs, fold=lk.fold_of(cases.incident_id, self.seed)).logit


@dataclass
class Previous:
    """Last night's state: the pair models, the evidence rows, fingerprints."""

    fitted: Fitted
    evidence: pl.DataFrame  # attribution_reuse.evidence_frame rows
    fingerprints: ar.Fingerprints


@dataclass
class AttributionRun:
    """The result of one attribution run: per method, plus what series need."""

    results: dict[str, Attribution]
    ctx: Context
    pair_logit: object | None  # (X, q_case_indices) -> log-odds, None if no model
    candidate_recall: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    fitted: Fitted | None = None
    # with keep_evidence: every open-case row's evidence ("full"), or only the rows
    # computed tonight ("reuse": the stored rows of `dirty` persons and cases go)
    evidence: pl.DataFrame | None = None
    fingerprints: ar.Fingerprints | None = None
    mode: str = "full"  # "full": pair models trained tonight; "reuse": kept
    dirty: tuple[set[str], set[str]] | None = None  # (persons, cases) changed

    @property
    def model(self) -> Attribution:
        return self.results["model"]


@lk.one_openmp_thread
def attribute(
    incidents: pl.DataFrame,
    links: pl.DataFrame,
    custody: pl.DataFrame | None,
    as_of: date | str,
    *,
    window_days: int = 365,
    eligible_ids: list[str] | None = None,
    baselines: bool = False,
    covariate_shift: bool = True,
    porter_linkage: str = "average",
    chunk_cases: int = 10_000,
    max_train_cases: int = 4000,
    seed: int = 0,
    why: bool = True,
    previous: Previous | None = None,
    keep_evidence: bool = False,
    workers: int = 2,
    keep_ranks: int | None = None,
    evidence_sink=None,
    progress=None,
) -> AttributionRun:
    """Attribute every open case in the window (`AttributionRun.results["model"]`).

    `incidents`, `links`, `custody` are the store frames as known on `as_of`.
    With `baselines`, the nearest-case and Porter naive-Bayes methods are run on
    the same candidates and calibrated the same way. With `previous` (last night's
    `Previous`), its pair models are reused and so are the evidence rows of
    unchanged cases and persons (`attribution_reuse`); the stage-1 model and the
    calibrator are trained on tonight's links either way. `keep_evidence` returns
    every row's evidence and the fingerprints for the next night. Open cases are
    scored in chunks on `workers` threads; the result does not depend on it.
    `keep_ranks` keeps only each case's best candidates in the result (memory at
    national scale); the default keeps every scored candidate (evaluation).
    `evidence_sink(frame)`, if given, receives the evidence chunk by chunk (from
    the worker threads) instead of `AttributionRun.evidence`. `progress(message)`,
    if given, hears of each stage and of every tenth of the open cases scored.
    """
    import threading
    import time

    def say(message: str) -> None:
        if progress is not None:
            progress(message)

    t0 = time.perf_counter()
    ctx = build_context(
        incidents,
        links,
        custody,
        as_of,
        eligible_ids=eligible_ids,
        window_days=window_days,
        max_train_cases=max_train_cases,
        seed=seed,
    )
    out: dict[str, Attribution] = {}
    methods = METHODS if baselines else METHODS[:1]
    if len(ctx.eligible) == 0 or len(ctx.train_idx) < 20:
        cand, cases = _empty(ctx)
        return AttributionRun(
            {m: Attribution(m, cand, cases) for m in methods}, ctx, None
        )
    timings: dict[str, float] = {}
    fp = None
    dirty: tuple[set[str], set[str]] | None = None
    if keep_evidence or previous is not None:
        fp = ar.fingerprints(
            ctx.cases.incident_id,
            ar.case_hashes(ctx.incidents),
            ctx.links,
            custody,
            ctx.eligible,
            ctx.open_idx,
        )
    reuse = None
    if previous is not None:
        fitted = previous.fitted
        pair_logit = fitted.pair_logit_for(ctx.cases)
        before = previous.fingerprints
        dirty = (
            ar.changed(fp.persons, before.persons, "person_id"),
            ar.changed(fp.cases, before.cases, "incident_id"),
        )
        reuse = ar.reuse_index(
            previous.evidence, ctx.cases.incident_id, ctx.links.persons, *dirty
        )
        previous.evidence = previous.evidence.clear()  # indexed: free the frame
        timings["reuse_index_s"] = time.perf_counter() - t0
        say(
            f"{len(ctx.open_idx):,} open cases; pair models reused, "
            f"{len(dirty[0]):,} persons and {len(dirty[1]):,} cases changed"
        )
    else:
        pairs = lk.fit_crossfit_pair_models(ctx.cases, ctx.links, seed=seed)
        pair_logit = pairs.logit
        fitted = Fitted(pairs, ctx.as_of, window_days, seed)
        timings["pair_model_s"] = time.perf_counter() - t0
        say(f"{len(ctx.open_idx):,} open cases; pair models trained")
    train = build_rows(ctx, ctx.train_idx, pair_logit, training=True)
    wc = (
        shift_weights(ctx.cases, train.q, ctx.open_idx, seed)
        if covariate_shift
        else None
    )
    model = fit_model(train, seed=seed, case_weight=wc)
    timings["train_s"] = time.perf_counter() - t0
    say(f"ranking model trained on {len(train.q):,} solved cases")
    cal = model.calibrator
    scorers: dict[str, tuple] = {}
    if baselines:
        col = {k: i for i, k in enumerate(lk.PERSON_FEATURES)}
        s = lk.sample_pairs(ctx.cases, ctx.links, seed=seed)
        nb = NaiveBayesLinkage.fit(
            pair_matrix(ctx.cases, s.ia, ctx.cases, s.ib), s.y, s.log_offset
        )

        def nearest(rows: Rows, _exclude) -> np.ndarray:
            F = rows.ev.X
            return nearest_case_scores(
                F[:, col["min_distance_km"]], F[:, col["min_gap_days"]]
            )

        def porter(rows: Rows, exclude) -> np.ndarray:
            return porter_scores(ctx, rows, nb, exclude, porter_linkage)

        for name, fn in (("nearest_case", nearest), ("porter_nb", porter)):
            z_tr = fn(train, train.q[train.row_case])
            bc = ChoiceCalibrator.fit(z_tr, train.row_case, len(train.q), train.y, wc)
            scorers[name] = (fn, bc)
    # open cases in chunks: memory stays flat at any scale; the calibrated
    # distribution of a case depends on that case's candidates only, so chunks
    # run on `workers` threads (NumPy, SciPy and scikit-learn release the GIL)
    parts: dict[str, list[Attribution]] = {m: [] for m in ("model", *scorers)}
    kept: list[pl.DataFrame] = []
    trees = {"index": lk.candidate_index(ctx.cases, ctx.person_cases, ctx.eligible)}

    def chunk(start: int):
        q = ctx.open_idx[start : start + chunk_cases]
        rows = build_rows(ctx, q, pair_logit, training=False, trees=trees, reuse=reuse)
        ev = None
        if keep_evidence:  # reusing: only the rows computed tonight are new
            sel = (
                np.arange(len(rows.row_case))
                if rows.fresh is None
                else np.flatnonzero(rows.fresh)
            )
            ev = ar.evidence_frame(
                ctx.cases.incident_id,
                ctx.links.persons,
                q[rows.row_case[sel]],
                rows.row_person[sel],
                ar.take(rows.ev, sel),
            )
            if evidence_sink is not None:  # handed over chunk by chunk: flat memory
                evidence_sink(ev)
        z = _logit(model.clf, _with_margin(rows)) if len(rows.row_case) else np.zeros(0)
        p, pn = cal.probs(z, rows.row_case, len(q))
        res = {"model": _result(ctx, rows, p, pn, "model", None, why)}
        if keep_ranks is not None:  # the rest of the distribution is not kept
            a = res["model"]
            res["model"] = Attribution(
                a.method,
                a.candidates.filter(pl.col("rank") <= keep_ranks),
                a.cases,
                a.none_prior,
            )
        tb = time.perf_counter()
        for name, (fn, bc) in scorers.items():
            bp, bpn = bc.probs(fn(rows, None), rows.row_case, len(q))
            res[name] = _result(ctx, rows, bp, bpn, name, None, why=False)
        return res, ev, time.perf_counter() - tb

    from concurrent.futures import ThreadPoolExecutor

    starts = range(0, len(ctx.open_idx), chunk_cases)
    tally = {"done": 0, "told": 0}
    tally_lock = threading.Lock()

    def counted(start: int):
        out = chunk(start)
        with tally_lock:  # every tenth of the chunks, from whichever thread
            tally["done"] += 1
            tenth = tally["done"] * 10 // len(starts)
            if tenth > tally["told"]:
                tally["told"] = tenth
                n = min(tally["done"] * chunk_cases, len(ctx.open_idx))
                say(f"scored {n:,} of {len(ctx.open_idx):,} open cases")
        return out

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        done = list(pool.map(counted, starts))
    base_s = 0.0
    for res, ev, seconds in done:
        for name, a in res.items():
            parts[name].append(a)
        if ev is not None and evidence_sink is None:
            kept.append(ev)
        base_s += seconds
    for name, lst in parts.items():
        if lst:
            out[name] = Attribution(
                name,
                pl.concat([a.candidates for a in lst], how="diagonal_relaxed"),
                pl.concat([a.cases for a in lst]),
            )
        else:
            cand, cases = _empty(ctx)
            out[name] = Attribution(name, cand, cases)
    timings["attribute_s"] = time.perf_counter() - t0 - base_s
    for k in ("rows_reused", "rows_computed"):
        if k in ctx.timings:
            timings[k] = ctx.timings[k]
    if baselines:
        timings["baselines_s"] = time.perf_counter() - t0
    evidence = pl.concat(kept) if kept else None
    return AttributionRun(
        out,
        ctx,
        pair_logit,
        model.candidate_recall,
        timings,
        fitted,
        evidence,
        fp,
        "reuse" if previous is not None else "full",
        dirty,
    )


def _empty(ctx: Context) -> tuple[pl.DataFrame, pl.DataFrame]:
    ids = ctx.cases.incident_id[ctx.open_idx]
    cand = pl.DataFrame(
        schema={
            "incident_id": pl.String,
            "person_id": pl.String,
            "p": pl.Float64,
            "rank": pl.Int64,
        }
    )
    cases = pl.DataFrame(
        {
            "incident_id": ids,
            "p_none": np.ones(len(ids)),
            "n_candidates": np.zeros(len(ids), np.int64),
        }
    )
    return cand, cases


def top_candidates(att: Attribution, k: int = 5) -> list[dict]:
    """One object per open case: incident_id, p_none, candidates (best first, <= k)."""
    cand = att.candidates.filter(pl.col("rank") <= k)
    why_cols = [
        c for c in cand.columns if c not in ("incident_id", "person_id", "p", "rank")
    ]
    grouped: dict[str, list[dict]] = {}
    for r in cand.sort(["incident_id", "rank"]).iter_rows(named=True):
        entry = {
            "person_id": r["person_id"],
            "p": round(float(r["p"]), 4),
            "rank": r["rank"],
        }
        if why_cols:
            entry["why"] = {c: r[c] for c in why_cols}
        grouped.setdefault(r["incident_id"], []).append(entry)
    return [
        {
            "incident_id": iid,
            "p_none": round(float(pn), 4),
            "candidates": grouped.get(iid, []),
            "label": HYPOTHESIS,
        }
        for iid, pn in att.cases.select("incident_id", "p_none").iter_rows()
    ]


# ------------------------------------------------------------------ evaluation
def evaluate(att: Attribution, truth: pl.DataFrame, eligible_ids: list[str]) -> dict:
    """Score an attribution against generator truth (incident_id, person_id).

    - hit@1, hit@5: over open cases truly done by an eligible person;
    - precision / recall of attributions with p >= 0.5 (recall over the same cases);
    - Brier: multi-outcome over each case's candidates + "none" (+ a truly
      responsible eligible person that was not pre-selected, at p = 0);
    - a reliability table over all candidate and "none" probabilities.
    """
    elig = set(eligible_ids)
    t = truth.select("incident_id", "person_id").unique()
    t = t.filter(pl.col("incident_id").is_in(att.cases["incident_id"].implode()))
    by_cand_truth = t.filter(pl.col("person_id").is_in(list(elig)))
    cases = att.cases.join(
        by_cand_truth.group_by("incident_id").agg(pl.len().alias("n_true")),
        on="incident_id",
        how="left",
    ).with_columns(pl.col("n_true").fill_null(0))
    cand = (
        att.candidates.select("incident_id", "person_id", "p", "rank")
        .join(
            by_cand_truth.with_columns(pl.lit(True).alias("y")),
            on=["incident_id", "person_id"],
            how="left",
        )
        .with_columns(pl.col("y").fill_null(False))
    )
    n_by = int((cases["n_true"] > 0).sum())
    hit1 = cand.filter((pl.col("rank") == 1) & pl.col("y")).height
    hit5 = cand.filter((pl.col("rank") <= 5) & pl.col("y"))["incident_id"].n_unique()
    attributed = cand.filter(pl.col("p") >= 0.5)
    correct = attributed.filter(pl.col("y")).height
    # Brier over outcomes: candidate rows, none, and missed eligible truths.
    y_none = (cases["n_true"] == 0).cast(pl.Float64).to_numpy()
    pn = cases["p_none"].to_numpy()
    found = cand.group_by("incident_id").agg(pl.col("y").sum().alias("found"))
    cases = cases.join(found, on="incident_id", how="left").with_columns(
        pl.col("found").fill_null(0)
    )
    missed = (cases["n_true"] > cases["found"]).cast(pl.Float64).to_numpy()
    # a co-offended case has several true persons: spread the outcome evenly
    share = cand.join(cases.select("incident_id", "n_true"), on="incident_id")
    yv = np.where(
        share["y"].to_numpy(), 1.0 / np.maximum(share["n_true"].to_numpy(), 1), 0.0
    )
    sq = (share["p"].to_numpy() - yv) ** 2
    per_case_rows = (
        pl.DataFrame({"incident_id": share["incident_id"], "sq": sq})
        .group_by("incident_id")
        .agg(pl.col("sq").sum())
    )
    cases = cases.join(per_case_rows, on="incident_id", how="left").with_columns(
        pl.col("sq").fill_null(0.0)
    )
    brier = float(np.mean(cases["sq"].to_numpy() + (pn - y_none) ** 2 + missed))
    probs = np.concatenate([share["p"].to_numpy(), pn])
    ys = np.concatenate([share["y"].to_numpy().astype(float), y_none])
    return {
        "method": att.method,
        "open_cases": cases.height,
        "open_cases_by_candidate": n_by,
        "hit_at_1": hit1 / n_by if n_by else float("nan"),
        "hit_at_5": hit5 / n_by if n_by else float("nan"),
        "attributions_p_ge_0_5": attributed.height,
        "precision_p_ge_0_5": correct / attributed.height
        if attributed.height
        else float("nan"),
        "recall_p_ge_0_5": correct / n_by if n_by else float("nan"),
        "brier": brier,
        "none_prior": att.none_prior,
        "reliability": reliability(probs, ys),
    }


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict]:
    """Mean predicted vs observed frequency per probability decile."""
    edges = np.linspace(0, 1, bins + 1)
    b = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    out = []
    for k in range(bins):
        m = b == k
        if m.any():
            out.append(
                {
                    "bin": f"{edges[k]:.1f}-{edges[k + 1]:.1f}",
                    "n": int(m.sum()),
                    "mean_p": float(p[m].mean()),
                    "observed": float(y[m].mean()),
                }
            )
    return out


# ------------------------------------------------------------------ pairwise AUC
@lk.one_openmp_thread
def holdout_pairs(
    cases: CaseArrays,
    L: lk.Links,
    as_of: date,
    holdout_days: int = 120,
    max_test_pairs: int = 2_000_000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The time split of `pairwise_holdout`: (training mask: linked cases before
    as_of - holdout_days; test cases: linked cases after; test pairs ia, ib: pairs
    of test cases within MAX_GAP_DAYS, at most `max_test_pairs` sampled; y: the
    pair shares a person)."""
    cut = _day_number(as_of) + 1 - holdout_days
    linked = np.zeros(len(cases), bool)
    linked[L.case_idx] = True
    train_mask = linked & (cases.t_mid < cut)
    test = np.flatnonzero(linked & (cases.t_mid >= cut))
    ia, ib = np.triu_indices(len(test), k=1)
    ia, ib = test[ia], test[ib]
    ok = np.abs(cases.t_mid[ia] - cases.t_mid[ib]) <= lk.MAX_GAP_DAYS
    ia, ib = ia[ok], ib[ok]
    if len(ia) > max_test_pairs:
        sel = np.random.default_rng(seed).choice(len(ia), max_test_pairs, replace=False)
        ia, ib = ia[sel], ib[sel]
    return train_mask, test, ia, ib, lk.share_person(L.person_sets(len(cases)), ia, ib)


def pairwise_holdout(
    incidents: pl.DataFrame,
    links: pl.DataFrame,
    as_of: date | str,
    *,
    holdout_days: int = 120,
    max_test_pairs: int = 2_000_000,
    seed: int = 0,
) -> dict:
    """Pairwise AUC on solved cases held out by time, for the model and baselines.

    Models are trained on linked cases that occurred before `as_of - holdout_days`;
    the test pairs are all pairs of linked cases occurring after that (within
    MAX_GAP_DAYS of each other), linked = a person in common. Also reports the
    share of true links found at 5 % false positives (Porter 2016: 82 %).
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    as_of = _as_date(as_of)
    cases = case_arrays(incidents)
    L = lk.make_links(cases.incident_id, links)
    train_mask, test, ia, ib, y = holdout_pairs(
        cases, L, as_of, holdout_days, max_test_pairs, seed
    )
    s = lk.sample_pairs(cases, L, train_mask, seed=seed)
    X = pair_matrix(cases, s.ia, cases, s.ib)
    model = lk.PairModel.fit(X, s.y, s.log_offset, seed=seed)
    nb = NaiveBayesLinkage.fit(X, s.y, s.log_offset)
    Xt = pair_matrix(cases, ia, cases, ib)
    d = Xt[:, 0].astype(float)
    scores = {
        "model": model.logit(Xt),
        "nearest_case": -np.where(
            np.isnan(d), np.nanmax(d) + 1 if np.isfinite(d).any() else 1, d
        ),
        "porter_nb": nb.logit(Xt),
    }
    res: dict = {
        "test_cases": len(test),
        "test_pairs": int(len(y)),
        "linked_pairs": int(y.sum()),
    }
    if y.sum() == 0 or y.sum() == len(y):
        return res | {m: {"auc": float("nan")} for m in scores}
    for m, sc in scores.items():
        fpr, tpr, _ = roc_curve(y, sc)
        res[m] = {
            "auc": float(roc_auc_score(y, sc)),
            "tpr_at_5pct_fpr": float(np.interp(0.05, fpr, tpr)),
        }
    # calibration of the pair model on the held-out pairs
    res["model"]["brier"] = float(np.mean((model.proba(Xt) - y) ** 2))
    return res

"""Stage 1 of attribution: gradient boosting on (case, candidate) evidence rows.

The classifier is trained on *pseudo-open* solved cases: a solved case's own link
is hidden and it is attributed like an open case (leave-one-out evidence), with
relational features per row (`ranking_features`: how the candidate's pair-model
log-odds and activity density compare with the other candidates of its case).
Solved cases are a biased sample of all cases, so training cases are weighted to
resemble the open ones
(`shift_weights`, covariate-shift importance weights). `fit_model` fits stage 1
and, on held-out cases, the stage-2 `ChoiceCalibrator`.
"""

# ruff: noqa: N803, N806 - X: the usual maths notation

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gjenganger.analytics.attribution_calibration import ChoiceCalibrator
from gjenganger.analytics.attribution_context import Rows
from gjenganger.analytics.pair_features import CaseArrays
from gjenganger.analytics.person_evidence import PERSON_FEATURES


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
#: how deep a stage-1 tree may grow. Deeper trees learn interactions that hold
#: for solved cases and not for open ones: on the 365-day sweep of worlds
#: (benchmarks/worlds.py --backtest), trees of 31 leaves and any depth with the
#: relational density features left p 0.6-0.7 over-confident by 0.13
#: (biased-catch) and 0.11 (card-heavy), where the back-test could not see it;
#: at depth 4 every band of those worlds was within 0.07 (0.070, card-heavy),
#: with hit@1 as high as unbounded trees gave (low-catch 0.573) or nearly
#: (biased-catch 0.577 against 0.584); depth 3 was as calibrated (0.062) and
#: ranked lower (low-catch 0.566, biased-catch 0.572)
STAGE1_MAX_DEPTH = 4


def stage1_classifier(seed: int = 0, max_depth: int | None = STAGE1_MAX_DEPTH):
    """The stage-1 classifier: gradient boosting on the evidence rows, trees at
    most `max_depth` deep (`STAGE1_MAX_DEPTH`; None: only the leaf count bounds
    them, as the oracle ceiling's `ceiling_classifier`)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    cat = np.array(
        [n == "q_group" for n in PERSON_FEATURES] + [False, False] * len(RELATIONAL)
    )
    return HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.1,
        max_leaf_nodes=31,
        max_depth=max_depth,
        min_samples_leaf=30,
        l2_regularization=1.0,
        categorical_features=cat,
        random_state=seed,
    )


def ceiling_classifier(seed: int = 0):
    """The oracle ceiling's classifier (`attribution_targets.oracle_ceiling`):
    stage 1's on the same features, its trees bounded by the leaf count only.
    Trained on the open cases' own truth nothing is lost to the shift from
    solved cases, so the more flexible trees give the higher ceiling (low-catch
    hit@1 0.640 against 0.617 at depth 4): the ceiling is the most the evidence
    could give, not what our own model class can."""
    return stage1_classifier(seed, max_depth=None)


def _logit(clf, X: np.ndarray) -> np.ndarray:
    """The classifier's log-odds, clipped away from 0 and 1."""
    p = np.clip(clf.predict_proba(X)[:, 1], 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def _with_margin(rows: Rows) -> np.ndarray:
    """The stage-1 features of `rows` (`ranking_features`)."""
    return ranking_features(rows.ev.X, rows.row_case, len(rows.q))


#: evidence read against the case's other candidates (`ranking_features`): the
#: pair model's best log-odds and the person's activity density near the case at
#: both bandwidths. Which candidate fits best is relative: a density that would
#: be strong on its own says little when another candidate lives closer still
RELATIONAL = ("max_logit", "log_kde_0_5km", "log_kde_2km")


def ranking_features(X: np.ndarray, row_case: np.ndarray, n: int) -> np.ndarray:
    """The evidence `X` (PERSON_FEATURES) with two relational features per
    column of `RELATIONAL`: the candidate's value minus the best other
    candidate's in its case (`row_case`, of `n` cases), and its rank by that
    value within the case (0 = best)."""
    out = [X]
    for name in RELATIONAL:
        v = np.nan_to_num(X[:, PERSON_FEATURES.index(name)], nan=-30.0)
        out.append(_against_the_others(v, row_case, n))
    return np.hstack(out)


def _against_the_others(v: np.ndarray, row_case: np.ndarray, n: int) -> np.ndarray:
    """(margin over the best other candidate of the case, rank in the case) of
    each row's value `v`; a lone candidate's margin is 30."""
    order = np.lexsort((-v, row_case))
    rc = row_case[order]
    start = np.searchsorted(rc, rc, side="left")
    rank = np.empty(len(v))
    rank[order] = np.arange(len(v)) - start
    best = np.full(n, -np.inf)
    np.maximum.at(best, row_case, v)
    second = np.full(n, -np.inf)
    mask = rank > 0
    np.maximum.at(second, row_case[mask], v[mask])
    other = np.where(rank == 0, second[row_case], best[row_case])
    margin = np.where(np.isfinite(other), v - other, 30.0)
    return np.c_[margin, rank]


@dataclass
class AttributionModel:
    """Stage-1 classifier + stage-2 calibrator, fitted on pseudo-open solved cases."""

    clf: object
    calibrator: ChoiceCalibrator
    candidate_recall: (
        float  # share of training cases whose person survived pre-selection
    )
    n_train_cases: int

    def scores(self, rows: Rows) -> np.ndarray:
        """Stage-1 log-odds of each (case, candidate) row, for the calibrator."""
        if not len(rows.row_case):
            return np.zeros(0)
        return _logit(self.clf, _with_margin(rows))


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
    clf = stage1_classifier(seed).fit(X[tr], y[tr], sample_weight=wc[rows.row_case][tr])
    z = _logit(clf, X[~tr])
    pos = np.cumsum(held) - 1  # held-out case -> position among held-out cases
    rc = pos[rows.row_case[~tr]]
    cal = ChoiceCalibrator.fit(z, rc, int(held.sum()), rows.y[~tr], wc[held])
    sets_hit = np.bincount(rows.row_case, weights=rows.y, minlength=n) > 0
    return AttributionModel(clf, cal, float(sets_hit[rows.eligible_truth].mean()), n)

"""The case-case model: is pair (a, b) done by the same person?

Trained on solved cases as known on the as-of date (`pair_sampling`: linked and
unlinked pairs within `MAX_GAP_DAYS`; Bennell & Canter 2002, Tonkin et al. 2011
find distance and time gap the strongest cues, AUC 0.8-0.94). The default model is
a logistic regression on binned `PAIR_FEATURES` (`BinnedLogit`); the alternative a
histogram gradient-boosted tree with Platt calibration on a held-out split.
Because both classes are sampled, the model's log-odds are shifted by the known
sampling fractions, so `proba` is calibrated to the population of all solved pairs
within `MAX_GAP_DAYS`, not to the sample. `CrossFitPairModels` trains one model
per half of the cases, so no case is scored by a model that saw it.

All randomness takes an explicit `seed`.
"""

# ruff: noqa: N803, N806 - X, C: the usual maths notation

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from gjenganger.analytics.linkage import Links
from gjenganger.analytics.pair_features import PAIR_FEATURES, CaseArrays, pair_matrix
from gjenganger.analytics.pair_sampling import sample_pairs


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
    """Split cases in two by a coin flip per incident; fit one pair model per half."""
    fold = fold_of(cases.incident_id, seed)
    m0 = fit_pair_model(cases, links, fold == 0, seed=seed)
    m1 = fit_pair_model(cases, links, fold == 1, seed=seed + 1)
    return CrossFitPairModels((m0, m1), fold)

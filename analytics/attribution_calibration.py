"""Stage 2 of attribution: one calibrated distribution over candidates and "none".

`ChoiceCalibrator` is a conditional logit over a case's candidates plus "none",
P(k) = exp(a z_k + c) / (1 + sum_j exp(a z_j + c)), fitted by maximum likelihood
on stage-1 scores `z` of cases whose answer is known, so the candidates and
"none" form one calibrated distribution. Open cases differ from solved ones in
how often a candidate did them (repeat offenders are caught less often): the
label-shift EM of Saerens, Latinne & Decaestecker (2002) for the prior of "none"
(`ChoiceCalibrator.em_none_prior`) or of every person (`person_prior_em`) is built
and tested here but not used by the nightly; the nightly's p is recalibrated on
its own back-test (`Recalibration`, `fit_recalibration`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _outcomes(z, row_case, n_cases: int, y, case_weight):
    """(case weights, scores with NaN as -20, y as bool, per case: is one of its
    candidates the answer?) for the maximum-likelihood fits."""
    wc = np.ones(n_cases) if case_weight is None else np.asarray(case_weight, float)
    z = np.nan_to_num(np.asarray(z, float), nan=-20.0)
    y = np.asarray(y, bool)
    return wc, z, y, np.bincount(row_case, weights=y, minlength=n_cases) > 0


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

        wc, z, y, has_true = _outcomes(z, row_case, n_cases, y, case_weight)

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

    @classmethod
    def fit_temperature(
        cls,
        z: np.ndarray,
        row_case: np.ndarray,
        n_cases: int,
        y: np.ndarray,
        case_weight: np.ndarray | None = None,
    ) -> tuple[float, float]:
        """Maximum likelihood for the temperature `a` alone, on the cases whose
        answer is one of their candidates, over those candidates only: how sharp
        the ranking is, given that a candidate did it. Who among the solved cases
        had a candidate at all says little of open cases (who gets caught
        differs), so "none" is left out of this fit. Returns (a, its standard
        error: the sandwich estimate, right for weighted cases)."""
        from scipy.optimize import minimize_scalar

        wc, z, y, has_true = _outcomes(z, row_case, n_cases, y, case_weight)
        keep = has_true[row_case]
        if not has_true.any():
            return 1.0, float("inf")
        pos = np.cumsum(has_true) - 1  # renumber the kept cases
        rc, zk, yk = pos[row_case[keep]], z[keep], y[keep]
        n, wk = int(has_true.sum()), wc[has_true]

        def loglik(a: float) -> np.ndarray:  # per case: log P(its answer)
            u = a * zk
            m = np.full(n, -np.inf)
            np.maximum.at(m, rc, u)
            e = np.exp(u - m[rc])
            denom = np.bincount(rc, weights=e, minlength=n)
            true = np.bincount(rc, weights=np.where(yk, e, 0.0), minlength=n)
            return np.log(np.clip(true / denom, 1e-300, None))

        res = minimize_scalar(
            lambda a: -float(np.sum(wk * loglik(a))),
            bounds=(0.05, 5.0),
            method="bounded",
        )
        a, h = float(res.x), 1e-3
        lo, mid, hi = loglik(a - h), loglik(a), loglik(a + h)
        score = (hi - lo) / (2 * h)  # per case
        info = -float(np.sum(wk * (hi - 2 * mid + lo))) / h**2
        se = float(np.sqrt(np.sum((wk * score) ** 2))) / info if info > 0 else np.inf
        return a, se

    @classmethod
    def with_none_share(
        cls, a: float, z: np.ndarray, row_case: np.ndarray, n_cases: int, share: float
    ) -> ChoiceCalibrator:
        """The calibrator of temperature `a` whose mean P(none) over the cases
        (`z`: their rows' scores) is `share`: the intercept c solved for it."""
        from scipy.optimize import brentq

        z = np.nan_to_num(np.asarray(z, float), nan=-20.0)

        def gap(c: float) -> float:
            return float(cls._softmax(a * z + c, row_case, n_cases)[1].mean()) - share

        lo, hi = -30.0, 30.0
        if gap(lo) * gap(hi) > 0:  # out of reach: the nearer end
            c = lo if abs(gap(lo)) < abs(gap(hi)) else hi
        else:
            c = brentq(gap, lo, hi, xtol=1e-6)
        return cls(a, float(c), share)

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


# ------------------------------------------------------------ back-test recalibration
#: below this many confirmed back-test cases p is shrunk toward "none" (n / this)
MIN_CONFIRMED = 30


@dataclass
class Recalibration:
    """Stage 2 refitted on the back-test: what p meant for cases that were open.

    The stage-1 scores behind a distribution over candidates and "none" are
    recovered as z_k = log(p_k / p_none); `calibrator` (a `ChoiceCalibrator` fitted
    on the back-test's confirmed outcomes, or None when too few) maps them to a new
    distribution, and `shrink` (n confirmed / `MIN_CONFIRMED`, at most 1) moves the
    mass of the candidates toward "none": p' = shrink * p, p_none' = 1 - sum p'.
    A ChoiceCalibrator on log-odds composes with the model's own: the result is the
    model's conditional logit with a new temperature and intercept.
    """

    calibrator: ChoiceCalibrator | None
    shrink: float
    n_confirmed: int
    checked: bool = True  # False: no back-test date had data; p left as it is

    @classmethod
    def unchecked(cls) -> Recalibration:
        """No back-test was possible (too little history): p is left as it is."""
        return cls(None, 1.0, 0, checked=False)

    @property
    def status(self) -> str:
        """'calibrated' (enough confirmed cases), 'kept' (enough, but a fit did
        no better out of sample: the model's p kept), 'shrunk' (too few: p shrunk
        toward none), 'none' (no confirmed case: every p is 0) or 'unchecked'
        (no back-test possible yet: p as the model gives it)."""
        if not self.checked:
            return "unchecked"
        if self.n_confirmed == 0:
            return "none"
        if self.shrink < 1.0:
            return "shrunk"
        return "kept" if self.calibrator is None else "calibrated"

    def apply(
        self, p: np.ndarray, p_none: np.ndarray, row_case: np.ndarray, n_cases: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(p per candidate row, p_none per case) after recalibration and shrinkage."""
        p = np.asarray(p, float)
        p_none = np.asarray(p_none, float)
        if self.calibrator is not None and len(p):
            p, p_none = self.calibrator.probs(
                log_odds(p, p_none, row_case), row_case, n_cases
            )
        p = self.shrink * p
        some = np.bincount(row_case, weights=p, minlength=n_cases)
        return p, np.clip(1.0 - some, 0.0, 1.0)

    def to_dict(self) -> dict:
        """What is stored and reported: temperature, intercept, shrink, counts."""
        cal = self.calibrator
        return {
            "a": None if cal is None else cal.a,
            "c": None if cal is None else cal.c,
            "shrink": self.shrink,
            "n_confirmed": self.n_confirmed,
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Recalibration:
        """The recalibration `to_dict` describes."""
        cal = None if d.get("a") is None else ChoiceCalibrator(d["a"], d["c"])
        checked = d.get("status") != "unchecked"
        return cls(cal, float(d["shrink"]), int(d["n_confirmed"]), checked)


def log_odds(p: np.ndarray, p_none: np.ndarray, row_case: np.ndarray) -> np.ndarray:
    """z_k = log(p_k / p_none) per row: the scores behind a distribution."""
    return (
        np.log(np.clip(p, 1e-12, None)) - np.log(np.clip(p_none, 1e-12, None))[row_case]
    )


#: how many standard errors of the fitted temperature are given back toward 1
TEMPERATURE_SE = 1.0


def toward_one(a: float, se: float, k: float = TEMPERATURE_SE) -> float:
    """The temperature nearest 1 within `k` standard errors of the estimate `a`:
    the model's sharpness is changed only as far as the back-test shows it must
    be. Later-solved cases are not the open ones (whose cases get solved differs
    by person), so the full estimate can overshoot. On the 365-day sweep of
    worlds (benchmarks/worlds.py --backtest), the worst p band of the 17 worlds
    was off by 0.107 with k = 0 (too timid where 0.78 was fitted), by 0.119 with
    k = 2 (too sure where the fit was held back) and by 0.093 at most with k = 1
    and the temperature never above 1 (`fit_recalibration`)."""
    if not np.isfinite(se) or abs(a - 1.0) <= k * se:
        return 1.0
    return a + k * se if a < 1.0 else a - k * se


def fit_recalibration(
    p: np.ndarray,
    p_none: np.ndarray,
    row_case: np.ndarray,
    n_cases: int,
    y: np.ndarray,
    case_weight: np.ndarray | None = None,
    min_confirmed: int = MIN_CONFIRMED,
    population: tuple[np.ndarray, np.ndarray, int] | None = None,
) -> Recalibration:
    """Fit stage 2 on back-test outcomes: cases open on a past date and linked since.

    `p`, `p_none`: what the model said on that date (every candidate row of each
    confirmed case); `y` marks the rows of the persons linked since (a case whose
    person was no candidate counts for "none"). With fewer than `min_confirmed`
    cases the model's own p is kept and shrunk by n / `min_confirmed` toward none
    (a pseudo-count prior on "we do not know").

    From `min_confirmed` on, with `population` ((z, row_case, n) of every case
    open on the past dates, `log_odds` of the model's p): the temperature is
    fitted on the confirmed cases whose person was a candidate
    (`ChoiceCalibrator.fit_temperature`), moved toward 1 by one standard error
    (`toward_one`) and never above 1 (p made more modest, never bolder; at 1
    the model's p is kept), and the intercept keeps the model's
    mean P(none) over all the open cases (`ChoiceCalibrator.with_none_share`).
    Whose cases get solved later is not whose cases stay open (persons are
    caught at different rates: a share of "none" among later-solved cases is
    not the share among the open ones), so the back-test sets how sharp p is,
    not how often nobody on the list did it. Without `population`, temperature
    and intercept are both fitted on the confirmed cases (weighted maximum
    likelihood), for outcomes that are a fair sample.
    """
    if n_cases < min_confirmed:
        return Recalibration(None, n_cases / min_confirmed, n_cases)
    z = log_odds(p, p_none, row_case)
    if population is None:
        cal = ChoiceCalibrator.fit(z, row_case, n_cases, y, case_weight)
        return Recalibration(cal, 1.0, n_cases)
    a_hat, se = ChoiceCalibrator.fit_temperature(z, row_case, n_cases, y, case_weight)
    # p may be made more modest on the back-test's word, never bolder: a
    # confident wrong name is the costliest error, and the back-test's cases are
    # not the open ones (on the card-light world it asked for a sharper p where
    # the truth wanted a flatter one)
    a = min(toward_one(a_hat, se), 1.0)
    if a == 1.0:  # nothing shown: the model's own p
        return Recalibration(None, 1.0, n_cases)
    z_pop, rc_pop, n_pop = population
    share = float(ChoiceCalibrator._softmax(z_pop, rc_pop, n_pop)[1].mean())
    cal = ChoiceCalibrator.with_none_share(a, z_pop, rc_pop, n_pop, share)
    return Recalibration(cal, 1.0, n_cases)


@dataclass
class Recalibrated:
    """A model calibrator followed by the back-test's recalibration: what the
    scoring calls (`probs(z, row_case, n_cases)`), so tonight's p is calibrated on
    what the back-test showed for cases that were open."""

    inner: object  # has probs(z, row_case, n_cases) -> (p, p_none)
    outer: Recalibration

    def probs(
        self, z: np.ndarray, row_case: np.ndarray, n_cases: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The inner calibrator's distribution, recalibrated."""
        p, pn = self.inner.probs(z, row_case, n_cases)
        return self.outer.apply(p, pn, row_case, n_cases)

"""Calibration of the candidates + none distribution where the answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from gjenganger.analytics.attribution_calibration import (
    ChoiceCalibrator,
    person_prior_em,
)
from gjenganger.analytics.attribution_evaluation import reliability


def choice_world(
    seed: int, n_cases: int = 4000, k: int = 6, a: float = 1.5, c: float = -1.0
):
    """Cases with k candidates each; scores z; the truth drawn from the known
    conditional logit P(j) = exp(a z_j + c) / (1 + sum exp(a z + c))."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, (n_cases, k))
    u = np.exp(a * z + c)
    p = np.c_[u, np.ones(n_cases)] / (1 + u.sum(axis=1, keepdims=True))
    pick = np.array([rng.choice(k + 1, p=row) for row in p])
    y = np.zeros((n_cases, k), bool)
    y[pick < k, pick[pick < k]] = True
    row_case = np.repeat(np.arange(n_cases), k)
    return z.ravel(), row_case, y.ravel(), p


def test_the_choice_calibrator_recovers_the_true_conditional_logit():
    z, rc, y, _ = choice_world(seed=0)
    cal = ChoiceCalibrator.fit(z, rc, 4000, y)
    assert cal.a == pytest.approx(1.5, abs=0.1)
    assert cal.c == pytest.approx(-1.0, abs=0.15)


def test_calibrated_probabilities_match_observed_frequencies_on_new_cases():
    z, rc, y, _ = choice_world(seed=1)
    cal = ChoiceCalibrator.fit(z, rc, 4000, y)
    z2, rc2, y2, _ = choice_world(seed=2)
    p, pn = cal.probs(z2, rc2, 4000)
    none_true = ~np.bincount(rc2, weights=y2, minlength=4000).astype(bool)
    probs = np.r_[p, pn]
    obs = np.r_[y2, none_true].astype(float)
    for row in reliability(probs, obs):
        if row["n"] >= 300:
            assert abs(row["mean_p"] - row["observed"]) < 0.05, row
    assert np.allclose(np.bincount(rc2, weights=p, minlength=4000) + pn, 1.0)


def test_a_new_none_prior_moves_p_none_but_keeps_the_ranking():
    z, rc, y, _ = choice_world(seed=3)
    cal = ChoiceCalibrator.fit(z, rc, 4000, y)
    p0, pn0 = cal.probs(z, rc, 4000)
    p1, pn1 = cal.probs(z, rc, 4000, none_prior=0.8)
    assert pn1.mean() > pn0.mean()
    assert np.array_equal(np.argsort(p0[:6]), np.argsort(p1[:6]))


def test_person_prior_em_finds_how_much_more_often_a_rarely_caught_person_offends():
    """Two persons with equal training priors; on the open cases person 0 did
    three times as many as person 1. The likelihoods alone are ambiguous; EM
    recovers the 3:1 split and moves the posteriors accordingly."""
    rng = np.random.default_rng(0)
    n = 6000
    truth = rng.choice(2, size=n, p=[0.75, 0.25])
    # weak evidence e ~ N(+-0.5, 1): likelihood ratio exp(e) for person 0
    e = rng.normal(np.where(truth == 0, 0.5, -0.5), 1.0)
    p0 = 1 / (1 + np.exp(-e))  # posterior under the equal training priors
    post = np.c_[p0, 1 - p0] * 0.999
    p_rows = post.ravel()
    p_none = np.full(n, 0.001)
    rc = np.repeat(np.arange(n), 2)
    rp = np.tile([0, 1], n)
    pr, pn, prior, _ = person_prior_em(
        p_rows, p_none, rc, rp, np.array([0.4995, 0.4995]), 0.001
    )
    assert prior[0] / prior[1] == pytest.approx(3.0, rel=0.15)
    acc_before = np.mean(post.argmax(axis=1) == truth)
    acc_after = np.mean(pr.reshape(n, 2).argmax(axis=1) == truth)
    assert acc_after >= acc_before
    assert np.allclose(np.bincount(rc, weights=pr, minlength=n) + pn, 1.0)

"""Issue 14's targets on tiny hand-made worlds whose answers are known by hand:
p bands against the share confirmed, precision at p >= 0.5, Brier skill, ECE,
the oracle ceiling (cross-validated by case) and the share of the gap closed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from gjenganger.analytics import attribution_targets as tg


def _hyp(p: float, n: int, confirmed: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.zeros(n)
    y[:confirmed] = 1
    return np.full(n, p), y


def _world():
    """40 hypotheses at p 0.25 (10 right), 30 at 0.55 (9 right), 10 at 0.85 (10
    right), 50 at 0.05 (none right)."""
    parts = [_hyp(0.25, 40, 10), _hyp(0.55, 30, 9), _hyp(0.85, 10, 10)]
    parts.append(_hyp(0.05, 50, 0))
    return np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts])


def test_bands_judge_only_full_bands_and_name_the_worst():
    p, y = _world()
    bands = {b["band"]: b for b in tg.reliability_bands(p, y)}
    assert set(bands) == {"0.2-0.3", "0.5-0.6", "0.8-0.9"}  # from 0.2 up only
    assert bands["0.2-0.3"]["gap"] == pytest.approx(0.0)
    assert bands["0.2-0.3"]["ok"] is True
    assert bands["0.5-0.6"]["confirmed"] == pytest.approx(0.3)
    assert bands["0.5-0.6"]["gap"] == pytest.approx(0.25)
    assert bands["0.5-0.6"]["ok"] is False
    # 10 hypotheses: too few to judge, however far off
    assert bands["0.8-0.9"]["judged"] is False and bands["0.8-0.9"]["ok"] is None


def test_targets_on_the_hand_made_world():
    p, y = _world()
    rank1_p = np.array([0.9, 0.1, 0.9, 0.1])
    rank1_y = np.array([1, 0, 1, 0])
    t = tg.calibration_targets(p, y, rank1_p, rank1_y)
    assert t["worst_band"] == "0.5-0.6"
    assert t["worst_band_gap"] == pytest.approx(0.25)
    assert t["bands_ok"] is False
    # p >= 0.5: 30 at 0.55 (9 right) and 10 at 0.85 (10 right): 19 of 40
    assert t["n_p_ge_0_5"] == 40
    assert t["precision_p_ge_0_5"] == pytest.approx(19 / 40)
    assert t["precision_ok"] is False
    # Brier 0.01 against the constant 0.5's 0.25: skill 0.96
    assert t["rank1_brier"] == pytest.approx(0.01)
    assert t["brier_skill"] == pytest.approx(0.96)
    assert t["brier_skill_ok"] is True
    # ECE: bands 0.0-0.1 (gap 0.05, n 50), 0.2-0.3 (0), 0.5-0.6 (0.25, n 30),
    # 0.8-0.9 (0.15, n 10), over 130 hypotheses
    assert t["ece"] == pytest.approx((50 * 0.05 + 30 * 0.25 + 10 * 0.15) / 130)


def test_a_calibrated_world_passes_and_a_constant_has_no_skill():
    p = np.r_[np.full(100, 0.3), np.full(100, 0.7)]
    y = np.r_[np.arange(100) < 30, np.arange(100) < 70].astype(float)
    t = tg.calibration_targets(p, y, np.full(4, 0.5), np.array([1, 0, 1, 0]))
    assert t["bands_ok"] is True and t["worst_band_gap"] == pytest.approx(0.0)
    assert t["precision_p_ge_0_5"] == pytest.approx(0.7) and t["precision_ok"]
    assert t["brier_skill"] == pytest.approx(0.0)
    assert t["brier_skill_ok"] is False  # not above 0
    assert t["ece"] == pytest.approx(0.0)


def test_no_band_with_enough_hypotheses_is_not_a_pass():
    t = tg.calibration_targets(np.full(5, 0.6), np.ones(5), np.zeros(0), np.zeros(0))
    assert t["bands_ok"] is None and t["worst_band"] is None
    assert t["brier_skill_ok"] is None


def test_hits_at_counts_cases_with_a_truth_in_the_top_k():
    score = np.array([0.9, 0.8, 0.1, 0.5, 0.6, 0.7])
    case = np.array([0, 0, 0, 1, 1, 1])
    y = np.array([0, 1, 0, 1, 0, 0])  # case 0: rank 2; case 1: rank 3
    assert tg.hits_at(score, case, y, ks=(1, 2, 3)) == {1: 0, 2: 1, 3: 2}


def _ranking_world(informative: bool, seed: int = 3):
    """200 cases of 4 candidates; one true candidate in 160 of them (in 40 the
    true person was not pre-selected), 240 cases truly by an eligible person in
    all (another 40 have no candidate rows at all)."""
    rng = np.random.default_rng(seed)
    n_cases, k = 200, 4
    row_case = np.repeat(np.arange(n_cases), k)
    y = np.zeros(n_cases * k, bool)
    y[np.arange(160) * k + rng.integers(0, k, 160)] = True
    x = y.astype(float) * 3.0 if informative else np.zeros(len(y))
    features = np.c_[x + rng.normal(0, 0.3, len(y)), rng.normal(0, 1, len(y))]
    return features, row_case, y, 240


def test_ceiling_is_all_the_evidence_can_give():
    feats, case, y, n_by = _ranking_world(informative=True)
    c = tg.oracle_ceiling(feats, case, y, n_by, LogisticRegression)
    assert c["hit_at_1"] == pytest.approx(160 / 240)  # every found truth first
    assert c["hit_at_5"] == pytest.approx(160 / 240)


def test_ceiling_on_useless_evidence_is_chance():
    feats, case, y, n_by = _ranking_world(informative=False)
    c = tg.oracle_ceiling(feats, case, y, n_by, LogisticRegression)
    assert c["hit_at_5"] == pytest.approx(160 / 240)  # 4 candidates: all in top 5
    assert abs(c["hit_at_1"] - 40 / 240) < 0.08  # one in four of 160


def test_gap_closed():
    assert tg.gap_closed(0.3, 0.2, 0.4) == pytest.approx(0.5)
    assert tg.gap_closed(0.1, 0.2, 0.4) == pytest.approx(-0.5)
    assert math.isnan(tg.gap_closed(0.3, 0.4, 0.4))  # no gap to close
    assert math.isnan(tg.gap_closed(float("nan"), 0.2, 0.4))

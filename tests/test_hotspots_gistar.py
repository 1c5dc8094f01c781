"""Gi* z-scores (against esda), FDR classes, and Moran's I band choice."""

from __future__ import annotations

import warnings

import esda
import libpysal
import numpy as np
import pytest
from numpy.testing import assert_allclose

from gjenganger.analytics.fdr import bh_reject, bh_threshold, confidence_bins
from gjenganger.analytics.gistar import (
    band_weights,
    choose_band,
    gi_star,
    hotspots,
    moran_z,
)
from gjenganger.analytics.grid import Grid


def _esda_w(w):
    w = libpysal.weights.W.from_sparse(w)
    w.transform = "B"
    return w


def cluster_grid():
    """20 x 20 cells of 100 m; background alternating 0/1; a 3 x 3 block of 10s."""
    g = Grid(0.0, 0.0, 100.0, 20, 20)
    iy, ix = np.divmod(np.arange(g.n), g.nx)
    counts = ((ix + iy) % 2).astype(float)
    block = (ix >= 8) & (ix <= 10) & (iy >= 12) & (iy <= 14)
    counts[block] = 10.0
    return g, counts, block


def test_gi_star_z_scores_match_esda_to_1e_6_on_a_random_grid():
    g = Grid(0.0, 0.0, 250.0, 15, 12)
    counts = np.random.default_rng(4).poisson(2.0, g.n).astype(float)
    w, cells = band_weights(g, None, 500.0)
    z, _ = gi_star(counts[cells], w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(counts, _esda_w(w), transform="B", star=True, permutations=0)
    assert_allclose(z, ref.Zs, atol=1e-6)


def test_gi_star_matches_esda_with_a_mask_that_leaves_out_cells():
    g = Grid(0.0, 0.0, 100.0, 10, 10)
    counts = np.random.default_rng(5).poisson(1.0, g.n).astype(float)
    mask = np.ones(g.n, dtype=bool)
    mask[:25] = False
    w, cells = band_weights(g, mask, 150.0)
    z, p = gi_star(counts[cells], w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(
            counts[cells], _esda_w(w), transform="B", star=True, permutations=0
        )
    assert_allclose(z, ref.Zs, atol=1e-6)
    assert_allclose(p, 2 * ref.p_norm, atol=1e-9)


def test_a_hand_made_cluster_is_flagged_and_nothing_else_at_95_percent_after_fdr():
    g, counts, block = cluster_grid()
    res = hotspots(g, counts, band_m=100.0)
    assert set(np.flatnonzero(res["bin"] >= 2)) == set(np.flatnonzero(block))
    assert not (res["bin"] < 0).any()


def test_the_six_point_textbook_case_from_esda_docs():
    # esda G_Local docstring: binary DistanceBand(threshold=15), star=True
    points = [(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)]
    y = np.array([2, 3, 3.2, 5, 8, 7])
    w = libpysal.weights.DistanceBand(points, threshold=15, silence_warnings=True)
    w = w.sparse.tolil()
    w.setdiag(1)
    z, _ = gi_star(y, w.tocsr())
    assert_allclose(
        z,
        [-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331],
        atol=1e-6,
    )


def test_constant_counts_give_zero_z_and_p_one():
    g = Grid(0.0, 0.0, 100.0, 5, 5)
    res = hotspots(g, np.full(g.n, 3.0), band_m=100.0)
    assert (res["z"] == 0).all() and (res["p"] == 1).all() and (res["bin"] == 0).all()


def test_p_values_are_in_zero_one_and_two_sided():
    g, counts, _ = cluster_grid()
    res = hotspots(g, counts, band_m=150.0)
    assert ((res["p"] > 0) & (res["p"] <= 1)).all()
    from scipy import stats

    assert_allclose(res["p"], 2 * stats.norm.sf(np.abs(res["z"])))


def test_benjamini_hochberg_rejects_the_same_tests_as_esda_fdr():
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(0, 0.002, 15), rng.uniform(0, 1, 300)])
    for alpha in (0.01, 0.05, 0.1):
        ours = bh_reject(p, alpha)
        assert ours.sum() > 0
        assert (ours == (p < esda.fdr(p, alpha))).all()


def test_bh_threshold_by_hand():
    # m = 4: k/m*alpha = .0125, .025, .0375, .05 ; p sorted .01 .03 .035 .2
    assert bh_threshold([0.03, 0.2, 0.01, 0.035], 0.05) == 0.035
    assert bh_threshold([0.5, 0.9], 0.05) == 0.0


def test_confidence_bins_without_fdr_use_plain_alpha():
    z = np.array([3.0, 2.0, 1.7, 0.5, -2.0])
    from scipy import stats

    p = 2 * stats.norm.sf(np.abs(z))
    assert confidence_bins(z, p, fdr=False).tolist() == [3, 2, 1, 0, -2]


def test_moran_z_matches_esda():
    g = Grid(0.0, 0.0, 100.0, 12, 9)
    counts = np.random.default_rng(2).poisson(1.5, g.n).astype(float)
    w, _ = band_weights(g, None, 150.0, self_weight=False)
    ref = esda.Moran(counts, _esda_w(w), transformation="B", permutations=0)
    assert_allclose(moran_z(counts, w), ref.z_norm, atol=1e-6)


def test_choose_band_returns_one_of_the_candidates():
    g, counts, _ = cluster_grid()
    assert choose_band(g, counts) in {m * 100.0 for m in (1, 1.5, 2, 3, 4, 6)}


def test_bad_input_names_what_was_given():
    g = Grid(0.0, 0.0, 100.0, 5, 5)
    with pytest.raises(ValueError, match="flat array of 25 cells"):
        hotspots(g, np.zeros(7), band_m=100.0)
    with pytest.raises(ValueError, match="band_m must be positive"):
        band_weights(g, None, -1.0)
    with pytest.raises(ValueError, match="alpha must be in"):
        bh_threshold([0.1], 1.5)

"""Stage 1 reads each candidate's evidence against the other candidates of its case."""

# ruff: noqa: N806 - X, F: the usual maths notation

from __future__ import annotations

import numpy as np

from gjenganger.analytics.attribution_model import RELATIONAL, ranking_features
from gjenganger.analytics.person_evidence import PERSON_FEATURES


def test_each_relational_column_gets_its_margin_over_the_best_other_and_its_rank():
    # case 0: three candidates; case 1: one candidate (nothing to compare with)
    row_case = np.array([0, 0, 0, 1])
    X = np.zeros((4, len(PERSON_FEATURES)))
    kde = PERSON_FEATURES.index("log_kde_0_5km")
    X[:, kde] = [-2.0, 1.0, np.nan, 0.5]  # NaN: no density, read as -30
    X[:, PERSON_FEATURES.index("max_logit")] = [3.0, -1.0, 0.0, 2.0]
    F = ranking_features(X, row_case, 2)
    assert F.shape == (4, len(PERSON_FEATURES) + 2 * len(RELATIONAL))
    np.testing.assert_array_equal(F[:, : len(PERSON_FEATURES)], X)
    at = len(PERSON_FEATURES) + 2 * RELATIONAL.index("log_kde_0_5km")
    margin, rank = F[:, at], F[:, at + 1]
    np.testing.assert_allclose(margin[:3], [-3.0, 3.0, -31.0])
    np.testing.assert_array_equal(rank, [1, 0, 2, 0])
    assert margin[3] == 30.0  # a lone candidate
    at = len(PERSON_FEATURES) + 2 * RELATIONAL.index("max_logit")
    np.testing.assert_allclose(F[:3, at], [3.0, -4.0, -3.0])
    np.testing.assert_array_equal(F[:, at + 1], [0, 2, 1, 0])


def test_the_ceiling_is_stage_one_with_trees_bounded_by_leaves_only():
    from gjenganger.analytics.attribution_model import (
        STAGE1_MAX_DEPTH,
        ceiling_classifier,
        stage1_classifier,
    )

    ours, ceiling = (
        stage1_classifier(7).get_params(),
        ceiling_classifier(7).get_params(),
    )
    assert ours["max_depth"] == STAGE1_MAX_DEPTH
    assert ceiling["max_depth"] is None
    cat_o, cat_c = ours.pop("categorical_features"), ceiling.pop("categorical_features")
    np.testing.assert_array_equal(cat_o, cat_c)
    assert {k: v for k, v in ours.items() if k != "max_depth"} == {
        k: v for k, v in ceiling.items() if k != "max_depth"
    }

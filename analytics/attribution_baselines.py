"""Baselines of attribution on the same candidate rows: nearest case and Porter.

Both score the (case, candidate) rows stage 1 scores, and get the same stage-2
calibration (`ChoiceCalibrator`), so they differ from the model only in their
evidence: the nearest known case of the person in space and time
(`baselines.nearest_case_scores`), or Porter's naive-Bayes series linkage of the
case to the person's known cases (`porter_scores`).
"""

# ruff: noqa: N806 - F, K: the usual maths notation

from __future__ import annotations

import numpy as np

from gjenganger.analytics.attribution_calibration import ChoiceCalibrator
from gjenganger.analytics.attribution_context import Context, Rows
from gjenganger.analytics.baselines import (
    NaiveBayesLinkage,
    nearest_case_scores,
    series_linkage,
)
from gjenganger.analytics.linkage import MAX_GAP_DAYS
from gjenganger.analytics.pair_features import pair_matrix
from gjenganger.analytics.pair_sampling import sample_pairs
from gjenganger.analytics.person_evidence import PERSON_FEATURES


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
            near = np.abs(c.t_mid[qi][:, None] - c.t_mid[K][None, :]) <= MAX_GAP_DAYS
            if exclude is not None:
                near &= K[None, :] != exclude[rr][:, None]
            a, b = np.nonzero(near)
            if len(a) == 0:
                continue
            v = nb.log_bf(pair_matrix(c, qi[a], c, K[b]))
            agg = series_linkage(v, a, len(rr), method)
            out[rr] = agg
    return out


def baseline_scorers(
    ctx: Context,
    train: Rows,
    case_weight: np.ndarray | None,
    seed: int = 0,
    porter_linkage: str = "average",
) -> dict[str, tuple]:
    """The baselines, each as (score(rows, exclude), its `ChoiceCalibrator`).

    Porter's naive Bayes is fitted on pairs sampled like the pair model's; each
    calibrator on the baseline's scores of the training rows (`case_weight` as
    for the model), so open cases are calibrated the same way.
    """
    col = {k: i for i, k in enumerate(PERSON_FEATURES)}
    s = sample_pairs(ctx.cases, ctx.links, seed=seed)
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

    scorers: dict[str, tuple] = {}
    for name, fn in (("nearest_case", nearest), ("porter_nb", porter)):
        z_tr = fn(train, train.q[train.row_case])
        bc = ChoiceCalibrator.fit(
            z_tr, train.row_case, len(train.q), train.y, case_weight
        )
        scorers[name] = (fn, bc)
    return scorers

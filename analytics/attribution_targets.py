"""The acceptance targets of attribution on a world with known truth (issue 14).

`calibration_targets` checks that the probabilities mean what they say: in every
p band of width 0.1 from 0.2 up that holds at least 30 hypotheses the share
confirmed is within 0.10 of the band's mean p; hypotheses with p >= 0.5 are right
at least half the time; the rank-1 p is more informative than a constant (Brier
skill above 0); and the expected calibration error. `oracle_ceiling` measures the
most the same evidence rows could give: a ranker trained on the open cases' own
truth, cross-validated by case (GroupKFold), and `gap_closed` how much of the way
from the better simple baseline to that ceiling a method goes. Pure functions.
"""

# ruff: noqa: N803, N806 - X: the usual maths notation

from __future__ import annotations

import numpy as np

BAND_FROM = 0.2  # bands of width BAND_WIDTH from here up to 1
BAND_WIDTH = 0.1
BAND_MIN_N = 30  # a band is judged only with at least this many hypotheses
BAND_TOLERANCE = 0.10  # |share confirmed - mean p| allowed in a judged band
PRECISION_TARGET = 0.5  # hypotheses with p >= 0.5 right at least this often
GAP_TARGET = 0.5  # share of the baseline-to-ceiling gap to close


def _bands(p: np.ndarray, lo: float, width: float) -> tuple[np.ndarray, int]:
    """Band index per p (bands of `width` from `lo` up to 1, p = 1 in the last;
    -1 below `lo`), and the number of bands."""
    n_bands = round((1.0 - lo) / width)
    b = np.floor((p - lo) / width + 1e-9).astype(np.int64)
    b = np.where(p < lo - 1e-12, -1, np.minimum(b, n_bands - 1))
    return b, n_bands


def reliability_bands(
    p: np.ndarray,
    y: np.ndarray,
    *,
    lo: float = BAND_FROM,
    width: float = BAND_WIDTH,
    min_n: int = BAND_MIN_N,
    tolerance: float = BAND_TOLERANCE,
) -> list[dict]:
    """Per p band (from `lo` up): n, mean p, share confirmed, their gap, whether
    the band is judged (n >= `min_n`) and, if so, whether the gap is within
    `tolerance`."""
    p, y = np.asarray(p, float), np.asarray(y, float)
    b, n_bands = _bands(p, lo, width)
    out = []
    for k in range(n_bands):
        m = b == k
        n = int(m.sum())
        if not n:
            continue
        mean_p, share = float(p[m].mean()), float(y[m].mean())
        gap = abs(share - mean_p)
        judged = n >= min_n
        out.append(
            {
                "band": f"{lo + k * width:.1f}-{lo + (k + 1) * width:.1f}",
                "n": n,
                "mean_p": mean_p,
                "confirmed": share,
                "gap": gap,
                "judged": judged,
                "ok": (gap <= tolerance + 1e-12) if judged else None,
            }
        )
    return out


def expected_calibration_error(
    p: np.ndarray, y: np.ndarray, width: float = BAND_WIDTH
) -> float:
    """ECE: the hypotheses' weighted mean |share confirmed - mean p| over bands of
    `width` from 0 to 1 (NaN without hypotheses)."""
    p, y = np.asarray(p, float), np.asarray(y, float)
    if not len(p):
        return float("nan")
    b, n_bands = _bands(p, 0.0, width)
    n = np.bincount(b, minlength=n_bands).astype(float)
    sp = np.bincount(b, weights=p, minlength=n_bands)
    sy = np.bincount(b, weights=y, minlength=n_bands)
    used = n > 0
    return float(np.abs(sp[used] - sy[used]).sum() / len(p))


def brier_skill(p: np.ndarray, y: np.ndarray) -> dict:
    """Brier score of `p` for the outcomes `y`, of the best constant (the share of
    outcomes that happened), and the skill 1 - brier / constant (above 0: more
    informative than a constant; NaN when the outcomes do not vary)."""
    p, y = np.asarray(p, float), np.asarray(y, float)
    if not len(p):
        return {"brier": float("nan"), "brier_constant": float("nan"), "skill": None}
    brier = float(np.mean((p - y) ** 2))
    base = float(y.mean())
    const = base * (1.0 - base)
    skill = 1.0 - brier / const if const > 0 else float("nan")
    return {"brier": brier, "brier_constant": const, "skill": skill}


def calibration_targets(
    p: np.ndarray, y: np.ndarray, rank1_p: np.ndarray, rank1_y: np.ndarray
) -> dict:
    """The targets of issue 14 item 3 on hypotheses (p, confirmed y) and on each
    case's rank-1 hypothesis (rank1_p, rank1_y).

    Returns the judged bands, the worst band and its gap (`bands_ok`: every judged
    band within BAND_TOLERANCE; None if no band holds BAND_MIN_N), precision at
    p >= 0.5 with its count (`precision_ok`: None without such hypotheses), the
    rank-1 Brier skill (`brier_skill_ok`: above 0) and the ECE.
    """
    p, y = np.asarray(p, float), np.asarray(y, float)
    bands = reliability_bands(p, y)
    judged = [b for b in bands if b["judged"]]
    worst = max(judged, key=lambda b: b["gap"]) if judged else None
    strong = p >= PRECISION_TARGET
    n_strong = int(strong.sum())
    precision = float(y[strong].mean()) if n_strong else float("nan")
    bs = brier_skill(rank1_p, rank1_y)
    skill = bs["skill"]
    return {
        "bands": bands,
        "worst_band": worst["band"] if worst else None,
        "worst_band_gap": worst["gap"] if worst else None,
        "bands_ok": all(b["ok"] for b in judged) if judged else None,
        "n_p_ge_0_5": n_strong,
        "precision_p_ge_0_5": precision,
        "precision_ok": precision >= PRECISION_TARGET if n_strong else None,
        "rank1_brier": bs["brier"],
        "rank1_brier_constant": bs["brier_constant"],
        "brier_skill": skill,
        "brier_skill_ok": (skill > 0) if skill is not None and skill == skill else None,
        "ece": expected_calibration_error(p, y),
    }


# ------------------------------------------------------------------ ranking
def hits_at(
    score: np.ndarray, row_case: np.ndarray, y: np.ndarray, ks=(1, 5)
) -> dict[int, int]:
    """Per k, the number of cases with a true row among their k best-scored rows
    (ties broken by row order)."""
    score, row_case, y = np.asarray(score, float), np.asarray(row_case), np.asarray(y)
    if not len(score):
        return dict.fromkeys(ks, 0)
    order = np.lexsort((np.arange(len(score)), -score, row_case))
    rc = row_case[order]
    rank = np.arange(len(rc)) - np.searchsorted(rc, rc, side="left")
    yt = y[order].astype(bool)
    return {k: len(np.unique(rc[yt & (rank < k)])) for k in ks}


def oracle_ceiling(
    X: np.ndarray,
    row_case: np.ndarray,
    y: np.ndarray,
    n_cases_by_eligible: int,
    make_classifier,
    *,
    folds: int = 5,
    seed: int = 0,
) -> dict:
    """hit@1 and hit@5 of a ranker trained on the open cases' own truth.

    The same evidence rows as the model's (`X`, one row per case and candidate,
    `y` the candidate truly did it), scored by `make_classifier()` trained on the
    other folds of cases (GroupKFold by case): no case's truth scores its own
    rows. The denominator is the open cases truly done by an eligible person
    (`n_cases_by_eligible`), as for every method, so a truth outside the
    candidates is a miss. The most that evidence could give, short of better
    evidence.
    """
    from sklearn.model_selection import GroupKFold

    X, row_case, y = np.asarray(X, float), np.asarray(row_case), np.asarray(y, bool)
    out = {"hit_at_1": float("nan"), "hit_at_5": float("nan"), "folds": folds}
    cases = np.unique(row_case)
    if n_cases_by_eligible == 0 or len(cases) < folds or y.sum() < folds:
        return out
    # shuffle case groups so folds do not follow case order (GroupKFold is ordered)
    perm = np.random.default_rng(seed).permutation(len(cases))
    group = perm[np.searchsorted(cases, row_case)]
    score = np.empty(len(y))
    for tr, te in GroupKFold(n_splits=folds).split(X, y, group):
        if y[tr].all() or not y[tr].any():
            score[te] = 0.0
            continue
        clf = make_classifier().fit(X[tr], y[tr])
        score[te] = clf.predict_proba(X[te])[:, 1]
    h = hits_at(score, row_case, y)
    return out | {
        "hit_at_1": h[1] / n_cases_by_eligible,
        "hit_at_5": h[5] / n_cases_by_eligible,
    }


def gap_closed(ours: float, baseline: float, ceiling: float) -> float:
    """(ours - baseline) / (ceiling - baseline): the share of the way from the
    better simple baseline to the ceiling (NaN when the ceiling is no better)."""
    vals = (ours, baseline, ceiling)
    if any(v is None or v != v for v in vals) or ceiling - baseline <= 1e-12:
        return float("nan")
    return (ours - baseline) / (ceiling - baseline)

"""How good attribution is: scores against the truth and pairwise hold-out AUC.

`evaluate` scores one method's attribution of the open cases against generator
truth (hit@1, hit@5, precision and recall at p >= 0.5, Brier, reliability);
`pairwise_holdout` measures the case-case pair model and the baselines on solved
cases held out by time (AUC and the share of true links found at 5 % false
positives, Porter 2016's figure).
"""

# ruff: noqa: N803, N806 - X, L: the usual maths notation

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from gjenganger.analytics.attribution_context import day_number
from gjenganger.analytics.attribution_results import Attribution
from gjenganger.analytics.baselines import NaiveBayesLinkage
from gjenganger.analytics.linkage import MAX_GAP_DAYS, Links, make_links, share_person
from gjenganger.analytics.pair_features import CaseArrays, case_arrays, pair_matrix
from gjenganger.analytics.pair_model import PairModel, one_openmp_thread
from gjenganger.analytics.pair_sampling import sample_pairs


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
@one_openmp_thread
def holdout_pairs(
    cases: CaseArrays,
    L: Links,
    as_of: date,
    holdout_days: int = 120,
    max_test_pairs: int = 2_000_000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The time split of `pairwise_holdout`: (training mask: linked cases before
    as_of - holdout_days; test cases: linked cases after; test pairs ia, ib: pairs
    of test cases within MAX_GAP_DAYS, at most `max_test_pairs` sampled; y: the
    pair shares a person)."""
    cut = day_number(as_of) + 1 - holdout_days
    linked = np.zeros(len(cases), bool)
    linked[L.case_idx] = True
    train_mask = linked & (cases.t_mid < cut)
    test = np.flatnonzero(linked & (cases.t_mid >= cut))
    ia, ib = np.triu_indices(len(test), k=1)
    ia, ib = test[ia], test[ib]
    ok = np.abs(cases.t_mid[ia] - cases.t_mid[ib]) <= MAX_GAP_DAYS
    ia, ib = ia[ok], ib[ok]
    if len(ia) > max_test_pairs:
        sel = np.random.default_rng(seed).choice(len(ia), max_test_pairs, replace=False)
        ia, ib = ia[sel], ib[sel]
    return train_mask, test, ia, ib, share_person(L.person_sets(len(cases)), ia, ib)


def pairwise_holdout(
    incidents: pl.DataFrame,
    links: pl.DataFrame,
    as_of: date,
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

    cases = case_arrays(incidents)
    L = make_links(cases.incident_id, links)
    train_mask, test, ia, ib, y = holdout_pairs(
        cases, L, as_of, holdout_days, max_test_pairs, seed
    )
    s = sample_pairs(cases, L, train_mask, seed=seed)
    X = pair_matrix(cases, s.ia, cases, s.ib)
    model = PairModel.fit(X, s.y, s.log_offset, seed=seed)
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

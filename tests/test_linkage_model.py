"""The case-case linkage model on a small synthetic world where the answer is known.

`synthetic_world` is also imported by the attribution and series tests.
"""

# ruff: noqa: N803, N806 - X, K, F, A, B, L: the usual maths notation

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

from gjenganger.analytics import linkage as lk
from gjenganger.analytics import pair_model as pm
from gjenganger.analytics import pair_sampling as ps
from gjenganger.analytics.pair_features import case_arrays, pair_matrix

CODES = [
    ("burglary_business", "business", "cylinder_snap"),
    ("burglary_storage", "storage_room", "forced_door"),
    ("burglary_cabin", "cabin", "window_frame"),
    ("theft_from_vehicle", "vehicle", "smash_window"),
    ("shoplifting", "shop", "none"),
    ("burglary_construction", "construction_site", "forced_door"),
]
START = datetime(2025, 1, 1)


def synthetic_world(
    seed: int = 0,
    n_persons: int = 25,
    cases_per_person: int = 60,
    catch_rate: float = 0.3,
    n_occasional: int = 300,
    days: int = 365,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(incidents, links, truth) in the store's frame shapes.

    Each repeat offender has a home area (sd 1.2 km) and a favourite modus, and
    offends in bursts; a share `catch_rate` of their cases is solved and linked.
    Occasional offenders do one case each anywhere, solved half the time.
    """
    rng = np.random.default_rng(seed)
    rows, links, truth = [], [], []
    homes = rng.uniform([63.36, 10.25], [63.45, 10.55], size=(n_persons, 2))
    k = 0

    def add(person: str, lat: float, lon: float, t: datetime, code: int, solved: bool):
        nonlocal k
        off, tgt, ent = CODES[code]
        hours = float(rng.choice([0.0, 0.5, 8.0, 60.0], p=[0.4, 0.2, 0.3, 0.1]))
        iid = f"C{k:06d}"
        k += 1
        rows.append(
            {
                "incident_id": iid,
                "offence_code": off,
                "target_type": tgt,
                "entry_method": ent,
                "planned": bool(rng.random() < 0.5),
                "participants": 1,
                "value_nok": float(rng.lognormal(8, 1)),
                "lat": lat,
                "lon": lon,
                "municipality_no": "5001",
                "status": "solved" if solved else "open",
                "arrest_at_scene": False,
                "reported_at": t + timedelta(hours=hours + 2),
                "occurred_from": t,
                "occurred_to": t + timedelta(hours=hours),
                "updated_at": t + timedelta(days=1),
            }
        )
        truth.append({"incident_id": iid, "person_id": person})
        if solved:
            links.append(
                {
                    "incident_id": iid,
                    "person_id": person,
                    "role": "suspect",
                    "updated_at": t + timedelta(days=1),
                }
            )

    for p in range(n_persons):
        pid = f"P{p:07d}"
        fav = rng.choice(len(CODES), size=2, replace=False)
        hour = rng.uniform(0, 24)
        day = rng.uniform(0, 20)
        for _ in range(cases_per_person):
            day += rng.exponential(days / cases_per_person)
            if day > days - 1:
                break
            t = START + timedelta(
                days=int(day), hours=float((hour + rng.normal(0, 2)) % 24)
            )
            lat = homes[p, 0] + rng.normal(0, 0.011)
            lon = homes[p, 1] + rng.normal(0, 0.022)
            code = int(fav[0] if rng.random() < 0.7 else fav[1])
            add(pid, lat, lon, t, code, bool(rng.random() < catch_rate))
    for o in range(n_occasional):
        t = START + timedelta(days=float(rng.uniform(0, days - 1)))
        lat, lon = rng.uniform([63.36, 10.25], [63.45, 10.55])
        add(
            f"O{o:07d}",
            lat,
            lon,
            t,
            int(rng.integers(len(CODES))),
            bool(rng.random() < 0.5),
        )
    inc = pl.DataFrame(rows).with_columns(
        pl.col("participants").cast(pl.Int32),
        *[
            pl.col(c).cast(pl.Datetime("us"))
            for c in ("reported_at", "occurred_from", "occurred_to", "updated_at")
        ],
    )
    lnk = pl.DataFrame(links).with_columns(pl.col("updated_at").cast(pl.Datetime("us")))
    return inc, lnk, pl.DataFrame(truth)


def test_pair_sample_labels_linked_pairs_as_sharing_a_person():
    inc, links, _ = synthetic_world(seed=1)
    cases = case_arrays(inc)
    L = lk.make_links(cases.incident_id, links)
    s = ps.sample_pairs(cases, L, seed=0)
    shared = lk.share_person(L.person_sets(len(cases)), s.ia, s.ib)
    assert np.array_equal(shared, s.y.astype(bool))
    assert s.y.sum() > 100 and (s.y == 0).sum() >= 2 * s.y.sum()
    assert s.log_offset < 0  # unlinked pairs are sampled far more sparsely


def test_pair_model_separates_linked_pairs_on_held_out_cases():
    from sklearn.metrics import roc_auc_score

    inc, links, _ = synthetic_world(seed=2)
    cases = case_arrays(inc)
    L = lk.make_links(cases.incident_id, links)
    rng = np.random.default_rng(0)
    half = rng.random(len(cases)) < 0.5
    model = pm.fit_pair_model(cases, L, half, seed=0)
    test = ps.sample_pairs(cases, L, ~half, seed=1)
    X = pair_matrix(cases, test.ia, cases, test.ib)
    assert roc_auc_score(test.y, model.logit(X)) > 0.9


def test_pair_model_probability_is_calibrated_to_the_population_of_pairs():
    """Known answer: on all pairs of held-out cases the mean predicted probability
    matches the observed share of linked pairs (the sampling offset is undone)."""
    inc, links, _ = synthetic_world(seed=3, n_persons=30)
    cases = case_arrays(inc)
    L = lk.make_links(cases.incident_id, links)
    half = np.random.default_rng(1).random(len(cases)) < 0.5
    model = pm.fit_pair_model(cases, L, half, seed=0)
    test = np.intersect1d(np.flatnonzero(~half), L.case_idx)
    ia, ib = np.triu_indices(len(test), k=1)
    ia, ib = test[ia], test[ib]
    near = np.abs(cases.t_mid[ia] - cases.t_mid[ib]) <= lk.MAX_GAP_DAYS
    ia, ib = ia[near], ib[near]
    y = lk.share_person(L.person_sets(len(cases)), ia, ib)
    p = model.proba(pair_matrix(cases, ia, cases, ib))
    assert abs(p.mean() - y.mean()) < 0.25 * y.mean()
    for lo, hi in ((0.0, 0.01), (0.01, 0.05), (0.05, 0.2), (0.2, 0.5)):
        m = (p >= lo) & (p < hi)
        assert m.sum() > 200
        assert abs(p[m].mean() - y[m].mean()) < max(0.05, 0.5 * p[m].mean())


def test_crossfit_scores_each_training_case_with_the_model_that_did_not_see_it():
    inc, links, _ = synthetic_world(seed=4, n_persons=10)
    cases = case_arrays(inc)
    L = lk.make_links(cases.incident_id, links)
    cf = pm.fit_crossfit_pair_models(cases, L, seed=0)
    q = np.flatnonzero(cf.fold == 0)[:5]
    X = pair_matrix(cases, q, cases, q[::-1])
    assert np.allclose(cf.logit(X, q), cf.models[1].logit(X))


def test_the_time_held_out_pairs_are_later_solved_cases_within_a_year():
    from datetime import date

    from gjenganger.analytics.attribution_evaluation import holdout_pairs

    inc, links, _ = synthetic_world(seed=3)
    cases = case_arrays(inc)
    L = lk.make_links(cases.incident_id, links)
    as_of = date(2025, 12, 31)
    train, test, ia, ib, y = holdout_pairs(
        cases, L, as_of, holdout_days=120, max_test_pairs=5_000, seed=0
    )
    cut = (as_of - date(1970, 1, 1)).days + 1 - 120
    linked = np.isin(np.arange(len(cases)), L.case_idx)
    assert np.array_equal(train, linked & (cases.t_mid < cut))
    assert np.array_equal(test, np.flatnonzero(linked & (cases.t_mid >= cut)))
    assert len(ia) == 5_000 and np.isin(ia, test).all() and np.isin(ib, test).all()
    assert (ia != ib).all()
    assert (np.abs(cases.t_mid[ia] - cases.t_mid[ib]) <= lk.MAX_GAP_DAYS).all()
    sets = L.person_sets(len(cases))
    assert np.array_equal(y, lk.share_person(sets, ia, ib)) and 0 < y.sum() < len(y)

"""The compiled case-person aggregates equal a plain per-row NumPy definition."""

# ruff: noqa: N803, N806 - K, F, X: the usual maths notation

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from gjenganger.analytics import evidence_kernel as ek
from gjenganger.analytics import linkage as lk
from gjenganger.analytics import person_evidence as pe
from gjenganger.analytics.pair_features import SAME_PLACE_KM, case_arrays

OFFENCES = ["burglary_business", "shoplifting", "theft_vehicle", "burglary_storage"]
TARGETS = ["business", "shop", "vehicle", "storage"]
ENTRIES = ["cylinder_snap", "window", None]


def random_cases(rng: np.random.Generator, n: int) -> pl.DataFrame:
    start = datetime(2025, 1, 1)
    t = [start + timedelta(days=float(d)) for d in rng.uniform(0, 800, n)]
    span = rng.choice([0.0, 0.1, 2.0, 30.0], n)
    lat = 63.40 + rng.normal(0, 0.02, n)
    lat[rng.random(n) < 0.1] = np.nan  # some cases without coordinates
    lat[1] = lat[0]  # a repeat target at the same spot
    return pl.DataFrame(
        {
            "incident_id": [f"C{k:04d}" for k in range(n)],
            "offence_code": rng.choice(OFFENCES, n),
            "target_type": rng.choice(TARGETS, n),
            "entry_method": [ENTRIES[k] for k in rng.integers(0, 3, n)],
            "planned": rng.random(n) < 0.5,
            "participants": rng.choice([1, 1, 2, 3], n),
            "value_nok": rng.uniform(0, 50_000, n),
            "lat": lat,
            "lon": 10.39 + rng.normal(0, 0.04, n),
            "occurred_from": t,
            "occurred_to": [
                a + timedelta(days=float(s)) for a, s in zip(t, span, strict=True)
            ],
        }
    ).with_columns(pl.col("lat").fill_nan(None))


def reference_row(c, q: int, known: np.ndarray, exclude: int, k_similar: int) -> dict:
    """One row by the definitions in docs/linkage.md, without any fusing."""
    K = np.array(
        [
            k
            for k in known
            if k != exclude and abs(c.t0[k] - c.t0[q]) <= lk.MAX_GAP_DAYS
        ],
        int,
    )
    nk = len(K)
    before, after = c.t0[q] - c.t1[K], c.t0[K] - c.t1[q]
    g = np.maximum(np.maximum(before, after), 0.0)
    valid = ~np.isnan(c.x_km[K]) & ~np.isnan(c.x_km[q])
    d = np.hypot(c.x_km[K] - c.x_km[q], c.y_km[K] - c.y_km[q])
    dv, gv = d[valid], g[valid]
    same_grp = c.group[K] == c.group[q]
    same_tgt = c.target[K] == c.target[q]
    denom = max(nk, 1)

    def kde(h: float, mask: np.ndarray) -> float:
        m = valid & mask
        if not m.any():
            return float("nan")
        return math.log(
            np.exp(-(d[m] ** 2) / (2 * h * h)).sum() / (2 * np.pi * h * h) / m.sum()
            + 1e-9
        )

    def profile(hist: np.ndarray) -> float:
        nb = hist.shape[1]
        prof = (hist[K].sum(axis=0) + 0.5) / (nk + 0.5 * nb)
        return math.log(float(hist[q] @ prof) * nb)

    stdist = np.where(valid, d, pe.NO_XY_PENALTY) + g / lk.TAU_DAYS_PER_KM
    multi = c.participants[K] > 1
    share_multi = multi.sum() / denom
    return {
        "min_distance_km": dv.min() if len(dv) else float("nan"),
        "log_kde_0_5km": kde(0.5, np.ones(nk, bool)) if valid.any() else math.log(1e-9),
        "log_kde_2km": kde(2.0, np.ones(nk, bool)) if valid.any() else math.log(1e-9),
        "log_kde_group_2km": kde(2.0, same_grp),
        "min_gap_days": g.min() if nk else np.inf,
        "st_distance": stdist.min() if nk else np.inf,
        "n_near_2km_30d": int(((dv <= 2.0) & (gv <= 30)).sum()),
        "n_within_2d": int((g <= 2).sum()),
        "n_within_7d": int((g <= 7).sum()),
        "n_within_30d": int((g <= 30).sum()),
        "prev_gap_days": before[before >= 0].min() if (before >= 0).any() else np.inf,
        "next_gap_days": after[after >= 0].min() if (after >= 0).any() else np.inf,
        "log_n_known": math.log1p(nk),
        "share_offence": (c.offence[K] == c.offence[q]).sum() / denom,
        "share_group": same_grp.sum() / denom,
        "share_target": same_tgt.sum() / denom,
        "share_entry": (
            (c.entry[K] == c.entry[q]).sum() / denom
            if c.entry[q] >= 0
            else float("nan")
        ),
        "share_group_offending": share_multi
        if c.participants[q] > 1
        else 1 - share_multi,
        "hour_profile_llr": profile(c.tod_hist),
        "dow_profile_llr": profile(c.dow_hist),
        "repeat_target": float(((d <= SAME_PLACE_KM) & valid & same_tgt).any()),
        "n_same_spot": int(((d <= SAME_PLACE_KM) & valid).sum()),
        "q_has_xy": float(not np.isnan(c.x_km[q])),
        "q_group": float(c.group[q]),
        "_nk": nk,
        "_nearest": int(K[valid][np.argmin(dv)]) if len(dv) else -1,
        "_similar": np.sort(stdist)[:k_similar],  # ties may pick either case
        "_stdist": dict(zip(K.tolist(), stdist.tolist(), strict=True)),
    }


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_persons=st.integers(1, 5),
    k_similar=st.sampled_from([1, 3, 8]),
)
def test_compiled_aggregates_equal_the_per_row_definition(seed, n_persons, k_similar):
    rng = np.random.default_rng(seed)
    c = case_arrays(random_cases(rng, 60))
    person_cases = [
        np.sort(rng.choice(60, rng.integers(0, 25), replace=False))
        for _ in range(n_persons)
    ]
    rows = 40
    q = rng.integers(0, 60, rows)
    persons = rng.integers(0, n_persons, rows)
    # leave-one-out as in training: sometimes the query case itself is known
    exclude = np.where(rng.random(rows) < 0.5, q, -1)
    indptr, known = ek.known_csr(person_cases, np.arange(n_persons), c.t0)
    multi = c.participants > 1
    F, nk, nearest, similar = ek.person_case_aggregates(
        q,
        persons,
        exclude,
        indptr,
        known,
        c.x_km,
        c.y_km,
        c.t0,
        c.t1,
        c.group.astype(np.int64),
        c.target.astype(np.int64),
        c.offence.astype(np.int64),
        c.entry.astype(np.int64),
        multi,
        c.tod_hist,
        c.dow_hist,
        *ek.known_prefix(known, c.tod_hist, c.dow_hist, multi),
        lk.MAX_GAP_DAYS,
        lk.TAU_DAYS_PER_KM,
        pe.NO_XY_PENALTY,
        SAME_PLACE_KM,
        k_similar,
    )
    for r in range(rows):
        if len(person_cases[persons[r]]) == 0:
            assert np.isnan(F[r]).all()
            continue
        ref = reference_row(c, q[r], person_cases[persons[r]], exclude[r], k_similar)
        for j, name in enumerate(pe.KERNEL_FEATURES):
            np.testing.assert_allclose(
                F[r, j], ref[name], rtol=1e-6, atol=1e-6, err_msg=f"{name}, row {r}"
            )
        assert nk[r] == ref["_nk"]
        assert nearest[r] == ref["_nearest"]
        chosen = [ref["_stdist"][k] for k in similar[r] if k >= 0]
        np.testing.assert_allclose(np.sort(chosen), ref["_similar"], rtol=1e-9)


def test_a_person_without_known_cases_gives_no_evidence():
    c = case_arrays(random_cases(np.random.default_rng(1), 10))
    ev = pe.case_person_features(
        c,
        np.array([0, 1]),
        np.array([0, 1]),
        [np.array([], np.int64), np.array([2, 3])],
        lambda X, _q: np.zeros(len(X)),
    )
    assert np.isnan(ev.X[0, : pe.PERSON_FEATURES.index("max_logit")]).all()
    within = sum(abs(c.t0[k] - c.t0[1]) <= lk.MAX_GAP_DAYS for k in (2, 3))
    # the model's evidence leaves one near known case out; the analyst's does not
    assert ev.n_known[1] == max(within - 1, 0)
    full = pe.case_person_features(
        c,
        np.array([0, 1]),
        np.array([0, 1]),
        [np.array([], np.int64), np.array([2, 3])],
        lambda X, _q: np.zeros(len(X)),
        drop_one=False,
    )
    assert full.n_known[1] == within and not np.isnan(full.X[1]).all()


def test_every_candidate_leaves_one_near_known_case_out_alike():
    """Leave-one-out in training hides the case from its true person only; the
    drop hides one near known case from every other candidate too, picked by ids
    (the same whatever the row order), and keeps the hidden case where it is."""
    rng = np.random.default_rng(3)
    c = case_arrays(random_cases(rng, 80))
    person_cases = [np.sort(rng.choice(80, 30, replace=False)) for _ in range(4)]
    indptr, known = ek.known_csr(person_cases, np.arange(4), c.t0)
    q = rng.integers(0, 80, 200)
    persons = rng.integers(0, 4, 200)
    exclude = q.copy()  # training: the query case is hidden from every row
    out = ek.drop_one_known(
        q, persons, exclude, indptr, known, c.t0, c.id_hash, float(lk.MAX_GAP_DAYS)
    )
    for r in range(200):
        mine = person_cases[persons[r]]
        near = [k for k in mine if abs(c.t0[k] - c.t0[q[r]]) <= lk.MAX_GAP_DAYS]
        if q[r] in mine:
            assert out[r] == q[r]  # the true person's hidden case stays hidden
        elif near:
            assert out[r] in near  # any other candidate loses one near case
        else:
            assert out[r] == -1
    # the pick depends on the ids, not on the row order
    perm = rng.permutation(200)
    again = ek.drop_one_known(
        q[perm],
        persons[perm],
        exclude[perm],
        indptr,
        known,
        c.t0,
        c.id_hash,
        float(lk.MAX_GAP_DAYS),
    )
    np.testing.assert_array_equal(again, out[perm])
    # and the picks spread over the near cases (not always the first)
    assert len({int(k) for k in out if k >= 0}) > 20


def test_putting_the_dropped_case_back_gives_the_analysts_evidence():
    """`with_dropped_case_back` on the model's rows equals the rows computed with
    every known case, in what the `why` and the baselines read."""
    rng = np.random.default_rng(9)
    c = case_arrays(random_cases(rng, 120))
    person_cases = [np.sort(rng.choice(120, 35, replace=False)) for _ in range(5)]
    q = rng.integers(0, 120, 300)
    persons = rng.integers(0, 5, 300)

    def logit(X, _q):  # any pair model: here, nearer is likelier
        return -np.nan_to_num(X[:, 0], nan=50.0)

    # as in training: the query is hidden from a person who knows it
    args = (c, q, persons, person_cases, logit)
    model = pe.case_person_features(*args, exclude=q)
    full = pe.case_person_features(*args, exclude=q, drop_one=False)
    back = pe.with_dropped_case_back(c, q, persons, person_cases, model, logit)
    assert (model.n_known < full.n_known).any()  # the drop did something
    np.testing.assert_array_equal(back.n_known, full.n_known)
    np.testing.assert_array_equal(back.nearest_case, full.nearest_case)
    for name in ("min_distance_km", "min_gap_days", "repeat_target"):
        j = pe.PERSON_FEATURES.index(name)
        np.testing.assert_allclose(back.X[:, j], full.X[:, j], rtol=1e-5, err_msg=name)

"""Candidate pre-selection: one search tree gives the per-person nearest answer."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gjenganger.analytics import candidates as cd
from gjenganger.analytics import linkage as lk
from gjenganger.analytics.pair_features import CaseArrays


def random_cases(rng: np.random.Generator, n: int) -> CaseArrays:
    """Cases with random places (a fifth without), times and offence groups."""
    x = rng.normal(0, 3, n)
    y = rng.normal(0, 3, n)
    no_xy = rng.random(n) < 0.2
    x[no_xy] = np.nan
    y[no_xy] = np.nan
    t0 = rng.uniform(19000, 19700, n)
    t1 = t0 + rng.exponential(0.5, n)
    z = np.zeros(n)
    return CaseArrays(
        incident_id=np.array([f"I{i}" for i in range(n)]),
        x_km=x,
        y_km=y,
        t0=t0,
        t1=t1,
        tod_hist=np.zeros((n, 24), np.float32),
        tod_proj=np.zeros((n, 24), np.float32),
        dow_hist=np.zeros((n, 7), np.float32),
        dow_proj=np.zeros((n, 7), np.float32),
        offence=z.astype(np.int64),
        group=rng.integers(0, 3, n),
        target=z,
        entry=z,
        planned=z.astype(np.int8),
        participants=z,
        log_value=z,
    )


def brute_force(cases, q, person_cases, eligible, exclude, n_st, n_sp):
    """The definition: rank persons by their nearest known case, one by one."""
    out = set()
    for i, c in enumerate(q):
        st_d, sp_d = {}, {}
        for p in eligible:
            k = person_cases[p]
            k = k[k != exclude[i]]
            if cases.has_xy[c]:
                k = k[cases.has_xy[k]]
                if len(k) == 0:
                    continue
                dx = cases.x_km[k] - cases.x_km[c]
                dy = cases.y_km[k] - cases.y_km[c]
                dt = (cases.t_mid[k] - cases.t_mid[c]) / lk.TAU_DAYS_PER_KM
                st_d[p] = np.sqrt(dx**2 + dy**2 + dt**2).min()
                sp_d[p] = np.sqrt(dx**2 + dy**2).min()
            else:
                k = k[cases.group[k] == cases.group[c]]
                if len(k):
                    st_d[p] = np.abs(cases.t_mid[k] - cases.t_mid[c]).min()
        for d, m in ((st_d, n_st), (sp_d, n_sp)):
            out |= {(i, p) for p in sorted(d, key=d.get)[:m]}
    return out


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_persons=st.integers(1, 40))
def test_tree_search_equals_the_per_person_definition(seed, n_persons):
    rng = np.random.default_rng(seed)
    cases = random_cases(rng, 400)
    owner = rng.integers(0, n_persons, 300)  # cases 300.. are the open ones
    person_cases = [np.flatnonzero(owner == p) for p in range(n_persons)]
    eligible = np.flatnonzero(rng.random(n_persons) < 0.7)
    q = np.r_[np.arange(300, 400), rng.choice(300, 30, replace=False)]
    exclude = np.r_[np.full(100, -1), q[100:]]  # training rows hide their own case
    rq, rp = cd.select_candidates(
        cases, q, person_cases, eligible, exclude, n_space_time=5, n_space=3
    )
    got = set(zip(rq.tolist(), rp.tolist(), strict=True))
    assert got == brute_force(cases, q, person_cases, eligible, exclude, 5, 3)
    assert len(got) == len(rq)  # no duplicate rows


def test_a_prolific_person_does_not_crowd_out_the_others():
    """Many cases of one person around q must not hide the next-nearest persons."""
    rng = np.random.default_rng(1)
    cases = random_cases(rng, 2000)
    cases.x_km[:] = np.r_[rng.normal(0, 0.01, 1900), rng.normal(5, 1, 100)]
    cases.y_km[:] = 0.0
    person_cases = [np.arange(1900)] + [
        np.arange(1900 + 10 * j, 1910 + 10 * j) for j in range(10)
    ]
    q = np.array([0])
    cases.x_km[0] = 0.0
    rq, rp = cd.select_candidates(
        cases, q, person_cases, np.arange(11), None, n_space_time=6, n_space=6
    )
    assert len(set(rp.tolist())) >= 6

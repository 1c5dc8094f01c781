"""Absence of evidence is not evidence of inactivity (issue 15, item 1).

A person whose only evidence is sparse offences is not declared inactive; a long
silence of a busy person is; a custody spell is; evidence that is thin for every
person alike (before the attribution window) does not read as inactivity.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from test_phases import simulate_population

from gjenganger.analytics import phase_model as pm
from gjenganger.analytics import phases as ph

COUNTS = (
    "n_cases",
    "n_level1",
    "n_level2",
    "n_level3",
    "n_planned",
    "n_unplanned",
    "n_arrests",
)


def _population(n: int = 30, days: int = 365, seed: int = 3) -> pl.DataFrame:
    """Simulated cycling persons; half of them have their inactive spells in the
    register (custody), the other half sober spells nobody registers."""
    pop, _ = simulate_population(n, days, seed=seed)
    odd = pl.col("person_id").str.slice(-1).cast(pl.Int32) % 2 == 1
    return pop.with_columns(
        pl.when(odd).then(False).otherwise(pl.col("custody")).alias("custody")
    )


def _person(pop: pl.DataFrame, pid: str, like: str) -> pl.DataFrame:
    return pop.filter(pl.col("person_id") == like).with_columns(
        pl.lit(pid).alias("person_id")
    )


def test_a_person_seen_only_through_sparse_offences_is_not_declared_inactive():
    pop = _population()
    sparse = _person(pop, "Psparse", "Psim00000").with_columns(
        *[pl.lit(0.0).alias(c) for c in COUNTS], pl.lit(False).alias("custody")
    )
    # one planned level-2 case every 20 days: rarely caught, not inactive
    hit = (pl.int_range(pl.len()) % 20) == 0
    sparse = sparse.with_columns(
        *[
            pl.when(hit).then(1.0).otherwise(0.0).alias(c)
            for c in ("n_cases", "n_level2", "n_planned")
        ]
    )
    fit = ph.fit(pl.concat([pop, sparse]))
    post = fit.phase_post[fit.persons.index("Psparse")]
    assert post[:, pm.INACTIVE].max() < 0.5
    assert (post.argmax(axis=1) != pm.INACTIVE).all()
    # the evidence cannot tell the phases apart: p is spread, not confident
    assert post.max(axis=1).mean() < 0.7
    assert (post.max(axis=1) >= 0.9).mean() < 0.1


def test_a_long_silence_of_a_busy_person_reads_as_inactive():
    pop = _population()
    busy = (
        pop.group_by("person_id")
        .agg(pl.col("n_cases").sum())
        .sort("n_cases", "person_id")["person_id"][-1]
    )
    quiet = pl.int_range(pl.len()).is_between(150, 249)
    silent = _person(pop, "Psilent", busy).with_columns(
        *[pl.when(quiet).then(0.0).otherwise(pl.col(c)).alias(c) for c in COUNTS],
        pl.lit(False).alias("custody"),
    )
    fit = ph.fit(pl.concat([pop, silent]))
    post = fit.phase_post[fit.persons.index("Psilent")]
    assert post[170:230, pm.INACTIVE].min() > 0.9


def test_a_custody_spell_is_inactive_even_for_a_person_with_sparse_evidence():
    pop = _population()
    jailed = _person(pop, "Pjailed", "Psim00002").with_columns(
        *[pl.lit(0.0).alias(c) for c in COUNTS],
        pl.int_range(pl.len()).is_between(100, 159).alias("custody"),
    )
    hit = (pl.int_range(pl.len()) % 25) == 0
    jailed = jailed.with_columns(
        pl.when(hit & ~pl.col("custody")).then(1.0).otherwise(0.0).alias("n_cases")
    ).with_columns(pl.col("n_cases").alias("n_level1"))
    fit = ph.fit(pl.concat([pop, jailed]))
    post = fit.phase_post[fit.persons.index("Pjailed")]
    assert post[100:160, pm.INACTIVE].min() > 0.999
    assert post[200:, pm.INACTIVE].max() < 0.5


def _thin_first_half(pop: pl.DataFrame, keep: float, seed: int = 0) -> pl.DataFrame:
    """Evidence thinned to `keep` on the first half of the window for everyone
    (like linked-only evidence before the attribution window)."""
    rng = np.random.default_rng(seed)
    frame = pop.sort("person_id", "date")
    n = frame["n_cases"].to_numpy()
    days = frame["date"].n_unique()
    first = (np.arange(frame.height) % days) < days // 2
    kept = np.where(first, rng.binomial(n.astype(int), keep), n).astype(float)
    frac = pl.Series(np.where(n > 0, kept / np.maximum(n, 1), 0.0))
    return frame.with_columns(
        pl.Series("n_cases", kept), *[pl.col(c) * frac for c in COUNTS[1:]]
    )


def test_evidence_thin_for_everyone_alike_is_not_read_as_inactivity():
    pop, truth = simulate_population(40, 360, seed=5)
    thin = _thin_first_half(pop, 0.15)
    half = 180

    def said_inactive(config: ph.PhaseConfig) -> float:
        fit = ph.fit(thin, config)
        return float((fit.phase_post[:, :half].argmax(axis=2) == pm.INACTIVE).mean())

    true_share = float((truth[:, :half] == pm.INACTIVE).mean())
    with_coverage = said_inactive(ph.PhaseConfig())
    without = said_inactive(ph.PhaseConfig(coverage_min_persons=10**9))
    assert abs(with_coverage - true_share) < 0.10
    assert without - true_share > abs(with_coverage - true_share)


def test_coverage_is_flat_for_a_few_persons_and_dips_where_evidence_is_thin():
    pop, _ = simulate_population(40, 360, seed=5)
    x = pm.to_arrays(_thin_first_half(pop, 0.15))
    cov = pm.coverage(x, ph.PhaseConfig())
    assert cov[0, 20:150].mean() < 0.4 < 1.2 < cov[0, 210:340].mean()
    few = pm.to_arrays(pop.filter(pl.col("person_id").is_in(["Psim00000"])))
    assert (pm.coverage(few, ph.PhaseConfig()) == 1.0).all()


def test_each_day_counts_fully_on_clean_data_and_less_where_cases_come_in_copies():
    pop, _ = simulate_population(30, 365, seed=3)
    config = ph.PhaseConfig()
    clean = ph.fit(pop, config)
    assert clean.emission_power == 1.0
    # every case counted three times: the days say less than a Poisson model of
    # them claims, and the held-out days show it
    copies = pop.with_columns(*[pl.col(c) * 3 for c in COUNTS])
    tripled = ph.fit(copies, config)
    assert tripled.emission_power <= 0.5
    # a given power is used as given
    assert ph.fit(copies, ph.PhaseConfig(emission_power=1.0)).emission_power == 1.0

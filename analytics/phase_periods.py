"""What a fitted phase model says: use periods and each person's state today.

`use_periods` segments each person's phase path into use periods (runs of
phase1-3 days) with their phase boundaries and offences; `current_state` gives
each person's phase on the last day, how long the use period has lasted, the
expected days to the next rest, and whether the reading is low-confidence.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from gjenganger.analytics.phase_model import (
    ACTIVE,
    INACTIVE,
    PHASE1,
    PHASE2,
    PHASE3,
    REST,
    PhaseConfig,
)
from gjenganger.analytics.phases import PhaseFit
from gjenganger.analytics.semi_markov import Chain
from gjenganger.data_schema.contract import PHASES


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """Runs of equal labels as (label, start index, end index inclusive)."""
    if labels.size == 0:
        return []
    cut = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], cut])
    ends = np.concatenate([cut - 1, [labels.size - 1]])
    return [(int(labels[s]), int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def segment_use_periods(labels: np.ndarray) -> list[tuple[int, int]]:
    """Use periods in a phase path: maximal runs of phase1-3 days, (start, end)
    inclusive."""
    active = np.isin(labels, ACTIVE).astype(np.int8)
    return [(s, e) for lab, s, e in _runs(active) if lab == 1]


USE_PERIOD_SCHEMA = {
    "person_id": pl.String,
    "period_no": pl.Int32,
    "start": pl.Date,
    "end": pl.Date,
    "days": pl.Int32,
    "phase1_start": pl.Date,
    "phase2_start": pl.Date,
    "phase3_start": pl.Date,
    "phase1_days": pl.Int32,
    "phase2_days": pl.Int32,
    "phase3_days": pl.Int32,
    "n_cases": pl.Float64,
    "n_level1": pl.Float64,
    "n_level2": pl.Float64,
    "n_level3": pl.Float64,
    "n_arrests": pl.Float64,
    "value_nok": pl.Float64,
    "mean_p": pl.Float64,
    "open_start": pl.Boolean,
    "ongoing": pl.Boolean,
}


def use_periods_from_labels(
    persons: list[str],
    dates: list[dt.date],
    labels: np.ndarray,
    person_days: pl.DataFrame | None = None,
    p: np.ndarray | None = None,
) -> pl.DataFrame:
    """Use periods (runs of phase1-3) per person with phase boundaries and offences.

    `labels` is (N, T) phase indices. A period touching the first day of the window
    has `open_start`; one touching the last day is `ongoing`. Offence columns sum
    the person-day series (weighted counts) over the period.
    """
    sums = {}
    if person_days is not None:
        arr = person_days.sort("person_id", "date")
        n_t = len(dates)
        for c in (
            "n_cases",
            "n_level1",
            "n_level2",
            "n_level3",
            "n_arrests",
            "value_nok",
        ):
            sums[c] = arr[c].to_numpy().astype(float).reshape(len(persons), n_t)
    rows = []
    for i, pid in enumerate(persons):
        for no, (s, e) in enumerate(segment_use_periods(labels[i]), start=1):
            seg = labels[i, s : e + 1]
            row = {
                "person_id": pid,
                "period_no": no,
                "start": dates[s],
                "end": dates[e],
                "days": e - s + 1,
            }
            for ph_idx, name in (
                (PHASE1, "phase1"),
                (PHASE2, "phase2"),
                (PHASE3, "phase3"),
            ):
                hit = np.flatnonzero(seg == ph_idx)
                row[f"{name}_start"] = dates[s + int(hit[0])] if hit.size else None
                row[f"{name}_days"] = int(hit.size)
            for c in (
                "n_cases",
                "n_level1",
                "n_level2",
                "n_level3",
                "n_arrests",
                "value_nok",
            ):
                row[c] = float(sums[c][i, s : e + 1].sum()) if c in sums else None
            row["mean_p"] = float(p[i, s : e + 1].mean()) if p is not None else None
            row["open_start"] = s == 0
            row["ongoing"] = e == len(dates) - 1
            rows.append(row)
    return pl.DataFrame(rows, schema=USE_PERIOD_SCHEMA)


def use_periods(
    fit_: PhaseFit, person_days: pl.DataFrame | None = None, *, source: str = "path"
) -> pl.DataFrame:
    """Use periods of every person from the Viterbi path (`source="path"`) or from
    the per-day most likely phase (`source="marginal"`)."""
    labels = fit_.path if source == "path" else fit_.phase_post.argmax(axis=2)
    p = np.take_along_axis(fit_.phase_post, labels[:, :, None].astype(np.int64), 2)[
        :, :, 0
    ]
    return use_periods_from_labels(fit_.persons, fit_.dates, labels, person_days, p)


def _absorb_inactive(chain: Chain) -> np.ndarray:
    """Per sub-state: probability of reaching `inactive` before `rest`."""
    a = chain.matrix()
    ph_of = chain.phase_of
    free = (ph_of != REST) & (ph_of != INACTIVE)
    q = a[np.ix_(free, free)]
    r = a[np.ix_(free, ph_of == INACTIVE)].sum(axis=1)
    out = np.zeros(chain.n_states)
    out[ph_of == INACTIVE] = 1.0
    out[free] = np.linalg.solve(np.eye(q.shape[0]) - q, r)
    return out


def current_state(
    fit_: PhaseFit, person_days: pl.DataFrame, config: PhaseConfig | None = None
) -> pl.DataFrame:
    """Each person's state on the last day of the window.

    `phase`, `p`: most likely phase today and its posterior probability.
    `days_in_use_period`: days since the current use period began, counting back
    the run of days whose most likely phase is phase1-3 (0 when resting or
    inactive). `expected_days_to_rest`: expected days until the next rest (the
    collapse that ends the use period) *given* today's most likely phase, from the
    posterior over its day-in-phase (how long the person has been in it) and the
    fitted durations and transitions, assuming no arrest or prison interrupts the
    cycle (0 when resting; a person inactive today first finishes the inactive
    spell). `p_interrupted`: probability, given the phase, that the current use
    period ends in `inactive` (arrest, prison) rather than rest.
    `p_cycling`: probability that the person's data follow the use-period cycle at
    all (against steady, rhythm-less offending, like the report's MAS persons).
    `low_confidence`: p below `low_confidence_p`, or fewer than
    `low_confidence_cases_90d` (weighted) cases in the last 90 days outside custody,
    or `p_cycling` below 0.5 (the phases of a steady offender mean little).
    """
    config = config or PhaseConfig()
    n_p, n_t, _ = fit_.phase_post.shape
    today = fit_.phase_post[:, -1]
    best = today.argmax(axis=1)
    chain = fit_.params.chain
    # condition today's sub-state posterior on the most likely phase
    given = fit_.last_state * (chain.phase_of[None, :] == best[:, None])
    given /= np.maximum(given.sum(axis=1, keepdims=True), 1e-300)
    exp_rest = given @ chain.expected_days_until(REST, barring=INACTIVE)
    p_int = given @ _absorb_inactive(chain)
    arr = person_days.sort("person_id", "date")
    n = arr["n_cases"].to_numpy().astype(float).reshape(n_p, n_t)
    cust = arr["custody"].to_numpy().astype(bool).reshape(n_p, n_t)
    recent = n[:, -90:].sum(axis=1)
    days_in = np.zeros(n_p, dtype=np.int32)
    marginal = fit_.phase_post.argmax(axis=2)
    for i in range(n_p):
        periods = segment_use_periods(marginal[i])
        if periods and periods[-1][1] == n_t - 1:
            days_in[i] = periods[-1][1] - periods[-1][0] + 1
    p_today = today[np.arange(n_p), best]
    low = (
        (p_today < config.low_confidence_p)
        | ((recent < config.low_confidence_cases_90d) & ~cust[:, -1])
        | (fit_.p_cycling < 0.5)
    )
    return pl.DataFrame(
        {
            "person_id": fit_.persons,
            "as_of": [fit_.dates[-1]] * n_p,
            "phase": [PHASES[b] for b in best],
            "p": p_today,
            **{f"p_{ph}": today[:, i] for i, ph in enumerate(PHASES)},
            "days_in_use_period": days_in,
            "expected_days_to_rest": np.where(best == REST, 0.0, exp_rest),
            "p_interrupted": np.where(np.isin(best, ACTIVE), p_int, 0.0),
            "cases_90d": recent,
            "in_custody": cust[:, -1],
            "p_cycling": fit_.p_cycling,
            "low_confidence": low,
        },
        schema_overrides={"as_of": pl.Date},
    )

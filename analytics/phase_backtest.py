"""The phase model checked against the only truth real data holds (issue 15, item 2).

Two back-tests on the fitted persons' own series, with tonight's fitted parameters:

- **Custody hidden.** Custody days are known inactive days. Every second custody
  spell of each person is hidden (the days look like any other day without cases)
  and the model decodes the series again: how many hidden days does it give back
  as `inactive`, with what probability, against how often it says `inactive` on
  days nobody registered (a model that says `inactive` everywhere would find every
  hidden spell).
- **Next 14 days.** At origins every 14 days over the last half year, the phase the
  model gives a person from the days up to the origin only (the forward filter) is
  carried forward 14 days by the fitted chain, and the expected number of cases is
  compared with what was recorded in those days; against the person's own recent
  rate (the 28 days before the origin) as a baseline. Per phase at the origin too:
  persons said to be in phase 2 should go on to offend more than persons at rest.

Both use the parameters of tonight's fit (fitted with every day, custody included)
and the population's evidence coverage; the series themselves are cut or masked,
so the phase itself is predicted from what was known.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl

from gjenganger.analytics.phase_model import (
    INACTIVE,
    PhaseParams,
    SeriesArrays,
    log_emissions,
)
from gjenganger.analytics.semi_markov import filtered, forward_backward, propagate
from gjenganger.data_schema.contract import PHASES

HORIZON_DAYS = 14
RECENT_DAYS = 28
ORIGINS = 13  # every 14 days: the last half year
#: the rows of the stored back-test: test, group, metric, value, n
SCHEMA = {
    "test": pl.String,
    "group": pl.String,
    "metric": pl.String,
    "value": pl.Float64,
    "n": pl.Int64,
}


def _spells(mask: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True in a 1-d mask as (start, end exclusive)."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(
        zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)
    )


def hide_custody(custody: np.ndarray) -> np.ndarray:
    """(N, T) mask of the days hidden: every second custody spell of each person
    (the first, third, ...)."""
    hidden = np.zeros_like(custody, dtype=bool)
    for i in range(custody.shape[0]):
        for s, e in _spells(custody[i])[::2]:
            hidden[i, s:e] = True
    return hidden


def custody_hidden(
    x: SeriesArrays,
    params: PhaseParams,
    scale: np.ndarray,
    power: float = 1.0,
    chunk: int = 128,
) -> dict:
    """Hide every second custody spell, decode again, score the hidden days."""
    hidden = hide_custody(x.custody)
    masked = replace(x, custody=x.custody & ~hidden)
    init = params.chain.stationary()
    post = np.empty((*x.n.shape, len(PHASES)))
    for lo in range(0, x.n.shape[0], chunk):
        sl = slice(lo, min(lo + chunk, x.n.shape[0]))
        le = log_emissions(masked, sl, params, scale, power)
        post[sl] = forward_backward(le, params.chain, init, want_xi=False).phase_post
    best = post.argmax(axis=2)
    p_in = post[:, :, INACTIVE]
    free = ~x.custody
    n_spells = sum(len(_spells(hidden[i])) for i in range(hidden.shape[0]))
    days = int(hidden.sum())
    if days == 0:
        return {"spells": 0, "days": 0}
    return {
        "spells": n_spells,
        "days": days,
        "free_days": int(free.sum()),
        "said_inactive": float((best[hidden] == INACTIVE).mean()),
        "mean_p_inactive": float(p_in[hidden].mean()),
        "said_inactive_free_days": float((best[free] == INACTIVE).mean()),
        "mean_p_inactive_free_days": float(p_in[free].mean()),
        "brier": float(((1.0 - p_in[hidden]) ** 2).mean()),
    }


def next_counts(
    x: SeriesArrays,
    params: PhaseParams,
    scale: np.ndarray,
    power: float = 1.0,
    *,
    horizon: int = HORIZON_DAYS,
    origins: int = ORIGINS,
) -> dict:
    """Cases expected in the next `horizon` days from the filtered phase at each
    origin, against the cases recorded; the recent-rate baseline beside it."""
    n_p, n_t = x.n.shape
    ends = [n_t - 1 - horizon * k for k in range(1, origins + 1)]
    ends = [t for t in ends if t >= RECENT_DAYS]
    if not ends or n_p == 0:
        return {"windows": 0}
    le = log_emissions(x, slice(None), params, scale, power)
    alpha = filtered(le, params.chain, params.chain.stationary())
    onehot = np.eye(len(PHASES))[params.chain.phase_of]  # (S, 5)
    rates = params.rate + params.rate_diffuse
    expo = x.expo()
    pred, rec, base, phase0 = [], [], [], []
    for t in ends:
        ahead = propagate(alpha[:, t], params.chain, horizon)  # (H, N, S)
        per_day = (ahead @ onehot) @ rates  # (H, N) at scale 1, exposure 1
        days = slice(t + 1, t + 1 + horizon)
        pred.append((per_day.T * expo[:, days]).sum(axis=1) * scale)
        rec.append(x.n[:, days].sum(axis=1))
        base.append(x.n[:, t + 1 - RECENT_DAYS : t + 1].mean(axis=1) * horizon)
        phase0.append((alpha[:, t] @ onehot).argmax(axis=1))
    pred, rec, base = (np.concatenate(a) for a in (pred, rec, base))
    phase0 = np.concatenate(phase0)
    out = {
        "windows": int(rec.size),
        "horizon_days": horizon,
        "recorded_mean": float(rec.mean()),
        "predicted_mean": float(pred.mean()),
        "mae": float(np.abs(pred - rec).mean()),
        "mae_recent_rate": float(np.abs(base - rec).mean()),
        "corr": _corr(pred, rec),
        "corr_recent_rate": _corr(base, rec),
        "by_phase": {},
    }
    for k, name in enumerate(PHASES):
        m = phase0 == k
        if m.any():
            out["by_phase"][name] = {
                "windows": int(m.sum()),
                "predicted_mean": float(pred[m].mean()),
                "recorded_mean": float(rec[m].mean()),
            }
    return out


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    if a.size < 3 or a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def backtest(
    x: SeriesArrays, params: PhaseParams, scale: np.ndarray, power: float = 1.0
) -> dict:
    """Both back-tests: `{"custody_hidden": ..., "next_14_days": ...}`, with the
    daily evidence read at the fit's `power`."""
    return {
        "custody_hidden": custody_hidden(x, params, scale, power),
        "next_14_days": next_counts(x, params, scale, power),
    }


def as_rows(result: dict) -> pl.DataFrame:
    """The back-test as rows (test, group, metric, value, n) for the table."""
    rows = []
    ch = result.get("custody_hidden", {})
    for metric, value in ch.items():
        if metric not in ("spells", "days", "free_days"):
            n = ch.get("free_days") if metric.endswith("free_days") else ch.get("days")
            rows.append(("custody_hidden", "all", metric, value, n))
    rows.append(("custody_hidden", "all", "spells", ch.get("spells", 0), None))
    nx = result.get("next_14_days", {})
    for metric, value in nx.items():
        if metric in ("by_phase", "windows"):
            continue
        rows.append(("next_14_days", "all", metric, value, nx.get("windows")))
    for phase, fig in nx.get("by_phase", {}).items():
        for metric in ("predicted_mean", "recorded_mean"):
            rows.append(("next_14_days", phase, metric, fig[metric], fig["windows"]))
    return pl.DataFrame(
        [
            (t, g, m, None if v is None else float(v), None if n is None else int(n))
            for t, g, m, v, n in rows
        ],
        schema=SCHEMA,
        orient="row",
    )

"""`gjenganger evaluate phases`: the phase model against the generator's truth.

Per top-list person and day of the window, the inferred phase is compared with
`truth/phases.csv`: per-day accuracy, macro-F1 over the five phases, the confusion
matrix, and the mean absolute error (days) of use-period start and end. A use period
is a maximal run of phase1-3 days; each true use period that lies wholly inside the
window is matched to the inferred use period overlapping it most (unmatched true
periods are counted, not scored).

Two evidence settings, each for the model and for the gap-segmentation baseline
(`analytics.phase_baseline`) on the same series:

- `realistic`: what the police know: linked cases plus attributed open cases;
- `all_known`: every true offence of the person (`truth/offenders.csv`), the model's
  ceiling.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import polars as pl

from gjenganger.analytics import person_days as pdays
from gjenganger.analytics import phase_baseline
from gjenganger.analytics.phase_periods import segment_use_periods
from gjenganger.data_schema.contract import PHASES
from gjenganger.errors import UserError
from gjenganger.flows.steps import phases as step
from gjenganger.store import frames

_INDEX = {p: i for i, p in enumerate(PHASES)}


def read_truth(truth_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`truth/phases.csv` and `truth/offenders.csv` as frames."""
    phases_csv, offenders_csv = truth_dir / "phases.csv", truth_dir / "offenders.csv"
    for f in (phases_csv, offenders_csv):
        if not f.exists():
            raise UserError(f"missing {f}")
    phases = pl.read_csv(
        phases_csv, schema_overrides={"person_id": pl.String, "phase": pl.String}
    )
    phases = phases.with_columns(pl.col("date").cast(pl.String).str.to_date())
    bad = set(phases["phase"].unique().to_list()) - set(PHASES)
    if bad:
        raise UserError(f"unknown phase in {phases_csv}: {sorted(bad)[0]}")
    offenders = pl.read_csv(
        offenders_csv,
        schema_overrides={"incident_id": pl.String, "person_id": pl.String},
    )
    return phases.select("person_id", "date", "phase"), offenders


def _labels(
    frame: pl.DataFrame, persons: list[str], dates: list[dt.date]
) -> np.ndarray:
    """(N, T) phase indices from a (person_id, date, phase) frame; -1 where missing."""
    grid = pl.DataFrame({"person_id": persons}).join(
        pl.DataFrame({"date": dates}, schema={"date": pl.Date}), how="cross"
    )
    out = grid.join(
        frame.select("person_id", "date", "phase"), on=["person_id", "date"], how="left"
    )
    idx = out["phase"].replace_strict(_INDEX, default=-1, return_dtype=pl.Int8)
    return idx.to_numpy().reshape(len(persons), len(dates))


def boundary_errors(truth: np.ndarray, pred: np.ndarray) -> dict:
    """Use-period start/end MAE (days) of true periods inside the window."""
    starts, ends, unmatched, n_true = [], [], 0, 0
    t_n = truth.shape[1]
    for i in range(truth.shape[0]):
        pred_periods = segment_use_periods(pred[i])
        for s, e in segment_use_periods(truth[i]):
            if s == 0 or e == t_n - 1:
                continue  # censored by the window: its boundary is not observed
            n_true += 1
            best, overlap = None, 0
            for ps, pe in pred_periods:
                ov = min(e, pe) - max(s, ps) + 1
                if ov > overlap:
                    best, overlap = (ps, pe), ov
            if best is None:
                unmatched += 1
                continue
            starts.append(abs(best[0] - s))
            ends.append(abs(best[1] - e))
    return {
        "true_use_periods": n_true,
        "matched": n_true - unmatched,
        "start_mae_days": float(np.mean(starts)) if starts else None,
        "end_mae_days": float(np.mean(ends)) if ends else None,
        "boundary_mae_days": float(np.mean(starts + ends)) if starts else None,
        "predicted_use_periods": int(sum(len(segment_use_periods(p)) for p in pred)),
    }


def score(
    truth: np.ndarray, pred: np.ndarray, boundary_pred: np.ndarray | None = None
) -> dict:
    """Per-day accuracy, macro-F1, confusion matrix (rows truth, cols inferred) and
    boundary errors, over days where the truth is known."""
    ok = truth >= 0
    t, p = truth[ok].astype(int), pred[ok].astype(int)
    k = len(PHASES)
    conf = np.zeros((k, k), dtype=np.int64)
    np.add.at(conf, (t, p), 1)
    f1s = []
    for c in range(k):
        tp = conf[c, c]
        support = conf[c].sum()
        if support == 0 and conf[:, c].sum() == 0:
            continue  # phase absent from truth and prediction: not scored
        prec = tp / conf[:, c].sum() if conf[:, c].sum() else 0.0
        rec = tp / support if support else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    out = {
        "days": int(ok.sum()),
        "accuracy": float((t == p).mean()) if t.size else None,
        "macro_f1": float(np.mean(f1s)) if f1s else None,
        "confusion": {
            "labels": list(PHASES),
            "rows_truth_cols_inferred": conf.tolist(),
        },
    }
    truth_b = np.where(ok, truth, -1)
    out.update(
        boundary_errors(truth_b, pred if boundary_pred is None else boundary_pred)
    )
    return out


CALIBRATION_BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


def calibration(truth: np.ndarray, pred: np.ndarray, p: np.ndarray) -> dict:
    """Is the stated probability honest? Per bin of p: days, mean p, accuracy; and
    the expected calibration error (day-weighted mean |accuracy - mean p|)."""
    ok = truth >= 0
    hit, pp = (truth == pred)[ok], p[ok]
    bins, ece = [], 0.0
    edges = CALIBRATION_BINS
    for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        m = (pp >= lo) & ((pp < hi) if k < len(edges) - 2 else (pp <= hi))
        if not m.any():
            continue
        acc, mean_p = float(hit[m].mean()), float(pp[m].mean())
        bins.append(
            {
                "lo": lo,
                "hi": hi,
                "days": int(m.sum()),
                "mean_p": mean_p,
                "accuracy": acc,
            }
        )
        ece += m.sum() / max(pp.size, 1) * abs(acc - mean_p)
    return {"ece": float(ece), "bins": bins}


def _p_matrix(
    frame: pl.DataFrame, persons: list[str], dates: list[dt.date]
) -> np.ndarray:
    grid = pl.DataFrame({"person_id": persons}).join(
        pl.DataFrame({"date": dates}, schema={"date": pl.Date}), how="cross"
    )
    out = grid.join(
        frame.select("person_id", "date", "p"), on=["person_id", "date"], how="left"
    )
    return out["p"].fill_null(0.0).to_numpy().reshape(len(persons), len(dates))


def evaluate_run(run: step.PhaseRun, truth_phases: pl.DataFrame) -> dict:
    """Model and baseline scores of one phase run against the truth."""
    persons, dates = run.persons, run.fit.dates
    truth = _labels(truth_phases, persons, dates)
    if (truth >= 0).sum() == 0:
        raise UserError(
            "truth/phases.csv has no rows for the evaluated persons and window"
        )
    model = _labels(
        run.person_days.select("person_id", "date", "phase"), persons, dates
    )
    path = _labels(
        run.person_days.select(
            "person_id", "date", pl.col("path_phase").alias("phase")
        ),
        persons,
        dates,
    )
    series = run.series_all.filter(pl.col("person_id").is_in(persons))
    base = _labels(phase_baseline.baseline_daily(series), persons, dates)
    model_score = score(truth, model, path)
    model_score["calibration"] = calibration(
        truth, model, _p_matrix(run.person_days, persons, dates)
    )
    return {"model": model_score, "baseline": score(truth, base)}


def evaluate(con, truth_dir: Path, as_of=None, days: int = step.WINDOW_DAYS) -> dict:
    """The whole report: realistic and all-known evidence, model and baseline."""
    truth_phases, offenders = read_truth(truth_dir)
    as_of = frames.resolve_as_of(con, as_of)
    incidents = frames.load_incidents(con, as_of)
    realistic_ev = step.realistic_evidence(con, as_of, incidents)
    persons, source = step.toplist_persons(con, as_of, realistic_ev)
    persons = [
        p for p in persons if p in set(truth_phases["person_id"].unique().to_list())
    ]
    if not persons:
        raise UserError("no top-list person appears in truth/phases.csv")
    out = {
        "as_of": as_of.isoformat(),
        "persons": len(persons),
        "toplist_source": source,
    }
    t0 = time.perf_counter()
    real = step.run_phases(
        con, as_of, persons=persons, days=days, evidence=realistic_ev
    )
    out["seconds_realistic"] = round(time.perf_counter() - t0, 2)
    truth_ev = pdays.evidence_from_truth(
        offenders.join(incidents.select("incident_id"), on="incident_id", how="semi")
    )
    t0 = time.perf_counter()
    known = step.run_phases(con, as_of, persons=persons, days=days, evidence=truth_ev)
    out["seconds_all_known"] = round(time.perf_counter() - t0, 2)
    out["window"] = {"start": real.start.isoformat(), "end": as_of.isoformat()}
    out["realistic"] = evaluate_run(real, truth_phases)
    out["all_known"] = evaluate_run(known, truth_phases)
    r = out["realistic"]
    ratio = (
        r["model"]["accuracy"] / r["baseline"]["accuracy"]
        if r["baseline"]["accuracy"]
        else None
    )
    out["realistic_accuracy_vs_baseline"] = ratio
    return out


#: the targets of issue 15 on every world of the sweep
WORLD_TARGETS = {"vs_baseline": 1.5, "ece": 0.10, "inactive_points": 10.0}


def majority_accuracy(truth: np.ndarray) -> float | None:
    """Accuracy of always saying the most common true phase (an oracle-ish floor:
    it knows which phase is most common)."""
    known = truth[truth >= 0]
    if known.size == 0:
        return None
    return float(np.bincount(known, minlength=len(PHASES)).max() / known.size)


def world_figures(
    con,
    truth_dir: Path,
    as_of=None,
    days: int = step.WINDOW_DAYS,
    config=None,
) -> dict:
    """The phase figures of one world, on realistic evidence (linked + attributed),
    for the sweep of worlds (`benchmarks/worlds.py`, `benchmarks/phases.py`).

    Per top-list person in `truth/phases.csv` and day of the window: the model's
    per-day accuracy; the majority-class and gap-segmentation baselines and the
    model's accuracy over the better of the two (target >= 1.5); the expected
    calibration error of the stated p (target <= 0.10); the share of person-days
    said `inactive` against the true share (target: within 10 points); and whether
    each target holds (`pass`). `config` (a `PhaseConfig`) replaces the model's
    defaults (e.g. to measure a model variant against the current one).
    """
    truth_phases, _ = read_truth(truth_dir)
    as_of = frames.resolve_as_of(con, as_of)
    incidents = frames.load_incidents(con, as_of)
    evidence = step.realistic_evidence(con, as_of, incidents)
    known_ids = set(truth_phases["person_id"].unique().to_list())
    persons = [
        p for p in step.toplist_persons(con, as_of, evidence)[0] if p in known_ids
    ]
    if not persons:
        raise UserError("no top-list person appears in truth/phases.csv")
    t0 = time.perf_counter()
    run = step.run_phases(
        con, as_of, persons=persons, days=days, evidence=evidence, config=config
    )
    seconds = time.perf_counter() - t0
    dates = run.fit.dates
    truth = _labels(truth_phases, persons, dates)
    model = _labels(run.person_days, persons, dates)
    series = run.series_all.filter(pl.col("person_id").is_in(persons))
    gap = _labels(phase_baseline.baseline_daily(series), persons, dates)
    ok = truth >= 0
    acc = float((truth == model)[ok].mean())
    gap_acc = float((truth == gap)[ok].mean())
    major = majority_accuracy(truth) or 0.0
    best = max(major, gap_acc)
    cal = calibration(truth, model, _p_matrix(run.person_days, persons, dates))
    inactive = _INDEX["inactive"]
    said = float((model[ok] == inactive).mean())
    true_share = float((truth[ok] == inactive).mean())
    out = {
        "as_of": as_of.isoformat(),
        "persons": len(persons),
        "person_days": int(ok.sum()),
        "accuracy": acc,
        "majority_accuracy": major,
        "gap_accuracy": gap_acc,
        "vs_better_baseline": acc / best if best else None,
        "ece": cal["ece"],
        "confident_days": sum(b["days"] for b in cal["bins"] if b["lo"] >= 0.9),
        "confident_accuracy": _band_accuracy(cal["bins"], 0.9),
        "inactive_said": said,
        "inactive_true": true_share,
        "inactive_points": 100.0 * abs(said - true_share),
        "uncertain_days": float((run.person_days["p"] < 0.6).mean()),
        "seconds": round(seconds, 1),
    }
    out["pass"] = {
        "vs_baseline": (out["vs_better_baseline"] or 0.0)
        >= WORLD_TARGETS["vs_baseline"],
        "ece": out["ece"] <= WORLD_TARGETS["ece"],
        "inactive": out["inactive_points"] <= WORLD_TARGETS["inactive_points"],
    }
    return out


def _band_accuracy(bins: list[dict], lo: float) -> float | None:
    """Accuracy over the calibration bins from `lo` up (day-weighted)."""
    sel = [b for b in bins if b["lo"] >= lo]
    days = sum(b["days"] for b in sel)
    return sum(b["accuracy"] * b["days"] for b in sel) / days if days else None

"""Phases step: read frames -> person-day series -> phase model -> DuckDB tables.

Writes (replacing the previous run):

- `person_days`: one row per person and day of the window: the daily series
  (`analytics.person_days`) and the phase posterior (`phase`, `p`, `p_rest` ...
  `p_inactive`, `path_phase` = the day on the most likely joint path).
- `use_periods`: one row per use period per person (`analytics.phase_periods`).
- `current_phase`: one row per top-list person: phase today with probability, days
  in the current use period, expected days to the next rest, `low_confidence`.
- `phase_model`: one row per phase: the fitted rates, level mix, planned and arrest
  shares and mean durations (what the model learned, for analysts and researchers).
- `phase_backtest`: the back-test on the fitted persons' own data
  (`analytics.phase_backtest`): custody spells hidden and predicted back, next-14-day
  cases predicted from the phase against those recorded. Counts only, no persons.

Evidence is the linked cases plus, when the attribution step has run (table
`attribution_candidates`), open cases weighted by their probability.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from gjenganger.analytics import person_days as pdays
from gjenganger.analytics import phase_backtest as pbt
from gjenganger.analytics import phase_periods as pp
from gjenganger.analytics import phases as ph
from gjenganger.errors import UserError
from gjenganger.store import attribution as attribution_store
from gjenganger.store import frames
from gjenganger.store import phases as phase_store

#: hsmm-2: evidence coverage per day (absence of evidence is not inactivity)
MODEL_VERSION = "hsmm-2"
#: persons fitted alongside the top list (most evidence first): more series give the
#: shared parameters more data; the top list alone may be 10-20 persons.
FIT_POOL = 60
#: fallback top list when the toplist step has not run: this many most active persons
FALLBACK_TOP = 20
WINDOW_DAYS = 730


@dataclass
class PhaseRun:
    """Everything one phase run produced (frames, for the CLI and evaluation)."""

    as_of: dt.date
    start: dt.date
    persons: list[str]  # the persons reported on (top list or the named person)
    toplist_source: str
    person_days: pl.DataFrame  # series + posterior, reported persons
    use_periods: pl.DataFrame
    current: pl.DataFrame
    params: pl.DataFrame
    fit: ph.PhaseFit
    series_all: pl.DataFrame  # series of every fitted person
    backtest: dict | None = None  # `analytics.phase_backtest.backtest`, fitted persons


def load_attribution(con, as_of: dt.date) -> pl.DataFrame | None:
    """Attributed candidates of the newest attribution run on or before `as_of`."""
    candidates = attribution_store.latest_candidates(con, as_of)
    if candidates is None:
        return None
    return candidates.select("incident_id", "person_id", "p")


def toplist_persons(
    con, as_of: dt.date, evidence: pl.DataFrame | None = None
) -> tuple[list[str], str]:
    """Top-list person ids (table `toplist`, newest run on or before `as_of`).

    Without a stored top list: the `FALLBACK_TOP` persons with the most (weighted)
    evidence (source `fallback`), so the step works before the top-list step has run.
    """
    ids = phase_store.toplist_person_ids(con, as_of)
    if ids:
        return ids, "toplist"
    if evidence is None or evidence.is_empty():
        return [], "fallback"
    top = (
        evidence.group_by("person_id")
        .agg(pl.col("weight").sum().alias("w"))
        .sort(["w", "person_id"], descending=[True, False])
        .head(FALLBACK_TOP)
    )
    return top["person_id"].to_list(), "fallback"


def realistic_evidence(con, as_of: dt.date, incidents: pl.DataFrame) -> pl.DataFrame:
    """Linked cases (weight 1) plus attributed open cases (weight p), as of a date."""
    links = frames.load_links(con, as_of)
    ev = pdays.evidence_from_links(links)
    attribution = load_attribution(con, as_of)
    if attribution is not None and not attribution.is_empty():
        attribution = attribution.join(
            incidents.select("incident_id"), on="incident_id", how="semi"
        )
        ev = pdays.combine_evidence(
            ev, pdays.evidence_from_attribution(attribution, links)
        )
    return ev


def _window(incidents: pl.DataFrame, as_of: dt.date, days: int) -> dt.date:
    start = as_of - dt.timedelta(days=days - 1)
    if not incidents.is_empty():
        first = incidents["occurred_from"].min()
        if first is not None:
            start = max(start, first.date())
    return min(start, as_of)


def fit_pool(
    evidence: pl.DataFrame, persons: list[str], pool: int = FIT_POOL
) -> list[str]:
    """The reported persons plus the persons with most evidence, up to `pool` in all."""
    extra = (
        evidence.filter(~pl.col("person_id").is_in(persons))
        .group_by("person_id")
        .agg(pl.col("weight").sum().alias("w"))
        .sort(["w", "person_id"], descending=[True, False])
        .head(max(pool - len(persons), 0))["person_id"]
        .to_list()
    )
    return sorted(set(persons) | set(extra))


def run_phases(
    con,
    as_of=None,
    *,
    person: str | None = None,
    persons: list[str] | None = None,
    days: int = WINDOW_DAYS,
    evidence: pl.DataFrame | None = None,
    config: ph.PhaseConfig | None = None,
    pool: int = FIT_POOL,
    seed: int = 0,
    with_backtest: bool = False,
) -> PhaseRun:
    """Compute phases without writing anything.

    `evidence` replaces the linked + attributed evidence (evaluation passes the true
    offenders). `persons` replaces the top list; `person` reports on one person.
    `with_backtest` also runs the back-test over every fitted person.
    """
    as_of = frames.resolve_as_of(con, as_of)
    if days < 30:
        raise UserError("--days must be at least 30")
    incidents = frames.load_incidents(con, as_of)
    if incidents.is_empty():
        raise UserError(f"no incidents known on {as_of}")
    if evidence is None:
        evidence = realistic_evidence(con, as_of, incidents)
    custody = frames.load_custody(con, as_of)
    if persons is not None:
        report, source = list(persons), "given"
    else:
        report, source = toplist_persons(con, as_of, evidence)
    if person is not None:
        known = set(evidence["person_id"].to_list()) | set(
            custody["person_id"].to_list()
        )
        if person not in known and person not in report:
            raise UserError(f"person {person} has no cases or custody as of {as_of}")
        report, source = [person], "person"
    if not report:
        raise UserError("no persons to report on (no top list and no linked cases)")
    start = _window(incidents, as_of, days)
    fitted = fit_pool(evidence, report, pool)
    series = pdays.build_person_days(
        incidents, evidence, custody, start, as_of, persons=fitted
    )
    result = ph.fit(series, config, seed=seed)
    daily = series.join(result.daily(), on=["person_id", "date"], how="left")
    periods = pp.use_periods(result, series)
    current = pp.current_state(result, series, config)
    keep = pl.col("person_id").is_in(report)
    backtest = None
    if with_backtest:
        x = ph.arrays(series, config or ph.PhaseConfig())
        backtest = pbt.backtest(x, result.params, result.scale, result.emission_power)
    return PhaseRun(
        as_of=as_of,
        start=start,
        persons=report,
        toplist_source=source,
        person_days=daily.filter(keep),
        use_periods=periods.filter(keep),
        current=current.filter(keep),
        params=result.params.describe(),
        fit=result,
        series_all=series,
        backtest=backtest,
    )


def write_run(con, run: PhaseRun) -> dict:
    """Write the run's tables (replacing earlier ones); the step summary. The
    back-test is run here when the run has none (written tables always have one)."""
    if run.backtest is None:
        x = ph.arrays(run.series_all, ph.PhaseConfig())
        run.backtest = pbt.backtest(
            x, run.fit.params, run.fit.scale, run.fit.emission_power
        )
    tag = [
        pl.lit(run.as_of).alias("as_of"),
        pl.lit(MODEL_VERSION).alias("model_version"),
    ]
    pdays_out = run.person_days.with_columns(tag)
    periods = run.use_periods.with_columns(tag)
    current = run.current.with_columns(pl.lit(MODEL_VERSION).alias("model_version"))
    params = run.params.with_columns(tag)
    tables = [
        ("person_days", pdays_out),
        ("use_periods", periods),
        ("current_phase", current),
        ("phase_model", params),
    ]
    tables.append(("phase_backtest", pbt.as_rows(run.backtest).with_columns(tag)))
    for table, frame in tables:
        frames.replace_rows(con, table, frame)  # the latest run only
    return summary(run)


def summary(run: PhaseRun) -> dict:
    """Counts only (no pseudonyms): safe for Prefect logs and run reports."""
    cur = run.current
    return {
        "as_of": run.as_of.isoformat(),
        "window_start": run.start.isoformat(),
        "persons": len(run.persons),
        "persons_fitted": len(run.fit.persons),
        "toplist_source": run.toplist_source,
        "person_days": run.person_days.height,
        "use_periods": run.use_periods.height,
        "phases_today": dict(cur.group_by("phase").len().iter_rows()),
        "low_confidence": int(cur["low_confidence"].sum()),
        "emission_power": run.fit.emission_power,
        "model_version": MODEL_VERSION,
        **({"backtest": backtest_summary(run.backtest)} if run.backtest else {}),
    }


def backtest_summary(backtest: dict) -> dict:
    """The back-test's headline figures for the run report (rounded, counts only)."""
    ch, nx = backtest["custody_hidden"], backtest["next_14_days"]

    def r(v):
        return None if v is None else round(float(v), 3)

    out = {"custody_hidden_spells": ch.get("spells", 0)}
    if ch.get("days"):
        out.update(
            custody_hidden_days=ch["days"],
            custody_hidden_said_inactive=r(ch["said_inactive"]),
            custody_hidden_mean_p_inactive=r(ch["mean_p_inactive"]),
            free_days_said_inactive=r(ch["said_inactive_free_days"]),
        )
    if nx.get("windows"):
        out.update(
            next_14_days_windows=nx["windows"],
            next_14_days_mae=r(nx["mae"]),
            next_14_days_mae_recent_rate=r(nx["mae_recent_rate"]),
            next_14_days_predicted_mean=r(nx["predicted_mean"]),
            next_14_days_recorded_mean=r(nx["recorded_mean"]),
        )
    return out


def backtest_markdown(summary: dict) -> list[str]:
    """The run report's lines for the phase back-test (`backtest_summary`)."""
    lines = ["## Phase back-test", ""]
    if summary.get("custody_hidden_days"):
        lines.append(
            f"- custody hidden: {summary['custody_hidden_days']} days "
            f"({summary['custody_hidden_spells']} spells), said inactive "
            f"{summary['custody_hidden_said_inactive']:.0%} (mean p "
            f"{summary['custody_hidden_mean_p_inactive']:.2f}); days with no "
            f"registered spell said inactive {summary['free_days_said_inactive']:.0%}"
        )
    else:
        lines.append("- custody hidden: no custody spell to hide")
    if summary.get("next_14_days_windows"):
        lines.append(
            f"- next 14 days ({summary['next_14_days_windows']} person-origins): "
            f"predicted {summary['next_14_days_predicted_mean']:.1f} cases, recorded "
            f"{summary['next_14_days_recorded_mean']:.1f}; mean absolute error "
            f"{summary['next_14_days_mae']:.1f} (recent rate: "
            f"{summary['next_14_days_mae_recent_rate']:.1f})"
        )
    else:
        lines.append("- next 14 days: too short a history")
    return lines


def build_phases(con, as_of=None, *, days: int = WINDOW_DAYS, seed: int = 0) -> dict:
    """The nightly step: phases for every top-list person, tables written; summary."""
    return write_run(
        con, run_phases(con, as_of, days=days, seed=seed, with_backtest=True)
    )


def write_phase_backtest_page(con, out_dir, as_of: dt.date, lang: str = "nb") -> dict:
    """Write the analyst bundle's `phase_backtest.html` from the stored phase
    back-test (`store.phases.phase_backtest`); its size and whether there was one."""
    from pathlib import Path

    from gjenganger.maps.phase_backtest_page import render_phase_backtest_page
    from gjenganger.store import publish

    rows = phase_store.phase_backtest(con)
    page = render_phase_backtest_page(rows, as_of=as_of, lang=lang)
    path = publish.write_text(Path(out_dir) / "phase_backtest.html", page)
    return {"bytes": path.stat().st_size, "backtest": rows is not None}

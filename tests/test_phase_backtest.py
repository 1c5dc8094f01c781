"""The phase back-test (issue 15, item 2): custody hidden and predicted back,
next-14-day cases from the phase, stored rows, and its page."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import polars as pl
from test_phases import simulate_population

from gjenganger.analytics import phase_backtest as pbt
from gjenganger.analytics import phases as ph
from gjenganger.maps.phase_backtest_page import render_phase_backtest_page


def _fitted(n: int = 30, days: int = 240, seed: int = 4):
    series, _ = simulate_population(n, days, seed=seed)
    config = ph.PhaseConfig()
    fit = ph.fit(series, config)
    return ph.arrays(series, config), fit


def test_every_second_custody_spell_is_hidden():
    custody = np.array([[0, 1, 1, 0, 1, 0, 0, 1, 1, 1]], dtype=bool)
    hidden = pbt.hide_custody(custody)
    assert hidden.astype(int).tolist() == [[0, 1, 1, 0, 0, 0, 0, 1, 1, 1]]


def test_hidden_custody_comes_back_inactive_and_next_cases_follow_the_phase():
    x, fit = _fitted()
    result = pbt.backtest(x, fit.params, fit.scale, fit.emission_power)
    ch = result["custody_hidden"]
    assert ch["days"] > 100
    # long silences the register knows about are read back as inactive, far more
    # often than days nobody registered
    assert ch["said_inactive"] > 0.8 > 0.3 > ch["said_inactive_free_days"]
    nx = result["next_14_days"]
    assert nx["windows"] == 30 * pbt.ORIGINS
    by = nx["by_phase"]
    # persons in phase 2 go on to offend more than persons inactive, as predicted
    assert by["phase2"]["recorded_mean"] > by["inactive"]["recorded_mean"]
    assert by["phase2"]["predicted_mean"] > by["inactive"]["predicted_mean"]
    assert abs(nx["predicted_mean"] / nx["recorded_mean"] - 1) < 0.3
    assert nx["mae"] < nx["mae_recent_rate"]
    rows = pbt.as_rows(result)
    assert set(rows["test"]) == {"custody_hidden", "next_14_days"}
    assert "person_id" not in rows.columns


def test_the_page_says_it_in_words_in_both_languages_and_offline():
    x, fit = _fitted()
    rows = pbt.as_rows(pbt.backtest(x, fit.params, fit.scale))
    day = dt.date(2026, 6, 1)
    nb = render_phase_backtest_page(rows, as_of=day)
    en = render_phase_backtest_page(rows, as_of=day, lang="en")
    assert "skjult for modellen" in nb and "«inaktiv»" in nb and "fase 2" in nb
    assert "hidden from the model" in en and "phase 2" in en
    # bokmål numbers and dates: no ISO date, no decimal point in the visible text
    visible = re.sub(r"<[^>]+>", " ", nb.split("</style>", 1)[1])
    visible = re.sub(r"\b\d{2}\.\d{2}\.\d{4}\b", "", visible)
    assert re.findall(r"\b\d{4}-\d{2}-\d{2}\b|\d\.\d", visible) == []
    assert "01.06.2026" in nb and "2026-06-01" in en
    for page in (nb, en):
        assert "<script" not in page and "http" not in page
        assert 'id="by-phase"' in page
    empty = render_phase_backtest_page(None, as_of=day)
    assert "har ikke kjørt" in empty and 'id="by-phase"' not in empty
    none = render_phase_backtest_page(rows.clear(), as_of=day, lang="en")
    assert "has not run" in none


def test_the_backtest_summary_and_the_stored_rows_read_back(tmp_path):
    from gjenganger.flows.steps import phases as step
    from gjenganger.store import db
    from gjenganger.store import phases as phase_store

    x, fit = _fitted(12, 120)
    result = pbt.backtest(x, fit.params, fit.scale)
    summary = step.backtest_summary(result)
    assert summary["custody_hidden_days"] == result["custody_hidden"]["days"]
    assert summary["next_14_days_windows"] == result["next_14_days"]["windows"]
    con = db.connect(tmp_path / "g.duckdb")
    try:
        from gjenganger.store import frames

        frames.replace_rows(
            con,
            "phase_backtest",
            pbt.as_rows(result).with_columns(
                pl.lit(dt.date(2026, 6, 1)).alias("as_of"),
                pl.lit(step.MODEL_VERSION).alias("model_version"),
            ),
        )
        stored = phase_store.phase_backtest(con)
    finally:
        con.close()
    assert stored is not None and stored.height == pbt.as_rows(result).height


def test_the_run_report_carries_the_phase_backtest():
    from gjenganger.flows import run_report
    from gjenganger.flows.steps import phases as step

    x, fit = _fitted(12, 120)
    summary = step.backtest_summary(pbt.backtest(x, fit.params, fit.scale))
    report = {
        "run": "r1",
        "status": "completed",
        "steps": [
            {"step": "phases", "status": "ok", "seconds": 1.0, "summary": {}},
        ],
    }
    assert "Phase back-test" not in run_report.markdown(report)
    report["steps"][0]["summary"]["backtest"] = summary
    text = run_report.markdown(report)
    assert "## Phase back-test" in text
    assert f"custody hidden: {summary['custody_hidden_days']} days" in text
    assert "next 14 days (" in text

"""Issue 14 item 2, in headless Chromium with the network blocked: the analyst
index links the back-test page, which shows its plain-words finding, the
calibration status and the reliability table, in bokmål and in English."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest

from gjenganger.maps.analyst_index import render_toplist_page
from gjenganger.maps.backtest_page import render_backtest_page

try:  # tests/ is a rootdir folder (no __init__.py) in this project
    from browser_support import open_offline
except ImportError:  # pragma: no cover
    from tests.browser_support import open_offline

pytestmark = pytest.mark.browser
AS_OF = dt.date(2026, 12, 6)


def _results():
    """Stored back-test results as `store.backtest.latest_results` gives them."""
    base = {
        "cases_confirmed_person_among_candidates": 200,
        "hit_at_5": 0.56,
        "hit_at_1_unweighted": 0.47,
        "ece": 0.024,
        "hypotheses": 1600,
        "brier_rank1": 0.13,
        "cached": False,
        "score_seconds": 30.0,
    }
    rows = [
        {"horizon_days": 90, "past_date": dt.date(2026, 9, 1), "kind": "raw"},
        {"horizon_days": 180, "past_date": dt.date(2026, 6, 1), "kind": "raw"},
        {"horizon_days": None, "past_date": None, "kind": "raw"},
        {"horizon_days": None, "past_date": None, "kind": "calibrated"},
    ]
    figures = pl.DataFrame(
        [
            {
                **base,
                **r,
                "cases_scored": 24315,
                "cases_confirmed": 337,
                "hit_at_1": 0.37,
                "hypotheses_p_ge_0_5": 135,
                "precision_p_ge_0_5": 0.82,
                "brier_skill_rank1": 0.43,
            }
            for r in rows
        ]
    )
    bands = pl.DataFrame(
        {
            "horizon_days": [None] * 4,
            "kind": ["raw", "raw", "calibrated", "calibrated"],
            "band_lo": [0.5, 0.6, 0.5, 0.6],
            "band_hi": [0.6, 0.7, 0.6, 0.7],
            "n": [58, 45, 55, 42],
            "mean_p": [0.55, 0.66, 0.55, 0.65],
            "share_confirmed": [0.66, 0.74, 0.54, 0.88],
        },
        schema_overrides={"horizon_days": pl.Int32},
    )
    recal = {"a": 1.0, "c": -0.4, "shrink": 1.0, "n_confirmed": 654}
    return figures, bands, {**recal, "status": "calibrated"}


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_back_test_page_is_linked_from_the_index_and_shown(tmp_path, lang):
    index = tmp_path / "index.html"
    index.write_text(render_toplist_page([], as_of=AS_OF, lang=lang), "utf-8")
    (tmp_path / "backtest.html").write_text(
        render_backtest_page(_results(), as_of=AS_OF, lang=lang), "utf-8"
    )
    seen = {}

    def follow(page):
        page.click("a[href='backtest.html']")
        page.wait_for_selector("#calibration-status", state="visible", timeout=5000)
        seen["url"] = page.url
        seen["text"] = page.inner_text("main").replace("\xa0", " ")
        seen["bands"] = page.locator("#reliability tr").count()

    report = open_offline(index, wait_for=None, actions=follow)
    assert report.errors == [] and report.blocked == []
    assert seen["url"].endswith("/backtest.html")
    assert seen["bands"] == 3  # header + two bands
    if lang == "nb":
        assert (
            "Av saker som var åpne 01.06.2026 og er oppklart siden (337 av 24 315), "
            "pekte modellen ut riktig person først i 37 %" in seen["text"]
        )
        assert "p på sidene er kalibrert" in seen["text"]
        assert "2026-06-01" not in seen["text"] and "0.55" not in seen["text"]
        # bokmål numbers and dates everywhere on the page: no ISO date, no
        # decimal point (dd.mm.yyyy dates are taken out first)
        text = re.sub(r"\b\d{2}\.\d{2}\.\d{4}\b", "", seen["text"])
        assert re.findall(r"\b\d{4}-\d{2}-\d{2}\b|\d\.\d", text) == []
    else:
        assert "Of the cases open on 2026-06-01 and solved since" in seen["text"]
        assert "right person first in 37%" in seen["text"]
        assert "oppklart" not in seen["text"]

"""Hypotheses are never counted as facts on any page (issue #14, item 5).

A hand-made person with three linked cases (one card fraud with card use), a
remand, one hypothesis at p = 0.9 (half of its window in the remand) and one at
p = 0.1 (the largest value and the latest case of all): the headline figures are
the linked cases' sums exactly, the hypotheses have their own figures from the
page threshold up, and the page says which is which.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import polars as pl
import pytest
from test_episodes import (
    candidates_frame,
    custody_frame,
    incident_frame,
    links_frame,
    tx_frame,
)
from test_timeline import page_data

from gjenganger.analytics import episodes as ep
from gjenganger.analytics import person_timeline as pt
from gjenganger.analytics import timeline_summary as ts
from gjenganger.flows.steps.timelines import TimelineData, person_page
from gjenganger.maps.analyst_index import render_toplist_page

D = dt.datetime
WHO = "personHEAD1"
AS_OF = dt.date(2025, 4, 10)
LINKED_NOK = 10_000 + 2_500 + 1_000 + 500  # two burglaries + approved card use


def world() -> TimelineData:
    """The person's frames as the timeline step loads them."""
    incidents = incident_frame(
        [
            {"incident_id": "L1", "value_nok": 10_000.0, "status": "solved"},
            {
                "incident_id": "L2",
                "value_nok": 2_500.0,
                "status": "solved",
                "occurred_from": D(2025, 3, 5, 1),
                "occurred_to": D(2025, 3, 5, 2),
            },
            {
                "incident_id": "L3",
                "offence_code": "card_fraud",
                "target_type": "person",
                "entry_method": "card_no_pin",
                "value_nok": 2_200.0,  # counted through its approved card use
                "lat": None,
                "lon": None,
                "occurred_from": D(2025, 3, 8, 10),
                "occurred_to": D(2025, 3, 8, 14),
            },
            {
                "incident_id": "H9",
                "value_nok": 40_000.0,
                "occurred_from": D(2025, 3, 19, 12),
                "occurred_to": D(2025, 3, 21, 12),
            },
            {
                "incident_id": "H1",
                "value_nok": 300_000.0,
                "occurred_from": D(2025, 4, 1, 1),
                "occurred_to": D(2025, 4, 1, 3),
            },
        ]
    )
    tx = tx_frame(
        [
            ("T1", "L3", "cardHEAD01", D(2025, 3, 8, 11), 1_000, True),
            ("T2", "L3", "cardHEAD01", D(2025, 3, 8, 12), 500, True),
            ("T3", "L3", "cardHEAD01", D(2025, 3, 8, 13), 700, False),
        ]
    )
    links = links_frame([("L1", WHO), ("L2", WHO), ("L3", WHO)])
    cands = candidates_frame([("H9", WHO, 0.9, 1), ("H1", WHO, 0.1, 1)])
    cands = cands.with_columns(as_of=pl.lit(AS_OF))
    custody = custody_frame(
        [("K1", WHO, "remand", D(2025, 3, 20, 12), D(2025, 3, 25, 12))]
    )
    return TimelineData(
        as_of=AS_OF,
        incidents=incidents,
        links=links,
        transactions=tx,
        custody=custody,
        candidates=cands,
        levels=None,
        episodes=ep.attach_persons(ep.detect_episodes(tx), links, cands),
    )


def events() -> pl.DataFrame:
    d = world()
    return pt.person_events(
        WHO, d.incidents, d.links, d.transactions, d.custody, candidates=d.candidates
    )


def visible(page: str) -> str:
    """The page's text a reader sees (no scripts, no tags)."""
    text = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    text = re.sub(r"<style.*?</style>", "", text, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)))


# ------------------------------------------------------------------ the figures
def test_the_headline_is_the_linked_cases_sums_exactly():
    s = ts.person_summary(events(), ep.detect_episodes(tx_frame([])))
    assert s["nok_total"] == LINKED_NOK
    # 3 linked cases, their 3 card transactions, the remand; no hypothesis
    assert s["n_events"] == 7 and s["n_linked"] == 3
    assert s["by_lane"] == {"acquisitive": 2, "fraud": 1, "card": 3, "custody": 1}
    assert s["max_36h_nok"] == 10_000
    assert s["span_end"] == D(2025, 3, 25, 12)  # the last fact, not H1 on 1 April
    # the hypotheses' own figures: only p = 0.9 from the threshold 0.3 up
    assert s["hypotheses_min_p"] == ts.PAGE_MIN_P == 0.3
    assert s["n_hypotheses"] == 1 and s["hypotheses_nok"] == 40_000
    assert s["n_hypotheses_hidden"] == 1
    assert s["hypotheses_start"] == D(2025, 3, 20, 12)
    # a lower threshold shows both, still apart from the facts
    low = ts.person_summary(events(), ep.detect_episodes(tx_frame([])), min_p=0.05)
    assert low["nok_total"] == LINKED_NOK and low["n_events"] == 7
    assert low["n_hypotheses"] == 2 and low["hypotheses_nok"] == 340_000
    assert low["n_hypotheses_hidden"] == 0


def test_a_hypothesis_partly_in_custody_says_the_share():
    shares = ts.custody_shares(events())
    assert shares.rows() == [("H9", 0.5, "remand")]


# ------------------------------------------------------------------ the pages
def test_the_page_labels_facts_and_hypotheses_and_draws_no_low_hypothesis(con):
    page, counts = person_page(con, world(), WHO, lang="nb")
    assert counts["nok_total"] == LINKED_NOK and counts["events"] == 7
    assert counts["hypotheses"] == 1 and counts["hypotheses_nok"] == 40_000
    assert counts["hypotheses_hidden"] == 1 and counts["min_p"] == 0.3
    text = visible(page)
    assert "NOK totalt, koblede saker 14 000 kr" in text
    assert "Hendelser (uten hypoteser) 7" in text
    assert "Hypoteser, p ≥ 0,3 1 sak · 40 000 kr" in text
    assert "Hypoteser med p < 0,3 er verken vist eller talt med: 1." in text
    assert "attribusjonsvinduet: de 365 dagene fram til 10.04.2025" in text
    assert "300 000" not in page  # the p = 0.1 case is neither drawn nor counted
    data = page_data(page)
    ids = {e["id"] for e in data["events"]}
    assert "H9" in ids and "H1" not in ids
    assert data["cumulative"][-1][1] == pytest.approx(1_500)
    assert data["custody"] == {"H9": "i varetekt 50 % av tidsvinduet"}
    window = [b for b in data["bands"] if b["kind"] == "attribution_window"]
    assert len(window) == 1 and window[0]["name"] == "Attribusjonsvindu (365 dager)"


def test_the_threshold_is_an_argument_and_a_setting(con, monkeypatch):
    _, counts = person_page(con, world(), WHO, min_p=0.05)
    assert counts["hypotheses"] == 2 and counts["nok_total"] == LINKED_NOK
    monkeypatch.setenv("GJENGANGER_PAGE_MIN_P", "0.95")
    page, counts = person_page(con, world(), WHO, lang="en")
    assert counts["hypotheses"] == 0 and counts["hypotheses_hidden"] == 2
    assert "Hypotheses, p ≥ 0.95" in visible(page)
    from gjenganger.errors import UserError

    monkeypatch.setenv("GJENGANGER_PAGE_MIN_P", "high")
    with pytest.raises(UserError, match="GJENGANGER_PAGE_MIN_P"):
        person_page(con, world(), WHO)


def test_the_index_counts_facts_and_shows_hypotheses_and_uncertainty_apart(con):
    _, counts = person_page(con, world(), WHO)
    row = {
        "rank": 1,
        "person_id": WHO,
        "href": f"timelines/{WHO}.html",
        "phase": "phase2",
        "phase_p": 0.55,
        "phase_uncertain": True,
        **counts,
    }
    text = visible(render_toplist_page([row], as_of=AS_OF, min_p=counts["min_p"]))
    assert "NOK totalt, koblede saker" in text and "Hypoteser, p ≥ 0,3" in text
    cells = text.split(WHO, 1)[1]
    assert re.search(r"3 7 14 000 kr 10 000 kr 1 40 000 kr 25\.03\.2025", cells)
    assert "(p=0,55, usikker)" in cells


@pytest.mark.browser
def test_the_tooltip_of_a_hypothesis_says_its_share_in_custody(con, tmp_path):
    from browser_support import open_offline

    page, _ = person_page(con, world(), WHO, lang="en")
    path = tmp_path / "headlines.html"
    path.write_text(page, encoding="utf-8")
    seen = {}

    def hover(pg):
        pg.wait_for_function("() => window.gjTimeline && window.gjTimeline.ready")
        pg.evaluate(  # the ten days around H9 (months count from 0)
            "() => window.gjTimeline.zoomTo(Date.UTC(2025, 2, 15),"
            " Date.UTC(2025, 2, 26))"
        )
        pg.wait_for_timeout(300)
        x, y = pg.evaluate("() => window.gjTimeline.pixelOf('H9')")
        pg.mouse.move(x, y)
        pg.wait_for_selector(".gj-tooltip .gj-custody", state="visible", timeout=5000)
        seen["tooltip"] = pg.inner_text(".gj-tooltip")

    report = open_offline(
        path,
        wait_for="() => window.gjTimeline !== undefined",
        actions=hover,
        screenshot=tmp_path / "headlines.png",
        viewport=(1400, 1000),
    )
    assert report.errors == [] and report.blocked == []
    assert "HYPOTHESIS (p=0.90)" in seen["tooltip"]
    assert "in remand for 50 % of the offence window" in seen["tooltip"]

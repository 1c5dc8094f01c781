"""maps.timeline, maps.event_map, maps.analyst_index, `gjenganger timeline`: pages."""

from __future__ import annotations

import datetime as dt
import json
import re

import polars as pl
import pytest
from test_episodes import OTHER, PERSON, ingest_small_db, spree_tx, timeline_inputs

from gjenganger.analytics import episodes as ep
from gjenganger.analytics import person_timeline as pt
from gjenganger.maps.event_map import build_event_map
from gjenganger.maps.offline import assert_no_remote_refs, render_offline
from gjenganger.maps.timeline import format_nok, render_timeline_page
from gjenganger.maps.timeline_chart import chart_payload

try:  # tests/ is a rootdir folder (no __init__.py) in this project
    from browser_support import open_offline
except ImportError:  # pragma: no cover
    from tests.browser_support import open_offline

D = dt.datetime


def page_for(
    person: str = PERSON, lang: str = "nb", with_map: bool = True, **kw
) -> str:
    incidents, links, tx, custody, cands = timeline_inputs()
    events = pt.person_events(
        person, incidents, links, tx, custody, candidates=cands, **kw
    )
    episodes = ep.attach_persons(ep.detect_episodes(spree_tx()), links, cands)
    episodes = episodes.filter(pl.col("person_id") == person)
    summary = pt.person_summary(events, episodes)
    bands = pl.DataFrame(
        {
            "kind": ["use_period", "phase", "phase"],
            "label": ["#1", "phase2", "phase3"],
            "start_at": [D(2025, 2, 25), D(2025, 2, 28), D(2025, 3, 2)],
            "end_at": [D(2025, 3, 3), D(2025, 3, 2), D(2025, 3, 3)],
        }
    )
    map_html = render_offline(build_event_map(events, lang=lang)) if with_map else None
    return render_timeline_page(
        person, events, summary, lang=lang, bands=bands, map_html=map_html
    )


def page_data(page: str) -> dict:
    """The chart's JSON with its column-wise events decoded into dicts."""
    raw = re.search(
        r'<script type="application/json" id="gj-data">(.*?)</script>', page, re.S
    )
    data = json.loads(raw.group(1).replace("<\\/", "</"))
    c = data["events"]
    events = []
    for i in range(c["n"]):
        e = {
            "id": c["id"][i],
            "t": c["base"] + 1000 * c["t"][i],
            "lk": c["lk"][i] == 1,
            "v": c["v"][i],
            "p": c["p"][i],
            "inc": c["inc"][i],
        }
        for key in ("ln", "off", "cr", "mc", "ck"):
            j = c[key][i]
            e[key] = None if j == -1 else c["dict"][key][j]
        events.append(e)
    data["events"] = events
    return data


def map_srcdoc(page: str) -> str:
    raw = re.search(
        r'<script type="text/plain" id="gj-map-src">(.*?)</script>', page, re.S
    )
    return raw.group(1).replace("<#/script", "</script").replace("<#!--", "<!--")


def test_the_page_inlines_echarts_and_the_map_and_references_nothing_remote():
    page = page_for()
    assert "Apache ECharts 5.6.0" in page and "echarts.init" in page
    assert_no_remote_refs(page)
    inner = map_srcdoc(page)
    assert "L.circleMarker" in inner and "gj-replay" in inner
    assert_no_remote_refs(inner)
    assert "<script src=" not in page


def test_the_chart_has_a_lane_per_kind_sizes_colours_and_bands():
    data = page_data(page_for())
    assert [lane["key"] for lane in data["lanes"]] == [
        "acquisitive",
        "fraud",
        "card",
        "arrest",
        "custody",
    ]
    card = [e for e in data["events"] if e["ln"] == "card"]
    assert len(card) == 9 and all("v" in e and "t" in e for e in card)
    assert {b["kind"] for b in data["bands"]} == {"use_period", "phase"}
    # the running total is the linked cases' card use: the hypothesis INC-online's
    # 900 kr (p = 0.41) is never added to it
    assert data["cumulative"][-1][1] == pytest.approx(44700)
    assert data["colours"]["levels"]["1"] == "#E69F00"  # Okabe-Ito orange


def test_attributed_cases_are_hypotheses_with_p_and_never_linked():
    data = page_data(page_for())
    hyp = {e["id"]: e for e in data["events"] if e.get("lk") is False}
    assert set(hyp) >= {"INC-bod", "T9"}
    assert hyp["INC-bod"]["p"] == pytest.approx(0.62)
    assert "INC-else" not in {e["id"] for e in data["events"]}


def test_a_person_seen_only_through_attribution_is_never_shown_as_linked():
    incidents, links, tx, custody, cands = timeline_inputs()
    only = "personHYPO9"
    cands = pl.concat(
        [
            cands,
            pl.DataFrame(
                {
                    "incident_id": ["INC-card"],
                    "person_id": [only],
                    "p": [0.7],
                    "rank": [1],
                    "as_of": [dt.date(2025, 3, 10)],
                }
            ),
        ]
    )
    # INC-card is linked to PERSON, so it stays PERSON's; give `only` the bod case.
    cands = cands.with_columns(
        person_id=pl.when(pl.col("incident_id") == "INC-bod")
        .then(pl.lit(only))
        .otherwise(pl.col("person_id"))
    )
    events = pt.person_events(only, incidents, links, tx, custody, candidates=cands)
    assert events.height == 1 and not events["is_linked"].any()
    summary = pt.person_summary(events, ep.detect_episodes(tx.head(0)))
    page = render_timeline_page(only, events, summary, map_html=None)
    text = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    assert 'id="gj-only-hypotheses"' in page
    assert re.search(r'id="gj-n-linked">0<', page)
    assert "koblet i saksregisteret" not in text
    data = page_data(page)
    assert all(e["lk"] is False for e in data["events"])


def test_english_labels_with_lang_en():
    page = page_for(lang="en", with_map=False)
    assert '<html lang="en">' in page
    assert "Largest NOK total within 36 hours" in page and "NOK 45,000" not in page
    assert page_data(page)["labels"]["lane_card"] == "Card use"
    assert format_nok(44000, "en") == "NOK 44,000" and format_nok(44000) == "44 000 kr"


def test_chart_payload_of_no_events_still_has_a_lane():
    empty = pt.person_events("nobody123", *timeline_inputs()[:4])
    payload = chart_payload(empty)
    assert payload["events"]["n"] == 0 and payload["lanes"]


@pytest.mark.browser
def test_chromium_opens_the_page_offline_and_reads_a_card_amount_from_a_tooltip(
    tmp_path,
):
    path = tmp_path / "timeline.html"
    path.write_text(page_for(), encoding="utf-8")
    seen = {}

    def hover(page):
        page.wait_for_function("() => window.gjTimeline && window.gjTimeline.ready")
        x, y = page.evaluate("() => window.gjTimeline.pixelOf('T3')")  # 12,000 kr
        page.mouse.move(x, y)
        page.wait_for_selector(".gj-tooltip .gj-amount", state="visible", timeout=5000)
        seen["tooltip"] = page.inner_text(".gj-tooltip")
        seen["amount"] = page.inner_text(".gj-tooltip .gj-amount")
        frame = page.frame_locator("#gj-map")
        seen["replay"] = frame.locator(".gj-replay").count()

    report = open_offline(
        path,
        wait_for="() => window.gjTimeline !== undefined",
        actions=hover,
        screenshot=tmp_path / "timeline.png",
        viewport=(1400, 1000),
    )
    assert report.errors == []
    assert report.blocked == []  # nothing even tried the network
    assert re.sub(r"\D", "", seen["amount"]) == "12000"
    assert "Kortbruk" in seen["tooltip"] and "koblet" in seen["tooltip"]
    assert seen["replay"] == 1
    assert report.screenshot.stat().st_size > 10_000


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    return ingest_small_db(tmp_path_factory.mktemp("timeline"))


def test_the_timeline_command_writes_a_48_hour_page(small_db, tmp_path, capsys):
    from gjenganger.cli import main

    out = tmp_path / "p.html"
    args = [
        "timeline",
        "--db",
        str(small_db),
        "--person",
        PERSON,
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-02",
        "--out",
        str(out),
        "--json",
    ]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["episodes"] == 1 and summary["max_36h_nok"] >= 44700
    assert summary["linked"] == 1  # the retracted link does not count
    page = out.read_text(encoding="utf-8")
    assert_no_remote_refs(page)
    ids = {e["id"] for e in page_data(page)["events"]}
    assert "INC-gone" not in ids  # retracted
    assert {e["ln"] for e in page_data(page)["events"]} >= {"card", "fraud", "arrest"}


def test_the_timeline_command_rejects_an_unknown_person_and_bad_dates(
    small_db, tmp_path, capsys
):
    from gjenganger.cli import main

    out = str(tmp_path / "x.html")
    assert (
        main(["timeline", "--db", str(small_db), "--person", "nobody123", "--out", out])
        == 2
    )
    assert "nobody123" in capsys.readouterr().err
    bad = [
        "timeline",
        "--db",
        str(small_db),
        "--person",
        PERSON,
        "--from",
        "2025-03-05",
        "--to",
        "2025-03-01",
        "--out",
        out,
    ]
    assert main(bad) == 2
    assert "--to" in capsys.readouterr().err


def test_the_analyst_bundle_links_the_top_list_to_timelines_and_lists_episodes(
    small_db, tmp_path
):
    from nightly_publish import publish_analyst

    summary = publish_analyst(small_db, tmp_path / "analyst", dt.date(2025, 3, 10))
    assert summary["timelines"] == 1 and summary["episodes"] == 1
    assert PERSON not in json.dumps(summary)  # counts only, no pseudonyms
    index = (tmp_path / "analyst" / "index.html").read_text(encoding="utf-8")
    assert f'href="timelines/{PERSON}.html"' in index
    assert (tmp_path / "analyst" / "timelines" / f"{PERSON}.html").exists()
    episodes = (tmp_path / "analyst" / "episodes.html").read_text(encoding="utf-8")
    assert "44 700 kr" in episodes and "koblet" in episodes
    assert (
        OTHER not in index
    )  # attributed-only persons are not on the fallback top list
    for page in (index, episodes):
        assert_no_remote_refs(page)


def test_the_bundle_reads_the_episodes_the_episodes_step_stored(small_db):
    from gjenganger.errors import UserError
    from gjenganger.flows import tasks
    from gjenganger.flows.steps.timelines import load_timeline_data
    from gjenganger.store import db

    day = dt.date(2025, 3, 10)
    tasks.episodes_task.fn(str(small_db), day)
    con = db.connect(small_db, read_only=True, migrate=False)
    try:
        stored = load_timeline_data(con, day, stored_episodes=True).episodes
        found = load_timeline_data(con, day).episodes  # what the command finds
        with pytest.raises(UserError, match="episodes step"):
            load_timeline_data(con, day + dt.timedelta(days=1), stored_episodes=True)
    finally:
        con.close()
    assert stored.height == 1 and stored.equals(found)

"""Issue 17, analysts, in headless Chromium with the network blocked: linked cases
drawn over hypotheses, the thinned replay path with its legend and layer control,
the episodes table's sort and filter, and each page's language (bokmål: no ISO
date, no decimal point; English: no Norwegian words)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from test_analyst_pages import WHO, episodes_frame, map_events
from test_episodes import PERSON, ingest_small_db

from gjenganger.flows.steps.analyst import bundle_episodes
from gjenganger.maps.analyst_index import render_episodes_page
from gjenganger.maps.event_map import PATH_STEPS, build_event_map
from gjenganger.maps.offline import render_offline

try:  # tests/ is a rootdir folder (no __init__.py) in this project
    from browser_support import layer_control_labels, offline_browser, open_offline
except ImportError:  # pragma: no cover
    from tests.browser_support import (
        layer_control_labels,
        offline_browser,
        open_offline,
    )

pytestmark = pytest.mark.browser
D = dt.datetime


def write_map(tmp_path, events, lang: str = "nb"):
    path = tmp_path / f"map-{lang}.html"
    path.write_text(render_offline(build_event_map(events, lang=lang)), "utf-8")
    return path


def test_hovering_a_linked_case_under_a_hypothesis_shows_the_linked_case(tmp_path):
    day = {"occurred_from": D(2025, 3, 1, 1), "occurred_to": D(2025, 3, 1, 3)}
    rows = [
        {"incident_id": "L1", "value_nok": 500.0, **day},
        {"incident_id": "L2", "value_nok": 800.0, "lon": 10.39003, **day},
        # later (drawn after) and larger: without panes it would cover L1 and L2
        {
            "incident_id": "H1",
            "value_nok": 900_000.0,
            "lat": 63.43001,
            "occurred_from": D(2025, 3, 1, 5),
            "occurred_to": D(2025, 3, 1, 6),
        },
    ]
    events = map_events(rows, {"L1", "L2"}, [("H1", WHO, 0.8, 1)])
    seen = {}

    def hover(page):
        groups = page.evaluate(
            "() => window.gjReplay.groups.map(g => [g.h, g.members.length])"
        )
        linked = groups.index([0, 2])  # L1 and L2: one marker of two
        x, y = page.evaluate(f"() => window.gjReplay.pixelOf({linked})")
        page.mouse.move(x, y)
        page.wait_for_selector(".leaflet-tooltip", state="visible", timeout=5000)
        seen["tooltip"] = page.inner_text(".leaflet-tooltip")
        seen["controls"] = layer_control_labels(page)
        seen["legend"] = page.inner_text(".gj-legend")
        seen["count"] = page.inner_text(".gj-count-icon")

    report = open_offline(write_map(tmp_path, events), actions=hover)
    assert report.errors == [] and report.blocked == []
    assert "koblet i saksregisteret" in seen["tooltip"]
    assert "HYPOTESE" not in seen["tooltip"]
    assert "2 hendelser samme sted og dag" in seen["tooltip"]
    assert "L1" in seen["tooltip"] and "L2" in seen["tooltip"]
    assert seen["count"] == "2"
    assert {"Koblede saker", "Hypoteser (attribuert, hule)"} <= set(seen["controls"])
    assert f"Vei, siste {PATH_STEPS} steg" in seen["controls"]
    assert (
        "Nivå 3 (organisert)" in seen["legend"] and "Tegnforklaring" in seen["legend"]
    )


def test_the_replay_path_joins_only_the_last_steps(tmp_path):
    start = D(2025, 1, 1, 2)
    rows = [
        {
            "incident_id": f"I{i:04d}",
            "lat": 63.40 + (i % 37) / 1000,
            "lon": 10.35 + (i % 53) / 1000,
            "occurred_from": start + dt.timedelta(hours=7 * i),
            "occurred_to": start + dt.timedelta(hours=7 * i + 1),
        }
        for i in range(3 * PATH_STEPS)
    ]
    events = map_events(rows, {r["incident_id"] for r in rows}, [])
    report = open_offline(
        write_map(tmp_path, events),
        evaluate=[
            "window.gjReplay.count",
            "window.gjReplay.segments()",
            "(window.gjReplay.show(50), window.gjReplay.segments())",
            "(window.gjReplay.show(400), window.gjReplay.segments())",
        ],
    )
    assert report.errors == []
    values = list(report.values.values())
    assert values[0] == 3 * PATH_STEPS
    assert values[1] == PATH_STEPS  # not 599 segments
    assert values[2] == 49 and values[3] == PATH_STEPS


def test_the_episodes_page_opens_newest_first_sorts_and_filters(tmp_path):
    as_of = dt.date(2025, 4, 15)
    path = tmp_path / "episodes.html"
    path.write_text(
        render_episodes_page(bundle_episodes(episodes_frame(), as_of), as_of=as_of),
        "utf-8",
    )
    first_column = (
        "() => Array.from(document.querySelectorAll('#episodes tbody tr'))"
        ".filter(r => r.style.display !== 'none')"
        ".map(r => r.cells[COL].getAttribute('data-v'))"
    )
    seen = {}

    def use(page):
        seen["start"] = page.evaluate(first_column.replace("COL", "0"))
        page.click("#episodes th[data-col='4']")  # Sum
        seen["total"] = page.evaluate(first_column.replace("COL", "4"))
        page.click("#episodes th[data-col='4']")
        seen["total_up"] = page.evaluate(first_column.replace("COL", "4"))
        page.fill("#gj-filter", "card017")
        seen["filtered"] = page.evaluate(first_column.replace("COL", "7"))
        seen["shown"] = page.inner_text("#gj-shown")

    report = open_offline(path, wait_for=None, actions=use)
    assert report.errors == [] and report.blocked == []
    assert seen["start"] == sorted(seen["start"], reverse=True)
    assert seen["start"][0].startswith("2025-03-30")
    totals = [float(v) for v in seen["total"]]
    assert totals == sorted(totals, reverse=True) and totals != [
        float(v) for v in seen["total_up"]
    ]
    assert [float(v) for v in seen["total_up"]] == sorted(totals)
    assert len(seen["filtered"]) == 1 and seen["shown"] == "1 av 30 rader vises."


# ------------------------------------------------------------------ language
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
NB_DATE = re.compile(r"\b\d{2}\.\d{2}\.\d{4}\b")
DECIMAL_POINT = re.compile(r"\d\.\d")
#: product and licence names, not numbers (Leaflet's and ECharts' versions)
NAMES = re.compile(r"ECharts \d+(\.\d+)+|Apache-2\.0|CC BY 4\.0")
NORWEGIAN = re.compile(
    r"\b(kr|hypotese|usikker|dager|Laget|koblet|sak|saker|Spill av|Tegnforklaring"
    r"|Kommunegrenser|siste|hendelser|og)\b",
    re.I,
)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """The analyst bundle of the small database, in bokmål and in English."""
    from nightly_publish import publish_analyst

    root = tmp_path_factory.mktemp("bundles")
    db = ingest_small_db(root)
    for lang in ("nb", "en"):
        publish_analyst(db, root / lang, dt.date(2025, 3, 10), lang)
    return root


def page_texts(path) -> list[str]:
    """What a reader sees on the page: its text, its map's text, a chart tooltip
    and a map tooltip."""
    texts = []
    with offline_browser() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.route(lambda u: u.startswith(("http:", "https:")), lambda r: r.abort())
        page = context.new_page()
        page.goto(path.resolve().as_uri(), wait_until="load")
        page.wait_for_timeout(800)
        texts.append(page.inner_text("body"))
        if page.evaluate("() => !!window.gjTimeline"):
            for event in page.evaluate("() => window.gjTimeline.data.events"):
                x, y = page.evaluate(
                    f"() => window.gjTimeline.pixelOf('{event['id']}')"
                )
                page.mouse.move(x, y)
                page.wait_for_timeout(150)
                texts.append(
                    page.evaluate(
                        "() => (document.querySelector('.gj-tooltip') || {})"
                        ".innerText || ''"
                    )
                )
            frame = page.frames[1]
            frame.wait_for_function("() => !!window.gjReplay")
            texts.append(frame.inner_text("body"))
            frame.evaluate(
                "() => window.gjReplay.groups.forEach(g => g.marker.openTooltip())"
            )
            texts.append(frame.inner_text(".leaflet-tooltip-pane"))
        context.close()
    return texts


def test_bokmal_pages_write_no_iso_date_and_no_decimal_point(bundles):
    pages = [
        bundles / "nb" / "index.html",
        bundles / "nb" / "episodes.html",
        bundles / "nb" / "timelines" / f"{PERSON}.html",
    ]
    for path in pages:
        texts = page_texts(path)
        text = NAMES.sub("", "\n".join(texts))
        assert NB_DATE.search(text), path.name  # dates are there, as dd.mm.yyyy
        assert ISO_DATE.findall(text) == [], path.name
        without_dates = NB_DATE.sub("", text)
        hits = [
            without_dates[m.start() - 20 : m.end() + 5]
            for m in DECIMAL_POINT.finditer(without_dates)
        ]
        assert hits == [], (path.name, hits)
    readme = (bundles / "nb" / "attribution-hypotheses.README.txt").read_text("utf-8")
    assert ISO_DATE.findall(readme) == [] and "HYPOTESER" in readme


def test_english_pages_carry_no_norwegian_words(bundles):
    for name in ("index.html", "episodes.html", f"timelines/{PERSON}.html"):
        text = NAMES.sub("", "\n".join(page_texts(bundles / "en" / name)))
        assert NORWEGIAN.findall(text) == [], name
        assert "NOK" in text
    readme = (bundles / "en" / "attribution-hypotheses.README.txt").read_text("utf-8")
    assert NORWEGIAN.findall(readme.replace("attribution_candidates", "")) == []

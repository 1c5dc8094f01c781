"""The hotspot map as a crime-prevention officer uses it, in headless Chromium with
the network blocked (issue #17): a configured tile source fetched from a local
server, place names in tooltips without tiles, a legend that folds away and never
covers the scale bar, the week slider only with its layer and on the newest week,
the empty state, and bokmål number and date formats (English with lang="en")."""

from __future__ import annotations

import datetime as dt
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from test_hotspots_data import simulate

from gjenganger.analytics.hotspots import Params, analyse
from gjenganger.flows.steps.hotspots import write_hotspot_index, write_map
from gjenganger.maps.i18n import t

try:
    from browser_support import layer_control_labels, open_offline
except ImportError:  # pragma: no cover
    from tests.browser_support import layer_control_labels, open_offline

pytestmark = pytest.mark.browser

AS_OF = dt.date(2025, 4, 20)
# a 1x1 transparent PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

# JS: the folium map object of the page
MAP = "Object.values(window).find(v => v instanceof L.Map)"
# JS: zoom to the first cell whose Gi* class is `b` and return its centre in
# page pixels (the map draws on a canvas: hover by position, not by element)
CELL_XY = (
    """(b) => { const map = """
    + MAP
    + """; let cell = null;
  map.eachLayer(l => { if (!cell && l.feature && l.feature.properties
                            && l.feature.properties.b === b) cell = l; });
  if (!cell) return null;
  map.setView(cell.getBounds().getCenter(), 15, {animate: false});
  const p = map.latLngToContainerPoint(cell.getBounds().getCenter());
  const r = map.getContainer().getBoundingClientRect();
  return [r.left + p.x, r.top + p.y]; }"""
)
# dates written dd.mm.yyyy, removed before looking for numbers
NB_DATE = re.compile(r"\b\d{2}\.\d{2}\.\d{4}\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


@pytest.fixture(scope="module")
def results():
    frame = simulate(1500, seed=21, start=dt.date(2024, 6, 1), days=330)
    params = Params(knox_n_perm=19, slider_weeks=8)
    busy = analyse(frame, AS_OF, params=params)
    # two months after the last incident: nothing in the window, nothing hot
    quiet = analyse(frame, AS_OF + dt.timedelta(days=70), params=params)
    assert int((busy.cells["gi_bin"] == 3).sum()) > 0
    assert int((quiet.cells["gi_bin"] > 0).sum()) == 0
    return {"busy": busy, "quiet": quiet}


@pytest.fixture(scope="module")
def pages(results, tmp_path_factory):
    root = tmp_path_factory.mktemp("hotspot-pages")
    out = {}
    for name, res in results.items():
        for lang in ("nb", "en"):
            path = root / f"{name}-{lang}.html"
            write_map(res, path, lang)
            out[name, lang] = path
    return out


def _hover_hot_cell(page, found: dict) -> None:
    xy = page.evaluate(CELL_XY, 3)
    page.wait_for_timeout(300)
    page.mouse.move(xy[0] - 30, xy[1] - 30)
    page.mouse.move(*xy, steps=5)
    page.wait_for_selector(".leaflet-tooltip", timeout=5_000)
    found["tooltip"] = page.inner_text(".leaflet-tooltip")


def _box(page, selector: str) -> dict:
    return page.evaluate(
        "(s) => { const r = document.querySelector(s).getBoundingClientRect();"
        " return {l: r.left, t: r.top, r: r.right, b: r.bottom}; }",
        selector,
    )


def _overlap(a: dict, b: dict) -> bool:
    return a["l"] < b["r"] and b["l"] < a["r"] and a["t"] < b["b"] and b["t"] < a["b"]


class _Tiles(BaseHTTPRequestHandler):
    """Any path: the same tiny PNG; every path asked for is recorded."""

    requested: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).requested.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def tile_server():
    _Tiles.requested = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Tiles.requested
    finally:
        server.shutdown()
        server.server_close()


def test_a_configured_tile_source_is_fetched_from_the_local_server(
    results, tile_server, tmp_path, monkeypatch
):
    base, requested = tile_server
    monkeypatch.setenv("GJENGANGER_TILES_URL", base + "/tiles/{z}/{x}/{y}.png")
    monkeypatch.setenv("GJENGANGER_TILES_ATTRIBUTION", "© Testkart")
    monkeypatch.setenv("GJENGANGER_TILES_NAME", "Testkart (lokal)")
    path = tmp_path / "tiles.html"
    write_map(results["busy"], path, "nb")
    report = open_offline(
        path,
        allow_hosts=("127.0.0.1",),
        evaluate=["document.body.innerText"],
        settle_ms=1500,
    )
    tiles = [p for p in requested if re.fullmatch(r"/tiles/\d+/\d+/\d+\.png", p)]
    assert len(tiles) >= 4, requested
    assert report.allowed and all(u.startswith(base) for u in report.allowed)
    assert report.blocked == [] and report.errors == []
    text = report.values["document.body.innerText"]
    assert "Bakgrunnskart: Testkart (lokal)" in text and "© Testkart" in text


def test_without_tiles_the_page_names_the_outline_map_and_requests_nothing(pages):
    report = open_offline(pages["busy", "nb"], evaluate=["document.body.innerText"])
    assert report.blocked == [] and report.errors == []
    text = report.values["document.body.innerText"]
    assert f"{t('basemap', 'nb')}: {t('basemap_offline', 'nb')}" in text


def test_without_tiles_a_cell_tooltip_names_its_district_and_nearest_place(pages):
    found: dict = {}
    report = open_offline(
        pages["busy", "nb"], actions=lambda page: _hover_hot_cell(page, found)
    )
    assert report.errors == []
    tip = found["tooltip"]
    assert t("hot_99", "nb") in tip and t("place", "nb") in tip
    districts = ("Midtbyen", "Østbyen", "Lerkendal", "Heimdal")
    assert any(f"{d}, Trondheim" in tip for d in districts), tip
    assert re.search(r"ca\. \d+(,\d)? k?m fra \w", tip), tip


def test_the_legend_folds_away_and_never_covers_the_scale_bar(pages):
    seen: dict = {}

    def actions(page) -> None:
        seen["open_body"] = page.is_visible(".gj-legend-body")
        seen["open"] = _box(page, ".gj-legend")
        seen["scale"] = _box(page, ".leaflet-control-scale")
        page.click(".gj-legend-toggle")
        seen["closed_body"] = page.is_visible(".gj-legend-body")
        seen["closed"] = _box(page, ".gj-legend")
        seen["scale_after"] = _box(page, ".leaflet-control-scale")
        seen["expanded"] = page.get_attribute(".gj-legend-toggle", "aria-expanded")
        page.click(".gj-legend-toggle")
        seen["reopened_body"] = page.is_visible(".gj-legend-body")

    report = open_offline(pages["busy", "nb"], actions=actions, viewport=(1000, 640))
    assert report.errors == []
    assert seen["open_body"] and not seen["closed_body"] and seen["reopened_body"]
    assert seen["expanded"] == "false"
    assert seen["open"]["b"] - seen["open"]["t"] > 150  # a real legend, expanded
    assert seen["closed"]["b"] - seen["closed"]["t"] < 50  # just its title
    assert not _overlap(seen["open"], seen["scale"])
    assert not _overlap(seen["closed"], seen["scale_after"])
    assert seen["scale"]["t"] < 640 and seen["scale"]["r"] > seen["scale"]["l"]


def test_the_week_slider_shows_only_with_its_layer_and_opens_on_the_newest_week(
    pages, results
):
    res = results["busy"]
    n = res.params.slider_weeks
    newest = res.as_of + dt.timedelta(days=1) - dt.timedelta(days=7)
    label = f"{t('week', 'nb')} {newest.isocalendar().week} ({newest:%d.%m.%Y})"
    seen: dict = {}
    control = ".leaflet-bar-timecontrol"
    layer = t("layer_weekly", "nb")

    def actions(page) -> None:
        seen["before"] = page.is_visible(control)
        page.locator(".leaflet-control-layers-overlays label", has_text=layer).click()
        page.wait_for_timeout(400)
        seen["on"] = page.is_visible(control)
        seen["date"] = page.inner_text(".timecontrol-date")
        seen["heat"] = page.evaluate(
            "() => document.querySelectorAll('.heatmap-canvas').length"
        )
        page.locator(".leaflet-control-layers-overlays label", has_text=layer).click()
        page.wait_for_timeout(300)
        seen["off"] = page.is_visible(control)

    report = open_offline(pages["busy", "nb"], actions=actions)
    assert report.errors == []
    assert not seen["before"] and seen["on"] and not seen["off"]
    assert seen["date"].strip() == label, (seen["date"], label, n)
    assert seen["heat"] >= 1


def test_a_map_without_hot_cells_says_so_and_what_was_tested(pages, results):
    quiet = results["quiet"]
    c = quiet.cells
    tested = int(((c["count"] > 0) | (c["previous"] > 0)).sum())
    assert tested >= 30
    texts = {}
    for lang in ("nb", "en"):
        report = open_offline(
            pages["quiet", lang],
            evaluate=[
                "document.querySelector('.gj-empty') && "
                "document.querySelector('.gj-empty').innerText"
            ],
        )
        assert report.errors == []
        texts[lang] = next(iter(report.values.values()))
    nb, en = texts["nb"], texts["en"]
    assert "Ingen signifikante brennpunkter i perioden" in nb
    assert "No significant hot spots in this period" in en
    a, b = quiet.window
    assert f"{a:%d.%m.%Y}–{b:%d.%m.%Y}" in nb and f"{a}–{b}" in en
    n_nb = f"{tested:,}".replace(",", "\u00a0")
    assert f"{n_nb} ruter à 250 m" in nb and f"{tested:,} cells of 250 m" in en
    assert "Gi*" in nb and "signifikansnivå 10 %" in nb and "28 dager" in nb
    busy = open_offline(
        pages["busy", "nb"], evaluate=["document.querySelectorAll('.gj-empty').length"]
    )
    assert next(iter(busy.values.values())) == 0


def _numbers_wrong_in_bokmal(text: str) -> list[str]:
    """ISO dates, decimal points, and unspaced runs of 4+ digits in `text` (the
    licence name "CC BY 4.0" is a name, not a number)."""
    bad = ISO_DATE.findall(text)
    rest = NB_DATE.sub(" ", text.replace("CC BY 4.0", "CC BY"))
    bad += re.findall(r"\d+\.\d+", rest)
    bad += re.findall(r"(?<![\d\u00a0\u202f ,])\d{4,}(?![\d,])", rest)
    return bad


def test_bokmal_pages_write_numbers_and_dates_the_norwegian_way(
    pages, results, tmp_path
):
    res = results["busy"]
    maps = [
        {
            "group": "all",
            "hot_cells": 1234,
            "window_total": 2491.0,
            "near_repeat": "Etter et innbrudd er risikoen innenfor 100 m "
            "3,0 ganger normalt i 7 dager.",
            "period": "09.11.2026–06.12.2026",
            "measured_text": "Siste 6 måneder: de markerte 5 % av området hadde "
            "38 % av neste måneds hendelser.",
            "file": "hotspots/all.html",
            "bytes": 1,
            "bands": {},
        }
    ]
    write_hotspot_index(tmp_path, res.as_of, maps, "nb")
    index = open_offline(
        tmp_path / "hotspots" / "index.html",
        wait_for=None,
        evaluate=["document.body.innerText"],
    )
    index_text = index.values["document.body.innerText"]
    assert "2\u00a0491" in index_text and "1\u00a0234" in index_text
    assert "hadde 38 % av neste måneds hendelser" in index_text
    assert _numbers_wrong_in_bokmal(index_text) == []

    found: dict = {}
    report = open_offline(
        pages["busy", "nb"],
        evaluate=["document.body.innerText"],
        actions=lambda page: _hover_hot_cell(page, found),
    )
    text = report.values["document.body.innerText"] + "\n" + found["tooltip"]
    assert re.search(r"\d,\d", found["tooltip"])  # the z-score, decimal comma
    assert NB_DATE.search(text)
    assert _numbers_wrong_in_bokmal(text) == [], text

    found_en: dict = {}
    report_en = open_offline(
        pages["busy", "en"],
        evaluate=["document.body.innerText"],
        actions=lambda page: _hover_hot_cell(page, found_en),
    )
    text_en = report_en.values["document.body.innerText"] + found_en["tooltip"]
    assert ISO_DATE.search(text_en) and re.search(r"\d\.\d", found_en["tooltip"])
    assert "Tegnforklaring" not in text_en and "Legend" in text_en


@pytest.fixture(scope="module")
def measured_pages(tmp_path_factory):
    """The demo's way to the combined map: incidents ingested, the nightly
    hotspot_cells step (back-test, then analysis with its winner), the "all"
    map published in bokmål and English."""
    from test_hotspots_data import make_db

    from gjenganger.flows.steps.hotspot_cells import build_hotspot_cells
    from gjenganger.flows.steps.hotspots import publish_hotspot_map
    from gjenganger.store import db

    root = tmp_path_factory.mktemp("measured")
    frame = simulate(2500, seed=11, start=dt.date(2024, 3, 1), days=430)
    path, _ = make_db(root, frame)
    day = dt.date(2025, 5, 1)
    con = db.connect(path)
    try:
        build_hotspot_cells(con, day)
        entries = {
            lang: publish_hotspot_map(con, root / lang, day, "all", lang)
            for lang in ("nb", "en")
        }
    finally:
        con.close()
    return {
        lang: (root / lang / "hotspots" / "all.html", e) for lang, e in entries.items()
    }


def test_the_map_states_its_measured_figure_in_plain_words(measured_pages):
    """The title box says, in words an officer reads, what the marked 5 % of the
    area caught over the last six months; the marked area is a layer of its own,
    on by default and in the legend."""
    seen: dict = {}
    for lang, (path, entry) in measured_pages.items():

        def actions(page, lang=lang) -> None:
            seen[lang, "visible"] = page.is_visible(".gj-measured")
            seen[lang, "box"] = _box(page, ".gj-measured")
            seen[lang, "legend"] = _box(page, ".gj-legend")
            seen[lang, "labels"] = layer_control_labels(page)

        report = open_offline(
            path,
            actions=actions,
            evaluate=[
                "document.querySelector('.gj-measured').innerText",
                "document.querySelector('.gj-legend').innerText",
            ],
        )
        assert report.errors == [] and report.blocked == []
        text = report.values["document.querySelector('.gj-measured').innerText"]
        hit = round(100 * entry["measured"]["hit"])
        assert 0 < hit <= 100
        if lang == "nb":
            assert text == (
                "Siste 6 måneder: de markerte 5 % av området hadde "
                f"{hit} % av neste måneds hendelser."
            )
        else:
            assert text == (
                "Last 6 months: the marked 5% of the area had "
                f"{hit}% of the next month's incidents."
            )
        assert seen[lang, "visible"] and seen[lang, "box"]["t"] < 100
        assert not _overlap(seen[lang, "box"], seen[lang, "legend"])
        marked = t("layer_marked", lang).format(share="5 %" if lang == "nb" else "5%")
        assert seen[lang, "labels"][0] == marked
        legend = report.values["document.querySelector('.gj-legend').innerText"]
        assert marked in legend and "PAI" in legend

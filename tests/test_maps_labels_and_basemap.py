"""gjenganger.maps.i18n labels, the offline basemap, the legend, and the hotspot map's
disclosure control (unit level, no database)."""

from __future__ import annotations

import datetime as dt
import json
import re

import folium
import numpy as np
import polars as pl
import pytest
from test_hotspots_data import simulate

from gjenganger.analytics.hotspots import TARGET_GROUPS, Params, analyse
from gjenganger.data_schema.contract import OFFENCE_CODES, OFFENCE_GROUPS, TARGET_TYPES
from gjenganger.maps.basemap import base_map, districts, municipalities, region_bounds
from gjenganger.maps.hotspots import build_map, count_text
from gjenganger.maps.i18n import LABELS, t
from gjenganger.maps.legend import Legend, Section
from gjenganger.maps.offline import remote_refs, render_offline


def test_labels_are_bokmal_by_default_and_english_on_request():
    assert t("municipalities") == "Kommunegrenser"
    assert t("municipalities", "en") == "Municipality boundaries"


def test_every_contract_code_and_target_group_has_a_label_in_both_languages():
    keys = [
        *OFFENCE_CODES,
        *set(OFFENCE_GROUPS.values()),
        *TARGET_TYPES,
        *(f"group_{g}" for g in TARGET_GROUPS),
        *(f"what_{g}" for g in TARGET_GROUPS),
    ]
    for key in keys:
        assert t(key, "nb") and t(key, "en"), key


def test_unknown_language_or_key_is_an_error_naming_it():
    with pytest.raises(ValueError, match="'de'"):
        t("legend", "de")
    with pytest.raises(KeyError, match="no_such_label"):
        t("no_such_label")


def test_placeholders_match_between_languages():
    for key, (nb, en) in LABELS.items():
        assert set(re.findall(r"{\w+}", nb)) == set(re.findall(r"{\w+}", en)), key


def test_the_basemap_has_six_municipalities_and_four_districts_with_names():
    assert sorted(f["properties"]["name"] for f in municipalities()["features"]) == [
        "Malvik",
        "Melhus",
        "Orkland",
        "Skaun",
        "Stjørdal",
        "Trondheim",
    ]
    assert sorted(f["properties"]["name"] for f in districts()["features"]) == [
        "Heimdal",
        "Lerkendal",
        "Midtbyen",
        "Østbyen",
    ]
    (s, w), (n, e) = region_bounds()
    assert 62.5 < s < 63.43 < n < 64.0 and 8.5 < w < 10.4 < e < 12.0


def test_the_offline_basemap_credits_kartverket_and_has_no_tiles():
    html = render_offline(base_map())
    assert "© Kartverket, SSB (CC BY 4.0)" in html or "\\u00a9 Kartverket" in html
    assert "L.tileLayer" not in html and remote_refs(html) == []


def test_a_user_tile_url_is_used_only_when_given():
    m = base_map(
        tiles_url="https://tiles.example.org/{z}/{x}/{y}.png", tiles_attribution="x"
    )
    html = render_offline(m, allow_online_tiles=True)
    assert "tiles.example.org" in html


def test_the_legend_escapes_text_and_renders_swatches():
    m = folium.Map(tiles=None, max_zoom=18)
    Legend("A <b>", [Section("S", [("#123456", "x & y")])], ["note"]).add_to(m)
    html = m.get_root().render()
    assert "A \\u0026lt;b\\u0026gt;" in html or "A &lt;b&gt;" in html
    assert "#123456" in html


def test_counts_below_k_are_not_shown():
    assert count_text(4.6, 5, "nb") == "færre enn 5"
    assert count_text(5.2, 5, "en") == "5"
    assert count_text(12.0, 10, "en") == "12"


@pytest.fixture(scope="module")
def small_result():
    frame = simulate(1500, seed=21, start=dt.date(2024, 6, 1), days=330)
    return analyse(
        frame, dt.date(2025, 4, 20), params=Params(knox_n_perm=19, slider_weeks=8)
    )


def test_the_map_writes_no_count_below_k_in_any_tooltip_property(small_result):
    html = render_offline(build_map(small_result, "en"))
    values = re.findall(r'"[nq]": "([^"]*)"', html)
    assert values
    for v in values:
        assert not v.isdigit() or int(v) >= 5


def test_density_and_weekly_layers_carry_intensities_not_counts(small_result):
    html = render_offline(build_map(small_result))
    heat = re.findall(r"\[\s*6\d\.\d+,\s*\d+\.\d+,\s*([0-9.]+)\]", html)
    assert heat and all(0 < float(v) <= 1 for v in heat)


def test_the_analysis_output_has_no_incident_columns(small_result):
    for frame in (small_result.cells, small_result.by_target, small_result.weekly):
        assert not {"incident_id", "person_id", "lat_exact", "x", "y"} & set(
            frame.columns
        )
    assert small_result.cells["cell_id"].str.contains(r"^250m_E\d+_N\d+$").all()


def test_analyse_names_the_missing_columns():
    with pytest.raises(
        ValueError, match=r"lacks columns \['occurred_from', 'occurred_to'\]"
    ):
        analyse(
            pl.DataFrame({"target_type": ["cabin"], "lat": [63.4], "lon": [10.4]}),
            dt.date(2025, 1, 1),
        )
    with pytest.raises(ValueError, match="castle"):
        analyse(simulate(50), dt.date(2024, 3, 1), target_group="castle")


def test_the_risk_of_the_default_method_sums_to_the_expected_count(small_result):
    p = small_result.params
    total = small_result.cells["previous"].sum() + small_result.cells["count"].sum()
    # kde of the year, scaled to 28 days: about a year's count * 28/365
    assert small_result.cells["risk"].sum() == pytest.approx(
        total * p.horizon_days / p.history_days, rel=0.1
    )
    assert np.isfinite(small_result.cells["gi_z"].to_numpy()).all()
    json.dumps(small_result.bands)


# ---------------------------------------------------------------- colours (#17)
# Machado, Oliveira & Fernandes (2009) matrices at full severity, linear RGB
_CVD = {
    "normal": np.eye(3),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
         [-0.011820, 0.042940, 0.968881]]
    ),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
         [-0.003882, -0.048116, 1.051998]]
    ),
}  # fmt: skip
_XYZ = np.array(
    [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
)


def _lab(hex_colour: str, vision: str) -> np.ndarray:
    """CIE L*a*b* (D65) of a #rrggbb colour as seen with `vision`."""
    c = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    lin = np.clip(_CVD[vision] @ lin, 0, 1)
    xyz = (_XYZ @ lin) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _closest_pair(colours: list[tuple[str, str]]) -> tuple[float, str, str, str]:
    """(Delta E 1976, meaning, meaning, vision) of the least distinct pair."""
    worst = (1e9, "", "", "")
    for i, (c1, m1) in enumerate(colours):
        for c2, m2 in colours[i + 1 :]:
            for vision in _CVD:
                d = float(np.linalg.norm(_lab(c1, vision) - _lab(c2, vision)))
                worst = min(worst, (d, m1, m2, vision))
    return worst


@pytest.mark.parametrize("group", ["all", "cabin"])
def test_within_one_map_no_two_legend_meanings_share_a_colour(small_result, group):
    """One colour, one meaning: every swatch of a map's legend differs from every
    other by Delta E >= 12, also as seen with deuteranopia or protanopia (the
    issue's collisions: business vs cold spot, storage vs persistent, vehicle vs
    intensifying)."""
    from dataclasses import replace

    from gjenganger.maps.hotspots import legend_sections
    from gjenganger.maps.legend import legend_colours

    result = replace(small_result, target_group=group)
    colours = legend_colours(legend_sections(result, "nb"))
    meanings = [m for _, m in colours]
    assert len(meanings) == len(set(meanings))
    assert len(colours) == (15 if group == "all" else 10)
    hexes = [c.lower() for c, _ in colours]
    assert len(set(hexes)) == len(hexes)
    distance, a, b, vision = _closest_pair(colours)
    assert distance >= 12, f"{a!r} and {b!r} look alike ({vision}, {distance:.1f})"


def test_the_colour_check_catches_the_collisions_named_in_the_issue():
    """The check above would have failed on the old palette."""
    old = [
        ("#2166ac", "cold 99"),
        ("#0072B2", "business"),
        ("#CC79A7", "persistent"),
        ("#CC79A7", "storage"),
    ]
    assert _closest_pair(old)[0] < 12
    assert _closest_pair(old[:2])[0] < 12  # near-equal blues, not only equal hexes


# ------------------------------------------------- basemap configuration (#17)
def test_a_tile_source_comes_from_the_environment_and_wmts_reads_as_xyz(
    monkeypatch,
):
    from gjenganger.errors import UserError
    from gjenganger.store.settings import tile_source

    monkeypatch.delenv("GJENGANGER_TILES_URL", raising=False)
    assert tile_source() is None
    wmts = (
        "https://cache.kartverket.no/v1/wmts/1.0.0/topo/default/webmercator/"
        "{TileMatrix}/{TileRow}/{TileCol}.png"
    )
    monkeypatch.setenv("GJENGANGER_TILES_URL", wmts)
    monkeypatch.setenv("GJENGANGER_TILES_ATTRIBUTION", "© Kartverket")
    src = tile_source()
    assert src["url"].endswith("/webmercator/{z}/{y}/{x}.png")
    assert src["attribution"] == src["name"] == "© Kartverket"
    assert tile_source("http://10.0.0.5/t/{z}/{x}/{y}.png")["url"].startswith(
        "http://10.0.0.5/"
    )
    for bad in ("tiles.png", "ftp://h/{z}/{x}/{y}", "https://h/{z}/{x}.png"):
        with pytest.raises(UserError, match="XYZ template") as err:
            tile_source(bad)
        assert "\n" not in str(err.value)
    with pytest.raises(UserError, match="TileMatrixSet"):
        tile_source("https://h/{TileMatrixSet}/{z}/{x}/{y}.png")


def test_with_tiles_the_outlines_are_drawn_unfilled_over_them():
    html = render_offline(
        base_map(tiles_url="https://t.example/{z}/{x}/{y}.png"),
        allow_online_tiles=True,
    )
    assert '"fillOpacity": 0.0' in html and '"fillOpacity": 0.9' not in html
    assert '"fillOpacity": 0.9' in render_offline(base_map())


def test_the_scale_bar_is_metric_only():
    html = render_offline(base_map())
    assert "imperial:false" in html and "L.control.scale()" not in html


# ------------------------------------------------------ places and numbers (#17)
def test_a_place_line_names_district_or_municipality_and_nearest_named_place():
    from gjenganger.maps.places import named_places, place_texts

    names, _, _ = named_places()
    assert len(names) == 16 and "Torvet" in names  # "(city square)" dropped
    nb = place_texts(
        np.array([63.4305, 63.4115, 63.20]), np.array([10.3951, 10.7960, 9.90])
    )
    assert nb[0] == "Midtbyen, Trondheim · ca. 50 m fra Torvet"
    assert nb[1].startswith("Malvik · ca. ") and nb[1].endswith("fra Hommelvik sentrum")
    assert re.fullmatch(r"Orkland · ca\. \d+,\d km fra Orkanger sentrum", nb[2])
    en = place_texts(np.array([63.20]), np.array([9.90]), "en")
    assert re.fullmatch(r"Orkland · about \d+\.\d km from Orkanger sentrum", en[0])


def test_numbers_are_written_as_each_language_writes_them():
    from gjenganger.maps.hotspot_layers import fmt_number

    assert fmt_number(12345.678, "nb", 1) == "12\u00a0345,7"
    assert fmt_number(12345.678, "en", 1) == "12,345.7"
    assert fmt_number(-2.25, "nb", 1) == "-2,2" and fmt_number(250, "nb") == "250"
    assert count_text(2491.2, 5, "nb") == "2\u00a0491"

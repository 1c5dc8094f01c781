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

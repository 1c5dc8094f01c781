"""gjenganger.maps.offline: folium pages rendered with vendored assets, no network."""

from __future__ import annotations

import re

import folium
import folium.plugins as plugins
import pytest

from gjenganger.maps.offline import (
    MissingAssetError,
    RemoteReferenceError,
    assert_no_remote_refs,
    remote_refs,
    render_offline,
)

try:  # tests/ is a rootdir folder (no __init__.py) in this project
    from browser_support import layer_control_labels, open_offline
except ImportError:  # pragma: no cover - if tests/ ever becomes a package
    from tests.browser_support import layer_control_labels, open_offline

POLY = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Midtbyen"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [10.38, 63.42],
                        [10.41, 63.42],
                        [10.41, 63.44],
                        [10.38, 63.44],
                        [10.38, 63.42],
                    ]
                ],
            },
        }
    ],
}


def small_map() -> folium.Map:
    m = folium.Map(location=[63.43, 10.395], zoom_start=13, tiles=None, max_zoom=18)
    folium.GeoJson(POLY, name="Bydel", tooltip=folium.GeoJsonTooltip(["name"])).add_to(
        m
    )
    plugins.HeatMap([[63.43, 10.39, 1.0], [63.435, 10.40, 0.5]], name="Heat").add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def test_a_map_with_geojson_layer_control_and_heatmap_has_no_remote_references():
    html = render_offline(small_map())
    assert remote_refs(html) == []
    tags = re.findall(r"<(?:script|link)\b[^>]*>", html, re.I)
    assert not [t for t in tags if "http" in t]
    assert "vendored: leaflet-1.9.3/leaflet.js" in html
    assert "vendored: folium-0.20.0/leaflet_heat.min.js" in html


def test_css_images_become_data_uris():
    html = render_offline(small_map())
    assert "images/layers.png" not in html
    assert "data:image/png;base64," in html


def test_time_plugins_marker_cluster_and_colormap_render_offline():
    import branca.colormap as cm

    m = folium.Map(tiles=None, max_zoom=18)
    plugins.HeatMapWithTime([[[63.43, 10.39]], [[63.44, 10.4]]], name="t").add_to(m)
    plugins.TimestampedGeoJson(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"times": ["2024-01-01"]},
                    "geometry": {"type": "Point", "coordinates": [10.39, 63.43]},
                }
            ],
        }
    ).add_to(m)
    plugins.MarkerCluster().add_to(m)
    cm.linear.viridis.scale(0, 1).add_to(m)
    assert_no_remote_refs(render_offline(m))


def test_an_awesome_marker_is_refused_with_the_missing_asset_named():
    m = folium.Map(tiles=None, max_zoom=18)
    folium.Marker([63.43, 10.39], icon=folium.Icon(color="red")).add_to(m)
    with pytest.raises(MissingAssetError, match="awesome-markers"):
        render_offline(m)


def test_an_unvendored_plugin_is_refused_with_its_url():
    m = folium.Map(tiles=None, max_zoom=18)
    plugins.Fullscreen().add_to(m)
    with pytest.raises(MissingAssetError, match="leaflet.fullscreen@3.0.0"):
        render_offline(m)


def test_an_online_tile_layer_needs_explicit_consent():
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    m = folium.Map(tiles=url, attr="x", max_zoom=18)
    with pytest.raises(RemoteReferenceError, match="online tile layer"):
        render_offline(m)
    html = render_offline(m, allow_online_tiles=True)
    assert url in html
    with pytest.raises(RemoteReferenceError):
        assert_no_remote_refs(html)


def test_the_check_catches_scripts_links_images_and_css_urls():
    for bad in (
        '<script src="https://x.org/a.js"></script>',
        '<link rel="stylesheet" href="http://x.org/a.css"/>',
        '<img src="//x.org/a.png">',
        "<style>.a{background:url('https://x.org/a.png')}</style>",
    ):
        with pytest.raises(RemoteReferenceError):
            assert_no_remote_refs(bad)
    assert_no_remote_refs('<a href="https://leafletjs.com">Leaflet</a>')


@pytest.mark.browser
def test_the_offline_page_loads_leaflet_from_file_url_with_network_blocked(tmp_path):
    page_path = tmp_path / "map.html"
    page_path.write_text(render_offline(small_map()), encoding="utf-8")
    labels: list[str] = []
    report = open_offline(
        page_path,
        evaluate=["typeof window.L", "window.L.version"],
        screenshot=tmp_path / "map.png",
        actions=lambda page: labels.extend(layer_control_labels(page)),
    )
    assert report.values["typeof window.L"] == "object"
    assert report.values["window.L.version"] == "1.9.3"
    assert report.errors == []
    assert report.blocked == []
    assert labels == ["Bydel", "Heat"]
    assert report.screenshot.stat().st_size > 1000

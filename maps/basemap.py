"""Offline basemap: municipality and city-district outlines from the project's
open geodata (`data_schema/geodata/`, see its PROVENANCE.md), as toggleable
GeoJson layers with name labels, credited "© Kartverket, SSB (CC BY 4.0)".

`base_map()` makes a `folium.Map` without tiles (so no network) unless the user
gives a tile URL (an XYZ template: the force's map server or Kartverket's cache;
configured through `store.settings.tile_source`); then the outlines are drawn
unfilled over the tiles. Render it with `maps.offline.render_offline` (pass
`allow_online_tiles=True` when a tile URL was configured). `basemap_note` is the
sentence naming the basemap a page uses. The scale bar is metric only.

Caveat: outlines are simplified (about 20-40 m) to keep pages small; they are a
visual reference, not survey boundaries.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import folium
from branca.element import MacroElement, Template

# Read as data files (no import of the application layer); maps/ and gjenganger/
# are sibling top-level packages both in the checkout and when installed.
from gjenganger.data_schema import GEODATA  # noqa: E402
from gjenganger.maps.i18n import t

REGION_FILE = "trondheim_region.geojson"
DISTRICT_FILE = "trondheim_bydeler_land.geojson"
DEFAULT_CENTER = (63.40, 10.35)
BASE_PANE = "gjBase"
SIMPLIFY_DEG = 0.0003  # ~33 m north-south, ~15 m east-west at 63.4 N


@cache
def _geodata(name: str, name_key: str, id_key: str) -> dict[str, Any]:
    """A simplified FeatureCollection with properties `name`, `id` and `label_at`."""
    from shapely.geometry import mapping, shape

    raw = json.loads((GEODATA / name).read_text(encoding="utf-8"))
    features = []
    for f in raw["features"]:
        geom = shape(f["geometry"])
        simple = geom.simplify(SIMPLIFY_DEG, preserve_topology=True)
        point = geom.representative_point()
        coords = json.loads(json.dumps(mapping(simple)))
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "name": str(f["properties"][name_key]),
                    "id": str(f["properties"][id_key]),
                    "label_at": [round(point.y, 5), round(point.x, 5)],
                },
                "geometry": _round(coords),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _round(geom: dict[str, Any], nd: int = 5) -> dict[str, Any]:
    def r(c: Any) -> Any:
        return (
            [round(c[0], nd), round(c[1], nd)]
            if isinstance(c[0], float)
            else [r(x) for x in c]
        )

    return {"type": geom["type"], "coordinates": r(geom["coordinates"])}


def municipalities() -> dict[str, Any]:
    """The region's municipalities (name = kommunenavn_kort, id = kommunenummer)."""
    return _geodata(REGION_FILE, "kommunenavn_kort", "kommunenummer")


def districts() -> dict[str, Any]:
    """Trondheim's city districts (name = bydelnavn, id = bydelnr)."""
    return _geodata(DISTRICT_FILE, "bydelnavn", "bydelnr")


def region_bounds() -> list[list[float]]:
    """[[south, west], [north, east]] of the region's municipalities."""
    xs, ys = [], []

    def walk(c: Any) -> None:
        if isinstance(c[0], float):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for x in c:
                walk(x)

    for f in municipalities()["features"]:
        walk(f["geometry"]["coordinates"])
    return [[min(ys), min(xs)], [max(ys), max(xs)]]


class _Attribution(MacroElement):
    """Adds a line to the map's attribution control (also without tiles)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl
            .addAttribution({{ this.text|tojson }});
        {% endmacro %}"""
    )

    def __init__(self, text: str):
        super().__init__()
        self._name = "Attribution"
        self.text = text


class _MetricScale(MacroElement):
    """Leaflet's scale bar, bottom left, metres and kilometres only."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        L.control.scale({imperial:false,metric:true,position:'bottomleft'})
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self):
        super().__init__()
        self._name = "MetricScale"


def basemap_note(lang: str, tiles_name: str | None = None) -> str:
    """ "Bakgrunnskart: <name>": the configured tile source's name, or the offline
    municipality and district outlines."""
    return f"{t('basemap', lang)}: {tiles_name or t('basemap_offline', lang)}"


class _Background(MacroElement):
    """A plain background colour for the tile-less map container."""

    _template = Template(
        """{% macro header(this, kwargs) %}
        <style>.leaflet-container{background:{{ this.colour }};}</style>
        {% endmacro %}"""
    )

    def __init__(self, colour: str):
        super().__init__()
        self.colour = colour


def _labels(fc: dict[str, Any], group: folium.FeatureGroup, css: str) -> None:
    for f in fc["features"]:
        folium.Marker(
            f["properties"]["label_at"],
            icon=folium.DivIcon(
                html=f'<div style="{css}">{f["properties"]["name"]}</div>',
                icon_size=(120, 16),
                icon_anchor=(60, 8),
                class_name="gj-label",
            ),
        ).add_to(group)


def add_boundaries(
    m: folium.Map,
    lang: str = "nb",
    *,
    show_districts: bool = True,
    filled: bool = True,
) -> None:
    """Municipality and city-district outlines (with labels) as two overlays,
    drawn in their own pane below the data layers (z-index 350 < 400), so
    toggling them never hides hotspot cells. `filled=False` (over map tiles)
    leaves the land unpainted so the tiles show through."""
    folium.map.CustomPane(BASE_PANE, z_index=350, pointer_events=True).add_to(m)
    kommune = folium.FeatureGroup(name=t("municipalities", lang), show=True)
    folium.GeoJson(
        municipalities(),
        style_function=lambda _f: {
            "color": "#444444",
            "weight": 1.5,
            "fill": True,
            "fillColor": "#f7f7f2",
            "fillOpacity": 0.9 if filled else 0.0,
        },
        tooltip=folium.GeoJsonTooltip(["name"], aliases=[t("municipality", lang)]),
        highlight_function=None,
        smooth_factor=1.0,
        pane=BASE_PANE,
    ).add_to(kommune)
    _labels(
        municipalities(),
        kommune,
        "font:600 12px sans-serif;color:#333;text-align:center;"
        "text-shadow:0 0 3px #fff;white-space:nowrap",
    )
    kommune.add_to(m)
    bydel = folium.FeatureGroup(name=t("districts", lang), show=show_districts)
    folium.GeoJson(
        districts(),
        style_function=lambda _f: {
            "color": "#777777",
            "weight": 1,
            "dashArray": "4 3",
            "fill": False,
        },
        tooltip=folium.GeoJsonTooltip(["name"], aliases=[t("district", lang)]),
        pane=BASE_PANE,
    ).add_to(bydel)
    _labels(
        districts(),
        bydel,
        "font:italic 11px sans-serif;color:#555;text-align:center;"
        "text-shadow:0 0 3px #fff;white-space:nowrap",
    )
    bydel.add_to(m)


def base_map(
    lang: str = "nb",
    *,
    tiles_url: str | None = None,
    tiles_attribution: str | None = None,
    location: tuple[float, float] = DEFAULT_CENTER,
    zoom_start: int = 10,
    max_zoom: int = 18,
    boundaries: bool = True,
) -> folium.Map:
    """A map of the Trondheim region: offline outlines by default; a tile layer
    only when `tiles_url` is given (render with `allow_online_tiles=True`)."""
    m = folium.Map(
        location=list(location),
        zoom_start=zoom_start,
        tiles=None,
        max_zoom=max_zoom,
        control_scale=False,
        prefer_canvas=True,
    )
    _MetricScale().add_to(m)
    if tiles_url:
        folium.TileLayer(
            tiles=tiles_url,
            attr=tiles_attribution or tiles_url,
            name=t("basemap", lang),
            max_zoom=max_zoom,
            overlay=False,
            control=False,
        ).add_to(m)
    else:
        _Background("#dfe6ea").add_to(m)
    if boundaries:
        add_boundaries(m, lang, filled=not tiles_url)
    _Attribution(t("attribution_boundaries", lang)).add_to(m)
    return m

"""The layers of the hotspot map, each from one `analytics.hotspots.Result`.

Gi* hot and cold cells, kernel density, emerging-hotspot classes, the risk
forecast, one outline layer per target group (the "all" map) and the week-by-week
density slider; `add_layers` adds them in the order of the layer control. Cell
squares and centres only; counts below `k_min` are written as "fewer than k"
(`count_text`), density and the slider as smoothed relative intensities.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import folium
import folium.plugins as plugins
import numpy as np
import polars as pl
from branca.element import MacroElement, Template
from scipy import ndimage

from gjenganger.analytics.geo import to_wgs84
from gjenganger.maps.i18n import t
from gjenganger.maps.legend import OKABE_ITO, RDBU7, VIRIDIS
from gjenganger.maps.places import place_texts

GI_KEYS = {
    3: "hot_99",
    2: "hot_95",
    1: "hot_90",
    -1: "cold_90",
    -2: "cold_95",
    -3: "cold_99",
}
# One colour, one meaning on every map: Gi* owns ColorBrewer RdBu's reds and
# blues, density / weekly / risk share the viridis ramp (relative intensity), and
# the classes below take hues apart from those and from each other (Okabe-Ito,
# Paul Tol's muted, ColorBrewer Set2 and PRGn): every pair differs by CIE76
# Delta E >= 12 also under simulated deuteranopia and protanopia (tested).
EMERGING_COLOURS = {
    "new": OKABE_ITO["yellow"],
    "intensifying": OKABE_ITO["vermillion"],
    "persistent": "#882255",  # Tol wine
    "diminishing": "#44AA99",  # Tol teal
}
# Target groups are outlines (a light fill), never a hot/cold or emerging colour.
GROUP_COLOURS = {
    "business": OKABE_ITO["black"],
    "construction_site": OKABE_ITO["orange"],
    "cabin": "#A6D854",  # ColorBrewer Set2 lime green
    "storage_mailbox": "#762A83",  # PRGn violet
    "vehicle": "#332288",  # Tol indigo
}
# the marked share of the area (the measured forecast): a dashed Okabe-Ito
# reddish-purple outline, no other layer of the hotspot maps uses that hue
MARKED_COLOUR = OKABE_ITO["purple"]
VIRIDIS_GRADIENT = {
    0.0: VIRIDIS[0],
    0.25: VIRIDIS[1],
    0.5: VIRIDIS[2],
    0.75: VIRIDIS[3],
    1.0: VIRIDIS[4],
}
ND = 5  # decimals of point coordinates written (about 1 m)
ND_CELL = 4  # decimals of cell corners (about 10 m; shared corners round alike)


NBSP = "\u00a0"


def fmt_number(x: float, lang: str, decimals: int = 0) -> str:
    """A number as readers of `lang` write it: 1 234,5 (nb: no-break space between
    thousands, decimal comma) or 1,234.5 (en)."""
    text = f"{x:,.{decimals}f}"
    if lang == "nb":
        text = text.replace(",", NBSP).replace(".", ",")
    return text


def fmt_date(d: dt.date, lang: str) -> str:
    """A date as readers of `lang` write it: 01.05.2025 (nb) or 2025-05-01 (en)."""
    return d.strftime("%d.%m.%Y") if lang == "nb" else d.isoformat()


def period_text(result: Any, lang: str) -> str:
    """The analysis window of `result`, first to last day: "04.04.2025–01.05.2025"."""
    a, b = result.window
    return f"{fmt_date(a, lang)}–{fmt_date(b, lang)}"


def count_text(count: float, k: int, lang: str) -> str:
    """The count to show: rounded (thousands spaced) when >= k, else "fewer than
    k"."""
    if count >= k:
        return fmt_number(round(count), lang)
    return t("suppressed", lang).format(k=k)


def count_alias(period: str, lang: str) -> str:
    """Tooltip label of a count, with its period: "Antall 04.04.2025–01.05.2025"."""
    return f"{t('count', lang)} {period}"


def _squares(
    grid: Any, cells: np.ndarray, props: list[dict[str, Any]]
) -> dict[str, Any]:
    rings = (
        np.round(grid.corners_wgs84(cells), ND_CELL)
        if len(cells)
        else np.empty((0, 5, 2))
    )
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": p,
                "geometry": {"type": "Polygon", "coordinates": [r.tolist()]},
            }
            for r, p in zip(rings, props, strict=True)
        ],
    }


def _places(cells: pl.DataFrame, lang: str) -> list[str]:
    """The place line of each cell (district or municipality, nearest named
    place) from its centre."""
    return place_texts(cells["lat"].to_numpy(), cells["lon"].to_numpy(), lang)


def _cell_layer(
    group: folium.FeatureGroup,
    fc: dict[str, Any],
    fields: list[str],
    aliases: list[str],
    style: Any,
) -> None:
    if not fc["features"]:
        return
    folium.GeoJson(
        fc,
        style_function=style,
        highlight_function=None,
        smooth_factor=0,
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
    ).add_to(group)


def _gi_layer(m, result, lang, period, k) -> None:
    c = result.cells.filter(pl.col("gi_bin") != 0)
    fg = folium.FeatureGroup(name=t("layer_gistar", lang), show=True)
    props = [
        {
            "c": t(GI_KEYS[b], lang),
            "n": count_text(n, k, lang),
            "z": fmt_number(z, lang, 1),
            "s": s,
            "b": int(b),
        }
        for b, n, z, s in zip(
            c["gi_bin"], c["count"], c["gi_z"], _places(c, lang), strict=True
        )
    ]
    _cell_layer(
        fg,
        _squares(result.grid, c["cell"].to_numpy(), props),
        ["c", "n", "z", "s"],
        [
            t("layer_gistar", lang),
            count_alias(period, lang),
            t("gi_z", lang),
            t("place", lang),
        ],
        lambda f: {
            "color": "#555",
            "weight": 0.4,
            "fillOpacity": 0.75,
            "fillColor": RDBU7[f["properties"]["b"]],
        },
    )
    fg.add_to(m)


def _emerging_layer(m, result, lang, period, k) -> None:
    c = result.cells.filter(pl.col("emerging") != "none")
    fg = folium.FeatureGroup(name=t("layer_emerging", lang), show=False)
    prev_label = t("previous_year", lang).format(n=result.params.window_days)
    scale = result.params.window_days / result.params.history_days
    props = [
        {
            "c": t(f"emerging_{e}", lang),
            "n": count_text(n, k, lang),
            "q": count_text(q * scale, k, lang),
            "s": s,
            "e": e,
        }
        for e, n, q, s in zip(
            c["emerging"], c["count"], c["previous"], _places(c, lang), strict=True
        )
    ]
    _cell_layer(
        fg,
        _squares(result.grid, c["cell"].to_numpy(), props),
        ["c", "n", "q", "s"],
        [
            t("layer_emerging", lang),
            count_alias(period, lang),
            prev_label,
            t("place", lang),
        ],
        lambda f: {
            "color": EMERGING_COLOURS[f["properties"]["e"]],
            "weight": 1.5,
            "fillOpacity": 0.55,
            "fillColor": EMERGING_COLOURS[f["properties"]["e"]],
        },
    )
    fg.add_to(m)


def marked_cells(result: Any, share: float) -> np.ndarray:
    """Grid indexes of the forecast's highest cells covering `share` of the study
    area (what the back-test scores as "the marked area")."""
    c = result.cells.filter(pl.col("risk") > 0).sort("risk", descending=True)
    n_top = max(1, int(round(share * int(result.mask.sum()))))
    return c.head(n_top)["cell"].to_numpy()


def _marked_layer(m, result, lang, text: str) -> None:
    """The marked share of the area the back-test measured (`result.measured`),
    one dashed outline around the forecast's highest cells; its tooltip is the
    measured figure `text`. Nothing without a measured figure."""
    import shapely

    measured = getattr(result, "measured", None)
    cells = marked_cells(result, measured["share"]) if measured else []
    if not len(cells):
        return
    g = result.grid
    xw = g.x0 + (cells % g.nx) * g.cell_m
    ys = g.y0 + (cells // g.nx) * g.cell_m
    area = shapely.union_all(shapely.box(xw, ys, xw + g.cell_m, ys + g.cell_m))

    def lon_lat(xy: np.ndarray) -> np.ndarray:
        lat, lon = to_wgs84(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), ND_CELL)

    geometry = shapely.geometry.mapping(shapely.transform(area, lon_lat))
    share = fmt_number(100 * measured["share"], lang) + (" %" if lang == "nb" else "%")
    fg = folium.FeatureGroup(name=t("layer_marked", lang).format(share=share))
    folium.GeoJson(
        {"type": "Feature", "properties": {"t": text}, "geometry": geometry},
        style_function=lambda _f: {
            "color": MARKED_COLOUR,
            "weight": 3,
            "dashArray": "6 4",
            "fill": False,
        },
        highlight_function=None,
        smooth_factor=0,
        tooltip=folium.GeoJsonTooltip(fields=["t"], labels=False, sticky=True),
    ).add_to(fg)
    fg.add_to(m)


def _risk_layer(m, result, lang, share: float = 0.01) -> None:
    c = result.cells.filter(pl.col("risk") > 0).sort("risk", descending=True)
    n_top = max(1, int(round(share * int(result.mask.sum()))))
    c = c.head(n_top)
    fg = folium.FeatureGroup(name=t("layer_risk", lang), show=False)
    if c.height:
        r = c["risk"].to_numpy()
        q = np.searchsorted(np.quantile(r, [0.2, 0.4, 0.6, 0.8]), r, side="right")
        props = [
            {"r": fmt_number(v, lang, 1), "s": s, "k": int(qq)}
            for v, qq, s in zip(r, q, _places(c, lang), strict=True)
        ]
        _cell_layer(
            fg,
            _squares(result.grid, c["cell"].to_numpy(), props),
            ["r", "s"],
            [t("risk_expected", lang), t("place", lang)],
            lambda f: {
                "color": VIRIDIS[f["properties"]["k"]],
                "weight": 0.5,
                "fillOpacity": 0.7,
                "fillColor": VIRIDIS[f["properties"]["k"]],
            },
        )
    fg.add_to(m)


def _intensity_points(
    grid, values: np.ndarray, vmax: float, floor: float = 0.03
) -> list:
    """[[lat, lon, intensity 0-1]] of cells with intensity >= floor (2 decimals)."""
    if vmax <= 0:
        return []
    inten = np.round(values / vmax, 2)
    idx = np.flatnonzero(inten >= floor)
    lat, lon = grid.centres_wgs84(idx)
    return np.column_stack([np.round(lat, ND), np.round(lon, ND), inten[idx]]).tolist()


def _density_layer(m, result, lang) -> None:
    g = result.grid
    dens = np.zeros(g.n)
    dens[result.cells["cell"].to_numpy()] = result.cells["density"].to_numpy()
    pts = _intensity_points(g, dens, dens.max())
    fg = folium.FeatureGroup(name=t("layer_density", lang), show=False)
    if pts:
        plugins.HeatMap(
            pts,
            min_opacity=0.25,
            radius=18,
            blur=14,
            max_zoom=14,
            gradient=VIRIDIS_GRADIENT,
        ).add_to(fg)
    fg.add_to(m)


def _weekly_layer(m, result, lang) -> None:
    """Week-by-week smoothed intensity (HeatMapWithTime, one frame per week)."""
    g = result.grid
    wk = result.weekly
    n_weeks = result.params.slider_weeks
    first = result.as_of + dt.timedelta(days=1) - dt.timedelta(days=7 * n_weeks)
    sigma = 1.0  # one cell: a light smoothing so single incidents are not points
    surfaces = np.zeros((n_weeks, g.n))
    if wk.height:
        np.add.at(
            surfaces,
            (wk["week"].to_numpy(), wk["cell"].to_numpy()),
            wk["count"].to_numpy(),
        )
    for i in range(n_weeks):
        surfaces[i] = ndimage.gaussian_filter(
            surfaces[i].reshape(g.shape), sigma, mode="constant"
        ).ravel()
    vmax = surfaces.max()
    data = [_intensity_points(g, surfaces[i], vmax, floor=0.05) for i in range(n_weeks)]
    labels = []
    for i in range(n_weeks):
        d = first + dt.timedelta(days=7 * i)
        iso = d.isocalendar()
        labels.append(f"{t('week', lang)} {iso.week} ({fmt_date(d, lang)})")
    layer = plugins.HeatMapWithTime(
        data,
        index=labels,
        name=t("layer_weekly", lang),
        radius=16,
        min_opacity=0.2,
        max_opacity=0.85,
        gradient=VIRIDIS_GRADIENT,
        auto_play=False,
        show=False,
        use_local_extrema=False,
        position="bottomright",
    )
    layer.speed_slider = "false"  # "0.1fps": English, and not needed week by week
    layer.add_to(m)
    SliderFollowsLayer(layer).add_to(m)


class SliderFollowsLayer(MacroElement):
    """The week slider of a `HeatMapWithTime` opens on the newest week and shows
    only while its layer is on the map (hidden with the layer switched off)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function(){
         var map={{ this._parent.get_name() }}, layer={{ this.layer_name }},
             ctl={{ this.control_name }}, td=map.timeDimension,
             times=td.getAvailableTimes();
         td.setCurrentTime(times[times.length-1]);
         function sync(){
          var c=ctl.getContainer(); if(!c){return;}
          var on=map.hasLayer(layer);
          c.style.display=on?'':'none';
          c.classList.toggle('gj-slider-off',!on);}
         map.on('layeradd layerremove',sync); sync();})();
        {% endmacro %}"""
    )

    def __init__(self, layer: Any):
        super().__init__()
        self._name = "SliderFollowsLayer"
        self.layer_name = layer.get_name()
        self.control_name = layer._control_name


def _target_layers(m, result, lang, period, k) -> None:
    bt = result.by_target
    for group, colour in GROUP_COLOURS.items():
        fg = folium.FeatureGroup(name=t(f"group_{group}", lang), show=False)
        c = bt.filter((pl.col("target_group") == group) & (pl.col("gi_bin") >= 2))
        lat, lon = result.grid.centres_wgs84(c["cell"].to_numpy())
        props = [
            {"c": t(GI_KEYS[int(b)], lang), "n": count_text(n, k, lang), "s": s}
            for b, n, s in zip(
                c["gi_bin"], c["count"], place_texts(lat, lon, lang), strict=True
            )
        ]
        _cell_layer(
            fg,
            _squares(result.grid, c["cell"].to_numpy(), props),
            ["c", "n", "s"],
            [t(f"group_{group}", lang), count_alias(period, lang), t("place", lang)],
            lambda _f, colour=colour: {
                "color": colour,
                "weight": 2.5,
                "fillOpacity": 0.15,
                "fillColor": colour,
            },
        )
        fg.add_to(m)


def add_layers(m: folium.Map, result: Any, lang: str, marked_text: str = "") -> None:
    """Add every data layer of `result` to `m`, in the layer control's order
    (`marked_text`: the measured figure, the marked area's tooltip)."""
    k = result.params.k_min
    period = period_text(result, lang)
    _marked_layer(m, result, lang, marked_text)
    _gi_layer(m, result, lang, period, k)
    _density_layer(m, result, lang)
    _emerging_layer(m, result, lang, period, k)
    _risk_layer(m, result, lang)
    if result.target_group == "all":
        _target_layers(m, result, lang, period, k)
    _weekly_layer(m, result, lang)

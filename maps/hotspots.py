"""The crime-prevention hotspot map: places, never people.

`build_map(result, lang)` turns an `analytics.hotspots.Result` into a Folium map
with toggleable layers: Gi* hot/cold cells (FDR), kernel density, emerging-hotspot
classes, the 28-day risk forecast, one layer per target group (on the "all"
map), a week-by-week density slider, and the municipality / city-district
outlines (the layers: `maps.hotspot_layers`); a collapsible legend above the
scale bar, a title naming the basemap, and tooltips with counts, period and
place (district or municipality, nearest named place). A map without any
significant hot cell says so and what was tested (`empty_state_lines`). Numbers
and dates are written as `lang` writes them. Render it with
`maps.offline.render_offline` (no network needed unless tiles are configured).
`render_index_page` writes the bundle's page linking the maps.

Disclosure control: a cell with fewer than `k_min` (default 5) incidents in the
period shows no count ("fewer than 5"), and no per-cell count below k is
written into the file at all: density and the weekly slider carry smoothed
relative intensities (0-1, two decimals), not counts. The file holds cell
squares and centres only; no incident or person ids, points or free text.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import folium
import numpy as np
import polars as pl
from branca.element import MacroElement, Template

from gjenganger.maps.basemap import (
    add_boundaries,
    base_map,
    basemap_note,
    region_bounds,
)
from gjenganger.maps.hotspot_layers import (
    EMERGING_COLOURS,
    GI_KEYS,
    GROUP_COLOURS,
    MARKED_COLOUR,
    add_layers,
    count_text,
    fmt_date,
    fmt_number,
    period_text,
)
from gjenganger.maps.i18n import LABELS, t
from gjenganger.maps.legend import RDBU7, VIRIDIS, Legend, Section, title_box

_WHAT = {
    "what_all",
    "what_business",
    "what_construction_site",
    "what_cabin",
    "what_storage_mailbox",
    "what_vehicle",
}


def near_repeat_text(result: Any, lang: str) -> str:
    """The near-repeat sentence of `result`, naming what its target group suffers."""
    key = f"what_{result.target_group}"
    what = t(key, lang) if key in _WHAT else t("what_all", lang)
    return result.near_repeat.sentence(what, lang)


def pct(x: float, lang: str) -> str:
    """A share as a whole percent: "38 %" (nb) or "38%" (en)."""
    n = fmt_number(100 * x, lang)
    return f"{n} %" if lang == "nb" else f"{n}%"


def method_name(measured: dict[str, Any], lang: str) -> str:
    """The forecast method of a back-test winner, in words, with its settings."""
    s = measured["settings"]
    key = {
        "baseline": "method_baseline_28",
        "kde": "method_kde_longrun",
        "prospective": "method_prospective",
        "nearrepeat": "method_nearrepeat",
    }[measured["method"]]
    if measured["method"] == "prospective":
        extra = (
            f"{fmt_number(s['space_band_m'], lang)} m, "
            f"{fmt_number(s['time_band_days'], lang)} {t('days', lang)}"
        )
    elif measured["method"] == "baseline":
        return t(key, lang)
    else:
        extra = (
            f"{fmt_number(s['window_days'], lang)} {t('days', lang)}, "
            f"{fmt_number(s['bandwidth_m'], lang)} m"
        )
        if measured["method"] == "nearrepeat":
            extra += (
                f", {pct(s['boost_share'], lang)} {t('boost_decay', lang)} "
                f"{fmt_number(s['decay_days'], lang)} {t('days', lang)}"
            )
    return f"{t(key, lang)} ({extra})"


def measured_text(result: Any, lang: str) -> str:
    """The map's measured figure in plain words ("Siste 6 måneder: de markerte
    5 % av området hadde 38 % av neste måneds innbrudd"); "" when the forecast
    was not back-tested."""
    m = getattr(result, "measured", None)
    if not m:
        return ""
    key = f"many_{result.target_group}"
    what = t(key, lang) if key in LABELS else t("many_all", lang)
    return t("measured_sentence", lang).format(
        months=m["months"],
        share=pct(m["share"], lang),
        hit=pct(m["hit"], lang),
        what=what,
    )


def measured_detail(result: Any, lang: str) -> str:
    """Which forecast the map shows and its PAI and PEI (the legend's note)."""
    m = getattr(result, "measured", None)
    if not m:
        return t("measured_none", lang)
    return t("measured_detail", lang).format(
        method=method_name(m, lang),
        pai=fmt_number(m["pai"], lang, 1),
        pei=fmt_number(m["pei"], lang, 2),
    )


def group_title(group: str, lang: str) -> str:
    """The title of a target group (or contract target type); the key if unknown."""
    key = f"group_{group}"
    if key in LABELS:
        return t(key, lang)
    return t(group, lang) if group in LABELS else group


def legend_sections(result: Any, lang: str) -> list[Section]:
    """The legend's sections of `result`'s map: one per layer, one colour meaning
    one thing (density, week by week and risk share the relative-intensity
    ramp)."""
    sections = [
        Section(
            t("layer_gistar", lang),
            [(RDBU7[b], t(GI_KEYS[b], lang)) for b in (3, 2, 1, -1, -2, -3)],
        ),
        Section(
            t("layer_emerging", lang),
            [(c, t(f"emerging_{e}", lang)) for e, c in EMERGING_COLOURS.items()],
        ),
        Section(
            t("ramp_relative", lang),
            ramp=VIRIDIS,
            ramp_labels=(t("density_low", lang), t("density_high", lang)),
        ),
    ]
    if getattr(result, "measured", None):
        share = pct(result.measured["share"], lang)
        sections.insert(
            0,
            Section(
                t("forecast", lang),
                [(MARKED_COLOUR, t("layer_marked", lang).format(share=share))],
                outline=True,
            ),
        )
    if result.target_group == "all":
        sections.append(
            Section(
                t("all_targets", lang),
                [(c, t(f"group_{g}", lang)) for g, c in GROUP_COLOURS.items()],
                outline=True,
            )
        )
    return sections


def _legend(result: Any, lang: str, period: str, k: int, basemap: str) -> Legend:
    """The legend box: the sections, the period, the near-repeat note, the
    basemap."""
    notes = [
        f"{t('period', lang)}: {period} ({t('cell_size', lang).lower()} "
        f"{fmt_number(result.grid.cell_m, lang)} m)",
        *([measured_text(result, lang)] if measured_text(result, lang) else []),
        measured_detail(result, lang),
        near_repeat_text(result, lang),
        t("places_not_people", lang).format(k=k),
        basemap,
    ]
    return Legend(
        t("legend", lang),
        legend_sections(result, lang),
        notes,
        toggle_hint=t("legend_toggle", lang),
    )


def cells_tested(result: Any) -> int | None:
    """How many cells the Gi* test compared: `bands["gi_cells_tested"]` when the
    analysis step recorded it; for the all-targets map the cells with an incident
    in the window or the history year (the active cells) otherwise."""
    if "gi_cells_tested" in result.bands:
        return int(result.bands["gi_cells_tested"])
    if result.target_group != "all":
        return None
    c = result.cells
    active = int(((c["count"] > 0) | (c["previous"] > 0)).sum())
    return active if active >= 30 else int(result.mask.sum())


def empty_state_lines(result: Any, lang: str) -> list[str] | None:
    """None when the map has a hot cell (Gi* at 90 % or more); else the headline
    "no significant hot spots in this period" and what was tested: method,
    window, number of cells, distance band, significance level."""
    if int((result.cells["gi_bin"] > 0).sum()):
        return None
    n = cells_tested(result)
    tested = t("no_hotspots_tested", lang).format(
        n=fmt_number(n, lang) if n is not None else "?",
        cell=fmt_number(result.grid.cell_m, lang),
        period=period_text(result, lang),
        band=fmt_number(result.bands.get("gi_band_m", 2 * result.grid.cell_m), lang),
        alpha="10 %" if lang == "nb" else "10%",
        k=result.params.k_min,
        days=result.params.window_days,
    )
    return [t("no_hotspots", lang), tested]


class EmptyState(MacroElement):
    """A box (top left, below the zoom buttons) saying the map has no
    significant hot spots and what was tested."""

    _template = Template(
        """{% macro header(this, kwargs) %}
        <style>.gj-empty{max-width:340px;background:rgba(255,255,255,.95);
         padding:8px 10px;border-radius:6px;border-left:4px solid #555;
         box-shadow:0 1px 5px rgba(0,0,0,.4);font:12px/1.4 sans-serif;color:#222}
         .gj-empty b{display:block;font-size:14px;margin-bottom:3px}</style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function(){
         var C=L.Control.extend({options:{position:'topleft'},onAdd:function(){
          var d=L.DomUtil.create('div','gj-empty');d.setAttribute('role','status');
          var h=L.DomUtil.create('b','',d);h.textContent={{ this.head|tojson }};
          var p=L.DomUtil.create('span','',d);p.textContent={{ this.text|tojson }};
          return d;}});
         new C().addTo({{ this._parent.get_name() }});})();
        {% endmacro %}"""
    )

    def __init__(self, lines: list[str]):
        super().__init__()
        self._name = "EmptyState"
        self.head, self.text = lines[0], " ".join(lines[1:])


def build_map(
    result: Any,
    lang: str = "nb",
    *,
    tiles_url: str | None = None,
    tiles_attribution: str | None = None,
    tiles_name: str | None = None,
) -> folium.Map:
    """The hotspot map of one `analytics.hotspots.Result` (see module docstring);
    on the tile layer `tiles_url` (named `tiles_name`) when given, else on the
    offline outline map."""
    k = result.params.k_min
    period = period_text(result, lang)
    m = base_map(
        lang, tiles_url=tiles_url, tiles_attribution=tiles_attribution, boundaries=False
    )
    add_layers(m, result, lang, measured_text(result, lang))
    add_boundaries(m, lang, filled=not tiles_url)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    m.fit_bounds(_bounds(result))
    basemap = basemap_note(
        lang, (tiles_name or tiles_attribution) if tiles_url else None
    )
    _legend(result, lang, period, k, basemap).add_to(m)
    empty = empty_state_lines(result, lang)
    if empty:
        EmptyState(empty).add_to(m)
    title = group_title(result.target_group, lang)
    m.get_root().html.add_child(
        title_box(
            f"{t('title_hotspots', lang)}: {title}",
            f"{t('as_of', lang)} {fmt_date(result.as_of, lang)} · {basemap}",
            measured_text(result, lang),
        )
    )
    m.get_root().title = f"{t('title_hotspots', lang)} – {title}"
    return m


def _bounds(result: Any) -> list[list[float]]:
    c = result.cells.filter(pl.col("count") > 0)
    if c.height == 0:
        return region_bounds()
    lat, lon = c["lat"].to_numpy(), c["lon"].to_numpy()
    lo_lat, hi_lat = np.quantile(lat, [0.02, 0.98])
    lo_lon, hi_lon = np.quantile(lon, [0.02, 0.98])
    pad = 0.01
    return [
        [float(lo_lat - pad), float(lo_lon - pad)],
        [float(hi_lat + pad), float(hi_lon + pad)],
    ]


def render_index_page(
    rows: list[tuple[str, str, int, float, str, str, str]],
    day: dt.date,
    lang: str,
    k: int,
) -> str:
    """The prevention bundle's `hotspots/index.html`: one row per map (group, file,
    hot cells, incidents in the window, near-repeat sentence, period, the
    forecast's measured figure), counts below `k` shown as "fewer than k". Plain
    HTML, no script."""
    e = html.escape
    items = []
    for group, name, hot, total, sentence, period, measured in rows:
        items.append(
            f'<tr><td><a href="{e(name)}">{e(group_title(group, lang))}</a></td>'
            f"<td>{e(period)}</td><td class=n>{e(count_text(total, k, lang))}</td>"
            f"<td class=n>{e(fmt_number(hot, lang))}</td><td>{e(sentence)}</td>"
            f"<td>{e(measured or t('measured_none', lang))}</td></tr>"
        )
    head = (
        f"<th>{e(t('target_column', lang))}</th><th>{e(t('period', lang))}</th>"
        f"<th>{e(t('incidents', lang))}</th><th>{e(t('hot_cells', lang))}</th>"
        f"<th>{e(t('near_repeat', lang))}</th>"
        f"<th>{e(t('measured_column', lang))}</th>"
    )
    return f"""<!DOCTYPE html>
<html lang="{"nb" if lang == "nb" else "en"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(t("title_index", lang))}</title>
<style>body{{font:15px/1.45 sans-serif;margin:2em;color:#222;max-width:70em}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ccc;padding:.4em .7em;
text-align:left;vertical-align:top}}td.n{{text-align:right}}.note{{color:#555;font-size:13px}}</style>
</head><body>
<h1>{e(t("title_index", lang))}</h1>
<p>{e(t("as_of", lang))} {e(fmt_date(day, lang))}. {e(t("index_intro", lang))}</p>
<table><thead><tr>{head}</tr></thead><tbody>
{"".join(items)}
</tbody></table>
<p class="note">{e(t("places_not_people", lang).format(k=k))}
{e(t("attribution_boundaries", lang))}.</p>
</body></html>
"""

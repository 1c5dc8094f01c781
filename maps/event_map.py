"""The replay map of a person's timeline: located events on the offline basemap.

`build_event_map(events, lang)` draws every located event (not arrests or custody)
as a circle marker coloured by sophistication level, hypotheses dashed, with a
slider and a play button that replay them in time order (`timeline_replay.js`,
plain Leaflet, so `render_offline` needs no plugin). Linked cases are drawn in a
pane above the hypotheses; near-identical events (same place within a few metres,
same day, same standing) share one marker with their count; the path joins only
the last `PATH_STEPS` events shown; a legend and a layer control explain and
switch the layers. The timeline page embeds the rendered map; see
`maps.timeline`.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import folium
import polars as pl
from branca.element import MacroElement, Template

from gjenganger.maps.basemap import base_map
from gjenganger.maps.i18n import label
from gjenganger.maps.legend import LEVEL_COLOURS
from gjenganger.maps.timeline_labels import page_format

HERE = Path(__file__).resolve().parent
REPLAY_JS = HERE / "timeline_replay.js"
FORMAT_JS = HERE / "page_format.js"
#: the replay path joins this many steps back from the newest event shown
PATH_STEPS = 200
#: events in one grid cell of about this size (lat x lon, degrees: ~6 m x ~5 m
#: at 63° N) on one day, with the same standing, share a marker
SAME_SPOT_DEGREES = (1 / 18_000, 1 / 9_000)


def epoch_ms(value: datetime | None) -> int | None:
    """Naive local time as epoch milliseconds read as UTC (the chart uses UTC, so
    the wall-clock time shown is the local time of the data)."""
    if value is None:
        return None
    return int((value - datetime(1970, 1, 1)).total_seconds() * 1000)


@cache
def _replay_js() -> str:
    return FORMAT_JS.read_text(encoding="utf-8") + REPLAY_JS.read_text(encoding="utf-8")


class _Replay(MacroElement):
    """Circle markers for every located event, a slider and a play button that
    replay them in time order, and the path between consecutive events drawn up to
    the slider's position. Plain Leaflet, so `render_offline` needs no plugin."""

    _template = Template(
        r"""
{% macro header(this, kwargs) %}
<style>
.gj-replay{background:#fff;padding:6px 8px;border-radius:4px;
  box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px sans-serif;min-width:320px}
.gj-replay input[type=range]{width:220px;vertical-align:middle}
.gj-replay button{font:12px sans-serif;margin-right:6px}
.leaflet-gjHyp-pane > svg,.leaflet-gjLinked-pane > svg{pointer-events:none}
.gj-legend{background:#fff;padding:6px 8px;border-radius:4px;font:12px sans-serif;
  box-shadow:0 1px 4px rgba(0,0,0,.3);line-height:18px}
.gj-legend summary{cursor:pointer}.gj-legend svg{vertical-align:middle}
.gj-count-icon{font:700 10px sans-serif;color:#111;text-align:center;
  text-shadow:0 0 2px #fff,0 0 2px #fff}
.gj-legend-count{display:inline-block;width:16px}
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
{{ this.js }}
gjReplayInit({{ this._parent.get_name() }}, {{ this.data|tojson }},
             {{ this.labels|tojson }}, {{ this.colours|tojson }},
             {{ this.spec|tojson }}, {
{% for name, layer in this.overlays %}  {{ name|tojson }}: {{ layer }},
{% endfor %}});
{% endmacro %}
"""
    )

    def __init__(
        self,
        data: dict[str, Any],
        labels: dict[str, str],
        colours: dict[str, str],
        spec: dict[str, str],
        overlays: list[tuple[str, str]],
    ):
        super().__init__()
        self._name = "Replay"
        self.js = _replay_js()
        self.data = data
        self.labels = labels
        self.colours = colours
        self.spec = spec
        self.overlays = overlays  # (name, JS variable) of the basemap's layers


def map_points(events: pl.DataFrame, lang: str = "nb") -> dict[str, Any]:
    """The located events in time order, column-wise, for the replay control.

    `t` seconds from `base` (epoch ms), `lat`/`lon` (5 decimals, ~1 m), `lv` level
    (0 unknown), `h` 1 for a hypothesis, `p` its probability, `v` NOK, `k` index
    into `kinds` (offence label, or card use approved/declined), `inc` the case,
    `g` the marker group (same ~5 m cell, same day, same standing: one marker with
    a count). `path_steps` is how many steps back the path is drawn. Tooltips are
    built in the browser from these columns.
    """
    located = events.filter(
        pl.col("lat").is_not_null()
        & pl.col("lon").is_not_null()
        & ~pl.col("lane").is_in(["arrest", "custody"])
    ).sort("at", "event_id")
    kind = (
        pl.when(pl.col("lane") == "card")
        .then(
            pl.when(pl.col("approved"))
            .then(pl.lit("~card_ok"))
            .otherwise(pl.lit("~card_no"))
        )
        .otherwise(pl.col("offence_code").fill_null(pl.col("lane")))
    )
    located = located.with_columns(_kind=kind)
    kinds = sorted(located.get_column("_kind").unique().to_list())
    card = label("lane_card", lang)
    kind_labels = [
        f"{card} ({label('approved', lang)})"
        if k == "~card_ok"
        else f"{card} ({label('declined', lang)})"
        if k == "~card_no"
        else label(k, lang)
        for k in kinds
    ]
    base = located.get_column("at").min() if located.height else None
    base = base.replace(microsecond=0) if base is not None else datetime(1970, 1, 1)
    cols = located.select(
        ((pl.col("at") - pl.lit(base)).dt.total_seconds()).alias("t"),
        pl.col("lat").round(5),
        pl.col("lon").round(5),
        pl.col("level").fill_null(0).cast(pl.Int64).alias("lv"),
        (~pl.col("is_linked").fill_null(True)).cast(pl.Int8).alias("h"),
        pl.col("attribution_p").round(2).alias("p"),
        pl.col("value_nok").round(0).cast(pl.Int64).alias("v"),
        pl.col("_kind")
        .replace_strict({k: i for i, k in enumerate(kinds)}, return_dtype=pl.Int64)
        .alias("k"),
        pl.col("incident_id").alias("inc"),
        _same_spot_group(located).alias("g"),
    )
    return {
        "base": epoch_ms(base),
        "n": cols.height,
        "path_steps": PATH_STEPS,
        "kinds": kind_labels,
        **{c: cols.get_column(c).to_list() for c in cols.columns},
    }


def _same_spot_group(located: pl.DataFrame) -> pl.Series:
    """Group number of each event: events in one `SAME_SPOT_DEGREES` cell on one
    day with the same standing (linked or hypothesis) share a marker; numbered in
    order of their first event."""
    if not located.height:
        return pl.Series("g", [], dtype=pl.Int64)
    key = located.select(
        pl.col("at").dt.date(),
        (pl.col("lat") / SAME_SPOT_DEGREES[0]).round(0).cast(pl.Int64),
        (pl.col("lon") / SAME_SPOT_DEGREES[1]).round(0).cast(pl.Int64),
        pl.col("is_linked").fill_null(True),
    ).select(key=pl.concat_str(pl.all(), separator="|"))
    numbered = key.with_columns(
        n=pl.col("key").is_first_distinct().cum_sum().cast(pl.Int64) - 1
    )
    return numbered.select(pl.col("n").first().over("key").alias("g"))["g"]


def _overlays(m: folium.Map) -> list[tuple[str, str]]:
    """(name, JS variable) of the basemap's switchable layers (outlines)."""
    return [
        (child.layer_name, child.get_name())
        for child in m._children.values()
        if isinstance(child, folium.FeatureGroup)
    ]


def build_event_map(events: pl.DataFrame, *, lang: str = "nb") -> folium.Map:
    """A Folium map of the person's located events with the replay slider.

    On the offline basemap (`maps.basemap.base_map`: municipality outlines, no
    tiles). Render with `maps.offline.render_offline`.
    """
    m = base_map(lang)
    keys = (
        "play",
        "pause",
        "linked",
        "hypothesis",
        "hypotheses",
        "value",
        "case",
        "legend",
        "level_1",
        "level_2",
        "level_3",
        "level_none",
        "map_linked",
        "map_path",
        "map_current",
        "map_group",
        "same_spot",
        "more",
    )
    labels = {k: label(k, lang) for k in keys}
    labels["lang"] = lang
    colours = {str(k or 0): v for k, v in LEVEL_COLOURS.items()}
    _Replay(
        map_points(events, lang),
        labels,
        colours,
        page_format(lang).spec,
        _overlays(m),
    ).add_to(m)
    return m

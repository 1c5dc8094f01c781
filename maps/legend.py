"""A static HTML legend box for Folium maps (no JavaScript, no d3).

`Legend(title, sections, notes)` renders a fixed box in a map corner; a section
is a heading and (colour, label) swatches, or a colour ramp with end labels.
Colours passed here should come from colour-blind-safe palettes (ColorBrewer
RdBu for hot/cold, viridis for density, Okabe-Ito for classes).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from branca.element import Element, MacroElement, Template

# ColorBrewer RdBu (7 classes, colour-blind safe): cold 99 .. hot 99
RDBU7 = {
    -3: "#2166ac",
    -2: "#67a9cf",
    -1: "#d1e5f0",
    0: "#f7f7f7",
    1: "#fddbc7",
    2: "#ef8a62",
    3: "#b2182b",
}
VIRIDIS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"]
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
# Sophistication levels on the timeline pages: 1 orange, 2 blue, 3 reddish purple
LEVEL_COLOURS = {
    1: OKABE_ITO["orange"],
    2: OKABE_ITO["blue"],
    3: OKABE_ITO["purple"],
    None: "#999999",
}


@dataclass
class Section:
    title: str
    swatches: list[tuple[str, str]] = field(default_factory=list)  # (colour, label)
    ramp: list[str] | None = None
    ramp_labels: tuple[str, str] = ("", "")
    outline: bool = False  # draw swatches as outlines (for line/outline layers)


def legend_html(title: str, sections: list[Section], notes: list[str] = ()) -> str:
    """The legend box's inner HTML (escaped): a title button that folds the body
    away, then the body with the sections and notes."""
    e = html.escape
    parts = [
        '<button type="button" class="gj-legend-title gj-legend-toggle" '
        f'aria-expanded="true">{e(title)}</button><div class="gj-legend-body">'
    ]
    for s in sections:
        parts.append(f'<div class="gj-legend-h">{e(s.title)}</div>')
        for colour, label in s.swatches:
            style = (
                f"border:2px solid {colour};background:transparent"
                if s.outline
                else f"background:{colour};border:1px solid #777"
            )
            parts.append(
                f'<div class="gj-legend-row"><span class="gj-sw" style="{style}" '
                f'data-colour="{e(colour)}"></span>{e(label)}</div>'
            )
        if s.ramp:
            grad = ",".join(s.ramp)
            parts.append(
                '<div class="gj-ramp" style="background:'
                f'linear-gradient(to right,{grad})"></div>'
                f'<div class="gj-ramp-l"><span>{e(s.ramp_labels[0])}</span>'
                f"<span>{e(s.ramp_labels[1])}</span></div>"
            )
    for n in notes:
        parts.append(f'<div class="gj-legend-note">{e(n)}</div>')
    parts.append("</div>")
    return "".join(parts)


def legend_colours(sections: list[Section]) -> list[tuple[str, str]]:
    """(colour, meaning) of every swatch of `sections`, for the one-colour-one-
    meaning check of a map's legend."""
    return [(c, label) for s in sections for c, label in s.swatches]


# The legend is a Leaflet control in the bottom-left corner: Leaflet stacks the
# controls of a corner, so it sits above the scale bar (added first) and never
# covers it; the title button folds the body away.
_CSS = """
<style>
.gj-legend{max-width:290px;background:rgba(255,255,255,.93);padding:6px 10px;
 border-radius:6px;box-shadow:0 1px 5px rgba(0,0,0,.4);
 font:12px/1.35 sans-serif;color:#222}
.gj-legend-body{max-height:calc(100vh - 230px);overflow:auto}
.gj-legend.gj-collapsed .gj-legend-body{display:none}
.gj-legend-toggle{all:unset;cursor:pointer;display:block;font-weight:700;
 font-size:13px}
.gj-legend-toggle::before{content:"\\25BE\\00A0"}
.gj-legend.gj-collapsed .gj-legend-toggle::before{content:"\\25B8\\00A0"}
.gj-legend-toggle:focus-visible{outline:2px solid #0072B2}
.gj-legend-h{font-weight:600;margin-top:6px}
.gj-legend-row{display:flex;align-items:center;gap:6px;margin:1px 0}
.gj-sw{display:inline-block;width:14px;height:14px;flex:none}
.gj-ramp{height:10px;margin-top:3px;border:1px solid #777}
.gj-ramp-l{display:flex;justify-content:space-between;font-size:11px}
.gj-legend-note{margin-top:6px;font-size:11px;color:#444}
</style>
"""


class Legend(MacroElement):
    """Add with `Legend(...).add_to(m)`: a collapsible control, bottom left, above
    the scale bar (`sections` and `colours` stay readable for tests)."""

    _template = Template(
        """{% macro header(this, kwargs) %}"""
        + _CSS
        + """{% endmacro %}
        {% macro html(this, kwargs) %}{% endmacro %}
        {% macro script(this, kwargs) %}
        (function(){
         var C=L.Control.extend({options:{position:'bottomleft'},
          onAdd:function(){
           var d=L.DomUtil.create('div','gj-legend');
           d.innerHTML={{ this.body|tojson }};
           var b=d.querySelector('.gj-legend-toggle');
           b.title={{ this.toggle_hint|tojson }};
           L.DomEvent.on(b,'click',function(){
            var c=d.classList.toggle('gj-collapsed');
            b.setAttribute('aria-expanded',c?'false':'true');});
           L.DomEvent.disableClickPropagation(d);
           L.DomEvent.disableScrollPropagation(d);
           return d;}});
         new C().addTo({{ this._parent.get_name() }});})();
        {% endmacro %}"""
    )

    def __init__(
        self,
        title: str,
        sections: list[Section],
        notes: list[str] = (),
        toggle_hint: str = "",
    ):
        super().__init__()
        self._name = "Legend"
        self.sections = list(sections)
        self.colours = legend_colours(self.sections)
        self.toggle_hint = toggle_hint
        self.body = legend_html(title, self.sections, list(notes))


def title_box(text: str, subtitle: str = "", note: str = "") -> Element:
    """A small title box (top centre) as a branca Element for the root html; `note`
    (e.g. the forecast's measured figure) on a line of its own."""
    e = html.escape
    return Element(
        '<div class="gj-title" style="position:fixed;top:10px;left:60px;'
        "z-index:1000;max-width:calc(100% - 330px);"
        "background:rgba(255,255,255,.93);padding:6px 10px;border-radius:6px;"
        'box-shadow:0 1px 5px rgba(0,0,0,.4);font:13px sans-serif">'
        f"<b>{e(text)}</b>"
        + (f"<br><span style='font-size:11px'>{e(subtitle)}</span>" if subtitle else "")
        + (
            f"<br><span class='gj-measured' style='font-size:12px'>{e(note)}</span>"
            if note
            else ""
        )
        + "</div>"
    )

"""The timeline page of one person: an i2-style chart of lanes, a replay map, a summary.

In the spirit of i2 Analyst's Notebook timelines: one lane per event kind (each
offence group, card transactions, arrests, custody), points sized by NOK and
coloured by sophistication level, offence windows as thin "event frames", custody
as bars, a cumulative-NOK line for card use, background bands for use periods and
phases, and zoom from years down to hours (the chart's data: `maps.timeline_chart`).
Below it, the replay map of the same events (`maps.event_map`), and a summary
(span, events by kind, NOK, largest 36-hour total, top episodes). Labels come from
`maps.i18n.TIMELINE_LABELS`.

Hypotheses are never counted as facts: the headline figures count linked cases
only, and the hypotheses (from the page threshold p up) have a card of their own,
with how many below it are left out; the attribution window is shaded on the chart
and explained under the summary; the phase today carries the uncertainty notes the
CLI prints ("usikker").

Rendering only: frames and dicts in (`analytics.person_timeline.person_events`
and `person_summary`), an HTML string out. The page is self-contained: Apache
ECharts (vendored in `maps/static/echarts/`, Apache-2.0) is inlined, the map is
rendered by `maps.offline.render_offline` and embedded with `<iframe srcdoc>`, so
nothing needs the network and the file can be mailed or opened from `file://`.

Attributed cases are hypotheses: hollow symbols, dashed map markers and
"hypotese (p=0,62)" wherever they appear; the page never calls them linked.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gjenganger.maps.event_map import epoch_ms
from gjenganger.maps.i18n import LANGS, TIMELINE_LABELS, format_p, label, labels
from gjenganger.maps.timeline_chart import (
    ATTRIBUTION_WINDOW_COLOUR,
    PHASE_COLOURS,
    USE_PERIOD_COLOUR,
    chart_payload,
)
from gjenganger.maps.timeline_labels import page_format

HERE = Path(__file__).resolve().parent
ECHARTS_JS = HERE / "static" / "echarts" / "echarts.common.min.js"
FORMAT_JS = HERE / "page_format.js"
TEMPLATE = "timeline_template.html"


def format_nok(value: float | None, lang: str = "nb") -> str:
    """NOK with thousands grouped: "44 000 kr" (nb) or "NOK 44,000" (en)."""
    return page_format(lang).nok(value)


# ------------------------------------------------------------------ the page
@cache
def _echarts_js() -> str:
    js = ECHARTS_JS.read_text(encoding="utf-8")
    return js.replace("</script", "<\\/script")


@cache
def format_js() -> str:
    """`page_format.js`: the pages' number and date rules for their scripts."""
    return FORMAT_JS.read_text(encoding="utf-8")


_SCRIPT_END = re.compile(r"</script", re.I)


def embed_html(page: str) -> str:
    """A whole HTML page as inert text inside `<script type="text/plain">`.

    Only `</script` and `<!--` could end or confuse that element; they become the
    markers `<#/script` and `<#!--`, which the page's script turns back before
    handing the text to the map's `<iframe srcdoc>`. (Escaping the page into a
    srcdoc attribute instead would grow it by a third.)
    """
    if "<#/script" in page or "<#!--" in page:
        raise ValueError("the embedded page already contains an escape marker")
    return _SCRIPT_END.sub("<#/script", page).replace("<!--", "<#!--")


def _json_for_script(obj: Any) -> str:
    """JSON safe inside a <script> element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


@cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(HERE)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _episode_rows(summary: dict[str, Any], lang: str) -> list[dict[str, str]]:
    f = page_format(lang)
    rows = []
    for ep in summary.get("top_episodes", []):
        if ep.get("person_source") == "attributed":
            who = f"{label('hypothesis', lang)} (p={f.p(ep.get('attribution_p') or 0)})"
        elif ep.get("person_source") == "linked":
            who = label("linked", lang)
        else:
            who = "–"
        rows.append(
            {
                "start": f.datetime(ep.get("start_at")),
                "duration": f.hours(ep.get("duration_h", 0)),
                "tx": f"{ep.get('n_approved', 0)}/{ep.get('n_declined', 0)}",
                "merchants": str(ep.get("n_merchants", 0)),
                "total": format_nok(ep.get("total_nok"), lang),
                "max36": format_nok(ep.get("max_36h_nok"), lang),
                "case": str(ep.get("incident_id", "")),
                "card": str(ep.get("card_ref", "")),
                "who": who,
                "hyp": ep.get("person_source") == "attributed",
                "a": epoch_ms(ep.get("start_at")),
                "b": epoch_ms(ep.get("end_at")),
            }
        )
    return rows


def _band_legend(bands: pl.DataFrame | None, lang: str) -> list[tuple[str, str]]:
    """(label, colour) of the band kinds and phases present, in legend order."""
    if bands is None or not bands.height:
        return []
    legend = []
    if "use_period" in set(bands.get_column("kind").to_list()):
        legend.append((label("use_periods", lang), USE_PERIOD_COLOUR))
    present = set(bands.filter(pl.col("kind") == "phase")["label"].to_list())
    legend += [
        (label(ph, lang), colour)
        for ph, colour in PHASE_COLOURS.items()
        if ph in present
    ]
    if "attribution_window" in set(bands.get_column("kind").to_list()):
        legend.append((label("attribution_window", lang), ATTRIBUTION_WINDOW_COLOUR))
    return legend


def _hypothesis_context(
    summary: dict[str, Any], lab: dict[str, str], lang: str
) -> dict[str, Any]:
    """The hypotheses' own card: count, NOK and span from the page threshold up,
    and how many below it are left out."""
    p = format_p(summary.get("hypotheses_min_p", 0.0), lang)
    hidden = summary.get("n_hypotheses_hidden", 0)
    start, end = summary.get("hypotheses_start"), summary.get("hypotheses_end")
    return {
        "hyp_title": lab["hyp_figures"].format(p=p),
        "hyp_unit": lab[
            "hyp_case" if summary.get("n_hypotheses") == 1 else "hyp_cases"
        ],
        "hyp_nok": format_nok(summary.get("hypotheses_nok", 0.0), lang),
        "hyp_span": (
            f"{page_format(lang).datetime(start)} – {page_format(lang).datetime(end)}"
            if start
            else ""
        ),
        "hyp_hidden": lab["hyp_hidden"].format(n=hidden, p=p) if hidden else None,
    }


def _phase_context(phase: dict[str, Any] | None, lang: str) -> dict[str, Any]:
    """The phase today (from the phases step) with the CLI's uncertainty notes:
    usikker (low confidence), in custody, no use-period rhythm."""
    if not phase or not phase.get("phase"):
        return {"phase": None, "phase_notes": None}
    text = label(phase["phase"], lang)
    if phase.get("p") is not None:
        text += f" (p={page_format(lang).p(phase['p'])})"
    notes = []
    if phase.get("low_confidence"):
        notes.append(label("uncertain", lang))
    if phase.get("in_custody"):
        notes.append(label("in_custody_now", lang))
    if phase.get("p_cycling") is not None and phase["p_cycling"] < 0.5:
        notes.append(label("no_rhythm", lang))
    return {"phase": text, "phase_notes": ", ".join(notes) or None}


def _window_note(
    window: tuple[date, int] | None, lab: dict[str, str], lang: str
) -> str | None:
    """Where hypotheses can be: the attribution window (as_of, days), in words."""
    if window is None or window[0] is None:
        return None
    f = page_format(lang)
    return lab["attribution_window_note"].format(
        days=f.number(window[1]), as_of=f.date(window[0])
    )


def _summary_context(
    summary: dict[str, Any], lab: dict[str, str], lang: str
) -> dict[str, Any]:
    """The summary cards and the top episodes, as the template shows them: the
    headline counts facts only; the hypotheses have their own card."""
    n_linked = summary.get("n_linked", 0)
    n_hypotheses = summary.get("n_hypotheses", 0)
    f = page_format(lang)
    return {
        **_hypothesis_context(summary, lab, lang),
        "span": (
            f"{f.datetime(summary.get('span_start'))} – "
            f"{f.datetime(summary.get('span_end'))}"
            f" ({f.number(summary.get('span_days', 0), 1)} {lab['days']})"
            if summary.get("span_start")
            else "–"
        ),
        "n_events": f.number(summary.get("n_events", 0)),
        "by_lane": [
            (label(f"lane_{ln}", lang), f.number(n))
            for ln, n in summary.get("by_lane", {}).items()
        ],
        "n_linked": f.number(n_linked),
        "n_hypotheses": f.number(n_hypotheses),
        "nok_total": format_nok(summary.get("nok_total", 0.0), lang),
        "max36": format_nok(summary.get("max_36h_nok", 0.0), lang),
        "max36_window": (
            f"{f.datetime(summary.get('max_36h_start_at'))} – "
            f"{f.datetime(summary.get('max_36h_end_at'))}"
            if summary.get("max_36h_start_at")
            else ""
        ),
        "episodes": _episode_rows(summary, lang),
        "only_hypotheses": n_linked == 0 and n_hypotheses > 0,
        "has_hypotheses": n_hypotheses > 0,
    }


def render_timeline_page(
    person_id: str,
    events: pl.DataFrame,
    summary: dict[str, Any],
    *,
    lang: str = "nb",
    bands: pl.DataFrame | None = None,
    period: tuple[date | None, date | None] = (None, None),
    map_html: str | None = None,
    generated_at: datetime | None = None,
    index_href: str | None = None,
    attribution_window: tuple[date, int] | None = None,
    phase: dict[str, Any] | None = None,
) -> str:
    """The whole timeline page of one person as one self-contained HTML string.

    `events` and `summary` come from `analytics.person_timeline` (`person_events`,
    `person_summary`); `map_html` is the offline-rendered Folium page
    (`render_offline(maps.event_map.build_event_map(...))`), embedded in an
    `<iframe srcdoc>` so its styles stay apart from the page's.
    `attribution_window` (as_of, days) explains where hypotheses can be (its band
    is among `bands`); `phase` (phase, p, low_confidence, in_custody, p_cycling)
    is the person's phase today from the phases step.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    lab = labels(TIMELINE_LABELS, lang)
    f = page_format(lang)
    payload = chart_payload(
        events,
        bands=bands,
        lang=lang,
        max36=(summary.get("max_36h_start_at"), summary.get("max_36h_end_at")),
        view=(
            datetime.combine(period[0], datetime.min.time()) if period[0] else None,
            datetime.combine(period[1], datetime.max.time()) if period[1] else None,
        ),
    )
    return (
        _env()
        .get_template(TEMPLATE)
        .render(
            lang=lang,
            lab=lab,
            person_id=person_id,
            period=(
                f"{f.date(period[0]) if period[0] else '…'} – "
                f"{f.date(period[1]) if period[1] else '…'}"
                if period[0] or period[1]
                else lab["whole_history"]
            ),
            generated=f.datetime(generated_at) if generated_at else None,
            band_legend=_band_legend(bands, lang),
            map_src=embed_html(map_html) if map_html else None,
            index_href=index_href,
            n_lanes=len(payload["lanes"]),
            echarts_js=_echarts_js(),
            format_js=format_js(),
            data_json=_json_for_script(payload),
            window_note=_window_note(attribution_window, lab, lang),
            **_phase_context(phase, lang),
            **_summary_context(summary, lab, lang),
        )
    )

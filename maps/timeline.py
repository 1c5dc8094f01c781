"""The timeline page of one person: an i2-style chart of lanes, a replay map, a summary.

In the spirit of i2 Analyst's Notebook timelines: one lane per event kind (each
offence group, card transactions, arrests, custody), points sized by NOK and
coloured by sophistication level, offence windows as thin "event frames", custody
as bars, a cumulative-NOK line for card use, background bands for use periods and
phases, and zoom from years down to hours. Below it, a Folium map of the same events
with a time slider that replays them in order along the path between consecutive
events, and a summary (span, events by kind, NOK, largest 36-hour total, top
episodes).

Rendering only: frames and dicts in (`analytics.episodes.person_events` /
`person_summary` columns), an HTML string out. The page is self-contained: Apache
ECharts (vendored in `maps/static/echarts/`, Apache-2.0) is inlined, the map is
rendered by `maps.offline.render_offline` and embedded with `<iframe srcdoc>`, so
nothing needs the network and the file can be mailed or opened from `file://`.

Attributed cases are hypotheses: hollow symbols, dashed map markers and
"hypotese (p=0.62)" wherever they appear; the page never calls them linked.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gjenganger.analytics.episodes import LANES  # the lane order (a constant)
from gjenganger.maps.event_map import epoch_ms
from gjenganger.maps.i18n import LANGS, TIMELINE_LABELS, label, labels
from gjenganger.maps.legend import LEVEL_COLOURS

HERE = Path(__file__).resolve().parent
ECHARTS_JS = HERE / "static" / "echarts" / "echarts.common.min.js"
TEMPLATE = "timeline_template.html"

CUSTODY_COLOUR = "#555555"
ARREST_COLOUR = "#000000"
CUMULATIVE_COLOUR = "#009E73"
WINDOW_COLOUR = "#9a9a9a"
PHASE_COLOURS = {
    "rest": "rgba(153,153,153,0.18)",
    "phase1": "rgba(240,228,66,0.22)",
    "phase2": "rgba(230,159,0,0.22)",
    "phase3": "rgba(213,94,0,0.24)",
    "inactive": "rgba(86,180,233,0.16)",
}
USE_PERIOD_COLOUR = "rgba(0,158,115,0.10)"


def format_nok(value: float | None, lang: str = "nb") -> str:
    """NOK with thousands grouped: "44 000 kr" (nb) or "NOK 44,000" (en)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    whole = f"{round(value):,}"
    return f"{whole.replace(',', ' ')} kr" if lang == "nb" else f"NOK {whole}"


def _fmt_dt(value: datetime | date | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


# ------------------------------------------------------------------ chart data
def chart_payload(
    events: pl.DataFrame,
    *,
    bands: pl.DataFrame | None = None,
    lang: str = "nb",
    max36: tuple[datetime | None, datetime | None] = (None, None),
    view: tuple[datetime | None, datetime | None] = (None, None),
) -> dict[str, Any]:
    """The JSON the page's script draws: lanes, events, labels, bands, zoom.

    `events` has the columns of `analytics.episodes.EVENT_COLUMNS`. `bands` (kind
    'use_period' or 'phase', label, start_at, end_at) become background bands.
    Events are sent column-wise (`encode_events`) to keep a two-year page small.
    """
    from gjenganger.analytics.episodes import (
        LANES,
    )  # the lane order (a constant, no logic)

    present = (
        set(events.get_column("lane").unique().to_list()) if events.height else set()
    )
    lanes = [ln for ln in LANES if ln in present] or ["card"]
    columns = encode_events(events)

    card = events.filter(
        (pl.col("lane") == "card") & pl.col("approved").fill_null(False)
    )
    cumulative = (
        card.sort("at")
        .select(
            pl.col("at").dt.epoch("ms"),
            pl.col("value_nok").fill_null(0.0).cum_sum().round(2),
        )
        .rows()
        if card.height
        else []
    )
    band_rows = []
    if bands is not None and bands.height:
        for kind, lab, s, e in bands.select(
            "kind", "label", "start_at", "end_at"
        ).iter_rows():
            if s is None or e is None:
                continue
            band_rows.append(
                {
                    "kind": kind,
                    "name": label(lab, lang) if kind == "phase" else lab,
                    "key": lab,
                    "a": epoch_ms(s),
                    "b": epoch_ms(e),
                    "colour": PHASE_COLOURS.get(lab, USE_PERIOD_COLOUR)
                    if kind == "phase"
                    else USE_PERIOD_COLOUR,
                }
            )

    vocab = {}
    for col in (
        "offence_code",
        "target_type",
        "entry_method",
        "status",
        "merchant_category",
        "custody_kind",
    ):
        if events.height:
            # sorted: polars' unique() order varies between runs (same page bytes)
            for v in events.get_column(col).drop_nulls().unique().sort().to_list():
                vocab[v] = label(v, lang)
    page_labels = {k: label(k, lang) for k in LABELS}
    page_labels.update({f"lane_{ln}": label(f"lane_{ln}", lang) for ln in LANES})
    return {
        "lang": lang,
        "lanes": [{"key": ln, "name": label(f"lane_{ln}", lang)} for ln in lanes],
        "events": columns,
        "cumulative": cumulative,
        "bands": band_rows,
        "labels": page_labels,
        "vocab": vocab,
        "colours": {
            "levels": {str(k or "none"): v for k, v in LEVEL_COLOURS.items()},
            "custody": CUSTODY_COLOUR,
            "arrest": ARREST_COLOUR,
            "cumulative": CUMULATIVE_COLOUR,
            "window": WINDOW_COLOUR,
        },
        "max36": [epoch_ms(max36[0]), epoch_ms(max36[1])],
        "view": [epoch_ms(view[0]), epoch_ms(view[1])],
    }


_CODED = (
    "lane",
    "offence_code",
    "target_type",
    "entry_method",
    "status",
    "merchant_category",
    "custody_kind",
    "card_ref",
)
_SHORT = {
    "lane": "ln",
    "offence_code": "off",
    "target_type": "tg",
    "entry_method": "em",
    "status": "st",
    "merchant_category": "mc",
    "custody_kind": "ck",
    "card_ref": "cr",
}


def encode_events(events: pl.DataFrame) -> dict[str, Any]:
    """Events column-wise, compact: what the page's script decodes into objects.

    Times are whole seconds from `base` (epoch ms of local wall-clock time):
    `t` the plotted time, `da` = t - start, `db` = end - t (null while custody is
    ongoing). Repeated strings are indexes into `dict[<key>]` (-1 = null); `v` is
    NOK rounded to the krone; `lk` 1 linked / 0 hypothesis; `ok` 1/0/-1.
    """
    if events.height == 0:
        return {
            "base": 0,
            "n": 0,
            "dict": {v: [] for v in _SHORT.values()},
            **{
                k: []
                for k in (
                    "id",
                    "inc",
                    "t",
                    "da",
                    "db",
                    "v",
                    "lv",
                    "lk",
                    "p",
                    "ok",
                    *_SHORT.values(),
                )
            },
        }
    base = events.get_column("start_at").min() or events.get_column("at").min()
    base = base.replace(microsecond=0)
    secs = lambda c: (pl.col(c) - pl.lit(base)).dt.total_seconds()  # noqa: E731
    frame = events.select(
        pl.col("event_id").alias("id"),
        pl.col("incident_id").alias("inc"),
        secs("at").alias("t"),
        (secs("at") - secs("start_at")).fill_null(0).alias("da"),
        (secs("end_at") - secs("at")).alias("db"),
        pl.col("value_nok").round(0).cast(pl.Int64).alias("v"),
        pl.col("level").fill_null(0).cast(pl.Int64).alias("lv"),
        pl.col("is_linked").fill_null(True).cast(pl.Int8).alias("lk"),
        pl.col("attribution_p").round(2).alias("p"),
        pl.when(pl.col("approved").is_null())
        .then(-1)
        .otherwise(pl.col("approved").cast(pl.Int8))
        .alias("ok"),
        *[pl.col(c) for c in _CODED],
    )
    out: dict[str, Any] = {"base": epoch_ms(base), "n": frame.height, "dict": {}}
    for col in ("id", "inc", "t", "da", "db", "v", "lv", "lk", "p", "ok"):
        out[col] = frame.get_column(col).to_list()
    for col in _CODED:
        values = sorted(frame.get_column(col).drop_nulls().unique().to_list())
        index = {v: i for i, v in enumerate(values)}
        out["dict"][_SHORT[col]] = values
        out[_SHORT[col]] = [
            -1 if v is None else index[v] for v in frame.get_column(col).to_list()
        ]
    return out


# ------------------------------------------------------------------ the page
@cache
def _echarts_js() -> str:
    js = ECHARTS_JS.read_text(encoding="utf-8")
    return js.replace("</script", "<\\/script")


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
    rows = []
    for ep in summary.get("top_episodes", []):
        if ep.get("person_source") == "attributed":
            who = f"{label('hypothesis', lang)} (p={ep.get('attribution_p') or 0:.2f})"
        elif ep.get("person_source") == "linked":
            who = label("linked", lang)
        else:
            who = "–"
        rows.append(
            {
                "start": _fmt_dt(ep.get("start_at")),
                "duration": f"{ep.get('duration_h', 0):.1f} "
                f"{label('hours_short', lang)}",
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
) -> str:
    """The whole timeline page of one person as one self-contained HTML string.

    `events` and `summary` come from `analytics.episodes.person_events` and
    `person_summary`; `map_html` is the offline-rendered Folium page
    (`render_offline(build_event_map(...))`), embedded in an `<iframe srcdoc>` so
    its styles stay apart from the page's.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    lab = {k: label(k, lang) for k in LABELS}
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
    by_lane = [
        (label(f"lane_{ln}", lang), n) for ln, n in summary.get("by_lane", {}).items()
    ]
    band_legend = []
    if bands is not None and bands.height:
        kinds = set(bands.get_column("kind").to_list())
        if "use_period" in kinds:
            band_legend.append((label("use_periods", lang), USE_PERIOD_COLOUR))
        present = set(bands.filter(pl.col("kind") == "phase")["label"].to_list())
        band_legend += [
            (label(ph, lang), colour)
            for ph, colour in PHASE_COLOURS.items()
            if ph in present
        ]
    only_hyp = summary.get("n_linked", 0) == 0 and summary.get("n_hypotheses", 0) > 0
    ctx = {
        "lang": lang,
        "lab": lab,
        "person_id": person_id,
        "period": (
            f"{period[0] or '…'} – {period[1] or '…'}"
            if period[0] or period[1]
            else lab["whole_history"]
        ),
        "generated": _fmt_dt(generated_at) if generated_at else None,
        "span": (
            f"{_fmt_dt(summary.get('span_start'))} – {_fmt_dt(summary.get('span_end'))}"
            f" ({summary.get('span_days', 0):.1f} {lab['days']})"
            if summary.get("span_start")
            else "–"
        ),
        "n_events": summary.get("n_events", 0),
        "by_lane": by_lane,
        "n_linked": summary.get("n_linked", 0),
        "n_hypotheses": summary.get("n_hypotheses", 0),
        "nok_total": format_nok(summary.get("nok_total", 0.0), lang),
        "max36": format_nok(summary.get("max_36h_nok", 0.0), lang),
        "max36_window": (
            f"{_fmt_dt(summary.get('max_36h_start_at'))} – "
            f"{_fmt_dt(summary.get('max_36h_end_at'))}"
            if summary.get("max_36h_start_at")
            else ""
        ),
        "episodes": _episode_rows(summary, lang),
        "only_hypotheses": only_hyp,
        "band_legend": band_legend,
        "has_hypotheses": summary.get("n_hypotheses", 0) > 0,
        "map_src": embed_html(map_html) if map_html else None,
        "index_href": index_href,
        "n_lanes": len(payload["lanes"]),
        "echarts_js": _echarts_js(),
        "data_json": _json_for_script(payload),
    }
    return _env().get_template(TEMPLATE).render(**ctx)

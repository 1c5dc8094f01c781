"""The analyst bundle's index pages: the top list and the card episodes.

Self-contained HTML (no network): `index.html` lists the top-list persons, each
linking to their timeline page; `episodes.html` lists the card-use episodes,
newest first. Both tables sort by any column (click its header) and filter by
text (a box above them), with the small script `analyst_table.js` inlined; sort
keys ride along in `data-v`, so "44 000 kr" sorts as a number and dd.mm.yyyy as a
date. Numbers and dates follow the page language (`timeline_labels.page_format`).
Attributed persons are always marked as hypotheses with their probability, never
as linked; the top list's events, NOK,
largest 36 hours and last event count linked cases only, and the hypotheses (from
the pages' threshold p up) have columns of their own. Rendering only: rows in, an
HTML string out. Labels come from `maps.i18n.ANALYST_LABELS`.

The index's links to the bundle's other pages are `bundle_links`: one more page is
one more entry there.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, select_autoescape

from gjenganger.maps.i18n import ANALYST_LABELS, format_p, label, labels
from gjenganger.maps.timeline_labels import page_format

TABLE_JS = Path(__file__).resolve().parent / "analyst_table.js"

_STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
  color:#222;background:#fafafa}
header{background:#1f2d3d;color:#fff;padding:10px 18px}
header h1{font-size:19px;margin:0}
header .meta{font-size:12px;opacity:.85}header a{color:#cfe3ff}
main{padding:10px 18px}table{border-collapse:collapse;background:#fff;font-size:13px}
th,td{border-bottom:1px solid #e4e4e4;padding:4px 9px;text-align:left}
td.num,th.num{text-align:right}td.num{white-space:nowrap}th{background:#f0f2f5}
.hyp{color:#8a3b6b;font-style:italic}.note{font-size:12px;color:#555;margin:8px 0}
th[data-col]{cursor:pointer;user-select:none}th[data-col]:hover{background:#e2e8f0}
th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
.filter{margin:6px 0}.filter input{font:13px sans-serif;padding:3px 6px;width:22em}
.filter span{font-size:12px;color:#555;margin-left:8px}
"""

# One page shape for both: header, a note, and a table of (header, numeric?) columns
# whose cells are dicts {text, href, cls}.
_PAGE = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<title>{{ title }} – {{ as_of }}</title>
<style>{{ style|safe }}</style></head><body>
<header><h1>{{ heading }}</h1>
<div class="meta">{{ L.as_of }} {{ as_of }} · {{ L.generated }} {{ generated }}
{% for text, href in meta_links %} · {% if href %}<a href="{{ href }}">{{ text }}</a>
{% else %}{{ text }}{% endif %}{% endfor %}</div>
<div class="meta">{{ L.confidential }}</div></header>
<main>
<p class="note">{{ note }}</p>
{% if rows %}
<div class="filter"><input type="search" id="gj-filter" placeholder="{{ L.filter }}"
 aria-label="{{ L.filter }}"> <span id="gj-shown" data-template="{{ L.shown }}"></span>
 <span>{{ L.sort_hint }}</span></div>
<table id="{{ table_id }}" class="gj-sortable">
<thead><tr>{% for name, num in columns %}<th data-col="{{ loop.index0 }}"
{% if num %} class="num"{% endif %}{% if loop.index0 == sorted_by[0] %}
 aria-sort="{{ sorted_by[1] }}"{% endif %}>{{ name }}</th>
{% endfor %}</tr></thead>
<tbody>
{% for row in rows %}
<tr>{% for cell in row %}<td{% if cell.cls %} class="{{ cell.cls }}"{% endif %}
{% if cell.v is not none %} data-v="{{ cell.v }}"{% endif %}>
{% if cell.href %}<a href="{{ cell.href }}">{{ cell.text }}</a>{% else %}{{ cell.text }}
{% endif %}{% if cell.extra %} ({{ cell.extra }}){% endif %}</td>{% endfor %}</tr>
{% endfor %}
</tbody></table>
<script>/* maps/analyst_table.js */
{{ table_js|safe }}
</script>
{% else %}<p>{{ L.no_rows }}</p>{% endif %}
</main></body></html>
"""

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


@cache
def _table_js() -> str:
    return TABLE_JS.read_text(encoding="utf-8").replace("</script", "<\\/script")


def _sort_key(value: Any) -> Any:
    """What a cell sorts by (`data-v`): times as sortable text, numbers as they
    are, None for cells that sort by their text."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _cell(
    text: Any,
    href: str | None = None,
    cls: str | None = None,
    extra: str | None = None,
    v: Any = None,
) -> dict[str, Any]:
    return {"text": text, "href": href, "cls": cls, "extra": extra, "v": _sort_key(v)}


def _render(lang: str, sorted_by: tuple[int, str], **ctx: Any) -> str:
    return _env.from_string(_PAGE).render(
        lang=lang,
        L=labels(ANALYST_LABELS, lang),
        style=_STYLE,
        table_js=_table_js(),
        sorted_by=sorted_by,
        **ctx,
    )


def bundle_links(lab: dict[str, str], n_episodes: int) -> list[tuple[str, str]]:
    """(text, href) of the bundle's other pages, as the index links them."""
    return [
        (f"{lab['see_episodes']} ({n_episodes})", "episodes.html"),
        (lab["see_backtest"], "backtest.html"),
        (lab["see_phase_backtest"], "phase_backtest.html"),
    ]


def render_toplist_page(
    rows: list[dict[str, Any]],
    *,
    as_of: dt.date,
    lang: str = "nb",
    source: str = "toplist",
    generated_at: dt.datetime | None = None,
    n_episodes: int = 0,
    window_days: int = 730,
    min_p: float = 0.3,
) -> str:
    """`index.html`: one row per top-list person (dicts with rank, person_id, href,
    linked, hypotheses, hypotheses_nok, events, nok_total, max_36h_nok, span_end,
    phase, phase_p, phase_uncertain). Events, NOK, largest 36 hours and last event
    are the linked cases' (facts); hypotheses count from `min_p` up."""
    lab = labels(ANALYST_LABELS, lang)
    f = page_format(lang)
    table = [_toplist_row(r, lang, lab) for r in rows]
    since = f.date(as_of - dt.timedelta(days=window_days - 1))
    src = lab["source_toplist" if source == "toplist" else "source_fallback"]
    p = format_p(min_p, lang)
    return _render(
        lang,
        (0, "ascending"),
        title=lab["bundle_title"],
        heading=f"{lab['bundle_title']}: {lab['toplist']}",
        as_of=f.date(as_of),
        generated=f.datetime(generated_at),
        meta_links=[(src, None), *bundle_links(lab, n_episodes)],
        note=f"{lab['window']} {f.number(window_days)} {label('days', lang)} "
        f"({lab['since']} {since}). {lab['facts_note'].format(p=p)} "
        f"{lab['hyp_note']}",
        table_id="toplist",
        columns=[
            (lab["rank"], True),
            (lab["person"], False),
            (lab["cases_linked"], True),
            (lab["events"], True),
            (lab["nok"], True),
            (lab["max36"], True),
            (lab["cases_hyp"].format(p=p), True),
            (lab["nok_hyp"], True),
            (lab["last_event"], False),
            (lab["phase_now"], False),
        ],
        rows=table,
    )


def _toplist_row(
    r: dict[str, Any], lang: str, lab: dict[str, str]
) -> list[dict[str, Any]]:
    """The cells of one top-list row: the facts, then the hypotheses (styled as
    such), the last event and the phase today ("usikker" when uncertain)."""
    f = page_format(lang)
    phase = "–"
    if r.get("phase"):
        phase = label(r["phase"], lang)
        notes = [f"p={f.p(r['phase_p'])}"] if r.get("phase_p") is not None else []
        if r.get("phase_uncertain"):
            notes.append(lab["uncertain"])
        if notes:
            phase += f" ({', '.join(notes)})"
    num = {k: r.get(k) or 0 for k in ("linked", "events", "hypotheses")}
    return [
        _cell(r.get("rank"), cls="num", v=r.get("rank")),
        _cell(r["person_id"], href=r["href"]),
        _cell(f.number(num["linked"]), cls="num", v=num["linked"]),
        _cell(f.number(num["events"]), cls="num", v=num["events"]),
        _cell(f.nok(r.get("nok_total")), cls="num", v=r.get("nok_total")),
        _cell(f.nok(r.get("max_36h_nok")), cls="num", v=r.get("max_36h_nok")),
        _cell(f.number(num["hypotheses"]), cls="num hyp", v=num["hypotheses"]),
        _cell(
            f.nok(r.get("hypotheses_nok", 0.0)),
            cls="num hyp",
            v=r.get("hypotheses_nok", 0.0),
        ),
        _cell(f.date(r.get("span_end")), v=r.get("span_end")),
        _cell(phase),
    ]


def render_episodes_page(
    episodes: pl.DataFrame,
    *,
    as_of: dt.date,
    lang: str = "nb",
    hrefs: dict[str, str] | None = None,
    generated_at: dt.datetime | None = None,
    since: dt.date | None = None,
) -> str:
    """`episodes.html`: one row per episode (`analytics.episodes` columns) in the
    order given (the bundle gives newest first); persons with a timeline page in
    `hrefs` link to it; attributed ones are hypotheses."""
    lab = labels(ANALYST_LABELS, lang)
    f = page_format(lang)
    hrefs = hrefs or {}
    table = [_episode_row(e, f, lab, hrefs) for e in episodes.iter_rows(named=True)]
    return _render(
        lang,
        (0, "descending"),
        title=lab["episodes_title"],
        heading=f"{lab['bundle_title']}: {lab['episodes_title']}",
        as_of=f.date(as_of),
        generated=f.datetime(generated_at),
        meta_links=[(lab["back"], "index.html")],
        note=f"{lab['since'].capitalize()} {f.date(since)}. {lab['hyp_note']}",
        table_id="episodes",
        columns=[
            (lab["start"], False),
            (lab["duration"], True),
            (lab["tx"], True),
            (lab["merchants"], True),
            (lab["total"], True),
            (lab["max36"], True),
            (lab["case"], False),
            (lab["card"], False),
            (lab["who"], False),
        ],
        rows=table,
    )


def _episode_row(
    e: dict[str, Any], f: Any, lab: dict[str, str], hrefs: dict[str, str]
) -> list[dict[str, Any]]:
    """The cells of one episode, each with its sort key."""
    source, pid = e.get("person_source"), e.get("person_id")
    if source == "attributed":
        status = f"{lab['hypothesis']}, p={f.p(e.get('attribution_p') or 0)}"
    else:
        status = lab["linked"] if source == "linked" else None
    n_tx = e["n_approved"] + e["n_declined"]
    return [
        _cell(f.datetime(e["start_at"]), v=e["start_at"]),
        _cell(f.hours(e["duration_h"]), cls="num", v=e["duration_h"]),
        _cell(f"{e['n_approved']}/{e['n_declined']}", cls="num", v=n_tx),
        _cell(f.number(e["n_merchants"]), cls="num", v=e["n_merchants"]),
        _cell(f.nok(e["total_nok"]), cls="num", v=e["total_nok"]),
        _cell(f.nok(e["max_36h_nok"]), cls="num", v=e["max_36h_nok"]),
        _cell(e["incident_id"]),
        _cell(e["card_ref"]),
        _cell(
            pid or lab["none"],
            href=hrefs.get(pid),
            cls="hyp" if source == "attributed" else None,
            extra=status,
        ),
    ]

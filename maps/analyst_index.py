"""The analyst bundle's index pages: the top list and the card episodes.

Plain, self-contained HTML (no script, no network): `index.html` lists the top-list
persons, each linking to their timeline page; `episodes.html` lists the card-use
episodes, largest 36-hour total first. Attributed persons are always marked as
hypotheses with their probability, never as linked; the top list's events, NOK,
largest 36 hours and last event count linked cases only, and the hypotheses (from
the pages' threshold p up) have columns of their own. Rendering only: rows in, an
HTML string out. Labels come from `maps.i18n.ANALYST_LABELS`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from jinja2 import Environment, select_autoescape

from gjenganger.maps.i18n import ANALYST_LABELS, format_p, label, labels
from gjenganger.maps.timeline import format_nok

_STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
  color:#222;background:#fafafa}
header{background:#1f2d3d;color:#fff;padding:10px 18px}
header h1{font-size:19px;margin:0}
header .meta{font-size:12px;opacity:.85}header a{color:#cfe3ff}
main{padding:10px 18px}table{border-collapse:collapse;background:#fff;font-size:13px}
th,td{border-bottom:1px solid #e4e4e4;padding:4px 9px;text-align:left}
td.num,th.num{text-align:right}th{background:#f0f2f5}
.hyp{color:#8a3b6b;font-style:italic}.note{font-size:12px;color:#555;margin:8px 0}
"""

# One page shape for both: header, a note, and a table of (header, numeric?) columns
# whose cells are dicts {text, href, cls}.
_PAGE = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<title>{{ title }} – {{ as_of }}</title>
<style>{{ style }}</style></head><body>
<header><h1>{{ heading }}</h1>
<div class="meta">{{ L.as_of }} {{ as_of }} · {{ L.generated }} {{ generated }}
{% for text, href in meta_links %} · {% if href %}<a href="{{ href }}">{{ text }}</a>
{% else %}{{ text }}{% endif %}{% endfor %}</div>
<div class="meta">{{ L.confidential }}</div></header>
<main>
<p class="note">{{ note }}</p>
{% if rows %}
<table id="{{ table_id }}">
<tr>{% for name, num in columns %}<th{% if num %} class="num"{% endif %}>{{ name }}</th>
{% endfor %}</tr>
{% for row in rows %}
<tr>{% for cell in row %}<td{% if cell.cls %} class="{{ cell.cls }}"{% endif %}>
{% if cell.href %}<a href="{{ cell.href }}">{{ cell.text }}</a>{% else %}{{ cell.text }}
{% endif %}{% if cell.extra %} ({{ cell.extra }}){% endif %}</td>{% endfor %}</tr>
{% endfor %}
</table>
{% else %}<p>{{ L.no_rows }}</p>{% endif %}
</main></body></html>
"""

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def _day(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _cell(
    text: Any, href: str | None = None, cls: str | None = None, extra: str | None = None
) -> dict[str, Any]:
    return {"text": text, "href": href, "cls": cls, "extra": extra}


def _render(lang: str, **ctx: Any) -> str:
    return _env.from_string(_PAGE).render(
        lang=lang, L=labels(ANALYST_LABELS, lang), style=_STYLE, **ctx
    )


def _stamp(generated_at: dt.datetime | None) -> str:
    return generated_at.strftime("%Y-%m-%d %H:%M") if generated_at else "–"


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
    table = [_toplist_row(r, lang, lab) for r in rows]
    since = (as_of - dt.timedelta(days=window_days - 1)).isoformat()
    src = lab["source_toplist" if source == "toplist" else "source_fallback"]
    p = format_p(min_p, lang)
    return _render(
        lang,
        title=lab["bundle_title"],
        heading=f"{lab['bundle_title']}: {lab['toplist']}",
        as_of=as_of.isoformat(),
        generated=_stamp(generated_at),
        meta_links=[
            (src, None),
            (f"{lab['see_episodes']} ({n_episodes})", "episodes.html"),
        ],
        note=f"{lab['window']} {window_days} {label('days', lang)} "
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
    phase = "–"
    if r.get("phase"):
        phase = label(r["phase"], lang)
        notes = [f"p={r['phase_p']:.2f}"] if r.get("phase_p") is not None else []
        if r.get("phase_uncertain"):
            notes.append(lab["uncertain"])
        if notes:
            phase += f" ({', '.join(notes)})"
    return [
        _cell(r.get("rank"), cls="num"),
        _cell(r["person_id"], href=r["href"]),
        _cell(r.get("linked", 0), cls="num"),
        _cell(r.get("events", 0), cls="num"),
        _cell(format_nok(r.get("nok_total"), lang), cls="num"),
        _cell(format_nok(r.get("max_36h_nok"), lang), cls="num"),
        _cell(r.get("hypotheses", 0), cls="num hyp"),
        _cell(format_nok(r.get("hypotheses_nok", 0.0), lang), cls="num hyp"),
        _cell(_day(r.get("span_end"))),
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
    """`episodes.html`: one row per episode (`analytics.episodes` columns); persons
    with a timeline page in `hrefs` link to it; attributed ones are hypotheses."""
    lab = labels(ANALYST_LABELS, lang)
    hrefs = hrefs or {}
    hours = label("hours_short", lang)
    table = []
    for e in episodes.iter_rows(named=True):
        source, pid = e.get("person_source"), e.get("person_id")
        if source == "attributed":
            status = f"{lab['hypothesis']}, p={e.get('attribution_p') or 0:.2f}"
        else:
            status = lab["linked"] if source == "linked" else None
        table.append(
            [
                _cell(e["start_at"].strftime("%Y-%m-%d %H:%M")),
                _cell(f"{e['duration_h']:.1f} {hours}", cls="num"),
                _cell(f"{e['n_approved']}/{e['n_declined']}", cls="num"),
                _cell(e["n_merchants"], cls="num"),
                _cell(format_nok(e["total_nok"], lang), cls="num"),
                _cell(format_nok(e["max_36h_nok"], lang), cls="num"),
                _cell(e["incident_id"]),
                _cell(e["card_ref"]),
                _cell(
                    pid or lab["none"],
                    href=hrefs.get(pid),
                    cls="hyp" if source == "attributed" else None,
                    extra=status,
                ),
            ]
        )
    return _render(
        lang,
        title=lab["episodes_title"],
        heading=f"{lab['bundle_title']}: {lab['episodes_title']}",
        as_of=as_of.isoformat(),
        generated=_stamp(generated_at),
        meta_links=[(lab["back"], "index.html")],
        note=f"{lab['since'].capitalize()} {since.isoformat() if since else '–'}. "
        f"{lab['hyp_note']}",
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

"""The analyst bundle's index pages: the top list and the card episodes.

Plain, self-contained HTML (no script, no network): `index.html` lists the top-list
persons, each linking to their timeline page; `episodes.html` lists the card-use
episodes, largest 36-hour total first. Attributed persons are always marked as
hypotheses with their probability, never as linked. Rendering only: rows in, an
HTML string out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from jinja2 import Environment, select_autoescape

from maps.timeline import format_nok, label

_LABELS: dict[str, tuple[str, str]] = {
    "bundle_title": ("Analyseoversikt", "Analyst index"),
    "toplist": ("Topplisten", "The top list"),
    "episodes_title": ("Kortepisoder", "Card episodes"),
    "rank": ("Rang", "Rank"),
    "person": ("Person (pseudonym)", "Person (pseudonym)"),
    "timeline": ("Tidslinje", "Timeline"),
    "cases_linked": ("Koblede saker", "Linked cases"),
    "cases_hyp": ("Hypoteser", "Hypotheses"),
    "events": ("Hendelser", "Events"),
    "nok": ("NOK totalt", "NOK total"),
    "max36": ("Største 36 t", "Largest 36 h"),
    "last_event": ("Siste hendelse", "Last event"),
    "phase_now": ("Fase nå", "Phase now"),
    "as_of": ("Per", "As of"),
    "generated": ("Laget", "Generated"),
    "window": ("Tidslinjene dekker", "Timelines cover"),
    "source_toplist": ("Kilde: topplisten", "Source: the top list"),
    "source_fallback": (
        "Kilde: flest koblede saker siste 365 dager (topplisten er ikke beregnet)",
        "Source: most linked cases in the last 365 days (no top list computed)",
    ),
    "see_episodes": ("Alle kortepisoder", "All card episodes"),
    "back": ("Til topplisten", "To the top list"),
    "start": ("Start", "Start"),
    "duration": ("Varighet", "Duration"),
    "tx": ("Transaksjoner (godkj./avv.)", "Transactions (appr./decl.)"),
    "merchants": ("Brukersteder", "Merchants"),
    "total": ("Sum", "Total"),
    "case": ("Sak", "Case"),
    "card": ("Kort", "Card"),
    "who": ("Person", "Person"),
    "linked": ("koblet", "linked"),
    "hypothesis": ("hypotese", "hypothesis"),
    "none": ("ukjent", "unknown"),
    "no_rows": ("Ingen.", "None."),
    "since": ("siden", "since"),
    "hyp_note": (
        "Personer merket «hypotese» er foreslått av attribusjonsmodellen med "
        "sannsynlighet p; de er ikke koblet til saken i saksregisteret.",
        "Persons marked 'hypothesis' are proposed by the attribution model with "
        "probability p; they are not linked to the case in the case register.",
    ),
    "confidential": (
        "Taushetsbelagt: kun for analytikere i politiets nett. Virker uten nett.",
        "Confidential: for analysts on the police network only. Works without network.",
    ),
}

_STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f2d3d;color:#fff;padding:10px 18px}header h1{font-size:19px;margin:0}
header .meta{font-size:12px;opacity:.85}header a{color:#cfe3ff}
main{padding:10px 18px}table{border-collapse:collapse;background:#fff;font-size:13px}
th,td{border-bottom:1px solid #e4e4e4;padding:4px 9px;text-align:left}td.num,th.num{text-align:right}
th{background:#f0f2f5}.hyp{color:#8a3b6b;font-style:italic}.note{font-size:12px;color:#555;margin:8px 0}
"""

_TOPLIST = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ L.bundle_title }} – {{ as_of }}</title>
<style>{{ style }}</style></head><body>
<header><h1>{{ L.bundle_title }}: {{ L.toplist }}</h1>
<div class="meta">{{ L.as_of }} {{ as_of }} · {{ L.generated }} {{ generated }} · {{ source }} · <a href="episodes.html">{{ L.see_episodes }} ({{ n_episodes }})</a></div>
<div class="meta">{{ L.confidential }}</div></header>
<main>
<p class="note">{{ L.window }} {{ window_days }} {{ days }} ({{ L.since }} {{ since }}). {{ L.hyp_note }}</p>
{% if rows %}
<table id="toplist">
<tr><th class="num">{{ L.rank }}</th><th>{{ L.person }}</th><th class="num">{{ L.cases_linked }}</th><th class="num">{{ L.cases_hyp }}</th><th class="num">{{ L.events }}</th><th class="num">{{ L.nok }}</th><th class="num">{{ L.max36 }}</th><th>{{ L.last_event }}</th><th>{{ L.phase_now }}</th></tr>
{% for r in rows %}
<tr><td class="num">{{ r.rank }}</td><td><a href="{{ r.href }}">{{ r.person_id }}</a></td><td class="num">{{ r.linked }}</td><td class="num hyp">{{ r.hypotheses }}</td><td class="num">{{ r.events }}</td><td class="num">{{ r.nok }}</td><td class="num">{{ r.max36 }}</td><td>{{ r.last }}</td><td>{{ r.phase }}</td></tr>
{% endfor %}
</table>
{% else %}<p>{{ L.no_rows }}</p>{% endif %}
</main></body></html>
"""

_EPISODES = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ L.episodes_title }} – {{ as_of }}</title>
<style>{{ style }}</style></head><body>
<header><h1>{{ L.bundle_title }}: {{ L.episodes_title }}</h1>
<div class="meta">{{ L.as_of }} {{ as_of }} · {{ L.generated }} {{ generated }} · <a href="index.html">{{ L.back }}</a></div>
<div class="meta">{{ L.confidential }}</div></header>
<main>
<p class="note">{{ L.since|capitalize }} {{ since }}. {{ L.hyp_note }}</p>
{% if rows %}
<table id="episodes">
<tr><th>{{ L.start }}</th><th class="num">{{ L.duration }}</th><th class="num">{{ L.tx }}</th><th class="num">{{ L.merchants }}</th><th class="num">{{ L.total }}</th><th class="num">{{ L.max36 }}</th><th>{{ L.case }}</th><th>{{ L.card }}</th><th>{{ L.who }}</th></tr>
{% for r in rows %}
<tr><td>{{ r.start }}</td><td class="num">{{ r.duration }}</td><td class="num">{{ r.tx }}</td><td class="num">{{ r.merchants }}</td><td class="num">{{ r.total }}</td><td class="num">{{ r.max36 }}</td><td>{{ r.case }}</td><td>{{ r.card }}</td>
<td{% if r.hyp %} class="hyp"{% endif %}>{% if r.href %}<a href="{{ r.href }}">{{ r.person }}</a>{% else %}{{ r.person }}{% endif %}{% if r.status %} ({{ r.status }}){% endif %}</td></tr>
{% endfor %}
</table>
{% else %}<p>{{ L.no_rows }}</p>{% endif %}
</main></body></html>
"""

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def _labels(lang: str) -> dict[str, str]:
    return {k: (nb if lang == "nb" else en) for k, (nb, en) in _LABELS.items()}


def _day(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d")
    return str(value)


def render_toplist_page(
    rows: list[dict[str, Any]],
    *,
    as_of: dt.date,
    lang: str = "nb",
    source: str = "toplist",
    generated_at: dt.datetime | None = None,
    n_episodes: int = 0,
    window_days: int = 730,
) -> str:
    """`index.html`: one row per top-list person (dicts with rank, person_id, href,
    linked, hypotheses, events, nok_total, max_36h_nok, span_end, phase, phase_p)."""
    lab = _labels(lang)
    shown = []
    for r in rows:
        phase = r.get("phase")
        phase_txt = "–"
        if phase:
            phase_txt = label(phase, lang)
            if r.get("phase_p") is not None:
                phase_txt += f" (p={r['phase_p']:.2f})"
        shown.append(
            {
                "rank": r.get("rank"),
                "person_id": r["person_id"],
                "href": r["href"],
                "linked": r.get("linked", 0),
                "hypotheses": r.get("hypotheses", 0),
                "events": r.get("events", 0),
                "nok": format_nok(r.get("nok_total"), lang),
                "max36": format_nok(r.get("max_36h_nok"), lang),
                "last": _day(r.get("span_end")),
                "phase": phase_txt,
            }
        )
    return _env.from_string(_TOPLIST).render(
        lang=lang,
        L=lab,
        style=_STYLE,
        rows=shown,
        as_of=as_of.isoformat(),
        generated=generated_at.strftime("%Y-%m-%d %H:%M") if generated_at else "–",
        source=lab["source_toplist" if source == "toplist" else "source_fallback"],
        n_episodes=n_episodes,
        window_days=window_days,
        days=label("days", lang),
        since=(as_of - dt.timedelta(days=window_days - 1)).isoformat(),
    )


def render_episodes_page(
    episodes: pl.DataFrame,
    *,
    as_of: dt.date,
    lang: str = "nb",
    hrefs: dict[str, str] | None = None,
    generated_at: dt.datetime | None = None,
    since: dt.date | None = None,
    relative_prefix: str = "",
) -> str:
    """`episodes.html`: one row per episode (`analytics.episodes` columns); persons
    with a timeline page in `hrefs` link to it; attributed ones are hypotheses."""
    lab = _labels(lang)
    hrefs = hrefs or {}
    rows = []
    for e in episodes.iter_rows(named=True):
        source = e.get("person_source")
        pid = e.get("person_id")
        if source == "attributed":
            status = f"{lab['hypothesis']}, p={e.get('attribution_p') or 0:.2f}"
        elif source == "linked":
            status = lab["linked"]
        else:
            status = ""
        rows.append(
            {
                "start": e["start_at"].strftime("%Y-%m-%d %H:%M"),
                "duration": f"{e['duration_h']:.1f} {label('hours_short', lang)}",
                "tx": f"{e['n_approved']}/{e['n_declined']}",
                "merchants": e["n_merchants"],
                "total": format_nok(e["total_nok"], lang),
                "max36": format_nok(e["max_36h_nok"], lang),
                "case": e["incident_id"],
                "card": e["card_ref"],
                "person": pid or lab["none"],
                "href": relative_prefix + hrefs[pid] if pid in hrefs else None,
                "status": status,
                "hyp": source == "attributed",
            }
        )
    return _env.from_string(_EPISODES).render(
        lang=lang,
        L=lab,
        style=_STYLE,
        rows=rows,
        as_of=as_of.isoformat(),
        generated=generated_at.strftime("%Y-%m-%d %H:%M") if generated_at else "–",
        since=since.isoformat() if since else "–",
    )

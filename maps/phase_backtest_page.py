"""The analyst bundle's phase back-test page (`phase_backtest.html`).

What the phase model is worth on the force's own data, in plain words first
("Av 7 731 dager i varetekt som vi skjulte for modellen, sa den `inaktiv` om 99 %"),
then the next-14-day table: per phase at the origin, the cases the model expected
against those recorded, beside the person's own recent rate. Plain, self-contained
HTML (no script, no network). Rendering only: the stored rows of `phase_backtest`
(test, group, metric, value, n) in, an HTML string out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from gjenganger.maps import report_page
from gjenganger.maps.i18n import labels
from gjenganger.maps.timeline_labels import page_format

PHASE_BACKTEST_LABELS: dict[str, tuple[str, str]] = {
    "title": ("Etterprøving av fasene", "Phase back-test"),
    "as_of": ("Per", "As of"),
    "back": ("Til topplisten", "To the top list"),
    "confidential": (
        "Tallene gjelder modellen, ingen person.",
        "The figures are about the model, not a person.",
    ),
    "intro": (
        "Hver natt prøver vi fasemodellen på det registrene selv vet: dager i "
        "fengsel, varetekt eller behandling skjules for modellen og sammenlignes "
        "med hva den sier, og antall saker de neste 14 dagene sammenlignes med det "
        "fasen den dagen tilsa.",
        "Every night the phase model is tried on what the registers themselves "
        "know: days in prison, remand or treatment are hidden from the model and "
        "compared with what it says, and the cases of the next 14 days are "
        "compared with what the phase that day implied.",
    ),
    "custody": (
        "Av {days} dager i varetekt, fengsel eller behandling som ble skjult for "
        "modellen ({spells} opphold), sa den «inaktiv» om {said} (snitt p "
        "{p}). Om dager uten registrert opphold sa den «inaktiv» om {free}.",
        "Of {days} days in custody, prison or treatment hidden from the model "
        "({spells} spells), it said 'inactive' for {said} (mean p {p}). Of days "
        "with no registered spell it said 'inactive' for {free}.",
    ),
    "no_custody": (
        "Ingen opphold i varetekt å skjule.",
        "No custody spell to hide.",
    ),
    "next": (
        "Neste 14 dager: modellen ventet i snitt {pred} saker per person, det ble "
        "registrert {rec}. Gjennomsnittlig feil {mae} saker; personens egen takt "
        "de siste 28 dagene bommet med {mae_base}.",
        "Next 14 days: the model expected {pred} cases per person on average, "
        "{rec} were recorded. Mean error {mae} cases; the person's own rate of "
        "the last 28 days missed by {mae_base}.",
    ),
    "no_next": (
        "For kort historikk til å prøve de neste 14 dagene.",
        "Too short a history to try the next 14 days.",
    ),
    "by_phase": ("Neste 14 dager etter fase", "Next 14 days by phase"),
    "by_phase_note": (
        "Fasen personen var i på startdagen (bare fra dagene før), forventet og "
        "registrert antall saker de 14 dagene etter, per person.",
        "The phase the person was in on the origin day (from the days before "
        "only), cases expected and recorded in the 14 days after, per person.",
    ),
    "phase": ("Fase", "Phase"),
    "windows": ("Personer × startdager", "Persons × origins"),
    "predicted": ("Forventet", "Expected"),
    "recorded": ("Registrert", "Recorded"),
    "no_backtest": (
        "Etterprøvingen av fasene har ikke kjørt for denne databasen.",
        "The phase back-test has not run for this database.",
    ),
}
PHASE_NAMES: dict[str, tuple[str, str]] = {
    "rest": ("hvile", "rest"),
    "phase1": ("fase 1", "phase 1"),
    "phase2": ("fase 2", "phase 2"),
    "phase3": ("fase 3", "phase 3"),
    "inactive": ("inaktiv", "inactive"),
}

_BODY = """
{% if rows %}<h2>{{ L.by_phase }}</h2><p class="note">{{ L.by_phase_note }}</p>
<table id="by-phase"><tr><th>{{ L.phase }}</th><th class="num">{{ L.windows }}</th>
<th class="num">{{ L.predicted }}</th><th class="num">{{ L.recorded }}</th></tr>
{% for r in rows %}<tr><td>{{ r[0] }}</td><td class="num">{{ r[1] }}</td>
<td class="num">{{ r[2] }}</td><td class="num">{{ r[3] }}</td></tr>
{% endfor %}</table>{% endif %}
"""


def _pct(fmt, value: float | None) -> str:
    if value is None or value != value:
        return "–"
    text = fmt.number(100 * value, 0)
    return f"{text}\u00a0%" if fmt.lang == "nb" else f"{text}%"


def _figures(rows: pl.DataFrame, test: str, group: str = "all") -> dict:
    """metric -> (value, n) of one test and group."""
    sel = rows.filter((pl.col("test") == test) & (pl.col("group") == group))
    return {r["metric"]: (r["value"], r["n"]) for r in sel.iter_rows(named=True)}


def _headlines(rows: pl.DataFrame, lab: dict, fmt) -> list[str]:
    out = []
    ch = _figures(rows, "custody_hidden")
    if "said_inactive" in ch:
        out.append(
            lab["custody"].format(
                days=fmt.number(ch["said_inactive"][1]),
                spells=fmt.number(ch["spells"][0]),
                said=_pct(fmt, ch["said_inactive"][0]),
                p=fmt.p(ch["mean_p_inactive"][0]),
                free=_pct(fmt, ch["said_inactive_free_days"][0]),
            )
        )
    else:
        out.append(lab["no_custody"])
    nx = _figures(rows, "next_14_days")
    if "mae" in nx:
        out.append(
            lab["next"].format(
                pred=fmt.number(nx["predicted_mean"][0], 1),
                rec=fmt.number(nx["recorded_mean"][0], 1),
                mae=fmt.number(nx["mae"][0], 1),
                mae_base=fmt.number(nx["mae_recent_rate"][0], 1),
            )
        )
    else:
        out.append(lab["no_next"])
    return out


def _phase_rows(rows: pl.DataFrame, lang: str, fmt) -> list[tuple[str, ...]]:
    out = []
    for phase, names in PHASE_NAMES.items():
        fig = _figures(rows, "next_14_days", phase)
        if "predicted_mean" not in fig:
            continue
        out.append(
            (
                names[0 if lang == "nb" else 1],
                fmt.number(fig["predicted_mean"][1]),
                fmt.number(fig["predicted_mean"][0], 1),
                fmt.number(fig["recorded_mean"][0], 1),
            )
        )
    return out


def render_phase_backtest_page(
    rows: pl.DataFrame | None, *, as_of: dt.date, lang: str = "nb"
) -> str:
    """`phase_backtest.html` from the stored `phase_backtest` rows, or a page saying
    it has not run (None or no rows)."""
    lab = labels(PHASE_BACKTEST_LABELS, lang)
    fmt = page_format(lang)
    ctx: dict[str, Any] = {"headlines": [lab["no_backtest"]], "rows": []}
    if rows is not None and rows.height:
        ctx = {
            "headlines": _headlines(rows, lab, fmt),
            "rows": _phase_rows(rows, lang, fmt),
        }
    return report_page.render(
        _BODY, lang=lang, L=lab, as_of=fmt.date(as_of), main_id="phase-backtest", **ctx
    )

"""The analyst bundle's back-test page (`backtest.html`): how attribution did.

Plain, self-contained HTML (no script, no network). In plain words first ("Av saker
som var åpne 01.06.2026 og er oppklart siden, pekte modellen ut riktig person
først i 37 %"), then the figures per back-test date, the reliability table (p bands
against the share confirmed, before and after calibration), what calibration did
to tonight's p ("for få bekreftede saker til å stole på p" when shrunk), and the
bias that remains. Rendering only: the stored figures in, an HTML string out.
Numbers and dates in the page language's format (`maps.timeline_labels.page_format`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from gjenganger.maps import report_page
from gjenganger.maps.i18n import labels
from gjenganger.maps.timeline_labels import page_format

BACKTEST_LABELS: dict[str, tuple[str, str]] = {
    "title": ("Etterprøving av attribusjonen", "Attribution back-test"),
    "as_of": ("Per", "As of"),
    "back": ("Til topplisten", "To the top list"),
    "confidential": (
        "Hypoteser er ikke koblinger. Tallene gjelder modellen, ingen person.",
        "Hypotheses are not links. The figures are about the model, not a person.",
    ),
    "intro": (
        "Hver natt ser vi på sakene som var åpne for 90 og 180 dager siden (den "
        "første i måneden), slik modellen vurderte dem da, og sjekker dem mot "
        "koblingene som er gjort siden. Bare saker som er oppklart siden teller.",
        "Every night we take the cases that were open 90 and 180 days ago (the "
        "first of that month), as the model scored them then, and check them "
        "against the links made since. Only cases solved since count.",
    ),
    "headline": (
        "Av saker som var åpne {date} og er oppklart siden ({n} av {scored}), "
        "pekte modellen ut riktig person først i {hit1} og blant de fem første "
        "i {hit5}.",
        "Of the cases open on {date} and solved since ({n} of {scored}), the "
        "model named the right person first in {hit1} and among its first five "
        "in {hit5}.",
    ),
    "precision": (
        "Av hypotesene med p ≥ 0,5 var {prec} riktige ({n} hypoteser).",
        "Of the hypotheses with p ≥ 0.5, {prec} were right ({n} hypotheses).",
    ),
    "no_p50": (
        "Ingen hypotese hadde p ≥ 0,5.",
        "No hypothesis had p ≥ 0.5.",
    ),
    "none_confirmed": (
        "Av sakene som var åpne {date} ({scored}) er ingen oppklart siden.",
        "Of the cases open on {date} ({scored}), none has been solved since.",
    ),
    "calibrated": (
        "p på sidene er kalibrert på disse sakene ({n} bekreftede): en p på 0,6 "
        "betyr at omtrent 6 av 10 slike hypoteser viste seg å stemme.",
        "p on the pages is calibrated on these cases ({n} confirmed): a p of 0.6 "
        "means about 6 in 10 such hypotheses turned out right.",
    ),
    "kept": (
        "p holdt mål på disse sakene ({n} bekreftede): en kalibrering tilpasset "
        "dem gjorde det ikke bedre på saker den ikke var tilpasset, så p er "
        "beholdt slik modellen gir den.",
        "p held up on these cases ({n} confirmed): a calibration fitted on them "
        "did no better on cases it was not fitted on, so p is kept as the model "
        "gives it.",
    ),
    "shrunk": (
        "For få bekreftede saker til å stole på p ({n} av minst {min}): p er "
        "krympet mot «ingen av dem» med faktor {s}.",
        "Too few confirmed cases to trust p ({n} of at least {min}): p is shrunk "
        "toward 'none of them' by a factor {s}.",
    ),
    "none": (
        "Ingen bekreftede saker: for få bekreftede saker til å stole på p, så "
        "ingen hypotese får p over 0.",
        "No confirmed case: too few confirmed cases to trust p, so no "
        "hypothesis gets a p above 0.",
    ),
    "unchecked": (
        "Ingen etterprøving ennå (for kort historikk): p er ikke kontrollert mot "
        "saker som var åpne.",
        "No back-test yet (too short a history): p is not checked against cases "
        "that were open.",
    ),
    "no_backtest": (
        "Etterprøvingen har ikke kjørt for denne databasen.",
        "The back-test has not run for this database.",
    ),
    "bias": (
        "Saker som oppklares senere er ikke et tilfeldig utvalg av de åpne: "
        "ferske saker og noen lovbruddsgrupper oppklares oftere. Hver oppklart "
        "sak er vektet med 1 / sannsynligheten for at en sak av samme "
        "lovbruddsgruppe, område og alder blir oppklart, så tallene gjelder de "
        "åpne sakene så langt disse gruppene rekker. Det vektene ikke ser, "
        "består: personer som sjelden blir tatt er underrepresentert, og for "
        "deres saker er tallene trolig for gode. Uvektet traff modellen først i "
        "{raw}.",
        "Cases solved later are not a random sample of the open ones: fresh "
        "cases and some offence groups are solved more often. Each solved case "
        "is weighted by 1 / the chance that a case of its offence group, area "
        "and age is solved, so the figures describe the open cases as far as "
        "those groups go. What the weights cannot see remains: persons seldom "
        "caught are under-represented, and for their cases the figures are "
        "probably too good. Unweighted, the model was right first in {raw}.",
    ),
    "figures": ("Tall per dato", "Figures per date"),
    "reliability": (
        "Pålitelighet: p mot andel bekreftet",
        "Reliability: p against share confirmed",
    ),
    "reliability_note": (
        "Hypotesene (de fem første kandidatene) i oppklarte saker, i bånd av p. "
        "«Etter kalibrering» er kryssvalidert: hver halvdel av sakene er vurdert "
        "med kalibreringen tilpasset den andre halvdelen.",
        "The hypotheses (first five candidates) of solved cases, in bands of p. "
        "'After calibration' is cross-validated: each half of the cases is "
        "scored with the calibration fitted on the other half.",
    ),
    "sample": ("Utvalg", "Sample"),
    "date": ("Åpne per", "Open on"),
    "scored": ("Saker vurdert", "Cases scored"),
    "confirmed": ("Oppklart siden", "Solved since"),
    "hit1": ("Riktig først", "Right first"),
    "hit5": ("Blant fem første", "Among first five"),
    "ece": ("Kalibreringsfeil (ECE)", "Calibration error (ECE)"),
    "prec50": ("Riktige ved p ≥ 0,5", "Right at p ≥ 0.5"),
    "brier": ("Brier-ferdighet, rang 1", "Brier skill, rank 1"),
    "days_ago": ("{d} dager før", "{d} days before"),
    "pooled": ("Begge datoer", "Both dates"),
    "pooled_cal": ("Begge, etter kalibrering", "Both, after calibration"),
    "band": ("p-bånd", "p band"),
    "n": ("Hypoteser", "Hypotheses"),
    "mean_p": ("Snitt p", "Mean p"),
    "share": ("Andel bekreftet", "Share confirmed"),
    "before": ("Før kalibrering", "Before calibration"),
    "after": ("Etter kalibrering", "After calibration"),
    "cached": ("fra hurtiglager", "cached"),
}

_BODY = """
<p class="status{% if status_ok %} ok{% endif %}"
 id="calibration-status">{{ status }}</p>
{% for title, note, columns, rows, table_id in tables %}
<h2>{{ title }}</h2>{% if note %}<p class="note">{{ note }}</p>{% endif %}
<table id="{{ table_id }}"><tr>{% for name, num in columns %}
<th{% if num %} class="num"{% endif %}>{{ name }}</th>{% endfor %}</tr>
{% for row in rows %}<tr>{% for cell, num in row %}
<td{% if num %} class="num"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% endfor %}
{% if bias %}<p class="note" id="bias">{{ bias }}</p>{% endif %}
"""


def _pct(fmt, value: float | None) -> str:
    """A share as a percentage: "37 %" (nb) or "37%" (en)."""
    if value is None or value != value:
        return "–"
    text = fmt.number(100 * value, 0)
    return f"{text}\u00a0%" if fmt.lang == "nb" else f"{text}%"


def _headlines(figures: pl.DataFrame, lab: dict, fmt) -> list[str]:
    """One plain sentence per back-test date, and one on precision at p >= 0.5."""
    out = []
    raw = figures.filter(
        (pl.col("kind") == "raw") & pl.col("horizon_days").is_not_null()
    )
    for r in raw.sort("horizon_days").iter_rows(named=True):
        date = fmt.date(r["past_date"])
        scored = fmt.number(r["cases_scored"])
        if not r["cases_confirmed"]:
            out.append(lab["none_confirmed"].format(date=date, scored=scored))
            continue
        out.append(
            lab["headline"].format(
                date=date,
                n=fmt.number(r["cases_confirmed"]),
                scored=scored,
                hit1=_pct(fmt, r["hit_at_1"]),
                hit5=_pct(fmt, r["hit_at_5"]),
            )
        )
    pooled = _row(figures, "raw")
    if pooled is not None:
        n = pooled["hypotheses_p_ge_0_5"] or 0
        out.append(
            lab["precision"].format(
                prec=_pct(fmt, pooled["precision_p_ge_0_5"]), n=fmt.number(n)
            )
            if n
            else lab["no_p50"]
        )
    return out


def _row(figures: pl.DataFrame, kind: str) -> dict | None:
    pooled = figures.filter((pl.col("kind") == kind) & pl.col("horizon_days").is_null())
    return pooled.row(0, named=True) if pooled.height else None


def _status(recal: dict, lab: dict, fmt) -> tuple[str, bool]:
    """What calibration did to tonight's p, in words; whether p can be trusted."""
    from gjenganger.analytics.attribution_calibration import MIN_CONFIRMED

    status = recal["status"]
    n = fmt.number(recal["n_confirmed"])
    if status in ("calibrated", "kept"):
        return lab[status].format(n=n), True
    if status == "shrunk":
        text = lab["shrunk"].format(n=n, min=MIN_CONFIRMED, s=fmt.p(recal["shrink"]))
        return text, False
    return lab[status if status in ("none", "unchecked") else "unchecked"], False


def _figure_table(figures: pl.DataFrame, lab: dict, fmt) -> tuple:
    columns = [
        (lab["sample"], False),
        (lab["date"], False),
        (lab["scored"], True),
        (lab["confirmed"], True),
        (lab["hit1"], True),
        (lab["hit5"], True),
        (lab["ece"], True),
        (lab["prec50"], True),
        (lab["brier"], True),
    ]
    rows = []
    for r in figures.iter_rows(named=True):
        if r["horizon_days"] is not None:
            sample = lab["days_ago"].format(d=r["horizon_days"])
            if r.get("cached"):
                sample += f" ({lab['cached']})"
        else:
            sample = lab["pooled" if r["kind"] == "raw" else "pooled_cal"]
        prec = _pct(fmt, r["precision_p_ge_0_5"])
        if r["hypotheses_p_ge_0_5"]:
            prec += f" ({fmt.number(r['hypotheses_p_ge_0_5'])})"
        rows.append(
            [
                (sample, False),
                (fmt.date(r["past_date"]) if r["past_date"] else "–", False),
                (fmt.number(r["cases_scored"]), True),
                (fmt.number(r["cases_confirmed"]), True),
                (_pct(fmt, r["hit_at_1"]), True),
                (_pct(fmt, r["hit_at_5"]), True),
                (fmt.p(r["ece"], 3), True),
                (prec, True),
                (fmt.p(r["brier_skill_rank1"]), True),
            ]
        )
    return (lab["figures"], None, columns, rows, "figures")


def _band_table(bands: pl.DataFrame, lab: dict, fmt) -> tuple:
    pooled = bands.filter(pl.col("horizon_days").is_null())
    columns = [(lab["band"], False)]
    for kind in ("before", "after"):
        columns += [
            (f"{lab[kind]}: {lab['n']}", True),
            (lab["mean_p"], True),
            (lab["share"], True),
        ]
    by_kind = {
        k: {
            r["band_lo"]: r
            for r in pooled.filter(pl.col("kind") == k).iter_rows(named=True)
        }
        for k in ("raw", "calibrated")
    }
    rows = []
    for lo in sorted(set(by_kind["raw"]) | set(by_kind["calibrated"])):
        row = [(f"{fmt.p(lo, 1)}–{fmt.p(lo + 0.1, 1)}", False)]
        for k in ("raw", "calibrated"):
            r = by_kind[k].get(lo)
            row += [
                (fmt.number(r["n"]) if r else "0", True),
                (fmt.p(r["mean_p"]) if r else "–", True),
                (_pct(fmt, r["share_confirmed"]) if r else "–", True),
            ]
        rows.append(row)
    return (lab["reliability"], lab["reliability_note"], columns, rows, "reliability")


def render_backtest_page(
    results: tuple[pl.DataFrame, pl.DataFrame, dict] | None,
    *,
    as_of: dt.date,
    lang: str = "nb",
) -> str:
    """`backtest.html` from the stored back-test (`store.backtest.latest_results`:
    figures, bands, recalibration), or a page saying it has not run (None)."""
    lab = labels(BACKTEST_LABELS, lang)
    fmt = page_format(lang)
    ctx: dict[str, Any] = {"headlines": [], "tables": [], "bias": None}
    if results is None:
        ctx.update(status=lab["no_backtest"], status_ok=False)
    else:
        figures, bands, recal = results
        status, ok = _status(recal, lab, fmt)
        ctx.update(status=status, status_ok=ok)
        if figures.height:
            ctx["headlines"] = _headlines(figures, lab, fmt)
            ctx["tables"] = [
                _figure_table(figures, lab, fmt),
                _band_table(bands, lab, fmt),
            ]
            pooled = _row(figures, "raw")
            if pooled is not None and pooled["cases_confirmed"]:
                ctx["bias"] = lab["bias"].format(
                    raw=_pct(fmt, pooled["hit_at_1_unweighted"])
                )
    return report_page.render(
        _BODY, lang=lang, L=lab, as_of=fmt.date(as_of), main_id="backtest", **ctx
    )

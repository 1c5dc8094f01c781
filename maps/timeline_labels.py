"""The timeline and analyst-index pages' own wording, Norwegian bokmål and English.

`TIMELINE_LABELS` (the timeline page; its script receives all of them) and
`ANALYST_LABELS` (the analyst bundle's index pages). Looked up through
`maps.i18n` (`label`, `labels`), which also holds the contract vocabularies.
Hypotheses are always called hypotheses here, never linked; headline figures say
that they count linked cases only.
"""

from __future__ import annotations

import datetime as dt

# The timeline page's own labels: the page's script receives all of them, so a
# key here may repeat a general key above in the page's wording ("person").
TIMELINE_LABELS: dict[str, tuple[str, str]] = {
    "title": ("Tidslinje", "Timeline"),
    "person": ("Person (pseudonym)", "Person (pseudonym)"),
    "period": ("Periode", "Period"),
    "whole_history": ("hele historikken", "whole history"),
    "generated": ("Laget", "Generated"),
    "lane_acquisitive": ("Vinning", "Acquisitive"),
    "lane_fraud": ("Bedrageri", "Fraud"),
    "lane_drugs": ("Narkotika", "Drugs"),
    "lane_vandalism": ("Skadeverk", "Vandalism"),
    "lane_violence": ("Vold", "Violence"),
    "lane_other": ("Annet", "Other"),
    "lane_card": ("Kortbruk", "Card use"),
    "lane_arrest": ("Pågripelser", "Arrests"),
    "lane_custody": ("Varetekt/fengsel/behandling", "Custody/prison/treatment"),
    "level_1": ("Nivå 1 (impulsiv)", "Level 1 (impulsive)"),
    "level_2": ("Nivå 2", "Level 2"),
    "level_3": ("Nivå 3 (organisert)", "Level 3 (organised)"),
    "level_none": ("Nivå ukjent", "Level unknown"),
    "hypotheses": ("Hypoteser (attribuert, hule)", "Hypotheses (attributed, hollow)"),
    "windows": ("Tidsvindu for lovbrudd", "Offence time windows"),
    "cumulative": (
        "Kumulativ NOK, kortbruk i koblede saker",
        "Cumulative NOK, card use in linked cases",
    ),
    "cumulative_axis": ("Kumulativ NOK", "Cumulative NOK"),
    "use_periods": ("Rusperioder", "Use periods"),
    "phases": ("Faser", "Phases"),
    "linked": ("koblet i saksregisteret", "linked in the case register"),
    "hypothesis": ("hypotese", "hypothesis"),
    "hypothesis_note": (
        "attribuert av modellen, ikke koblet",
        "attributed by the model, not linked",
    ),
    "time": ("Tid", "Time"),
    "window": ("Tidsvindu", "Time window"),
    "target": ("Mål", "Target"),
    "entry": ("Fremgangsmåte", "Entry"),
    "value": ("Verdi", "Value"),
    "amount": ("Beløp", "Amount"),
    "status": ("Status", "Status"),
    "level": ("Nivå", "Level"),
    "case": ("Sak", "Case"),
    "card": ("Kort", "Card"),
    "merchant": ("Brukersted", "Merchant"),
    "approved": ("godkjent", "approved"),
    "declined": ("avvist", "declined"),
    "start": ("Start", "Start"),
    "end": ("Slutt", "End"),
    "ongoing": ("pågår", "ongoing"),
    "hours_short": ("t", "h"),
    "summary": ("Sammendrag", "Summary"),
    "span": ("Tidsrom", "Span"),
    "days": ("dager", "days"),
    "events": ("Hendelser (uten hypoteser)", "Events (without hypotheses)"),
    "events_by_kind": (
        "Hendelser etter type (uten hypoteser)",
        "Events by kind (without hypotheses)",
    ),
    "linked_cases": ("Koblede saker", "Linked cases"),
    "nok_total": ("NOK totalt, koblede saker", "NOK total, linked cases"),
    "nok_note": (
        "verdier i koblede saker + godkjent kortbruk i dem; kortsvindel telles én "
        "gang; hypoteser er ikke med",
        "values of linked cases + their approved card use; card fraud counted "
        "once; hypotheses not included",
    ),
    "max36": (
        "Største NOK-sum innen 36 timer, koblede saker",
        "Largest NOK total within 36 hours, linked cases",
    ),
    "hyp_figures": ("Hypoteser, p ≥ {p}", "Hypotheses, p ≥ {p}"),
    "hyp_case": ("sak", "case"),
    "hyp_cases": ("saker", "cases"),
    "hyp_note": (
        "attribuerte åpne saker, ikke koblet; ikke med i tallene ved siden av",
        "attributed open cases, not linked; not in the figures beside",
    ),
    "hyp_hidden": (
        "Hypoteser med p < {p} er verken vist eller talt med: {n}.",
        "Hypotheses with p < {p} are neither shown nor counted: {n}.",
    ),
    "attribution_window": ("Attribusjonsvindu", "Attribution window"),
    "attribution_window_note": (
        "Hypoteser finnes bare for åpne saker i attribusjonsvinduet: de {days} "
        "dagene fram til {as_of} (skravert i diagrammet). Før det vises bare koblede "
        "saker, så flere saker i vinduet er ingen opptrapping i seg selv.",
        "Hypotheses exist only for open cases in the attribution window: the {days} "
        "days up to {as_of} (shaded in the chart). Before it only linked cases show, "
        "so more cases inside the window is no escalation in itself.",
    ),
    "phase_now": ("Fase nå", "Phase now"),
    "uncertain": ("usikker", "uncertain"),
    "in_custody_now": ("i varetekt/fengsel nå", "in custody now"),
    "no_rhythm": (
        "ingen rusperiode-rytme (jevn kriminalitet)",
        "no use-period rhythm (steady offending)",
    ),
    "custody_share": (
        "{where} {pct} % av tidsvinduet",
        "{where} for {pct} % of the offence window",
    ),
    "in_remand": ("i varetekt", "in remand"),
    "in_prison": ("i fengsel", "in prison"),
    "in_treatment": ("i behandling", "in treatment"),
    "in_arrest": ("pågrepet", "under arrest"),
    "in_custody": ("i varetekt", "in custody"),
    "top_episodes": ("Største kortepisoder", "Top card episodes"),
    "episode_start": ("Start", "Start"),
    "duration": ("Varighet", "Duration"),
    "transactions": ("Transaksjoner (godkj./avv.)", "Transactions (appr./decl.)"),
    "merchants": ("Brukersteder", "Merchants"),
    "total": ("Sum", "Total"),
    "max36_short": ("Maks 36 t", "Max 36 h"),
    "person_link": ("Person", "Person"),
    "no_episodes": (
        "Ingen kortepisoder i perioden.",
        "No card episodes in the period.",
    ),
    "no_events": ("Ingen hendelser i perioden.", "No events in the period."),
    "only_hypotheses": (
        "Personen er ikke koblet til noen sak i perioden: alle saker her er "
        "hypoteser fra attribusjonsmodellen.",
        "The person is linked to no case in the period: every case here is a "
        "hypothesis of the attribution model.",
    ),
    "hypothesis_banner": (
        "Hule symboler og stiplede markører er hypoteser (attribuert med "
        "sannsynlighet p), ikke koblinger i saksregisteret.",
        "Hollow symbols and dashed markers are hypotheses (attributed with "
        "probability p), not links in the case register.",
    ),
    "zoom": ("Zoom", "Zoom"),
    "zoom_all": ("Alt", "All"),
    "zoom_year": ("1 år", "1 year"),
    "zoom_90d": ("90 d", "90 d"),
    "zoom_30d": ("30 d", "30 d"),
    "zoom_7d": ("7 d", "7 d"),
    "zoom_48h": ("48 t", "48 h"),
    "zoom_12h": ("12 t", "12 h"),
    "zoom_max36": ("Største 36 t", "Largest 36 h"),
    "save_png": ("Lagre PNG", "Save PNG"),
    "png_name": ("tidslinje.png", "timeline.png"),
    "map": ("Kart med avspilling", "Map with replay"),
    "map_note": (
        "Glidebryteren spiller av hendelsene i rekkefølge; linjen går gjennom de "
        "siste hendelsene som vises. Hendelser på samme sted samme dag deler en "
        "markør med antallet. Koblede saker ligger over hypotesene. Nettbruk uten "
        "posisjon vises ikke.",
        "The slider replays the events in order; the line runs through the latest "
        "events shown. Events at the same place on the same day share a marker "
        "with their count. Linked cases lie above the hypotheses. Online use "
        "without a position is not shown.",
    ),
    "no_map": ("Ingen hendelser med posisjon.", "No events with a position."),
    "map_linked": ("Koblede saker", "Linked cases"),
    "map_path": ("Vei, siste {n} steg", "Path, last {n} steps"),
    "map_current": ("Siste viste hendelse", "Latest event shown"),
    "map_group": (
        "flere hendelser samme sted og dag (antall)",
        "several events at the same place and day (count)",
    ),
    "same_spot": ("{n} hendelser samme sted og dag", "{n} events, same place and day"),
    "more": ("… og {n} til", "… and {n} more"),
    "play": ("Spill av", "Play"),
    "pause": ("Pause", "Pause"),
    "hint": (
        "Dra eller rull i diagrammet for å zoome fra år ned til timer; hold musen "
        "over et punkt for detaljer.",
        "Drag or scroll in the chart to zoom from years down to hours; hover a point "
        "for details.",
    ),
    "back": ("Til analyseoversikten", "To the analyst index"),
    "offline": (
        "Siden virker uten nett. Diagram: Apache ECharts 5.6.0 (Apache-2.0). "
        "Kart: Leaflet (BSD-2-Clause).",
        "Works without network. Chart: Apache ECharts 5.6.0 (Apache-2.0). "
        "Map: Leaflet (BSD-2-Clause).",
    ),
    "confidential": (
        "Taushetsbelagt: kun for analytikere i politiets nett.",
        "Confidential: for analysts on the police network only.",
    ),
    "arrest_at_scene": ("pågrepet på stedet", "arrested at the scene"),
}

# The analyst bundle's index pages (`maps.analyst_index`).
ANALYST_LABELS: dict[str, tuple[str, str]] = {
    "bundle_title": ("Analyseoversikt", "Analyst index"),
    "toplist": ("Topplisten", "The top list"),
    "episodes_title": ("Kortepisoder", "Card episodes"),
    "rank": ("Rang", "Rank"),
    "person": ("Person (pseudonym)", "Person (pseudonym)"),
    "timeline": ("Tidslinje", "Timeline"),
    "cases_linked": ("Koblede saker", "Linked cases"),
    "cases_hyp": ("Hypoteser, p ≥ {p}", "Hypotheses, p ≥ {p}"),
    "events": ("Hendelser (uten hypoteser)", "Events (without hypotheses)"),
    "nok": ("NOK totalt, koblede saker", "NOK total, linked cases"),
    "nok_hyp": ("NOK, hypoteser", "NOK, hypotheses"),
    "uncertain": ("usikker", "uncertain"),
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
    "see_backtest": (
        "Hvor godt traff attribusjonen? (etterprøving)",
        "How well did attribution do? (back-test)",
    ),
    "see_phase_backtest": (
        "Hvor godt traff fasene? (etterprøving)",
        "How well did the phases do? (back-test)",
    ),
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
    "filter": (
        "Filtrer rader (tekst) …",
        "Filter rows (text) …",
    ),
    "shown": ("{n} av {total} rader vises.", "{n} of {total} rows shown."),
    "sort_hint": (
        "Klikk på en kolonneoverskrift for å sortere.",
        "Click a column header to sort.",
    ),
    "since": ("siden", "since"),
    "hyp_note": (
        "Personer merket «hypotese» er foreslått av attribusjonsmodellen med "
        "sannsynlighet p; de er ikke koblet til saken i saksregisteret.",
        "Persons marked 'hypothesis' are proposed by the attribution model with "
        "probability p; they are not linked to the case in the case register.",
    ),
    "facts_note": (
        "Hendelser, NOK, største 36 t og siste hendelse teller bare koblede saker; "
        "hypoteser med p ≥ {p} har egne kolonner.",
        "Events, NOK, largest 36 h and last event count linked cases only; "
        "hypotheses with p ≥ {p} have columns of their own.",
    ),
    "csv_label": ("hypotese", "hypothesis"),
    "hypotheses_readme": (
        "HYPOTESER, IKKE FAKTA\n\n"
        "attribution-hypotheses.csv: attribusjonsmodellens forslag til hvem som kan "
        "stå bak åpne saker, per {as_of}. Ingen rad er en kobling i "
        "saksregisteret.\n\n"
        "Fila tar med hypotesene med p ≥ {p} (sidenes terskel, innstillingen "
        "GJENGANGER_PAGE_MIN_P): {rows} rader, mest sannsynlige først. De "
        "øvrige {rest} kandidatene med lavere p er ikke med her; de ligger i "
        "databasen, tabellen {table}.\n\n"
        "p og p_none er avrundet til tre desimaler. Kolonnene nearest_*, "
        "best_match_incident_id, matching_modus, repeat_target, known_cases og "
        "in_custody_share er begrunnelsen. Tallene i fila har desimalpunktum "
        "(CSV med komma som skilletegn).\n",
        "HYPOTHESES, NOT FACTS\n\n"
        "attribution-hypotheses.csv: the attribution model's proposals of who may "
        "be behind open cases, as of {as_of}. No row is a link in the case "
        "register.\n\n"
        "The file holds the hypotheses with p ≥ {p} (the pages' threshold, the "
        "setting GJENGANGER_PAGE_MIN_P): {rows} rows, most probable first. The "
        "other {rest} candidates with lower p are not here; they are in the "
        "database, table {table}.\n\n"
        "p and p_none are rounded to three decimals. The columns nearest_*, "
        "best_match_incident_id, matching_modus, repeat_target, known_cases and "
        "in_custody_share are the evidence.\n",
    ),
    "confidential": (
        "Taushetsbelagt: kun for analytikere i politiets nett. Virker uten nett.",
        "Confidential: for analysts on the police network only. Works without network.",
    ),
}


# ---------------------------------------------------------------- numbers and dates
class PageFormat:
    """How one language writes numbers, money, probabilities, dates and spans.

    The one formatting helper of the analyst pages (`FORMATS`, one per language):
    bokmål uses decimal commas, thousands grouped with spaces and dates as
    dd.mm.yyyy ("1 234,5", "44 000 kr", "06.12.2026 05:07"); English decimal
    points, thousands commas and ISO dates ("1,234.5", "NOK 44,000",
    "2026-12-06 05:07"). The page scripts get the same rules (`spec`, read by
    `maps/page_format.js`), so what Python and the browser write agrees.
    """

    def __init__(self, lang: str, decimal: str, group: str, date_order: str):
        self.lang, self.decimal, self.group = lang, decimal, group
        self.date_order = date_order  # "dmy" (dd.mm.yyyy) or "ymd" (ISO)

    @property
    def spec(self) -> dict[str, str]:
        """The rules as plain data for the page scripts."""
        return {
            "lang": self.lang,
            "decimal": self.decimal,
            "group": self.group,
            "date": self.date_order,
            "hours": TIMELINE_LABELS["hours_short"][self.lang == "en"],
            "days": TIMELINE_LABELS["days"][self.lang == "en"],
        }

    def number(self, value: float | None, decimals: int = 0) -> str:
        """A number with `decimals` decimals and grouped thousands ("–" for none)."""
        if value is None or value != value:  # None or NaN
            return "–"
        text = f"{value:,.{decimals}f}"
        return (
            text.replace(",", "\0").replace(".", self.decimal).replace("\0", self.group)
        )

    def nok(self, value: float | None) -> str:
        """Whole kroner: "44 000 kr" (nb) or "NOK 44,000" (en)."""
        if value is None or value != value:
            return "–"
        text = self.number(round(value))
        return f"{text} kr" if self.lang == "nb" else f"NOK {text}"

    def p(self, value: float | None, decimals: int = 2) -> str:
        """A probability: "0,62" (nb) or "0.62" (en)."""
        return self.number(value, decimals)

    def date(self, value: dt.date | dt.datetime | None) -> str:
        """A day: "06.12.2026" (nb) or "2026-12-06" (en)."""
        if value is None:
            return "–"
        if self.date_order == "dmy":
            return value.strftime("%d.%m.%Y")
        return value.strftime("%Y-%m-%d")

    def datetime(self, value: dt.datetime | dt.date | None) -> str:
        """A time to the minute ("06.12.2026 05:07"); a date alone as `date`."""
        if not isinstance(value, dt.datetime):
            return self.date(value)
        return f"{self.date(value)} {value.strftime('%H:%M')}"

    def hours(self, value: float | None) -> str:
        """Hours with one decimal: "22,2 t" (nb) or "22.2 h" (en)."""
        return f"{self.number(value, 1)} {self.spec['hours']}"

    def duration(self, hours: float | None) -> str:
        """A span: hours below two days ("22,2 t"), else days ("60,0 dager")."""
        if hours is None or hours < 48:
            return self.hours(hours)
        return f"{self.number(hours / 24, 1)} {self.spec['days']}"


#: the one formatting helper per page language
FORMATS: dict[str, PageFormat] = {
    "nb": PageFormat("nb", ",", " ", "dmy"),
    "en": PageFormat("en", ".", ",", "ymd"),
}


def page_format(lang: str) -> PageFormat:
    """The formatting helper of `lang` ("nb" or "en"); ValueError otherwise."""
    try:
        return FORMATS[lang]
    except KeyError:
        raise ValueError(
            f"lang must be one of {tuple(FORMATS)}, got {lang!r}"
        ) from None

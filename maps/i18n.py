"""Labels of maps and pages: Norwegian bokmål by default, English with lang="en".

The one place for labels. `LABELS` holds the maps' labels and the contract
vocabularies (offence codes and groups, target types, statuses, phases, custody
kinds, merchant categories, entry methods, reused as they are);
`TIMELINE_LABELS` and `ANALYST_LABELS` hold the timeline page's and the analyst
index pages' own wording. Keys are English snake_case.

`t(key, lang)` looks up `LABELS` and raises `KeyError` naming a missing key, so a
map never shows a raw key silently; `label(key, lang)` is the timeline pages'
lookup (their own table first); `labels(table, lang)` gives a whole page table.
"""

from __future__ import annotations

LANGS = ("nb", "en")

LABELS: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------ general
    "title_hotspots": ("Kriminalitetsbrennpunkter", "Crime hotspots"),
    "title_index": (
        "Brennpunktkart for forebygging",
        "Hotspot maps for crime prevention",
    ),
    "all_targets": ("Alle måltyper", "All target types"),
    "legend": ("Tegnforklaring", "Legend"),
    "period": ("Periode", "Period"),
    "as_of": ("Per", "As of"),
    "week": ("Uke", "Week"),
    "weeks": ("uker", "weeks"),
    "day": ("dag", "day"),
    "days": ("dager", "days"),
    "date": ("Dato", "Date"),
    "from": ("Fra", "From"),
    "to": ("Til", "To"),
    "count": ("Antall", "Count"),
    "incidents": ("Hendelser", "Incidents"),
    "cell": ("Rute", "Cell"),
    "cell_size": ("Rutestørrelse", "Cell size"),
    "suppressed": ("færre enn {k}", "fewer than {k}"),
    "none": ("ingen", "none"),
    "source": ("Kilde", "Source"),
    "generated": ("Laget", "Generated"),
    "made_offline": ("Fungerer uten nett", "Works without network"),
    "places_not_people": (
        "Kartet viser steder, ikke personer. "
        "Ruter med færre enn {k} hendelser viser ikke antall.",
        "The map shows places, not people. "
        "Cells with fewer than {k} incidents show no count.",
    ),
    "attribution_boundaries": (
        "© Kartverket, SSB (CC BY 4.0)",
        "© Kartverket, SSB (CC BY 4.0)",
    ),
    "municipalities": ("Kommunegrenser", "Municipality boundaries"),
    "districts": ("Bydeler (Trondheim)", "City districts (Trondheim)"),
    "municipality": ("Kommune", "Municipality"),
    "district": ("Bydel", "City district"),
    "play": ("Spill av", "Play"),
    "pause": ("Pause", "Pause"),
    "all_weeks": ("Alle uker", "All weeks"),
    # ------------------------------------------------------------ hotspot layers
    "layer_gistar": ("Brennpunkter (Gi*, FDR)", "Hot and cold spots (Gi*, FDR)"),
    "layer_density": ("Tetthet (kjernetetthet)", "Density (kernel)"),
    "layer_emerging": ("Nye og endrede brennpunkter", "Emerging hotspots"),
    "layer_risk": ("Risiko neste 28 dager", "Risk, next 28 days"),
    "layer_weekly": ("Uke for uke", "Week by week"),
    "gi_z": ("Gi* z-verdi", "Gi* z-score"),
    "hot_99": ("Brennpunkt, 99 % sikkerhet", "Hot spot, 99 % confidence"),
    "hot_95": ("Brennpunkt, 95 % sikkerhet", "Hot spot, 95 % confidence"),
    "hot_90": ("Brennpunkt, 90 % sikkerhet", "Hot spot, 90 % confidence"),
    "not_significant": ("Ikke signifikant", "Not significant"),
    "cold_90": ("Kaldt punkt, 90 % sikkerhet", "Cold spot, 90 % confidence"),
    "cold_95": ("Kaldt punkt, 95 % sikkerhet", "Cold spot, 95 % confidence"),
    "cold_99": ("Kaldt punkt, 99 % sikkerhet", "Cold spot, 99 % confidence"),
    "density_low": ("lav", "low"),
    "density_high": ("høy", "high"),
    "risk": ("Risiko", "Risk"),
    "risk_expected": (
        "Forventet antall neste 28 dager",
        "Expected count, next 28 days",
    ),
    "emerging_new": ("Nytt brennpunkt", "New hotspot"),
    "emerging_intensifying": ("Forsterkes", "Intensifying"),
    "emerging_persistent": ("Vedvarende", "Persistent"),
    "emerging_diminishing": ("Avtar", "Diminishing"),
    "emerging_none": ("Ingen endring", "No pattern"),
    "last_days": ("Siste {n} dager", "Last {n} days"),
    "previous_year": ("Foregående år (per {n} dager)", "Previous year (per {n} days)"),
    "near_repeat": ("Nærgjentakelse", "Near repeat"),
    "near_repeat_sentence": (
        "Etter {what} er risikoen innenfor {m} m {x} ganger normalt i {d} dager.",
        "After {what}, the risk within {m} m is {x} times normal for {d} days.",
    ),
    "near_repeat_none": (
        "Ingen påviselig nærgjentakelse for {what}.",
        "No detectable near-repeat pattern for {what}.",
    ),
    "method_baseline": ("Forrige periode", "Previous period"),
    "method_kde": ("Kjernetetthet (KDE)", "Kernel density (KDE)"),
    "method_gistar": ("Gi*", "Gi*"),
    "method_prospective": ("Prospektiv (nærgjentakelse)", "Prospective (near repeat)"),
    "pai": ("Prediksjonsindeks (PAI)", "Prediction accuracy index (PAI)"),
    "pei": ("Prediktiv effektivitet (PEI)", "Predictive efficiency (PEI)"),
    "area_share": ("Andel av arealet", "Share of area"),
    "what_all": ("en hendelse", "an incident"),
    "what_business": (
        "et innbrudd eller tyveri hos en bedrift",
        "a business burglary or theft",
    ),
    "what_construction_site": (
        "et innbrudd på en byggeplass",
        "a construction-site burglary",
    ),
    "what_cabin": ("et hytteinnbrudd", "a cabin burglary"),
    "what_storage_mailbox": (
        "et bodinnbrudd eller posttyveri",
        "a storage-room burglary or mail theft",
    ),
    "what_vehicle": ("et tyveri av eller fra kjøretøy", "a theft of or from a vehicle"),
    "open_map": ("Åpne kart", "Open map"),
    "hot_cells": ("Brennpunktruter (95 %)", "Hot cells (95 %)"),
    "index_intro": (
        "Ett kart per måltype. Kartene virker uten nettverk; åpne dem i en nettleser.",
        "One map per target type. "
        "The maps work without a network; open them in a browser.",
    ),
    # ------------------------------------------------------------ target groups (maps)
    "group_business": ("Næring og butikk", "Business and shop"),
    "group_construction_site": ("Byggeplass", "Construction site"),
    "group_cabin": ("Hytte", "Cabin"),
    "group_storage_mailbox": ("Bod og postkasse", "Storage room and mailbox"),
    "group_vehicle": ("Kjøretøy", "Vehicle"),
    "group_all": ("Alle måltyper", "All target types"),
    # ------------------------------------------------------------ contract vocabularies
    "business": ("Næringsvirksomhet", "Business"),
    "shop": ("Butikk", "Shop"),
    "construction_site": ("Byggeplass", "Construction site"),
    "public_building": ("Offentlig bygg", "Public building"),
    "cabin": ("Hytte", "Cabin"),
    "storage_room": ("Bod", "Storage room"),
    "mailbox": ("Postkasse", "Mailbox"),
    "vehicle": ("Kjøretøy", "Vehicle"),
    "bicycle": ("Sykkel", "Bicycle"),
    "private_home": ("Bolig", "Private home"),
    "person": ("Person", "Person"),
    "online": ("På nett", "Online"),
    "other": ("Annet", "Other"),
    "acquisitive": ("Vinning", "Acquisitive"),
    "fraud": ("Bedrageri", "Fraud"),
    "drugs": ("Narkotika", "Drugs"),
    "vandalism": ("Skadeverk", "Vandalism"),
    "violence": ("Vold", "Violence"),
    "burglary_business": ("Innbrudd i næringsbygg", "Business burglary"),
    "burglary_public": ("Innbrudd i offentlig bygg", "Burglary, public building"),
    "burglary_construction": ("Innbrudd på byggeplass", "Construction-site burglary"),
    "burglary_cabin": ("Hytteinnbrudd", "Cabin burglary"),
    "burglary_storage": ("Bodinnbrudd", "Storage-room burglary"),
    "burglary_home": ("Boliginnbrudd", "Home burglary"),
    "vehicle_theft": ("Biltyveri", "Vehicle theft"),
    "theft_from_vehicle": ("Tyveri fra bil", "Theft from vehicle"),
    "bicycle_theft": ("Sykkeltyveri", "Bicycle theft"),
    "shoplifting": ("Butikktyveri", "Shoplifting"),
    "mail_theft": ("Posttyveri", "Mail theft"),
    "other_theft": ("Annet tyveri", "Other theft"),
    "card_fraud": ("Kortsvindel", "Card fraud"),
    "identity_fraud": ("ID-tyveri", "Identity fraud"),
    "other_fraud": ("Annet bedrageri", "Other fraud"),
    "drug_use": ("Narkotikabruk", "Drug use"),
    "drug_sale": ("Narkotikasalg", "Drug sale"),
    "drug_import": ("Narkotikainnførsel", "Drug import"),
    "robbery": ("Ran", "Robbery"),
    "open": ("Åpen", "Open"),
    "solved": ("Oppklart", "Solved"),
    "dropped": ("Henlagt", "Dropped"),
    "rest": ("Hvile", "Rest"),
    "phase1": ("Fase 1", "Phase 1"),
    "phase2": ("Fase 2", "Phase 2"),
    "phase3": ("Fase 3", "Phase 3"),
    "inactive": ("Inaktiv", "Inactive"),
    # ------------------------------------------------------------ custody kinds,
    # merchant categories and entry methods (the timeline pages)
    "arrest": ("Pågripelse", "Arrest"),
    "remand": ("Varetekt", "Remand"),
    "prison": ("Fengsel", "Prison"),
    "treatment": ("Behandling", "Treatment"),
    "grocery": ("Dagligvare", "Grocery"),
    "kiosk": ("Kiosk", "Kiosk"),
    "electronics": ("Elektronikk", "Electronics"),
    "clothing": ("Klær", "Clothing"),
    "fuel": ("Drivstoff", "Fuel"),
    "pharmacy": ("Apotek", "Pharmacy"),
    "atm": ("Minibank", "ATM"),
    "cylinder_snap": ("Sylinderbrekk", "Cylinder snapped"),
    "window_frame": ("Vinduslist fjernet", "Window frame removed"),
    "smash_window": ("Knust rute", "Smashed window"),
    "forced_door": ("Brutt dør", "Forced door"),
    "unlocked": ("Ulåst", "Unlocked"),
    "key": ("Nøkkel", "Key"),
    "card_no_pin": ("Kort uten PIN", "Card without PIN"),
    "card_with_pin": ("Kort med PIN", "Card with PIN"),
}

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
    "cumulative": ("Kumulativ NOK, kortbruk", "Cumulative NOK, card use"),
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
    "events": ("Hendelser", "Events"),
    "events_by_kind": ("Hendelser etter type", "Events by kind"),
    "linked_cases": ("Koblede saker", "Linked cases"),
    "hypothesis_cases": (
        "Hypoteser (attribuerte saker)",
        "Hypotheses (attributed cases)",
    ),
    "nok_total": ("NOK totalt", "NOK total"),
    "nok_note": (
        "verdier i saker + godkjent kortbruk; kortsvindel telles én gang",
        "case values + approved card use; card fraud counted once",
    ),
    "max36": ("Største NOK-sum innen 36 timer", "Largest NOK total within 36 hours"),
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
    "map": ("Kart med avspilling", "Map with replay"),
    "map_note": (
        "Glidebryteren spiller av hendelsene i rekkefølge; linjen er veien mellom "
        "påfølgende hendelser. Nettbruk uten posisjon vises ikke.",
        "The slider replays the events in order; the line is the path between "
        "consecutive events. Online use without a position is not shown.",
    ),
    "no_map": ("Ingen hendelser med posisjon.", "No events with a position."),
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


def t(key: str, lang: str = "nb") -> str:
    """The label of `key` in `lang` ("nb" default, or "en")."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    try:
        nb, en = LABELS[key]
    except KeyError:
        raise KeyError(f"no label for {key!r} in maps/i18n.py") from None
    return nb if lang == "nb" else en


def label(key: str, lang: str = "nb") -> str:
    """The timeline pages' lookup: `TIMELINE_LABELS`, then `LABELS`, else the key
    itself (a contract value added after these tables still shows, as its code)."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    nb, en = TIMELINE_LABELS.get(key) or LABELS.get(key) or (key, key)
    return nb if lang == "nb" else en


def labels(table: dict[str, tuple[str, str]], lang: str = "nb") -> dict[str, str]:
    """Every label of one page's table in `lang`, for its template or script."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return {k: (nb if lang == "nb" else en) for k, (nb, en) in table.items()}

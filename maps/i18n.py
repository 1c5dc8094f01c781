"""Labels of maps and pages: Norwegian bokmål by default, English with lang="en".

The one place for labels. `LABELS` holds the maps' labels and the contract
vocabularies (offence codes and groups, target types, statuses, phases, custody
kinds, merchant categories, entry methods, reused as they are);
`TIMELINE_LABELS` and `ANALYST_LABELS` (kept in `maps.timeline_labels`) hold the
timeline page's and the analyst index pages' own wording. Keys are English
snake_case.

`t(key, lang)` looks up `LABELS` and raises `KeyError` naming a missing key, so a
map never shows a raw key silently; `label(key, lang)` is the timeline pages'
lookup (their own table first); `labels(table, lang)` gives a whole page table.
"""

from __future__ import annotations

from gjenganger.maps.timeline_labels import ANALYST_LABELS, TIMELINE_LABELS

__all__ = [
    "ANALYST_LABELS",
    "LABELS",
    "LANGS",
    "TIMELINE_LABELS",
    "custody_note",
    "format_p",
    "label",
    "labels",
    "t",
]

LANGS = ("nb", "en")

LABELS: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------ general
    "title_hotspots": ("Kriminalitetsbrennpunkter", "Crime hotspots"),
    "title_index": (
        "Brennpunktkart for forebygging",
        "Hotspot maps for crime prevention",
    ),
    "all_targets": ("Alle måltyper", "All target types"),
    "target_column": ("Måltype", "Target type"),
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
    # hotspot maps: place names, basemap, legend toggle, empty state
    "place": ("Sted", "Place"),
    "near_place": ("ca. {d} fra {place}", "about {d} from {place}"),
    "legend_toggle": ("Vis eller skjul tegnforklaringen", "Show or hide the legend"),
    "basemap": ("Bakgrunnskart", "Basemap"),
    "basemap_offline": (
        "kommune- og bydelsgrenser (offline, uten gater)",
        "municipality and district outlines (offline, no streets)",
    ),
    "ramp_relative": (
        "Tetthet, uke for uke og risiko (relativ)",
        "Density, week by week and risk (relative)",
    ),
    "no_hotspots": (
        "Ingen signifikante brennpunkter i perioden",
        "No significant hot spots in this period",
    ),
    "no_hotspots_tested": (
        "Testet: Getis-Ord Gi* med FDR-korreksjon (Benjamini–Hochberg), vindu "
        "{days} dager ({period}), {n} ruter à {cell} m (med hendelser i vinduet "
        "eller året før), avstandsbånd {band} m, signifikansnivå {alpha} (og minst "
        "{k} hendelser innen båndet).",
        "Tested: Getis-Ord Gi* with FDR correction (Benjamini–Hochberg), window "
        "{days} days ({period}), {n} cells of {cell} m (with incidents in the "
        "window or the year before), distance band {band} m, significance level "
        "{alpha} (and at least {k} incidents within the band).",
    ),
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
    "method_nearrepeat": (
        "Langtidstetthet med nærgjentakelse",
        "Long-run density with near-repeat boost",
    ),
    "method_kde_longrun": (
        "Langtidstetthet (kjernetetthet)",
        "Long-run density (kernel)",
    ),
    "method_baseline_28": ("Antall siste 28 dager", "Count of the last 28 days"),
    "forecast": ("Prognose", "Forecast"),
    "boost_decay": ("nærgjentakelse, avtar over", "near repeat, decaying over"),
    "measured_sentence": (
        "Siste {months} måneder: de markerte {share} av området hadde {hit} av "
        "neste måneds {what}.",
        "Last {months} months: the marked {share} of the area had {hit} of the "
        "next month's {what}.",
    ),
    "measured_detail": (
        "Prognose: {method}, valgt i nattlig etterprøving på egne data "
        "(PAI {pai}, PEI {pei}).",
        "Forecast: {method}, chosen by a nightly back-test on the force's own data "
        "(PAI {pai}, PEI {pei}).",
    ),
    "measured_none": (
        "Prognosen er ikke etterprøvd (for lite historikk).",
        "The forecast has not been back-tested (too little history).",
    ),
    "measured_column": ("Treffsikkerhet siste 6 måneder", "Accuracy, last 6 months"),
    "layer_marked": (
        "Markerte {share} av området (prognose neste 28 dager)",
        "Marked {share} of the area (forecast, next 28 days)",
    ),
    "many_all": ("hendelser", "incidents"),
    "many_business": (
        "innbrudd og tyverier hos bedrifter",
        "business burglaries and thefts",
    ),
    "many_construction_site": (
        "innbrudd på byggeplasser",
        "construction-site burglaries",
    ),
    "many_cabin": ("hytteinnbrudd", "cabin burglaries"),
    "many_storage_mailbox": (
        "bodinnbrudd og posttyverier",
        "storage-room burglaries and mail thefts",
    ),
    "many_vehicle": (
        "tyverier av og fra kjøretøy",
        "thefts of and from vehicles",
    ),
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


def format_p(p: float, lang: str = "nb") -> str:
    """A probability threshold as the pages write it: "0,3" (nb) or "0.3" (en)."""
    text = f"{p:.2f}".rstrip("0").rstrip(".") if p == round(p, 2) else f"{p:.3f}"
    return text.replace(".", ",") if lang == "nb" else text


#: custody kind -> the label key of "in <kind>" (an unknown kind reads as custody)
_IN_CUSTODY = {
    "remand": "in_remand",
    "prison": "in_prison",
    "treatment": "in_treatment",
    "arrest": "in_arrest",
}


def custody_note(share: float | None, kind: str | None, lang: str = "nb") -> str | None:
    """The `why` of a hypothesis whose offence window the person partly spent in
    custody: "i varetekt 60 % av tidsvinduet" / "in remand for 60 % of the offence
    window"; None when there is no overlap."""
    if share is None or share <= 0:
        return None
    where = label(_IN_CUSTODY.get(kind or "", "in_custody"), lang)
    return label("custody_share", lang).format(where=where, pct=round(100 * share))

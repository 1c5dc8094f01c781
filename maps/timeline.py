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

import folium
import polars as pl
from branca.element import MacroElement, Template
from jinja2 import Environment, FileSystemLoader, select_autoescape

HERE = Path(__file__).resolve().parent
ECHARTS_JS = HERE / "static" / "echarts" / "echarts.common.min.js"
TEMPLATE = "timeline_template.html"
REPLAY_JS = HERE / "timeline_replay.js"
LANGS = ("nb", "en")

# Okabe-Ito, colour-blind safe. Level 1 orange, 2 blue, 3 reddish purple.
LEVEL_COLOURS = {1: "#E69F00", 2: "#0072B2", 3: "#CC79A7", None: "#999999"}
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

# Labels of this page (nb, en). Contract vocabularies come from maps.i18n when it
# has them; `_VOCAB` is the fallback so the page never shows a raw key.
LABELS: dict[str, tuple[str, str]] = {
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

# Fallback labels of contract vocabulary (maps.i18n is preferred when present).
_VOCAB: dict[str, tuple[str, str]] = {
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
    "none": ("Ingen", "None"),
    "arrest_at_scene": ("Pågrepet på stedet", "Arrested at the scene"),
}


def label(key: str, lang: str = "nb") -> str:
    """The label of `key` in `lang`: this page's labels, maps.i18n, then fallbacks."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    pair = LABELS.get(key)
    if pair is None:
        try:
            from gjenganger.maps.i18n import t

            return t(key, lang)
        except (ImportError, KeyError):
            pair = _VOCAB.get(key, (key, key))
    return pair[0] if lang == "nb" else pair[1]


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


def _ms(value: datetime | None) -> int | None:
    """Naive local time as epoch milliseconds read as UTC (the chart uses UTC, so
    the wall-clock time shown is the local time of the data)."""
    if value is None:
        return None
    return int((value - datetime(1970, 1, 1)).total_seconds() * 1000)


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
                    "a": _ms(s),
                    "b": _ms(e),
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
        "max36": [_ms(max36[0]), _ms(max36[1])],
        "view": [_ms(view[0]), _ms(view[1])],
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
    out: dict[str, Any] = {"base": _ms(base), "n": frame.height, "dict": {}}
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


# ------------------------------------------------------------------ replay map
@cache
def _replay_js() -> str:
    return REPLAY_JS.read_text(encoding="utf-8")


class _Replay(MacroElement):
    """Circle markers for every located event, a slider and a play button that
    replay them in time order, and the path between consecutive events drawn up to
    the slider's position. Plain Leaflet, so `render_offline` needs no plugin."""

    _template = Template(
        r"""
{% macro header(this, kwargs) %}
<style>
.gj-replay{background:#fff;padding:6px 8px;border-radius:4px;
  box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px sans-serif;min-width:320px}
.gj-replay input[type=range]{width:220px;vertical-align:middle}
.gj-replay button{font:12px sans-serif;margin-right:6px}
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
{{ this.js }}
gjReplayInit({{ this._parent.get_name() }}, {{ this.data|tojson }},
             {{ this.labels|tojson }}, {{ this.colours|tojson }});
{% endmacro %}
"""
    )

    def __init__(
        self, data: dict[str, Any], labels: dict[str, str], colours: dict[str, str]
    ):
        super().__init__()
        self._name = "Replay"
        self.js = _replay_js()
        self.data = data
        self.labels = labels
        self.colours = colours


def map_points(events: pl.DataFrame, lang: str = "nb") -> dict[str, Any]:
    """The located events in time order, column-wise, for the replay control.

    `t` seconds from `base` (epoch ms), `lat`/`lon` (5 decimals, ~1 m), `lv` level
    (0 unknown), `h` 1 for a hypothesis, `p` its probability, `v` NOK, `k` index
    into `kinds` (offence label, or card use approved/declined), `inc` the case.
    Tooltips are built in the browser from these columns.
    """
    located = events.filter(
        pl.col("lat").is_not_null()
        & pl.col("lon").is_not_null()
        & ~pl.col("lane").is_in(["arrest", "custody"])
    ).sort("at", "event_id")
    kind = (
        pl.when(pl.col("lane") == "card")
        .then(
            pl.when(pl.col("approved"))
            .then(pl.lit("~card_ok"))
            .otherwise(pl.lit("~card_no"))
        )
        .otherwise(pl.col("offence_code").fill_null(pl.col("lane")))
    )
    located = located.with_columns(_kind=kind)
    kinds = sorted(located.get_column("_kind").unique().to_list())
    card = label("lane_card", lang)
    kind_labels = [
        f"{card} ({label('approved', lang)})"
        if k == "~card_ok"
        else f"{card} ({label('declined', lang)})"
        if k == "~card_no"
        else label(k, lang)
        for k in kinds
    ]
    base = located.get_column("at").min() if located.height else None
    base = base.replace(microsecond=0) if base is not None else datetime(1970, 1, 1)
    cols = located.select(
        ((pl.col("at") - pl.lit(base)).dt.total_seconds()).alias("t"),
        pl.col("lat").round(5),
        pl.col("lon").round(5),
        pl.col("level").fill_null(0).cast(pl.Int64).alias("lv"),
        (~pl.col("is_linked").fill_null(True)).cast(pl.Int8).alias("h"),
        pl.col("attribution_p").round(2).alias("p"),
        pl.col("value_nok").round(0).cast(pl.Int64).alias("v"),
        pl.col("_kind")
        .replace_strict({k: i for i, k in enumerate(kinds)}, return_dtype=pl.Int64)
        .alias("k"),
        pl.col("incident_id").alias("inc"),
    )
    return {
        "base": _ms(base),
        "n": cols.height,
        "kinds": kind_labels,
        **{c: cols.get_column(c).to_list() for c in cols.columns},
    }


def build_event_map(events: pl.DataFrame, *, lang: str = "nb") -> folium.Map:
    """A Folium map of the person's located events with the replay slider.

    Uses the offline basemap (`maps.basemap.base_map`: municipality outlines, no
    tiles) when present, else a tile-less map. Render with
    `maps.offline.render_offline`.
    """
    try:
        from gjenganger.maps.basemap import base_map

        m = base_map(lang)
    except ImportError:  # pragma: no cover - the basemap module is optional
        m = folium.Map(location=[63.43, 10.39], zoom_start=11, tiles=None)
    labels = {
        k: label(k, lang)
        for k in ("play", "pause", "linked", "hypothesis", "value", "case")
    }
    labels["lang"] = lang
    colours = {str(k or 0): v for k, v in LEVEL_COLOURS.items()}
    _Replay(map_points(events, lang), labels, colours).add_to(m)
    return m


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
                "a": _ms(ep.get("start_at")),
                "b": _ms(ep.get("end_at")),
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

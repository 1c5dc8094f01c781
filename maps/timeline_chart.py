"""The data the timeline page's chart draws: lanes, events, bands, labels, colours.

`chart_payload` builds the JSON the page's script (`timeline_template.html`) turns
into an ECharts chart; `encode_events` sends the events column-wise, so a page
with thousands of events over two years stays small. Rendering only: frames in
(`analytics.person_timeline.person_events` columns), plain dicts out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from gjenganger.analytics.timeline_summary import LANES, custody_shares
from gjenganger.maps.event_map import epoch_ms
from gjenganger.maps.i18n import TIMELINE_LABELS, custody_note, label, labels
from gjenganger.maps.legend import LEVEL_COLOURS
from gjenganger.maps.timeline_labels import page_format

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
ATTRIBUTION_WINDOW_COLOUR = "rgba(204,121,167,0.07)"  # the hypotheses' purple


_VOCAB_COLUMNS = (
    "offence_code",
    "target_type",
    "entry_method",
    "status",
    "merchant_category",
    "custody_kind",
)


def _cumulative(events: pl.DataFrame) -> list[tuple[int, float]]:
    """(epoch ms, running NOK) of approved card use in linked cases, in time order
    (a hypothesis is never added to a running total of facts)."""
    card = events.filter(
        (pl.col("lane") == "card")
        & pl.col("approved").fill_null(False)
        & pl.col("is_linked").fill_null(True)
    )
    if not card.height:
        return []
    return (
        card.sort("at")
        .select(
            pl.col("at").dt.epoch("ms"),
            pl.col("value_nok").fill_null(0.0).cum_sum().round(2),
        )
        .rows()
    )


def _band_name_colour(kind: str, key: str, lang: str) -> tuple[str, str]:
    """A band's name and colour: phases by phase, the attribution window with its
    days, use periods by number."""
    if kind == "phase":
        return label(key, lang), PHASE_COLOURS.get(key, USE_PERIOD_COLOUR)
    if kind == "attribution_window":
        name = f"{label('attribution_window', lang)} ({key} {label('days', lang)})"
        return name, ATTRIBUTION_WINDOW_COLOUR
    return key, USE_PERIOD_COLOUR


def _band_rows(bands: pl.DataFrame | None, lang: str) -> list[dict[str, Any]]:
    """Background bands (use periods, phases, the attribution window) with their
    names and colours."""
    if bands is None or not bands.height:
        return []
    rows = []
    for kind, key, start, end in bands.select(
        "kind", "label", "start_at", "end_at"
    ).iter_rows():
        if start is None or end is None:
            continue
        name, colour = _band_name_colour(kind, key, lang)
        rows.append(
            {
                "kind": kind,
                "name": name,
                "key": key,
                "a": epoch_ms(start),
                "b": epoch_ms(end),
                "colour": colour,
            }
        )
    return rows


def custody_notes(events: pl.DataFrame, lang: str) -> dict[str, str]:
    """event_id -> "i varetekt 60 % av tidsvinduet" for each hypothesis whose
    offence window the person partly or wholly spent in custody."""
    return {
        eid: custody_note(share, kind, lang)
        for eid, share, kind in custody_shares(events).iter_rows()
    }


def _vocab(events: pl.DataFrame, lang: str) -> dict[str, str]:
    """The label of every contract value among the events (codes, kinds, ...)."""
    vocab = {}
    if events.height:
        for col in _VOCAB_COLUMNS:
            # sorted: polars' unique() order varies between runs (same page bytes)
            for v in events.get_column(col).drop_nulls().unique().sort().to_list():
                vocab[v] = label(v, lang)
    return vocab


def chart_payload(
    events: pl.DataFrame,
    *,
    bands: pl.DataFrame | None = None,
    lang: str = "nb",
    max36: tuple[datetime | None, datetime | None] = (None, None),
    view: tuple[datetime | None, datetime | None] = (None, None),
) -> dict[str, Any]:
    """The JSON the page's script draws: lanes, events, labels, bands, zoom.

    `events` has the columns of `analytics.person_timeline.EVENT_COLUMNS`. `bands`
    (kind 'use_period', 'phase' or 'attribution_window', label, start_at, end_at)
    become background bands. Events are sent column-wise (`encode_events`) to keep
    a two-year page small; `custody` holds the custody notes of hypotheses.
    """
    present = (
        set(events.get_column("lane").unique().to_list()) if events.height else set()
    )
    lanes = [ln for ln in LANES if ln in present] or ["card"]
    page_labels = labels(TIMELINE_LABELS, lang)
    page_labels.update({f"lane_{ln}": label(f"lane_{ln}", lang) for ln in LANES})
    return {
        "lang": lang,
        "format": page_format(lang).spec,
        "lanes": [{"key": ln, "name": label(f"lane_{ln}", lang)} for ln in lanes],
        "events": encode_events(events),
        "cumulative": _cumulative(events),
        "custody": custody_notes(events, lang),
        "bands": _band_rows(bands, lang),
        "labels": page_labels,
        "vocab": _vocab(events, lang),
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

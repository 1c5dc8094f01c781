"""What a person's page counts: facts in the headline, hypotheses apart.

Hypotheses are never counted as facts. The headline figures of a timeline page and
of the analyst index (events, events by lane, NOK total, largest 36-hour total,
span and last event) count the person's *facts* only: linked cases, their card use,
custody and arrests (`facts`). Attributed open cases are hypotheses with their own
figures (count, NOK, span), shown from a page threshold `min_p` (default
`PAGE_MIN_P`); hypotheses below it are counted as hidden and drawn nowhere
(`shown_events`). `custody_shares` gives, per hypothesis, the share of its offence
window the person spent in custody, which the page states ("i varetekt 60 % av
tidsvinduet").

Pure: frames of `person_timeline.person_events` in, frames and dicts out.
"""

from __future__ import annotations

import polars as pl

from gjenganger.analytics.episodes import DEFAULT_WINDOW_HOURS, max_window_total
from gjenganger.data_schema.contract import OFFENCE_GROUPS

__all__ = [
    "INCIDENT_LANES",
    "LANES",
    "PAGE_MIN_P",
    "custody_shares",
    "facts",
    "hypotheses",
    "nok_events",
    "person_summary",
    "shown_events",
]

# Lanes of the timeline, top to bottom: each offence group, then card use,
# arrests and custody.
LANES: tuple[str, ...] = (
    "acquisitive",
    "fraud",
    "drugs",
    "vandalism",
    "violence",
    "other",
    "card",
    "arrest",
    "custody",
)
#: the lanes that hold cases (the offence groups)
INCIDENT_LANES: tuple[str, ...] = tuple(sorted(set(OFFENCE_GROUPS.values())))
#: hypotheses at or above this probability are shown on the pages (configurable
#: per page; `flows.steps.timelines` reads the setting)
PAGE_MIN_P = 0.3

_LINKED = pl.col("is_linked").fill_null(True)


def facts(events: pl.DataFrame) -> pl.DataFrame:
    """The events that are facts: linked cases, their card use, custody, arrests."""
    return events.filter(_LINKED)


def hypotheses(events: pl.DataFrame, min_p: float = PAGE_MIN_P) -> pl.DataFrame:
    """The hypothesis events (attributed cases and their card use) with p >= min_p."""
    return events.filter(~_LINKED & (pl.col("attribution_p").fill_null(0) >= min_p))


def shown_events(events: pl.DataFrame, min_p: float = PAGE_MIN_P) -> pl.DataFrame:
    """What a page draws: the facts and the hypotheses with p >= `min_p`."""
    return events.filter(_LINKED | (pl.col("attribution_p").fill_null(0) >= min_p))


def _span(events: pl.DataFrame) -> tuple:
    """(first time, last time) of `events`, (None, None) when there is none."""
    if not events.height:
        return None, None
    return (
        events.get_column("at").min(),
        events.select(pl.max_horizontal("at", "end_at").max()).item(),
    )


def _headline(events: pl.DataFrame, window_hours: float) -> dict:
    """The headline figures of the fact events `events`."""
    nok = nok_events(events)
    win = (
        max_window_total(
            nok.with_columns(_k=pl.lit(1)),
            by="_k",
            value="nok",
            window_hours=window_hours,
        )
        if nok.height
        else None
    )
    by_lane = dict(events.group_by("lane").len().iter_rows()) if events.height else {}
    start, end = _span(events)
    return {
        "span_start": start,
        "span_end": end,
        "span_days": (
            round((end - start).total_seconds() / 86400, 2)
            if start is not None
            else 0.0
        ),
        "n_events": events.height,
        "by_lane": {lane: by_lane[lane] for lane in LANES if lane in by_lane},
        "n_linked": events.filter(pl.col("lane").is_in(INCIDENT_LANES)).height,
        "nok_total": round(float(nok.get_column("nok").sum()), 2)
        if nok.height
        else 0.0,
        "max_36h_nok": float(win.item(0, "max_window_nok")) if win is not None else 0.0,
        "max_36h_start_at": win.item(0, "window_start_at") if win is not None else None,
        "max_36h_end_at": win.item(0, "window_end_at") if win is not None else None,
    }


def _hypothesis_figures(events: pl.DataFrame, min_p: float) -> dict:
    """The hypotheses' own figures: shown ones (p >= min_p) and how many are not."""
    hyp = hypotheses(events, min_p)
    cases = hyp.filter(pl.col("lane").is_in(INCIDENT_LANES))
    hidden = events.filter(
        ~_LINKED
        & (pl.col("attribution_p").fill_null(0) < min_p)
        & pl.col("lane").is_in(INCIDENT_LANES)
    )
    nok = nok_events(hyp)
    start, end = _span(cases)
    return {
        "hypotheses_min_p": min_p,
        "n_hypotheses": cases.height,
        "hypotheses_nok": round(float(nok.get_column("nok").sum()), 2)
        if nok.height
        else 0.0,
        "hypotheses_start": start,
        "hypotheses_end": end,
        "n_hypotheses_hidden": hidden.height,
    }


def person_summary(
    events: pl.DataFrame,
    episodes: pl.DataFrame,
    *,
    window_hours: float = DEFAULT_WINDOW_HOURS,
    top_n: int = 5,
    min_p: float = PAGE_MIN_P,
) -> dict:
    """What the timeline page's summary box says about `events` of one person.

    The headline (span_start, span_end, span_days, n_events, by_lane {lane: n},
    n_linked, nok_total, max_36h_nok + window) counts facts only (`facts`): a
    hypothesis is never added to them. NOK: case values plus approved card use; a
    card_fraud case with transactions is counted through them only, not twice.
    The hypotheses have their own figures from `min_p` up: n_hypotheses,
    hypotheses_nok, hypotheses_start/end, and n_hypotheses_hidden below it.
    n_incidents counts the cases shown (linked + hypotheses >= min_p);
    top_episodes are records of `episodes`.
    """
    head = _headline(facts(events), window_hours)
    hyp = _hypothesis_figures(events, min_p)
    return {
        **head,
        **hyp,
        "n_incidents": head["n_linked"] + hyp["n_hypotheses"],
        "top_episodes": episodes.head(top_n).to_dicts(),
    }


def nok_events(events: pl.DataFrame) -> pl.DataFrame:
    """The NOK-carrying events: at, nok, is_linked; card fraud counted once.

    Approved card transactions carry their amount; incidents carry value_nok,
    except card_fraud cases that have transactions among `events`.
    """
    cases_with_tx = (
        events.filter(pl.col("lane") == "card").get_column("incident_id").unique()
    )
    inc = events.filter(
        pl.col("lane").is_in(INCIDENT_LANES)
        & pl.col("value_nok").is_not_null()
        & ~(
            (pl.col("offence_code") == "card_fraud")
            & pl.col("incident_id").is_in(cases_with_tx.implode())
        )
    )
    card = events.filter(
        (pl.col("lane") == "card") & pl.col("approved").fill_null(False)
    )
    return (
        pl.concat([inc, card])
        .select("at", pl.col("value_nok").alias("nok"), "is_linked")
        .filter(pl.col("nok") > 0)
        .sort("at")
    )


def custody_shares(events: pl.DataFrame) -> pl.DataFrame:
    """Per hypothesis case among `events` (one person's) that overlaps the
    person's custody: event_id, custody_share (0-1 of its offence window) and
    custody_kind (the kind covering most of it; arrests count, they are evidence).

    Custody still going on counts to the case's end. A zero-length window inside a
    stay has share 1.
    """
    cases = events.filter(~_LINKED & pl.col("lane").is_in(INCIDENT_LANES)).select(
        "event_id",
        pl.col("start_at").alias("a"),
        pl.max_horizontal("start_at", "end_at").alias("b"),
    )
    stays = events.filter(
        pl.col("lane").is_in(["custody", "arrest"])
        & (pl.col("custody_kind") != "arrest_at_scene")
    ).select(pl.col("custody_kind").alias("kind"), "start_at", "end_at")
    schema = {
        "event_id": pl.String,
        "custody_share": pl.Float64,
        "custody_kind": pl.String,
    }
    if not cases.height or not stays.height:
        return pl.DataFrame(schema=schema)
    length = (pl.col("b") - pl.col("a")).dt.total_seconds()
    lo = pl.max_horizontal("a", "start_at")
    hi = pl.min_horizontal("b", pl.col("end_at").fill_null(pl.col("b")))
    overlap = (
        cases.join(stays, how="cross")
        .with_columns(
            ov=pl.when(length > 0)
            .then((hi - lo).dt.total_seconds().clip(0) / length)
            .otherwise(
                ((pl.col("start_at") <= pl.col("a")) & (hi >= pl.col("b"))).cast(
                    pl.Float64
                )
            )
        )
        .filter(pl.col("ov") > 0)
    )
    return (
        overlap.sort("event_id", "ov", "kind", descending=[False, True, False])
        .group_by("event_id", maintain_order=True)
        .agg(
            custody_share=pl.col("ov").sum().clip(upper_bound=1.0),
            custody_kind=pl.col("kind").first(),
        )
        .cast(schema)
    )

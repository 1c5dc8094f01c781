"""Timelines step: frames -> one person's events -> a self-contained timeline page.

`write_timeline` builds the page of one person (the `timeline` command), finding
the card episodes as known on its `--as-of`; `person_page` is shared with the
nightly flow's analyst bundle (`flows.steps.analyst`), which reads the episodes
the episodes step stored instead (`cached_timeline_data`).

Frames are loaded once (`load_timeline_data`) and shared by every page. Phases
(`use_periods`, `person_days`, the phase today), sophistication levels and
attribution candidates are used when present and skipped gracefully when not.

Hypotheses are never counted as facts: a page's headline counts linked cases only,
and draws and counts hypotheses from a threshold `min_p` up (`PAGE_MIN_P`, or the
`GJENGANGER_PAGE_MIN_P` setting, or the argument), with the attribution window
shaded. Summaries returned here hold counts, sizes and times only, never
pseudonyms, so they are safe for flow logs.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from gjenganger.analytics import episodes as ep
from gjenganger.analytics import person_timeline as pt
from gjenganger.analytics import timeline_bands as tb
from gjenganger.analytics import timeline_summary as ts
from gjenganger.errors import UserError
from gjenganger.flows.steps.episodes import load_candidates, require_data
from gjenganger.store import analyst as analyst_store
from gjenganger.store import frames, publish

#: Largest card episodes listed on each timeline page.
TOP_EPISODES = 5
#: Hypotheses from this probability up are drawn and counted on the pages.
PAGE_MIN_P = ts.PAGE_MIN_P


@dataclass
class TimelineData:
    """The frames every timeline page draws from, loaded once."""

    as_of: dt.date | None
    incidents: pl.DataFrame
    links: pl.DataFrame
    transactions: pl.DataFrame
    custody: pl.DataFrame
    candidates: pl.DataFrame | None
    levels: pl.DataFrame | None
    episodes: pl.DataFrame
    window_days: int = analyst_store.ATTRIBUTION_WINDOW_DAYS  # attribution's

    @property
    def attribution_window(self) -> tuple[dt.date, int] | None:
        """(as_of, days) of the attribution run the candidates come from, or None
        without candidates: the days whose open cases may hold hypotheses."""
        if self.candidates is None or "as_of" not in self.candidates.columns:
            return None
        as_of = self.candidates.get_column("as_of").max()
        return (as_of, self.window_days) if as_of is not None else None


def _levels(incidents: pl.DataFrame) -> pl.DataFrame | None:
    """Sophistication level per incident, or None if that module is missing."""
    try:
        from gjenganger.analytics.sophistication import with_levels
    except ImportError:  # pragma: no cover - the phases engineer's module
        return None
    try:
        return with_levels(incidents).select("incident_id", "level")
    except Exception:  # noqa: BLE001 - colour is optional; the page degrades to grey
        return None


def load_timeline_data(
    con, as_of: dt.date | None = None, *, stored_episodes: bool = False
) -> TimelineData:
    """Incidents, links, transactions, custody, candidates, levels and episodes.

    The episodes are found in the transactions as known on `as_of`, or, with
    `stored_episodes`, read from what the episodes step stored for `as_of` (the
    nightly flow runs it before the analyst bundle).
    """
    require_data(con)
    incidents = frames.load_incidents(con, as_of)
    links = frames.load_links(con, as_of)
    tx = frames.load_card_transactions(con, as_of)
    candidates = load_candidates(con, as_of)
    if stored_episodes:
        episodes = analyst_store.load_episodes(con, as_of)
    else:
        episodes = ep.attach_persons(ep.detect_episodes(tx), links, candidates)
    return TimelineData(
        as_of=as_of,
        incidents=incidents,
        links=links,
        transactions=tx,
        custody=frames.load_custody(con, as_of),
        candidates=candidates,
        levels=_levels(incidents),
        episodes=episodes,
        window_days=analyst_store.attribution_window_days(con),
    )


_CACHE: dict[tuple, TimelineData] = {}
_CACHE_LOCK = threading.Lock()


def cached_timeline_data(con, db_path: str, as_of: dt.date | None) -> TimelineData:
    """The analyst bundle's frames (`load_timeline_data` with the stored episodes),
    loaded once per process for an unchanged database file.

    The nightly flow renders one page per task; a worker process that renders
    several reuses the frames. Keyed by the file's path, size and modification
    time, so a changed database is read again; only the newest entry is kept.
    """
    as_of = frames.resolve_as_of(con, as_of)
    st = os.stat(db_path)
    key = (os.path.realpath(db_path), st.st_size, st.st_mtime_ns, as_of)
    with _CACHE_LOCK:  # threads of one worker wait for one load, not one each
        if key not in _CACHE:
            _CACHE.clear()
            _CACHE[key] = load_timeline_data(con, as_of, stored_episodes=True)
        return _CACHE[key]


def known_person(data: TimelineData, person_id: str) -> bool:
    """True when the person has a link, an attribution or a custody record."""
    if (data.links["person_id"] == person_id).any():
        return True
    if (data.custody["person_id"] == person_id).any():
        return True
    return data.candidates is not None and bool(
        (data.candidates["person_id"] == person_id).any()
    )


def load_bands(
    con, person_id: str, window: tuple[dt.date, int] | None = None
) -> pl.DataFrame:
    """Use-period and phase bands of a person from the phases step's tables, and
    the attribution `window` (as_of, days) when given."""
    parts = [tb.attribution_window_band(*window)] if window else []
    for rows, fn in (
        (analyst_store.person_use_periods(con, person_id), tb.use_period_bands),
        (analyst_store.person_days(con, person_id), tb.phase_bands),
    ):
        if rows is None:
            continue
        try:
            parts.append(fn(rows))
        except Exception:  # noqa: BLE001 - bands are optional decoration
            continue
    parts = [p for p in parts if p.height]
    return pl.concat(parts) if parts else tb.use_period_bands(None)


def _window(
    start: dt.date | None, end: dt.date | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    lo = dt.datetime.combine(start, dt.time()) if start else None
    hi = dt.datetime.combine(end, dt.time()) + dt.timedelta(days=1) if end else None
    if lo and hi and hi <= lo:
        raise UserError("--to must not be before --from")
    return lo, hi


def person_episodes(
    episodes: pl.DataFrame, events: pl.DataFrame, person_id: str
) -> pl.DataFrame:
    """The episodes on the cases among a person's events, with the person's own
    standing: 'linked' if the case is linked to this person, else 'attributed'
    (a hypothesis with its p). A case linked to several persons shows on each."""
    standing = (
        events.filter(pl.col("lane") == "card")
        .group_by("incident_id")
        .agg(pl.col("is_linked").first(), pl.col("attribution_p").first())
    )
    mine = episodes.join(standing, on="incident_id", how="inner")
    return mine.with_columns(
        person_id=pl.lit(person_id),
        person_source=pl.when(pl.col("is_linked"))
        .then(pl.lit("linked"))
        .otherwise(pl.lit("attributed")),
        is_hypothesis=~pl.col("is_linked"),
        attribution_p=pl.when(pl.col("is_linked"))
        .then(pl.lit(None, pl.Float64))
        .otherwise(pl.col("attribution_p_right")),
    ).select(episodes.columns)


def person_page(
    con,
    data: TimelineData,
    person_id: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    lang: str = "nb",
    index_href: str | None = None,
    min_p: float | None = None,
) -> tuple[str, dict]:
    """The HTML of one person's timeline page and a summary (counts, no pseudonym).

    The headline counts the person's facts only; hypotheses with p >= `min_p`
    (default: `page_min_p`) are drawn and counted apart, lower ones not at all.
    """
    from gjenganger.maps.event_map import build_event_map
    from gjenganger.maps.offline import render_offline
    from gjenganger.maps.timeline import render_timeline_page

    if not known_person(data, person_id):
        raise UserError(f"person {person_id} has no cases, attributions or custody")
    min_p = page_min_p() if min_p is None else _check_min_p(min_p)
    lo, hi = _window(start, end)
    every = pt.person_events(
        person_id,
        data.incidents,
        data.links,
        data.transactions,
        data.custody,
        candidates=data.candidates,
        levels=data.levels,
        start=lo,
        end=hi,
    )
    events = ts.shown_events(every, min_p)
    episodes = person_episodes(data.episodes, events, person_id)
    if lo is not None:
        episodes = episodes.filter(pl.col("end_at") >= lo)
    if hi is not None:
        episodes = episodes.filter(pl.col("start_at") < hi)
    summary = pt.person_summary(every, episodes, top_n=TOP_EPISODES, min_p=min_p)
    window = data.attribution_window
    bands = tb.clip_bands(load_bands(con, person_id, window), lo, hi)
    map_html = render_offline(build_event_map(events, lang=lang))
    page = render_timeline_page(
        person_id,
        events,
        summary,
        lang=lang,
        bands=bands,
        period=(start, end),
        map_html=map_html,
        generated_at=dt.datetime.now().replace(microsecond=0),
        index_href=index_href,
        attribution_window=window,
        phase=analyst_store.current_phases(con).get(person_id),
    )
    return page, _page_counts(summary, episodes, bands)


def page_min_p() -> float:
    """The pages' hypothesis threshold: the `GJENGANGER_PAGE_MIN_P` setting, else
    `PAGE_MIN_P`."""
    return analyst_store.page_min_p(PAGE_MIN_P)


def _check_min_p(min_p: float) -> float:
    """`min_p` if it is a probability, else a one-line `UserError`."""
    if not 0.0 <= min_p <= 1.0:
        raise UserError(f"--min-p must be between 0 and 1, got {min_p}")
    return float(min_p)


def _page_counts(summary: dict, episodes: pl.DataFrame, bands: pl.DataFrame) -> dict:
    """What a page shows, in counts and NOK (no pseudonym): for summaries and logs.
    `events`, `nok_total`, `max_36h_nok`, `span_*` count facts only; the
    hypotheses (p >= `min_p`) have their own figures."""
    return {
        "events": summary["n_events"],
        "linked": summary["n_linked"],
        "hypotheses": summary["n_hypotheses"],
        "hypotheses_nok": summary["hypotheses_nok"],
        "hypotheses_hidden": summary["n_hypotheses_hidden"],
        "min_p": summary["hypotheses_min_p"],
        "episodes": episodes.height,
        "bands": bands.height,
        "nok_total": summary["nok_total"],
        "max_36h_nok": summary["max_36h_nok"],
        "span_start": summary["span_start"],
        "span_end": summary["span_end"],
        "top_episode_nok": (
            float(episodes["max_36h_nok"].max() or 0.0) if episodes.height else 0.0
        ),
    }


def write_timeline(
    con,
    person_id: str,
    out: str | Path,
    *,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    lang: str = "nb",
    as_of: str | dt.date | None = None,
    min_p: float | None = None,
) -> dict:
    """Build one person's timeline page into `out`; summary with seconds and bytes.
    Hypotheses are shown from `min_p` up (default: `page_min_p`)."""
    if lang not in ("nb", "en"):
        raise UserError(f"--lang must be nb or en, got {lang!r}")
    t0 = time.perf_counter()
    data = load_timeline_data(con, as_of)
    page, counts = person_page(
        con,
        data,
        person_id,
        start=start,
        end=end,
        lang=lang,
        min_p=min_p,
    )
    out = publish.write_text(out, page)
    return {
        **counts,
        "bytes": out.stat().st_size,
        "seconds": round(time.perf_counter() - t0, 3),
        "out": str(out),
    }

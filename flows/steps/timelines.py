"""Timelines step: frames -> one person's events -> a self-contained timeline page.

`write_timeline` builds the page of one person (the `timeline` command);
`publish_analyst_bundle` builds the analyst bundle of the nightly flow: the top list
as `index.html` (each person linking to `timelines/<person>.html`), all card
episodes as `episodes.html`, and a timeline page per top-list person covering the
last two years.

Frames are loaded once (`load_timeline_data`) and shared by every page. Phases
(`use_periods`, `person_days`), sophistication levels and attribution candidates are
used when present and skipped gracefully when not. Summaries returned here hold
counts, sizes and times only, never pseudonyms, so they are safe for flow logs.
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
from gjenganger.errors import UserError
from gjenganger.flows.steps.episodes import load_candidates, require_data
from gjenganger.store import frames
from gjenganger.store.db import table_exists

#: The bundle's timelines cover this many days up to `as_of`.
BUNDLE_DAYS = 730
#: Without a `toplist` table, the bundle lists this many most active persons.
FALLBACK_TOP = 20
#: Largest card episodes listed on each timeline page.
TOP_EPISODES = 5


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


def load_timeline_data(con, as_of: dt.date | None = None) -> TimelineData:
    """Incidents, links, transactions, custody, candidates, levels and episodes."""
    require_data(con)
    incidents = frames.load_incidents(con, as_of)
    links = frames.load_links(con, as_of)
    tx = frames.load_card_transactions(con, as_of)
    candidates = load_candidates(con, as_of)
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
    )


_CACHE: dict[tuple, TimelineData] = {}
_CACHE_LOCK = threading.Lock()


def cached_timeline_data(con, db_path: str, as_of: dt.date) -> TimelineData:
    """`load_timeline_data`, loaded once per process for an unchanged database file.

    The nightly flow renders one page per task; a worker process that renders
    several reuses the frames. Keyed by the file's path, size and modification
    time, so a changed database is read again; only the newest entry is kept.
    """
    st = os.stat(db_path)
    key = (os.path.realpath(db_path), st.st_size, st.st_mtime_ns, as_of)
    with _CACHE_LOCK:  # threads of one worker wait for one load, not one each
        if key not in _CACHE:
            _CACHE.clear()
            _CACHE[key] = load_timeline_data(con, as_of)
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


def load_bands(con, person_id: str) -> pl.DataFrame:
    """Use-period and phase bands of a person from the phases step's tables."""
    parts = []
    for table, fn in (
        ("use_periods", ep.use_period_bands),
        ("person_days", ep.phase_bands),
    ):
        if not table_exists(con, table):
            continue
        cols = {r[0] for r in con.execute(f"describe {table}").fetchall()}
        if "person_id" not in cols:
            continue
        try:
            rows = con.execute(
                f"select * from {table} where person_id = ?", [person_id]
            ).pl()
            parts.append(fn(rows))
        except Exception:  # noqa: BLE001 - bands are optional decoration
            continue
    parts = [p for p in parts if p.height]
    return pl.concat(parts) if parts else ep.use_period_bands(None)


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
) -> tuple[str, dict]:
    """The HTML of one person's timeline page and a summary (counts, no pseudonym)."""
    from gjenganger.maps.offline import render_offline
    from gjenganger.maps.timeline import build_event_map, render_timeline_page

    if not known_person(data, person_id):
        raise UserError(f"person {person_id} has no cases, attributions or custody")
    lo, hi = _window(start, end)
    events = ep.person_events(
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
    episodes = person_episodes(data.episodes, events, person_id)
    if lo is not None:
        episodes = episodes.filter(pl.col("end_at") >= lo)
    if hi is not None:
        episodes = episodes.filter(pl.col("start_at") < hi)
    summary = ep.person_summary(events, episodes, top_n=TOP_EPISODES)
    bands = ep.clip_bands(load_bands(con, person_id), lo, hi)
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
    )
    counts = {
        "events": summary["n_events"],
        "linked": summary["n_linked"],
        "hypotheses": summary["n_hypotheses"],
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
    return page, counts


def write_timeline(
    con,
    person_id: str,
    out: str | Path,
    *,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    lang: str = "nb",
    as_of: str | dt.date | None = None,
) -> dict:
    """Build one person's timeline page into `out`; summary with seconds and bytes."""
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
    )
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror}") from exc
    return {
        **counts,
        "bytes": out.stat().st_size,
        "seconds": round(time.perf_counter() - t0, 3),
        "out": str(out),
    }


# ------------------------------------------------------------------ analyst bundle
def toplist(con, data: TimelineData, as_of: dt.date) -> tuple[pl.DataFrame, str]:
    """Top-list persons in rank order (person_id, rank) and where they came from.

    Table `toplist` (newest run on or before `as_of`) when the top-list step has
    run; otherwise the `FALLBACK_TOP` persons with most linked cases in the last 365
    days (source 'fallback').
    """
    if table_exists(con, "toplist"):
        cols = {r[0] for r in con.execute("describe toplist").fetchall()}
        where, params = "", []
        if "as_of" in cols:
            row = con.execute(
                "select max(as_of) from toplist where as_of::date <= ?", [as_of]
            ).fetchone()
            if row and row[0] is not None:
                where, params = "where as_of = ?", [row[0]]
        order = "min(rank)" if "rank" in cols else "min(person_id)"
        rows = con.execute(
            f"select person_id, {order} as r from toplist {where} "
            "group by person_id order by r, person_id",
            params,
        ).fetchall()
        if rows:
            return (
                pl.DataFrame(
                    {
                        "person_id": [r[0] for r in rows],
                        "rank": list(range(1, len(rows) + 1)),
                    }
                ),
                "toplist",
            )
    since = dt.datetime.combine(as_of - dt.timedelta(days=365), dt.time())
    recent = data.links.join(
        data.incidents.select("incident_id", "occurred_to"), on="incident_id"
    ).filter(pl.col("occurred_to") >= since)
    top = (
        recent.group_by("person_id")
        .agg(pl.col("incident_id").n_unique().alias("n"))
        .sort(["n", "person_id"], descending=[True, False])
        .head(FALLBACK_TOP)
    )
    return (
        top.select("person_id").with_columns(
            rank=pl.int_range(1, top.height + 1, dtype=pl.Int64)
        ),
        "fallback",
    )


def _current_phase(con) -> dict[str, tuple[str, float | None]]:
    if not table_exists(con, "current_phase"):
        return {}
    cols = {r[0] for r in con.execute("describe current_phase").fetchall()}
    if not {"person_id", "phase"} <= cols:
        return {}
    p = "p" if "p" in cols else "null"
    rows = con.execute(f"select person_id, phase, {p} from current_phase").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def _bundle_start(as_of: dt.date) -> dt.date:
    return as_of - dt.timedelta(days=BUNDLE_DAYS - 1)


def publish_timeline_page(
    con, out_dir, as_of, rank: int, lang: str = "nb", data: TimelineData | None = None
) -> dict | None:
    """Write the timeline page of the top-list person at `rank`; its counts.

    One unit of the analyst bundle, so the nightly flow can map pages over task
    workers by rank (never by pseudonym). None when no one holds that rank or the
    person has no record. The result holds no pseudonym.
    """
    if lang not in ("nb", "en"):
        raise UserError(f"lang must be nb or en, got {lang!r}")
    t1 = time.perf_counter()
    as_of = frames.resolve_as_of(con, as_of)
    timelines_dir = Path(out_dir) / "timelines"
    try:
        timelines_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot write to {out_dir}: {exc.strerror}") from exc
    data = load_timeline_data(con, as_of) if data is None else data
    persons, _ = toplist(con, data, as_of)
    hit = persons.filter(pl.col("rank") == rank)
    if hit.is_empty() or not known_person(data, hit["person_id"][0]):
        return None
    person_id = hit["person_id"][0]
    page, counts = person_page(
        con,
        data,
        person_id,
        start=_bundle_start(as_of),
        end=as_of,
        lang=lang,
        index_href="../index.html",
    )
    path = timelines_dir / f"{person_id}.html"
    path.write_text(page, encoding="utf-8")
    return {
        "rank": rank,
        "bytes": path.stat().st_size,
        "seconds": round(time.perf_counter() - t1, 3),
        **counts,
    }


def toplist_ranks(con, as_of, data: TimelineData | None = None) -> list[int]:
    """The ranks the analyst bundle has a page for (what the flow maps over)."""
    as_of = frames.resolve_as_of(con, as_of)
    data = load_timeline_data(con, as_of) if data is None else data
    persons, _ = toplist(con, data, as_of)
    return persons["rank"].to_list()


def write_analyst_index(
    con,
    out_dir,
    as_of,
    pages: list[dict | None],
    lang: str = "nb",
    data: TimelineData | None = None,
    t0: float | None = None,
) -> dict:
    """Write `index.html` and `episodes.html` from the pages' counts; the summary."""
    from gjenganger.maps.analyst_index import render_episodes_page, render_toplist_page

    t0 = time.perf_counter() if t0 is None else t0
    as_of = frames.resolve_as_of(con, as_of)
    out_dir = Path(out_dir)
    data = load_timeline_data(con, as_of) if data is None else data
    persons, source = toplist(con, data, as_of)
    by_rank = dict(persons.select("rank", "person_id").iter_rows())
    phases = _current_phase(con)
    rows, sizes, slowest = [], [], 0.0
    for page in sorted((p for p in pages if p), key=lambda p: p["rank"]):
        person_id = by_rank[page["rank"]]
        counts = {
            k: v for k, v in page.items() if k not in ("rank", "bytes", "seconds")
        }
        sizes.append(page["bytes"])
        slowest = max(slowest, page["seconds"])
        phase, p = phases.get(person_id, (None, None))
        rows.append(
            {
                "rank": page["rank"],
                "person_id": person_id,
                "href": f"timelines/{person_id}.html",
                "phase": phase,
                "phase_p": p,
                **counts,
            }
        )
    start = _bundle_start(as_of)
    window_start = dt.datetime.combine(start, dt.time())
    episodes = data.episodes.filter(pl.col("end_at") >= window_start).sort(
        "max_36h_nok", "start_at", descending=[True, False]
    )
    hrefs = {r["person_id"]: r["href"] for r in rows}
    generated = dt.datetime.now().replace(microsecond=0)
    (out_dir / "index.html").write_text(
        render_toplist_page(
            rows,
            as_of=as_of,
            lang=lang,
            source=source,
            generated_at=generated,
            n_episodes=episodes.height,
        ),
        encoding="utf-8",
    )
    (out_dir / "episodes.html").write_text(
        render_episodes_page(
            episodes,
            as_of=as_of,
            lang=lang,
            hrefs=hrefs,
            generated_at=generated,
            since=start,
        ),
        encoding="utf-8",
    )
    return {
        "as_of": as_of.isoformat(),
        "toplist_source": source,
        "persons": len(rows),
        "timelines": len(sizes),
        "episodes": episodes.height,
        "episodes_hypotheses": int((episodes["person_source"] == "attributed").sum()),
        "largest_page_bytes": max(sizes, default=0),
        "total_bytes": sum(sizes),
        "slowest_page_seconds": round(slowest, 3),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def publish_analyst_bundle(con, out_dir, as_of, lang: str = "nb") -> dict:
    """Write the analyst bundle into `out_dir`; a summary of counts and sizes.

    - `index.html`: the top list (rank, person linking to its timeline, linked
      cases and hypotheses, NOK, largest 36-hour total, current phase when the
      phases step has run);
    - `timelines/<person>.html`: each top-list person's timeline over the last
      `BUNDLE_DAYS` days up to `as_of` (`publish_timeline_page`, one per rank);
    - `episodes.html`: every card episode of the last `BUNDLE_DAYS` days, largest
      36-hour total first, linked persons linking to their timelines and
      attributed ones marked as hypotheses.
    Needs no network to open. The summary holds no pseudonyms.
    """
    if lang not in ("nb", "en"):
        raise UserError(f"lang must be nb or en, got {lang!r}")
    t0 = time.perf_counter()
    as_of = frames.resolve_as_of(con, as_of)
    try:
        (Path(out_dir) / "timelines").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot write to {out_dir}: {exc.strerror}") from exc
    data = load_timeline_data(con, as_of)
    persons, _ = toplist(con, data, as_of)
    pages = [
        publish_timeline_page(con, out_dir, as_of, rank, lang, data)
        for rank in persons["rank"].to_list()
    ]
    return write_analyst_index(con, out_dir, as_of, pages, lang, data, t0)

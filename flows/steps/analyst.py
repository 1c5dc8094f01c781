"""Analyst bundle step: the top list, a timeline per top-list person, the episodes.

The nightly flow publishes the bundle in three kinds of task
(`flows.tasks.publish_analyst`): `toplist_ranks` (what the pages map over),
`publish_timeline_page` per rank, then `write_analyst_index`:

- `index.html`: the top list (rank, person linking to its timeline, linked cases,
  events, NOK, largest 36-hour total and last event of the linked cases only; the
  hypotheses from the page threshold p up in columns of their own; the current
  phase, with "usikker" when uncertain, when the phases step has run);
- `timelines/<person>.html`: each top-list person's timeline over the last
  `BUNDLE_DAYS` days up to `as_of`;
- `episodes.html`: every card episode of those days, newest first (sortable by
  any column and filterable in the page),
  linked persons linking to their timelines and attributed ones marked as
  hypotheses.

Every task draws on one `TimelineData` per process
(`timelines.cached_timeline_data`), whose episodes are those the episodes step
stored earlier in the night. Pages need no network to open; the summaries hold
counts, sizes and seconds only, never pseudonyms.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import polars as pl

from gjenganger.errors import UserError
from gjenganger.flows.steps.timelines import (
    TimelineData,
    known_person,
    page_min_p,
    person_page,
)
from gjenganger.store import analyst as analyst_store
from gjenganger.store import publish

#: The bundle's timelines cover this many days up to `as_of`.
BUNDLE_DAYS = 730
#: Without a top list, the bundle lists this many most active persons.
FALLBACK_TOP = 20


def toplist(con, data: TimelineData) -> tuple[pl.DataFrame, str]:
    """Top-list persons in rank order (person_id, rank) and where they came from.

    The newest top list on or before `data.as_of` when the top-list step has run
    for such a date (source 'toplist'); otherwise the `FALLBACK_TOP` persons with
    most linked cases in the last 365 days (source 'fallback').
    """
    persons = analyst_store.toplist_persons(con, data.as_of)
    if persons:
        ranks = list(range(1, len(persons) + 1))
        return pl.DataFrame({"person_id": persons, "rank": ranks}), "toplist"
    since = dt.datetime.combine(data.as_of - dt.timedelta(days=365), dt.time())
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


def bundle_start(as_of: dt.date) -> dt.date:
    """The first day the bundle covers (`BUNDLE_DAYS` days up to `as_of`)."""
    return as_of - dt.timedelta(days=BUNDLE_DAYS - 1)


def bundle_episodes(
    episodes: pl.DataFrame, as_of: dt.date, min_p: float = 0.0
) -> pl.DataFrame:
    """The episodes `episodes.html` lists: those ending in the bundle's days, newest
    first (the page sorts by any column in the browser). An attributed person below
    the pages' hypothesis threshold `min_p` is not named (the episode reads as
    unattributed), as on every other page."""
    since = dt.datetime.combine(bundle_start(as_of), dt.time())
    below = (pl.col("person_source") == "attributed") & (
        pl.col("attribution_p").fill_null(0.0) < min_p
    )
    return (
        episodes.filter(pl.col("end_at") >= since)
        .with_columns(
            *(
                pl.when(below).then(None).otherwise(pl.col(c)).alias(c)
                for c in ("person_id", "attribution_p")
            ),
            pl.when(below)
            .then(pl.lit("none"))
            .otherwise(pl.col("person_source"))
            .alias("person_source"),
        )
        .sort("start_at", "incident_id", descending=[True, False])
    )


def toplist_ranks(con, data: TimelineData) -> list[int]:
    """The ranks the analyst bundle has a page for (what the flow maps over)."""
    persons, _ = toplist(con, data)
    return persons["rank"].to_list()


def publish_timeline_page(
    con,
    data: TimelineData,
    out_dir,
    rank: int,
    lang: str = "nb",
    min_p: float | None = None,
) -> dict | None:
    """Write the timeline page of the top-list person at `rank`; its counts.

    One unit of the analyst bundle, so the nightly flow can map pages over task
    workers by rank (never by pseudonym). None when no one holds that rank or the
    person has no record. Hypotheses are shown from `min_p` up (default: the
    setting, `timelines.page_min_p`). The result holds no pseudonym.
    """
    if lang not in ("nb", "en"):
        raise UserError(f"lang must be nb or en, got {lang!r}")
    t1 = time.perf_counter()
    timelines_dir = publish.make_folder(Path(out_dir) / "timelines")
    persons, _ = toplist(con, data)
    hit = persons.filter(pl.col("rank") == rank)
    if hit.is_empty() or not known_person(data, hit["person_id"][0]):
        return None
    person_id = hit["person_id"][0]
    page, counts = person_page(
        con,
        data,
        person_id,
        start=bundle_start(data.as_of),
        end=data.as_of,
        lang=lang,
        index_href="../index.html",
        min_p=min_p,
    )
    path = publish.write_text(timelines_dir / f"{person_id}.html", page)
    return {
        "rank": rank,
        "bytes": path.stat().st_size,
        "seconds": round(time.perf_counter() - t1, 3),
        **counts,
    }


def _index_rows(con, persons: pl.DataFrame, pages: list[dict | None]) -> list[dict]:
    """One row of `index.html` per written page, in rank order, with the person's
    current phase (and whether it is uncertain) when the phases step has run."""
    by_rank = dict(persons.select("rank", "person_id").iter_rows())
    phases = analyst_store.current_phases(con)
    rows = []
    for page in sorted((p for p in pages if p), key=lambda p: p["rank"]):
        person_id = by_rank[page["rank"]]
        phase = phases.get(person_id, {})
        rows.append(
            {
                "rank": page["rank"],
                "person_id": person_id,
                "href": f"timelines/{person_id}.html",
                "phase": phase.get("phase"),
                "phase_p": phase.get("p"),
                "phase_uncertain": bool(phase.get("low_confidence")),
                **{
                    k: v
                    for k, v in page.items()
                    if k not in ("rank", "bytes", "seconds")
                },
            }
        )
    return rows


def write_analyst_index(
    con,
    data: TimelineData,
    out_dir,
    pages: list[dict | None],
    lang: str = "nb",
    min_p: float | None = None,
) -> dict:
    """Write `index.html` and `episodes.html` from the pages' counts; the summary.
    The index states the pages' hypothesis threshold (`min_p`, default the
    setting), which its hypothesis columns count from."""
    from gjenganger.maps.analyst_index import render_episodes_page, render_toplist_page

    t0 = time.perf_counter()
    as_of, out_dir = data.as_of, Path(out_dir)
    persons, source = toplist(con, data)
    rows = _index_rows(con, persons, pages)
    sizes = [p["bytes"] for p in pages if p]
    start = bundle_start(as_of)
    episodes = bundle_episodes(data.episodes, as_of, _pages_min_p(pages, min_p))
    generated = dt.datetime.now().replace(microsecond=0)
    publish.write_text(
        out_dir / "index.html",
        render_toplist_page(
            rows,
            as_of=as_of,
            lang=lang,
            source=source,
            generated_at=generated,
            n_episodes=episodes.height,
            min_p=_pages_min_p(pages, min_p),
        ),
    )
    publish.write_text(
        out_dir / "episodes.html",
        render_episodes_page(
            episodes,
            as_of=as_of,
            lang=lang,
            hrefs={r["person_id"]: r["href"] for r in rows},
            generated_at=generated,
            since=start,
        ),
    )
    return {
        "as_of": as_of.isoformat(),
        "toplist_source": source,
        "min_p": _pages_min_p(pages, min_p),
        "persons": len(rows),
        "timelines": len(sizes),
        "episodes": episodes.height,
        "episodes_hypotheses": int((episodes["person_source"] == "attributed").sum()),
        "largest_page_bytes": max(sizes, default=0),
        "total_bytes": sum(sizes),
        "slowest_page_seconds": round(
            max((p["seconds"] for p in pages if p), default=0.0), 3
        ),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def _pages_min_p(pages: list[dict | None], min_p: float | None) -> float:
    """The threshold the pages were drawn with (their counts say), else `min_p`,
    else the setting."""
    drawn = {p["min_p"] for p in pages if p and "min_p" in p}
    if len(drawn) == 1:
        return drawn.pop()
    return page_min_p() if min_p is None else min_p

"""The nightly's Prefect tasks: one per step, and the mapped page tasks.

Every task opens the database, calls one step of `gjenganger.flows.steps` (read
store -> analytics/maps -> write store) and returns its small JSON summary. Task
parameters and results are paths, dates and counts — never pseudonyms or frames —
so Prefect's database and logs hold no personal data, and no task result is cached
or persisted by Prefect (resume state lives in DuckDB, see
`gjenganger.flows.steps.state`). Only I/O tasks retry, and only on I/O errors.
The flow that runs them is `gjenganger.flows.nightly`.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from contextlib import nullcontext
from datetime import date
from pathlib import Path

import duckdb
from prefect import task, unmapped
from prefect.cache_policies import NO_CACHE

from gjenganger.flows.steps import state
from gjenganger.store import db, faults, frames, publish
from gjenganger.store import steps as marks


def _io_error(task_obj, task_run, state_obj) -> bool:  # noqa: ARG001 - Prefect's signature
    """Retry only when the failure was an I/O error (disk, lock), not bad logic."""
    try:
        state_obj.result()
    except (OSError, duckdb.IOException):
        return True
    except Exception:  # noqa: BLE001
        return False
    return False


IO_TASK = {"retries": 2, "retry_delay_seconds": 2, "retry_condition_fn": _io_error}
TASK = {"cache_policy": NO_CACHE, "persist_result": False}


def progress(msg: str) -> None:
    """One line of the night's progress on stderr."""
    print(f"[nightly] {msg}", file=sys.stderr, flush=True)


@task(name="ingest", **TASK, **IO_TASK)
def ingest_task(inbox: str, db_path: str) -> dict:
    from gjenganger.flows.steps.ingest import ingest, summary

    con = db.connect(db_path)
    try:
        results = ingest(con, inbox, progress=True)
    finally:
        con.close()
    doc = summary(results)
    reasons: Counter = Counter()
    for b in doc["batches"]:
        reasons.update(b["reasons"])
    return {
        "batches": Counter(b["status"] for b in doc["batches"]),
        "rows_read": sum(
            f["read"] for b in doc["batches"] for f in b["files"].values()
        ),
        "rows_loaded": sum(
            f["loaded"] for b in doc["batches"] for f in b["files"].values()
        ),
        "rows_quarantined": sum(
            f["quarantined"] for b in doc["batches"] for f in b["files"].values()
        ),
        "quarantine_reasons": dict(reasons),
        "rejected": [
            {"batch_id": b["batch_id"], "reason": b.get("reason")}
            for b in doc["batches"]
            if b["status"] == "rejected"
        ],
    }


def run_step(
    db_path: str,
    step: str,
    fn,
    as_of: date,
    params: dict,
    resumable: bool,
    transaction: bool = False,
) -> dict:
    """Open the database, skip if already done for these inputs, else run `fn`.

    With `transaction`, the step's writes and its resume mark commit together, so a
    crash mid-step leaves the database as before the step.
    """
    con = db.connect(db_path)
    try:
        key = state.input_hash(
            step, data=marks.data_version(con), as_of=as_of, **params
        )
        if resumable and (done := marks.finished(con, step, key)) is not None:
            return {**done, "resumed": True}
        with db.transaction(con) if transaction else nullcontext():
            summary = fn(con, as_of=as_of, **params)
            faults.point(f"step:{step}")
            if resumable:
                marks.mark_finished(con, step, key, summary)
        return summary
    finally:
        con.close()


@task(name="toplist", **TASK)
def toplist_task(db_path: str, as_of: date) -> dict:
    from gjenganger.flows.steps.toplist import build_toplist

    return run_step(db_path, "toplist", build_toplist, as_of, {}, resumable=True)


def _run_with_progress(db_path: str, name: str, build, as_of: date, tag: str) -> dict:
    """`run_step` of a resumable step whose body reports progress on stderr as
    `[tag] message`; the callback is bound here, not passed in params (params make
    the resume key)."""
    from functools import partial

    def progress(message: str) -> None:
        print(f"[{tag}] {message}", file=sys.stderr, flush=True)

    return run_step(
        db_path, name, partial(build, progress=progress), as_of, {}, resumable=True
    )


@task(name="attribution", **TASK)
def attribution_task(db_path: str, as_of: date) -> dict:
    from gjenganger.flows.steps.attribution import build_attribution

    return _run_with_progress(
        db_path, "attribution", build_attribution, as_of, "attribution"
    )


@task(name="attribution-backtest", **TASK)
def backtest_task(db_path: str, as_of: date) -> dict:
    """The back-test (cases open 90 and 180 days ago against the links since) and
    the recalibration the attribution step applies (run before it)."""
    from gjenganger.flows.steps.attribution_backtest import build_backtest

    return _run_with_progress(
        db_path, "attribution_backtest", build_backtest, as_of, "backtest"
    )


@task(name="phases", **TASK)
def phases_task(db_path: str, as_of: date) -> dict:
    from gjenganger.flows.steps.phases import build_phases

    return run_step(
        db_path, "phases", build_phases, as_of, {}, resumable=True, transaction=True
    )


@task(name="episodes", **TASK)
def episodes_task(db_path: str, as_of: date) -> dict:
    from gjenganger.flows.steps.episodes import build_episodes

    return run_step(
        db_path, "episodes", build_episodes, as_of, {}, resumable=True, transaction=True
    )


@task(name="hotspot-cells", **TASK)
def hotspot_cells_task(db_path: str, as_of: date) -> dict:
    from gjenganger.flows.steps.hotspot_cells import build_hotspot_cells

    return run_step(
        db_path,
        "hotspot_cells",
        build_hotspot_cells,
        as_of,
        {},
        resumable=True,
        transaction=True,
    )


def _read_only_step(db_path: str, fn, *args, **kwargs) -> dict:
    con = db.connect(db_path, read_only=True)
    try:
        return fn(con, *args, **kwargs)
    finally:
        con.close()


@task(name="hotspot-map", **TASK, **IO_TASK)
def hotspot_map_task(
    db_path: str, out_dir: str, as_of: date, group: str, lang: str, night: str = ""
) -> dict:
    """One target group's map (mapped over groups; read-only connection). With
    `night`, the maps of that night in one worker process share one read."""
    from gjenganger.flows.steps.hotspots import publish_hotspot_map

    if night:
        frames.share_frames(night)
    return _read_only_step(
        db_path, publish_hotspot_map, Path(out_dir), as_of, group, lang
    )


@task(name="hotspot-index", **TASK, **IO_TASK)
def hotspot_index_task(out_dir: str, as_of: date, maps: list[dict], lang: str) -> dict:
    """The prevention bundle's index page, linking the maps; the step summary."""
    from gjenganger.flows.steps.hotspots import write_hotspot_index

    return write_hotspot_index(Path(out_dir), as_of, maps, lang)


@task(name="toplist-ranks", **TASK)
def ranks_task(db_path: str, as_of: date) -> list[int]:
    """The top-list ranks the analyst bundle has a page for (what pages map over)."""
    from gjenganger.flows.steps.analyst import toplist_ranks
    from gjenganger.flows.steps.timelines import cached_timeline_data

    def ranks(con):  # loads the frames the page tasks of this process reuse
        return toplist_ranks(con, cached_timeline_data(con, db_path, as_of))

    return _read_only_step(db_path, ranks)


@task(name="timeline-page", **TASK, **IO_TASK)
def timeline_page_task(
    db_path: str, out_dir: str, as_of: date, rank: int, lang: str
) -> dict | None:
    """One top-list person's page, addressed by rank (mapped; read-only)."""
    from gjenganger.flows.steps.analyst import publish_timeline_page
    from gjenganger.flows.steps.timelines import cached_timeline_data

    def page(con):
        data = cached_timeline_data(con, db_path, as_of)
        return publish_timeline_page(con, data, Path(out_dir), rank, lang)

    return _read_only_step(db_path, page)


@task(name="analyst-index", **TASK, **IO_TASK)
def analyst_index_task(
    db_path: str, out_dir: str, as_of: date, pages: list, lang: str
) -> dict:
    """The analyst bundle's `index.html`, `episodes.html` and hypothesis list."""
    from gjenganger.flows.steps.analyst import write_analyst_index
    from gjenganger.flows.steps.exports import export_hypotheses
    from gjenganger.flows.steps.timelines import cached_timeline_data

    def index(con):
        data = cached_timeline_data(con, db_path, as_of)
        return write_analyst_index(con, data, Path(out_dir), pages, lang)

    from gjenganger.flows.steps.attribution_backtest import write_backtest_page

    backtest_page = _read_only_step(
        db_path, write_backtest_page, Path(out_dir), as_of, lang
    )
    from gjenganger.flows.steps.phases import write_phase_backtest_page

    phase_page = _read_only_step(
        db_path, write_phase_backtest_page, Path(out_dir), as_of, lang
    )
    summary = _read_only_step(db_path, index)
    summary["backtest_page"] = backtest_page
    summary["phase_backtest_page"] = phase_page
    summary["hypotheses"] = _read_only_step(
        db_path, export_hypotheses, Path(out_dir), as_of, lang, summary["min_p"]
    )
    return summary


def _gather(futures) -> list:
    """Results of mapped task runs, in order; the first failure is raised."""
    return [f.result() for f in futures]


def publish_prevention(
    db_path: str, out_dir: str, as_of: date, lang: str, night: str = ""
):
    """Per target group, one mapped task; returns a function that waits for them
    and writes the index page (so other bundles can be built meanwhile)."""
    from gjenganger.flows.steps.hotspots import GROUPS

    t0 = time.perf_counter()
    futures = hotspot_map_task.map(
        unmapped(db_path),
        unmapped(out_dir),
        unmapped(as_of),
        list(GROUPS),
        unmapped(lang),
        unmapped(night),
    )

    def finish() -> dict:
        summary = hotspot_index_task(out_dir, as_of, _gather(futures), lang)
        summary["seconds"] = round(time.perf_counter() - t0, 2)
        return summary

    finish.futures = futures  # so a failing night can wait for them before cleaning up
    return finish


def publish_analyst(db_path: str, out_dir: str, as_of: date, lang: str) -> dict:
    """Per top-list rank, one mapped task; then the index and hypothesis lists."""
    ranks = ranks_task(db_path, as_of)
    pages = _gather(
        timeline_page_task.map(
            unmapped(db_path), unmapped(out_dir), unmapped(as_of), ranks, unmapped(lang)
        )
    )
    return analyst_index_task(db_path, out_dir, as_of, pages, lang)


@task(name="publish-research", **TASK, **IO_TASK)
def research_task(db_path: str, out_dir: str) -> dict:
    from gjenganger.flows.steps.research import build_snapshot

    con = db.connect(db_path)
    try:
        return build_snapshot(con, out_dir)
    finally:
        con.close()


@task(name="commit-publication", **TASK, **IO_TASK)
def commit_task(publish_dir: str, run_name: str, keep: int) -> str:
    night = publish.Night(Path(publish_dir), run_name)
    return str(publish.commit(night, keep=keep))

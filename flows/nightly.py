"""The nightly Prefect flow: ingest -> analytics -> publish -> run report.

Thin orchestration only: every task opens the database, calls one step of
`gjenganger.flows.steps` (read store -> analytics/maps -> write store) and returns
its small JSON summary. Task parameters and results are paths, dates and counts — never
pseudonyms or frames — so Prefect's database and logs hold no personal data, and
no task result is cached or persisted by Prefect (resume state lives in DuckDB,
see `gjenganger.flows.steps.state`). Only I/O tasks retry, and only on I/O errors.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from collections import Counter
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import TerminationSignal

from gjenganger.errors import UserError
from gjenganger.flows.steps import state
from gjenganger.store import db, faults, frames, publish, runlock
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


# what fails a night (report, bundles dropped) and is raised on as it is: errors,
# Ctrl-C, SIGTERM (Prefect raises TerminationSignal inside a flow run, then re-sends
# the signal to the handler of `gjenganger.cli`, which stops the process cleanly)
# and `sys.exit` in a library; any other BaseException a step dies of (a Rust
# panic: pyo3's PanicException derives from BaseException) fails the night too, as
# a `StepCrashedError`
FAILURES = (Exception, KeyboardInterrupt, SystemExit, TerminationSignal)
#: what is no failure of a step at all (a generator being closed)
PASS_THROUGH = (GeneratorExit,)


class StepCrashedError(Exception):
    """A step died of a BaseException that is neither an error nor a stop (e.g. a
    panic in a Rust library); raised from it, so the night fails like on any error:
    its one-line reason in the report, the half-built bundles dropped, an audit
    row, and the CLI's one line instead of a traceback."""


IO_TASK = {"retries": 2, "retry_delay_seconds": 2, "retry_condition_fn": _io_error}
TASK = {"cache_policy": NO_CACHE, "persist_result": False}


def _progress(msg: str) -> None:
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


def _run_step(
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

    return _run_step(db_path, "toplist", build_toplist, as_of, {}, resumable=True)


def _run_with_progress(db_path: str, name: str, build, as_of: date, tag: str) -> dict:
    """`_run_step` of a resumable step whose body reports progress on stderr as
    `[tag] message`; the callback is bound here, not passed in params (params make
    the resume key)."""
    from functools import partial

    def progress(message: str) -> None:
        print(f"[{tag}] {message}", file=sys.stderr, flush=True)

    return _run_step(
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

    return _run_step(
        db_path, "phases", build_phases, as_of, {}, resumable=True, transaction=True
    )


@task(name="episodes", **TASK)
def episodes_task(db_path: str, as_of: date) -> dict:
    from gjenganger.flows.steps.episodes import build_episodes

    return _run_step(
        db_path, "episodes", build_episodes, as_of, {}, resumable=True, transaction=True
    )


@task(name="hotspot-cells", **TASK)
def hotspot_cells_task(db_path: str, as_of: date) -> dict:
    from gjenganger.flows.steps.hotspot_cells import build_hotspot_cells

    return _run_step(
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


RUNNERS = ("local", "dask")


def task_runner(
    runner: str = "local", dask_address: str | None = None, workers: int = 2
):
    """The Prefect task runner for the mapped steps.

    `local`: a thread pool in this process. `dask`: `prefect_dask.DaskTaskRunner`
    on the scheduler at `dask_address`, or a temporary local cluster of `workers`
    single-threaded processes (no dashboard, quiet logs).
    """
    if runner == "local":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
    if runner != "dask":
        raise ValueError(f"runner must be one of {RUNNERS}, got {runner!r}")
    import logging

    from prefect_dask import DaskTaskRunner

    if dask_address:
        return DaskTaskRunner(address=dask_address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
            "silence_logs": logging.WARNING,
        }
    )


def worker_api():
    """A settings context pointing a local Dask cluster's tasks at this flow's Prefect
    API. Without it, with no PREFECT_API_URL set, every Dask worker starts an
    ephemeral Prefect server of its own on the same database file. A remote cluster
    (`--dask-address`) needs PREFECT_API_URL set to a server its workers can reach."""
    from prefect.context import FlowRunContext
    from prefect.settings import PREFECT_API_URL, temporary_settings

    ctx = FlowRunContext.get()
    runner = getattr(ctx, "task_runner", None)
    if (
        type(runner).__name__ != "DaskTaskRunner"
        or runner.address
        or PREFECT_API_URL.value()
        or ctx.client is None
    ):
        return nullcontext()
    url = str(ctx.client.api_url).rstrip("/")
    return temporary_settings(updates={PREFECT_API_URL: url})


def nightly_with(runner: str = "local", dask_address: str | None = None):
    """The nightly flow bound to a task runner (`local` or `dask`)."""
    return nightly.with_options(task_runner=task_runner(runner, dask_address))


def _default_as_of(db_path: str, ingested: dict) -> date:
    """The night's date: the newest report in the database. With no incident at all
    there is nothing to analyse: one line naming the rejected batches, if any."""
    con = db.connect(db_path)
    try:
        day = frames.latest_data_date(con)
    finally:
        con.close()
    if day is not None:
        return day
    rejected = ingested.get("rejected") or []
    why = (
        f"{len(rejected)} batch(es) rejected, first {rejected[0]['batch_id']}: "
        f"{rejected[0]['reason']}"
        if rejected
        else "the inbox held no batch"
    )
    raise UserError(f"nothing to analyse: the database holds no incidents ({why})")


@flow(name="gjenganger-nightly", log_prints=False, persist_result=False)
def nightly(
    inbox: str,
    db_path: str,
    publish_dir: str,
    as_of: date | None = None,
    lang: str = "nb",
    keep_nights: int = 7,
) -> dict:
    """Run the whole night; on any failure the previous publication stays whole.
    One run per database at a time (`gjenganger.runlock`); however it ends, it
    leaves its audit row (`_audited`)."""
    with _audited(db_path, publish_dir), runlock.hold(db_path):
        return _night(inbox, db_path, publish_dir, as_of, lang, keep_nights)


def _night(
    inbox: str,
    db_path: str,
    publish_dir: str,
    as_of: date | None,
    lang: str,
    keep_nights: int,
) -> dict:
    """The night's steps, report and publication (under the run lock)."""
    run_name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    report: dict = {
        "run": run_name,
        "started_at": datetime.now(UTC).isoformat(),
        "steps": [],
        "status": "running",
    }
    night = publish.start(publish_dir, run_name)
    pending: list = []

    def step(name: str, fn, *args, since: float | None = None):
        _progress(f"{name} ...")
        t0 = time.perf_counter() if since is None else since
        try:
            result = fn(*args)
        except PASS_THROUGH:
            raise
        except BaseException as exc:
            report["steps"].append(
                {
                    "step": name,
                    "status": "failed",
                    "seconds": round(time.perf_counter() - t0, 2),
                    "error": _reason(exc),
                }
            )
            if not isinstance(exc, FAILURES):
                raise StepCrashedError(_reason(exc)) from exc
            raise
        seconds = round(time.perf_counter() - t0, 2)
        report["steps"].append(
            {"step": name, "status": "ok", "seconds": seconds, "summary": result}
        )
        _progress(f"{name} done in {seconds} s")
        return result

    try:
        ingested = step("ingest", ingest_task, inbox, db_path)
        # from here on nothing rewrites incidents or links: steps and map tasks
        # share one read of tonight's as-of frames per process
        frames.share_frames(run_name)
        day = as_of or _default_as_of(db_path, ingested)
        report["as_of"] = day.isoformat()
        step("toplist", toplist_task, db_path, day)
        step("attribution_backtest", backtest_task, db_path, day)
        step("attribution", attribution_task, db_path, day)
        step("phases", phases_task, db_path, day)
        step("episodes", episodes_task, db_path, day)
        cells = step("hotspot_cells", hotspot_cells_task, db_path, day)
        # the hotspot back-test: per target group the chosen forecast and its figure
        report["hotspot_backtest"] = cells.get("backtest")
        # the prevention maps run on the task runner while the analyst bundle is
        # built (both read-only); the hotspots step's time spans both
        with worker_api():
            t_maps = time.perf_counter()
            maps_done = publish_prevention(
                db_path, str(night.bundle("prevention")), day, lang, run_name
            )
            pending = list(maps_done.futures)
            step(
                "analyst",
                publish_analyst,
                db_path,
                str(night.bundle("analyst")),
                day,
                lang,
            )
            step("hotspots", maps_done, since=t_maps)
        step("research", research_task, db_path, str(night.bundle("research")))
        report["status"] = "completed"
        report["finished_at"] = datetime.now(UTC).isoformat()
        _write_report(night.building / "run-report.json", report)
        report["published"] = step(
            "publish", commit_task, publish_dir, run_name, keep_nights
        )
    except FAILURES as exc:
        for future in pending:  # no task may still write into the abandoned folder
            future.wait()
        frames.stop_sharing()
        publish.abandon(night)
        report["status"] = "failed"
        report["failed_step"] = next(
            (s["step"] for s in report["steps"] if s["status"] == "failed"), None
        )
        report["error"] = _reason(exc)
        report["finished_at"] = datetime.now(UTC).isoformat()
        _finish(publish_dir, report, db_path)
        if _debug():
            traceback.print_exc()
        raise
    frames.stop_sharing()
    _finish(publish_dir, report, db_path)
    return report


def _reason(exc: BaseException) -> str:
    """One line for the run report: the error, or the signal that stopped the night."""
    if isinstance(exc, StepCrashedError):
        return str(exc)  # already the line of what the step died of
    if isinstance(exc, TerminationSignal):
        return f"stopped by {signal.Signals(exc.signal).name}"
    if isinstance(exc, KeyboardInterrupt):
        return f"stopped by {str(exc) or 'SIGINT'}"  # Terminated carries its signal
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _debug() -> bool:
    return bool(os.environ.get("GJENGANGER_DEBUG"))


def _write_report(path: Path, report: dict) -> None:
    publish.write_text(path, json.dumps(report, indent=2, default=str))


def _finish(publish_dir: str, report: dict, db_path: str | None = None) -> None:
    """Keep every run's report under PUBLISH_DIR/runs/, as a Prefect artifact, and
    append the run to the audit log of its database (even if the report cannot be
    written)."""
    runs = Path(publish_dir) / "runs"
    try:
        _write_report(runs / f"{report['run']}.json", report)
    finally:
        _audit(db_path, publish_dir, report)
    try:
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(
            markdown=_markdown(report),
            key="nightly-run-report",
            description="gjenganger nightly run report",
        )
    except Exception:  # noqa: BLE001 - the report file is the record; artifact is a copy
        pass


#: runs whose audit row this process has tried to write (see `_audited`)
_AUDITED: list[str | None] = []


@contextmanager
def _audited(db_path: str, publish_dir: str):
    """Make sure a night that ends in any way leaves its audit row.

    `_finish` writes the row of a night that completes or fails in its steps; a night
    that ends anywhere else (taking the run lock, starting the publication, inside
    `_finish`, or with a BaseException a step does not catch, such as a panic in a
    Rust extension) gets a `failed` row here, then the exception goes on.
    """
    tried = len(_AUDITED)
    try:
        yield
    except BaseException as exc:
        if len(_AUDITED) == tried:
            report = {"run": None, "status": "failed", "error": _reason(exc)}
            _audit(db_path, publish_dir, {**report, "steps": []})
        raise


def _audit(db_path: str | None, publish_dir: str, report: dict) -> None:
    """One audit row for the flow run: files published (sha256), counts, outcome
    (`completed`, or `failed: <step>: <error>`). A completed night whose row cannot
    be written fails (`AuditNotWrittenError`); a failing one says so on stderr and
    keeps its own error."""
    from gjenganger.store import audit

    _AUDITED.append(report["run"])
    ingest = next((s for s in report["steps"] if s["step"] == "ingest"), None)
    outcome = report["status"]
    if outcome != "completed":
        where = f"{report['failed_step']}: " if report.get("failed_step") else ""
        outcome = f"failed: {where}{report.get('error') or 'unknown error'}"
    params = {
        "run": report["run"],
        "as_of": report.get("as_of"),
        "publish_dir": publish_dir,
    }
    audit.begin(
        "flow nightly", params, None, os.environ.get("GJENGANGER_ROLE", "operator")
    )
    try:
        if report.get("published"):
            audit.wrote(report["published"])
        if ingest and ingest["status"] == "ok":
            audit.counted(
                rows_read=ingest["summary"]["rows_read"],
                rows_loaded=ingest["summary"]["rows_loaded"],
                rows_quarantined=ingest["summary"]["rows_quarantined"],
            )
    finally:
        try:
            audit.finish(db_path, outcome)
        except Exception as exc:
            if report["status"] == "completed":
                raise
            print(f"[nightly] {exc}", file=sys.stderr)


def _markdown(report: dict) -> str:
    lines = [
        f"# Nightly run {report['run']}: {report['status']}",
        "",
        "| step | status | seconds |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| {s['step']} | {s['status']} | {s['seconds']} |" for s in report["steps"]
    ]
    if report.get("error"):
        lines += ["", f"Failed: {report.get('failed_step')}: {report['error']}"]
    from gjenganger.flows.steps.phases import backtest_markdown

    for s in report["steps"]:
        if s["step"] == "phases" and (s.get("summary") or {}).get("backtest"):
            lines += ["", *backtest_markdown(s["summary"]["backtest"])]
    return "\n".join(lines)

"""The nightly Prefect flow: ingest -> analytics -> publish -> run report.

Thin orchestration only: the steps run as the tasks of `gjenganger.flows.tasks`,
the mapped ones on the runner of `gjenganger.flows.runners`; how the night ends
on record (report, audit row) is `gjenganger.flows.run_report`. One run per
database at a time; on any failure the previous publication stays whole.
"""

from __future__ import annotations

import time
import traceback
from datetime import UTC, date, datetime

from prefect import flow

from gjenganger.errors import UserError
from gjenganger.flows.run_report import (
    FAILURES,
    PASS_THROUGH,
    StepCrashedError,
    audited,
    debug,
    finish,
    reason,
    write_report,
)
from gjenganger.flows.runners import task_runner, worker_api
from gjenganger.flows.tasks import (
    attribution_task,
    backtest_task,
    commit_task,
    episodes_task,
    hotspot_cells_task,
    ingest_task,
    phases_task,
    progress,
    publish_analyst,
    publish_prevention,
    research_task,
    toplist_task,
)
from gjenganger.store import db, frames, publish, runlock


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
    leaves its audit row (`audited`)."""
    with audited(db_path, publish_dir), runlock.hold(db_path):
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
        progress(f"{name} ...")
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
                    "error": reason(exc),
                }
            )
            if not isinstance(exc, FAILURES):
                raise StepCrashedError(reason(exc)) from exc
            raise
        seconds = round(time.perf_counter() - t0, 2)
        report["steps"].append(
            {"step": name, "status": "ok", "seconds": seconds, "summary": result}
        )
        progress(f"{name} done in {seconds} s")
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
        write_report(night.building / "run-report.json", report)
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
        report["error"] = reason(exc)
        report["finished_at"] = datetime.now(UTC).isoformat()
        finish(publish_dir, report, db_path)
        if debug():
            traceback.print_exc()
        raise
    frames.stop_sharing()
    finish(publish_dir, report, db_path)
    return report

"""How a night ends on record: what fails it (`FAILURES`), its one-line reason,
the run report (a file under PUBLISH_DIR/runs/ and a Prefect artifact) and its
audit row, written however the night ends (`audited`)."""

from __future__ import annotations

import json
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

from prefect.exceptions import TerminationSignal

from gjenganger.store import publish

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


def reason(exc: BaseException) -> str:
    """One line for the run report: the error, or the signal that stopped the night."""
    if isinstance(exc, StepCrashedError):
        return str(exc)  # already the line of what the step died of
    if isinstance(exc, TerminationSignal):
        return f"stopped by {signal.Signals(exc.signal).name}"
    if isinstance(exc, KeyboardInterrupt):
        return f"stopped by {str(exc) or 'SIGINT'}"  # Terminated carries its signal
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def debug() -> bool:
    return bool(os.environ.get("GJENGANGER_DEBUG"))


def write_report(path: Path, report: dict) -> None:
    publish.write_text(path, json.dumps(report, indent=2, default=str))


def finish(publish_dir: str, report: dict, db_path: str | None = None) -> None:
    """Keep every run's report under PUBLISH_DIR/runs/, as a Prefect artifact, and
    append the run to the audit log of its database (even if the report cannot be
    written)."""
    runs = Path(publish_dir) / "runs"
    try:
        write_report(runs / f"{report['run']}.json", report)
    finally:
        _audit(db_path, publish_dir, report)
    try:
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(
            markdown=markdown(report),
            key="nightly-run-report",
            description="gjenganger nightly run report",
        )
    except Exception:  # noqa: BLE001 - the report file is the record; artifact is a copy
        pass


#: runs whose audit row this process has tried to write (see `audited`)
_AUDITED: list[str | None] = []


@contextmanager
def audited(db_path: str, publish_dir: str):
    """Make sure a night that ends in any way leaves its audit row.

    `finish` writes the row of a night that completes or fails in its steps; a night
    that ends anywhere else (taking the run lock, starting the publication, inside
    `finish`, or with a BaseException a step does not catch, such as a panic in a
    Rust extension) gets a `failed` row here, then the exception goes on.
    """
    tried = len(_AUDITED)
    try:
        yield
    except BaseException as exc:
        if len(_AUDITED) == tried:
            report = {"run": None, "status": "failed", "error": reason(exc)}
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


def markdown(report: dict) -> str:
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

"""kill -9 of a real nightly process mid-derivation and mid-publish loses nothing."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from gjenganger.store import publish

# whole nights / real processes: out of the quick loop (`-m 'not slow'`)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    from gjenganger.synth.config import SynthConfig
    from gjenganger.synth.generator import generate

    root = tmp_path_factory.mktemp("crash")
    generate(
        SynthConfig(
            seed=9, start=dt.date(2025, 6, 1), days=60, scale=0.08, batch_days=20
        ),
        root / "data",
    )
    batches = sorted((root / "data" / "inbox").iterdir())
    (root / "inbox").mkdir()
    for b in batches[:-1]:
        shutil.copytree(b, root / "inbox" / b.name)
    args = [
        "--inbox",
        str(root / "inbox"),
        "--db",
        str(root / "db.duckdb"),
        "--publish",
        str(root / "pub"),
    ]
    return root, batches[-1], args


def _nightly(args, pause: str | None = None):
    env = {**os.environ}
    if pause:
        env["GJENGANGER_FAULT_PAUSE"] = pause
    # its own process group: the kill takes the run's local Prefect server with it,
    # as a power cut would (killing the flow process alone would orphan the server)
    return subprocess.Popen(
        [sys.executable, "-m", "gjenganger", "nightly", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _kill_at(proc, point: str) -> None:
    deadline = time.time() + 240
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        if f"fault-point {point}" in line:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
            return
    raise AssertionError(f"never reached fault point {point}")


def _phase_rows(root):
    con = duckdb.connect(str(root / "db.duckdb"), read_only=True)
    try:
        return {
            t: con.execute(f"select count(*), sum(hash(x)) from {t} x").fetchone()
            for t in ("person_days", "use_periods")
        }
    finally:
        con.close()


def test_kill_during_derivation_and_during_publish_then_the_next_run_completes(night):
    root, last_batch, args = night
    first = _nightly(args)
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-2000:]
    published = (root / "pub" / "latest").resolve()
    digests = publish.file_digests(published)
    phases_before = _phase_rows(root)

    # a new night arrives; the process is killed inside the phases step's transaction
    shutil.copytree(last_batch, root / "inbox" / last_batch.name)
    _kill_at(_nightly(args, pause="step:phases"), "step:phases")
    assert _phase_rows(root) == phases_before
    assert (root / "pub" / "latest").resolve() == published
    assert publish.file_digests(published) == digests

    # next run is killed just before the publication is moved into place
    _kill_at(_nightly(args, pause="publish:commit"), "publish:commit")
    assert (root / "pub" / "latest").resolve() == published
    assert publish.file_digests(published) == digests

    last = _nightly(args)
    _, err = last.communicate(timeout=600)
    assert last.returncode == 0, err[-2000:]
    assert (root / "pub" / "latest").resolve() != published
    assert _phase_rows(root) != phases_before
    assert not list((root / "pub").glob(".building-*"))


def test_sigterm_fails_the_night_cleanly_and_stops_its_prefect_server(tmp_path):
    """`kill PID` (SIGTERM to the flow process alone, as `kill` or a supervisor
    sends it): the night is reported failed at its step, its half-built bundles
    are dropped, exit 143, and its temporary Prefect server stops with it (it was
    left running without a parent)."""
    import json

    import psutil

    from gjenganger.synth.config import SynthConfig
    from gjenganger.synth.generator import generate

    generate(
        SynthConfig(
            seed=5, start=dt.date(2025, 6, 1), days=40, scale=0.05, batch_days=20
        ),
        tmp_path / "data",
    )
    args = [
        "--inbox",
        str(tmp_path / "data" / "inbox"),
        "--db",
        str(tmp_path / "db.duckdb"),
        "--publish",
        str(tmp_path / "pub"),
    ]
    proc = _nightly(args, pause="step:phases")
    servers: list[psutil.Process] = []
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            if "fault-point step:phases" in line:
                servers = [
                    c
                    for c in psutil.Process(proc.pid).children(recursive=True)
                    if "create_app" in " ".join(c.cmdline())
                ]
                proc.send_signal(signal.SIGTERM)
                break
        proc.wait(120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
    _, alive = psutil.wait_procs(servers, timeout=10)
    for leftover in alive:  # it would also hold the stderr pipe open
        leftover.kill()
    rest = proc.stderr.read()
    assert len(servers) == 1
    assert alive == [], "the night's Prefect server outlived it"
    assert proc.returncode == 143, rest[-2000:]
    assert rest.strip().splitlines()[-1] == "gjenganger: stopped by SIGTERM"
    report = json.loads(next((tmp_path / "pub" / "runs").glob("*.json")).read_text())
    assert report["status"] == "failed" and report["failed_step"] == "phases"
    assert report["error"] == "stopped by SIGTERM"
    assert not list((tmp_path / "pub").glob(".building-*"))
    assert not (tmp_path / "pub" / "latest").exists()


def test_the_run_report_names_the_signal_that_stopped_a_night():
    from prefect.exceptions import TerminationSignal

    from gjenganger.errors import Terminated
    from gjenganger.flows.run_report import reason

    assert reason(TerminationSignal(signal.SIGTERM)) == "stopped by SIGTERM"
    assert reason(Terminated("SIGTERM")) == "stopped by SIGTERM"
    assert reason(KeyboardInterrupt()) == "stopped by SIGINT"
    assert reason(ValueError("bad value\nmore")) == "ValueError: bad value"

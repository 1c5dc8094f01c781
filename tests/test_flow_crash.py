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

from gjenganger import publish


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    from gjenganger.synth.config import SynthConfig
    from gjenganger.synth.generator import generate

    root = tmp_path_factory.mktemp("crash")
    generate(SynthConfig(seed=9, start=dt.date(2025, 6, 1), days=60, scale=0.08,
                         batch_days=20), root / "data")  # fmt: skip
    batches = sorted((root / "data" / "inbox").iterdir())
    (root / "inbox").mkdir()
    for b in batches[:-1]:
        shutil.copytree(b, root / "inbox" / b.name)
    args = ["--inbox", str(root / "inbox"), "--db", str(root / "db.duckdb"),
            "--publish", str(root / "pub")]  # fmt: skip
    return root, batches[-1], args


def _nightly(args, pause: str | None = None):
    env = {**os.environ}
    if pause:
        env["GJENGANGER_FAULT_PAUSE"] = pause
    # its own process group: the kill takes the run's local Prefect server with it,
    # as a power cut would (killing the flow process alone would orphan the server)
    return subprocess.Popen([sys.executable, "-m", "gjenganger", "nightly", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip


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
        return {t: con.execute(f"select count(*), sum(hash(x)) from {t} x").fetchone()
                for t in ("person_days", "use_periods")}  # fmt: skip
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

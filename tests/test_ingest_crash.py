"""A real process killed with SIGKILL mid-load leaves the database as before."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from batchkit import incident, link, write_batch

from gjenganger.store import db


def _snapshot(path) -> dict:
    con = db.connect(path)
    try:
        return {
            t: con.execute(f"select count(*) from {t}").fetchone()[0]
            for t in (
                "incidents",
                "stg_incidents",
                "incident_persons",
                "quarantine",
                "ingest_batches",
            )
        }
    finally:
        con.close()


def _cli(*args, env=None, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "gjenganger", *args],
        env={**os.environ, **(env or {})},
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        **kw,
    )


@pytest.mark.slow
def test_kill_during_a_batch_load_leaves_the_database_as_before_and_next_run_loads_it(
    tmp_path,
):
    inbox, path = tmp_path / "inbox", tmp_path / "db.duckdb"
    first = incident(
        0,
        reported_at="2026-11-19T07:30:00+01:00",
        updated_at="2026-11-19T08:00:00+01:00",
        occurred_from="2026-11-19T01:00:00+01:00",
        occurred_to="2026-11-19T06:00:00+01:00",
    )
    write_batch(
        inbox,
        "2026-11-19",
        {"incidents": [first]},
        exported_at="2026-11-20T01:30:00+01:00",
    )
    assert _cli("ingest", str(inbox), "--db", str(path)).wait(60) == 0
    before = _snapshot(path)
    assert before["incidents"] == 1
    write_batch(
        inbox,
        "2026-11-20",
        {
            "incidents": [incident(i) for i in range(1, 200)],
            "incident_persons": [link("INC-1")],
        },
    )
    proc = _cli(
        "ingest",
        str(inbox),
        "--db",
        str(path),
        env={"GJENGANGER_FAULT_PAUSE": "ingest:incidents"},
    )
    deadline = time.time() + 60
    line = ""
    while time.time() < deadline and "fault-point" not in line:
        line = proc.stderr.readline()
    assert (
        "fault-point ingest:incidents" in line
    )  # incidents written inside the transaction
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert _snapshot(path) == before
    done = _cli("ingest", str(inbox), "--db", str(path), "--json")
    out, err = done.communicate(timeout=60)
    assert done.returncode == 0, err
    statuses = {b["batch_id"]: b["status"] for b in json.loads(out)["batches"]}
    assert statuses == {"2026-11-19": "skipped", "2026-11-20": "loaded"}
    assert _snapshot(path)["incidents"] == 200

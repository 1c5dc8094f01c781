"""Issue #17: long commands show progress as step lines on stderr, while stdout
stays the result (`--json` parses); `--quiet` silences the steps."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys

import pytest

STEP = re.compile(r"^\[(\w+)\]\s+\d+\.\d s  \S")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small generated world, ingested: (database, home for the audit log)."""
    from gjenganger.flows.steps.ingest import ingest
    from gjenganger.store import db
    from gjenganger.synth.config import SynthConfig
    from gjenganger.synth.generator import generate

    root = tmp_path_factory.mktemp("progress")
    cfg = SynthConfig(
        seed=4, start=dt.date(2025, 1, 6), days=90, scale=0.15, batch_days=90
    )
    generate(cfg, root / "data")
    con = db.connect(root / "g.duckdb")
    try:
        ingest(con, root / "data" / "inbox")
    finally:
        con.close()
    return root / "g.duckdb", root / "home"


def _cli(home, *args):
    env = {**os.environ, "GJENGANGER_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "gjenganger", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def _steps(stderr: str, command: str) -> list[str]:
    lines = stderr.strip().splitlines()
    assert lines, "no progress at all"
    assert all(STEP.match(ln) for ln in lines), stderr  # nothing but step lines
    assert {STEP.match(ln).group(1) for ln in lines} == {command}
    return lines


def test_attribute_tells_its_stages_on_stderr_and_prints_only_json(world):
    path, home = world
    r = _cli(home, "attribute", "--db", str(path), "--json")
    assert r.returncode == 0, r.stderr
    records = json.loads(r.stdout)
    assert records and "candidates" in records[0]
    lines = _steps(r.stderr, "attribute")
    text = "\n".join(lines)
    assert len(lines) >= 4
    assert "ranking model trained" in text
    assert re.search(r"scored [\d,]+ of [\d,]+ open cases", text)  # a fraction
    assert lines[-1].endswith(f"done: {len(records):,} open cases ranked")


def test_phases_tells_its_steps_and_quiet_silences_them(world):
    path, home = world
    r = _cli(home, "phases", "--db", str(path), "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert rows and {"person_id", "date", "phase", "p"} <= set(rows[0])
    lines = _steps(r.stderr, "phases")
    assert any(re.search(r"fitted \d+ persons, \d+ reported", ln) for ln in lines)
    assert lines[-1].endswith("done")
    quiet = _cli(home, "--quiet", "phases", "--db", str(path), "--json", "--no-write")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert json.loads(quiet.stdout) == rows

"""The nightly flow gives the same tables and pages on the Dask runner as locally."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import duckdb
import pytest

from gjenganger.store import publish

# whole nights / real processes: out of the quick loop (`-m 'not slow'`)
pytestmark = pytest.mark.slow

TABLES = (
    "toplist",
    "attribution_candidates",
    "person_days",
    "use_periods",
    "current_phase",
    "episodes",
    "hotspot_cells",
    "hotspot_target_cells",
    "hotspot_weekly",
    "hotspot_run",
)
# run-specific text: generation time stamps, the run folder's name, and Folium's
# random element ids (a fresh uuid per element on every render)
STAMP = re.compile(
    rb"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?|\d\d\.\d\d\.\d{4},? \d\d:\d\d(:\d\d)?"
    rb"|\d{8}T\d{6}\d*Z|_[a-p]{32}\b|[0-9a-f]{32}"
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, prefect_harness):  # noqa: ARG001 - needs the Prefect server
    from gjenganger.flows.nightly import nightly_with
    from gjenganger.synth.config import SynthConfig
    from gjenganger.synth.generator import generate

    root = tmp_path_factory.mktemp("runners")
    cfg = SynthConfig(
        seed=11, start=dt.date(2025, 3, 1), days=90, scale=0.1, batch_days=30
    )
    generate(cfg, root / "data")
    out = {}
    for runner in ("local", "dask"):
        folder = root / runner
        report = nightly_with(runner)(
            str(root / "data" / "inbox"),
            str(folder / "db.duckdb"),
            str(folder / "publish"),
            as_of=dt.date(2025, 5, 29),
        )
        out[runner] = (folder, report)
    return out


def _rows(db: Path, table: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = [r[0] for r in con.execute(f"describe {table}").fetchall()]
        drop = {"created_at", "computed_at", "run_at"}
        keep = ", ".join(f'"{c}"' for c in cols if c not in drop)
        rows = con.execute(f"select {keep} from {table} order by all").fetchall()
    finally:
        con.close()
    return [tuple(_float(v) for v in r) for r in rows]


def _float(v):
    """Floats to 9 significant digits (BLAS may sum in another order in another
    process); NaN, which never equals itself, as a marker."""
    if not isinstance(v, float):
        return v
    return "NaN" if math.isnan(v) else float(f"{v:.9g}")


def test_both_runners_complete_and_map_per_person_and_per_group(runs):
    for _runner, (_folder, report) in runs.items():
        assert report["status"] == "completed"
        steps = {s["step"]: s for s in report["steps"]}
        assert len(steps["hotspots"]["summary"]["maps"]) == 6  # all + 5 target groups
        assert steps["analyst"]["summary"]["timelines"] >= 5


def test_the_tables_are_the_same_on_both_runners(runs):
    (a, _), (b, _) = runs["local"], runs["dask"]
    for table in TABLES:
        rows = _rows(a / "db.duckdb", table)
        assert rows, table
        assert rows == _rows(b / "db.duckdb", table), table


def test_the_published_pages_are_the_same_on_both_runners(runs):
    (a, _), (b, _) = runs["local"], runs["dask"]
    la, lb = publish.latest(a / "publish"), publish.latest(b / "publish")
    for bundle in ("analyst", "prevention"):
        files_a = sorted(
            p.relative_to(la) for p in (la / bundle).rglob("*") if p.is_file()
        )
        files_b = sorted(
            p.relative_to(lb) for p in (lb / bundle).rglob("*") if p.is_file()
        )
        assert files_a == files_b
        assert len(files_a) > 5
        for rel in files_a:
            assert STAMP.sub(b"", (la / rel).read_bytes()) == STAMP.sub(
                b"", (lb / rel).read_bytes()
            ), rel


def test_a_dask_night_in_ephemeral_mode_starts_one_prefect_server(tmp_path):
    """`gjenganger nightly --runner dask` with no PREFECT_API_URL: the local
    cluster's workers report to the flow's temporary Prefect server instead of each
    starting one of its own (three servers on one SQLite file, seconds lost)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    from gjenganger.synth.config import SynthConfig
    from gjenganger.synth.generator import generate

    generate(
        SynthConfig(
            seed=4, start=dt.date(2025, 6, 1), days=40, scale=0.05, batch_days=20
        ),
        tmp_path / "data",
    )
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["GJENGANGER_HOME"] = str(tmp_path / "home")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gjenganger",
            "nightly",
            "--runner",
            "dask",
            "--inbox",
            str(tmp_path / "data" / "inbox"),
            "--db",
            str(tmp_path / "db.duckdb"),
            "--publish",
            str(tmp_path / "pub"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    servers: set[int] = set()
    try:
        root = psutil.Process(proc.pid)
        deadline = time.time() + 600
        while proc.poll() is None and time.time() < deadline:
            try:
                for child in root.children(recursive=True):
                    try:
                        if "prefect.server.api.server:create_app" in " ".join(
                            child.cmdline()
                        ):
                            servers.add(child.pid)
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            time.sleep(0.1)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
    assert proc.returncode == 0, err[-2000:]
    assert len(servers) == 1, f"{len(servers)} Prefect servers started"
    report = publish.latest(tmp_path / "pub") / "run-report.json"
    assert report.is_file()

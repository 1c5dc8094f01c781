"""The nightly Prefect flow end to end on a small generated data set."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest

from gjenganger.store import publish

# whole nights / real processes: out of the quick loop (`-m 'not slow'`)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A small generated inbox split in two: the first nights, then one more batch."""
    from gjenganger.synth.config import SynthConfig
    from gjenganger.synth.generator import generate

    root = tmp_path_factory.mktemp("flow")
    cfg = SynthConfig(
        seed=5, start=dt.date(2025, 9, 1), days=60, scale=0.1, batch_days=20
    )
    generate(cfg, root / "data")
    batches = sorted((root / "data" / "inbox").iterdir())
    first = root / "inbox"
    first.mkdir()
    for b in batches[:-1]:
        shutil.copytree(b, first / b.name)
    _batch_full_of_identity_numbers(first)
    return {"root": root, "inbox": first, "last_batch": batches[-1]}


def valid_fnrs(n: int, seed: int = 1) -> list[str]:
    """n identity numbers with valid mod-11 check digits (synthetic, random)."""
    import random

    from gjenganger.data_schema.validation import FNR_WEIGHTS_1, FNR_WEIGHTS_2

    rng, out = random.Random(seed), []
    while len(out) < n:
        d = [rng.randrange(10) for _ in range(9)]
        for w in (FNR_WEIGHTS_1, FNR_WEIGHTS_2):
            k = (11 - sum(a * b for a, b in zip(w, d, strict=False)) % 11) % 11
            d.append(k)
        if 10 not in d[9:]:
            out.append("".join(map(str, d)))
    return out


def _batch_full_of_identity_numbers(inbox: Path) -> None:
    from batchkit import incident, link, write_batch

    ids = valid_fnrs(40)
    day = "2025-10-10"
    base = {
        "reported_at": f"{day}T07:30:00+02:00",
        "updated_at": f"{day}T08:00:00+02:00",
        "occurred_from": f"{day}T01:00:00+02:00",
        "occurred_to": f"{day}T06:00:00+02:00",
    }
    rows, links = [], []
    columns = [
        "entry_method",
        "municipality_no",
        "participants",
        "value_nok",
        "status",
        "incident_id",
        "note",
    ]
    for i, fnr in enumerate(ids[:28]):
        col = columns[i % len(columns)]
        row = incident(f"fnr-{i}", **base)
        row[col] = f"INC{fnr}" if col == "incident_id" else fnr
        rows.append(row)
    rows.append(incident("fnr-clean", **base))
    for i, fnr in enumerate(ids[28:]):
        links.append(
            link(
                "INC-fnr-clean",
                person_id=f"P{fnr}" if i % 2 else fnr,
                updated_at=f"{day}T09:00:00+02:00",
            )
        )
    write_batch(
        inbox,
        "2025-10-10-ekstra",
        {"incidents": rows, "incident_persons": links},
        exported_at="2025-10-11T01:30:00+02:00",
        extra_columns={"incidents": ["note"]},
    )


@pytest.fixture(scope="module")
def first_night(data, prefect_harness):  # noqa: ARG001 - needs the Prefect server
    from gjenganger.flows.nightly import nightly

    root = data["root"]
    report = nightly(str(data["inbox"]), str(root / "db.duckdb"), str(root / "publish"))
    return report


def test_the_flow_runs_every_step_and_publishes_three_bundles(first_night, data):
    assert first_night["status"] == "completed"
    steps = [s["step"] for s in first_night["steps"]]
    assert steps == [
        "ingest",
        "toplist",
        "attribution_backtest",
        "attribution",
        "phases",
        "episodes",
        "hotspot_cells",
        "analyst",
        "hotspots",
        "research",
        "publish",
    ]
    latest = publish.latest(data["root"] / "publish")
    assert (latest / "analyst" / "index.html").is_file()
    assert (latest / "analyst" / "backtest.html").is_file()
    index = (latest / "analyst" / "index.html").read_text("utf-8")
    for page in ("backtest.html", "phase_backtest.html"):
        assert f'href="{page}"' in index
    phase_page = (latest / "analyst" / "phase_backtest.html").read_text("utf-8")
    assert "custody" in phase_page.lower() or "varetekt" in phase_page.lower()
    assert (latest / "prevention" / "hotspots" / "index.html").is_file()
    assert (latest / "research" / "gjenganger.duckdb").is_file()
    snap = duckdb.connect(
        str(latest / "research" / "gjenganger.duckdb"), read_only=True
    )
    tables = {r[0] for r in snap.execute("select table_name from about").fetchall()}
    snap.close()
    assert tables >= {
        "cases",
        "case_persons",
        "person_days",
        "use_periods",
        "hotspot_cells",
        "episodes",
    }
    assert {p.stem for p in (latest / "research" / "parquet").iterdir()} == tables | {
        "about"
    }
    report = json.loads((latest / "run-report.json").read_text())
    assert report["steps"][0]["summary"]["rows_read"] == (
        report["steps"][0]["summary"]["rows_loaded"]
        + report["steps"][0]["summary"]["rows_quarantined"]
    )


def _table_text(con, table: str) -> str:
    """A table's values as text; a float counts by its whole part (its binary
    fraction, e.g. 0.72998046875, can spell 11 digits that pass the check)."""
    import math

    def cell(v) -> str:
        if isinstance(v, float):
            return str(math.trunc(v)) if math.isfinite(v) else ""
        return str(v)

    rows = con.execute(f"select * from {table}").fetchall()
    return "\n".join("\t".join(cell(v) for v in r) for r in rows)


def _fnr_runs(text: str) -> list[str]:
    import re

    from gjenganger.data_schema.validation import fnr_is_valid

    # hex digests and ids of 32+ digits are random noise, not identities: Folium's
    # uuid4 element names (div_icon_f75345725571ffe5...) and the keyed sha256 of a
    # held-back identity number (quarantine.identity_hash; one spelled 26402527438)
    text = re.sub(r"(?<![0-9A-Za-z])[0-9a-f]{32,}(?![0-9A-Za-z])", " ", text)

    runs = re.findall(r"(?<![0-9])([0-9]{6})[ .-]?([0-9]{5})(?![0-9])", text)
    return [a + b for a, b in runs if fnr_is_valid(a + b)]


def test_identity_scan_finds_numbers_but_not_digests():
    """The leak scan itself: a number alone, after a letter, an underscore or inside
    JSON is found; one inside a random hex digest or uuid is not."""
    import hashlib

    fnr = valid_fnrs(1, seed=5)[0]
    for text in (
        fnr,
        f"INC{fnr}",
        f"P{fnr}",
        f"id_{fnr}",
        f'{{"fnr": "{fnr[:6]} {fnr[6:]}"}}',
    ):
        assert _fnr_runs(text) == [fnr], text
    digest = hashlib.sha256(b"x").hexdigest()[:20] + fnr + "ab" * 16
    assert _fnr_runs(f"{digest}\tdiv_icon_{'c' * 5}{fnr}{'d' * 16}") == []


@pytest.mark.usefixtures("first_night")
def test_no_identity_number_reaches_any_table_or_published_file(data):
    from gjenganger.store import db

    con = db.connect(data["root"] / "db.duckdb", read_only=True)
    try:
        q = con.execute(
            "select sum(count_quarantined) from ingest_batches"
            " where batch_id = '2025-10-10-ekstra'"
        ).fetchone()[0]
        assert q == 40  # every row holding one was held back
        found = {}
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables"
                " where table_schema = 'main' and table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        for t in tables:
            text = _table_text(con, t)
            if hits := _fnr_runs(text):
                found[t] = hits[:3]
    finally:
        con.close()
    assert found == {}
    published = data["root"] / "publish"
    leaks = [
        str(p)
        for p in published.rglob("*")
        if p.is_file()
        and p.suffix != ".duckdb"
        and _fnr_runs(p.read_bytes().decode("utf-8", "replace"))
    ]
    snap = duckdb.connect(
        str(publish.latest(published) / "research" / "gjenganger.duckdb"),
        read_only=True,
    )
    for (t,) in snap.execute(
        "select table_name from information_schema.tables"
    ).fetchall():
        if _fnr_runs(_table_text(snap, t)):
            leaks.append(f"research:{t}")
    snap.close()
    assert leaks == []


@pytest.mark.usefixtures("first_night")
def test_the_research_bundle_holds_no_operational_pseudonym(data):
    con = duckdb.connect(str(data["root"] / "db.duckdb"), read_only=True)
    persons = {
        r[0] for r in con.execute("select person_id from incident_persons").fetchall()
    }
    cases = {r[0] for r in con.execute("select incident_id from incidents").fetchall()}
    con.close()
    latest = publish.latest(data["root"] / "publish")
    blob = b"".join(
        p.read_bytes() for p in (latest / "research").rglob("*") if p.is_file()
    )
    assert persons and cases
    leaked = [x for x in sorted(persons | cases) if x.encode() in blob]
    assert leaked == []


@pytest.mark.usefixtures("first_night")
def test_prefect_keeps_no_pseudonym_in_its_database(data):
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    url = PREFECT_API_DATABASE_CONNECTION_URL.value()
    path = url.split("///", 1)[1]
    con = duckdb.connect(str(data["root"] / "db.duckdb"), read_only=True)
    persons = [
        r[0]
        for r in con.execute(
            "select distinct person_id from incident_persons"
        ).fetchall()
    ]
    con.close()
    lite = sqlite3.connect(path)
    text = "\n".join(
        str(row)
        for (table,) in lite.execute(
            "select name from sqlite_master where type='table'"
        )
        for row in lite.execute(f'select * from "{table}"')
    )
    lite.close()
    assert "gjenganger-nightly" in text  # the flow ran against this database
    assert [p for p in persons if p in text] == []


@pytest.mark.usefixtures("first_night")
def test_a_failed_step_leaves_the_previous_publication_whole_and_the_next_run_completes(
    data, monkeypatch
):
    from gjenganger.flows.nightly import nightly
    from gjenganger.flows.steps import phases

    root = data["root"]
    before_target = (root / "publish" / "latest").resolve()
    before = publish.file_digests(before_target)
    shutil.copytree(data["last_batch"], data["inbox"] / data["last_batch"].name)

    def broken(*_a, **_k):
        raise RuntimeError("phase model exploded on purpose")

    monkeypatch.setattr(phases, "build_phases", broken)
    with pytest.raises(RuntimeError):
        nightly(str(data["inbox"]), str(root / "db.duckdb"), str(root / "publish"))
    assert (root / "publish" / "latest").resolve() == before_target
    assert publish.file_digests(before_target) == before
    reports = sorted((root / "publish" / "runs").glob("*.json"))
    failed = json.loads(reports[-1].read_text())
    assert failed["status"] == "failed" and failed["failed_step"] == "phases"
    assert not list((root / "publish").glob(".building-*"))

    monkeypatch.undo()
    # a reader holds last night's research snapshot open while tonight's is published
    old_snapshot = before_target / "research" / "gjenganger.duckdb"
    reader = duckdb.connect(str(old_snapshot), read_only=True)
    n_before = reader.execute("select count(*) from cases").fetchone()[0]
    report = nightly(str(data["inbox"]), str(root / "db.duckdb"), str(root / "publish"))
    assert report["status"] == "completed"
    assert reader.execute("select count(*) from cases").fetchone()[0] == n_before
    reader.close()
    new_snapshot = publish.latest(root / "publish") / "research" / "gjenganger.duckdb"
    assert new_snapshot != old_snapshot
    fresh = duckdb.connect(str(new_snapshot), read_only=True)
    assert fresh.execute("select count(*) from cases").fetchone()[0] > n_before
    fresh.close()
    # the failed run had already ingested the new batch and finished the steps
    # before phases: the rerun resumes them by input hash instead of recomputing
    steps = {s["step"]: s.get("summary", {}) for s in report["steps"]}
    assert steps["ingest"]["batches"].get("loaded", 0) == 0
    assert steps["toplist"].get("resumed") and steps["attribution"].get("resumed")
    assert not steps["phases"].get("resumed")


def test_only_the_last_nights_are_kept(tmp_path):
    for i in range(4):
        night = publish.start(tmp_path, f"run{i}")
        (night.bundle("analyst") / "x.txt").write_text(str(i))
        publish.commit(night, keep=2)
    assert sorted(p.name for p in (tmp_path / "nights").iterdir()) == ["run2", "run3"]
    assert Path(publish.latest(tmp_path)).name == "run3"


@pytest.mark.usefixtures("first_night")
def test_after_a_purge_the_next_publication_no_longer_holds_the_purged_cases(data):
    from gjenganger.flows.nightly import nightly
    from gjenganger.store import db
    from gjenganger.store.retention import purge

    root = data["root"]
    con = db.connect(root / "db.duckdb")
    cutoff_day = con.execute(
        "select min(reported_at)::date + 20 from mart_incidents"
    ).fetchone()[0]
    doomed = {
        r[0]
        for r in con.execute(
            "select incident_id from mart_incidents where reported_at::date < ?",
            [cutoff_day],
        ).fetchall()
    }
    deleted = purge(con, 1, cutoff_day + dt.timedelta(days=1))
    left = con.execute("select count(*) from incidents").fetchone()[0]
    con.close()
    assert doomed and deleted["incidents"] == len(doomed)
    report = nightly(str(data["inbox"]), str(root / "db.duckdb"), str(root / "publish"))
    assert report["status"] == "completed"
    latest = publish.latest(root / "publish")
    snap = duckdb.connect(
        str(latest / "research" / "gjenganger.duckdb"), read_only=True
    )
    assert snap.execute("select count(*) from cases").fetchone()[0] == left
    # the snapshot holds weeks or months, not days: no case of a week (or month)
    # wholly before the cutoff's is left
    assert (
        snap.execute(
            "select count(*) from cases where reported_week < date_trunc('week', ?)"
            " or reported_month < date_trunc('month', ?)",
            [cutoff_day, cutoff_day],
        ).fetchone()[0]
        == 0
    )
    snap.close()
    text = b"".join(p.read_bytes() for p in latest.rglob("*.html"))
    text += b"".join(p.read_bytes() for p in latest.rglob("*.csv"))
    assert [i for i in sorted(doomed) if i.encode() in text] == []


@pytest.mark.usefixtures("first_night")
def test_the_top_list_shows_each_persons_current_phase(data):
    import subprocess
    import sys

    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "gjenganger",
            "toplist",
            "--db",
            str(data["root"] / "db.duckdb"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert rows
    with_phase = [x for x in rows if x.get("phase_now")]
    assert with_phase and all(0 <= x["phase_p"] <= 1 for x in with_phase)
    assert {x["phase_now"] for x in with_phase} <= {
        "rest",
        "phase1",
        "phase2",
        "phase3",
        "inactive",
    }

"""Retention deletes everything past the cutoff; research queries are read-only and
logged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import duckdb
from batchkit import incident, link, write_batch

from gjenganger.flows.steps.ingest import ingest
from gjenganger.flows.steps.research import build_snapshot
from gjenganger.store import audit, db
from gjenganger.store.retention import purge


def _old_and_new(con, tmp_path):
    inbox = tmp_path / "inbox"
    old = incident(
        "old",
        reported_at="2024-01-10T07:30:00+01:00",
        updated_at="2024-01-10T08:00:00+01:00",
        occurred_from="2024-01-09T22:00:00+01:00",
        occurred_to="2024-01-10T06:00:00+01:00",
    )
    write_batch(
        inbox,
        "2024-01-10",
        {
            "incidents": [old, incident("bad", value_nok="-1")],
            "incident_persons": [
                link("INC-old", updated_at="2024-01-10T09:00:00+01:00")
            ],
        },
        exported_at="2024-01-11T01:30:00+01:00",
    )
    write_batch(
        inbox,
        "2026-11-20",
        {"incidents": [incident("new")], "incident_persons": [link("INC-new")]},
    )
    ingest(con, inbox)
    con.execute(
        "create or replace table attribution_candidates as select"
        " 'INC-old' as incident_id, 'Pabcdefghij' as person_id, 0.7 as p"
    )


def test_purge_removes_old_cases_their_links_and_derived_rows_in_one_go(con, tmp_path):
    _old_and_new(con, tmp_path)
    con.execute(
        "update quarantine set quarantined_at = timestamptz '2024-01-11 00:00:00+01'"
    )
    deleted = purge(con, 365, date(2026, 11, 26))
    assert deleted["incidents"] == 1 and deleted["stg_incidents"] == 1
    assert deleted["attribution_candidates"] == 1 and deleted["quarantine"] == 1
    ids = {
        r[0]
        for t in (
            "incidents",
            "stg_incidents",
            "incident_persons",
            "stg_incident_persons",
        )
        for r in con.execute(f"select incident_id from {t}").fetchall()
    }
    assert ids == {"INC-new"}


def test_the_research_snapshot_holds_no_operational_pseudonym(con, tmp_path):
    _old_and_new(con, tmp_path)
    out = tmp_path / "research"
    summary = build_snapshot(con, out, b"r" * 32)
    assert summary["rows"]["cases"] == 2 and summary["rows"]["case_persons"] == 2
    blob = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    for secret in (b"Pabcdefghij", b"INC-old", b"INC-new"):
        assert secret not in blob


def test_query_runs_read_only_and_logs_user_purpose_and_sql(con, tmp_path, monkeypatch):
    _old_and_new(con, tmp_path)
    build_snapshot(con, tmp_path / "research", b"r" * 32)
    snap = tmp_path / "research" / "gjenganger.duckdb"
    env = {**os.environ, "GJENGANGER_HOME": str(tmp_path / "home")}
    cmd = [
        sys.executable,
        "-m",
        "gjenganger",
        "--user",
        "forsker1",
        "--role",
        "researcher",
        "query",
        "--purpose",
        "NTNU study 7",
        "--snapshot",
        str(snap),
        "--json",
    ]
    r = subprocess.run(
        [*cmd, "select count(*) as n from cases"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [{"n": 2}]
    w = subprocess.run(
        [*cmd, "delete from cases"], capture_output=True, text=True, env=env, timeout=60
    )
    # a write is refused before it runs (one SELECT per call), and audited
    assert w.returncode == 2 and "refused: DELETE" in w.stderr
    log = db.connect(tmp_path / "home" / "audit.duckdb", migrate=False)
    rows = log.execute(
        "select user_name, role, params_json from audit_log order by seq"
    ).fetchall()
    monkeypatch.setenv("GJENGANGER_HOME", str(tmp_path / "home"))  # its audit key
    assert audit.verify(log, tmp_path / "home" / "audit.duckdb") == []
    log.close()
    assert [(u, r_) for u, r_, _ in rows] == [("forsker1", "researcher")] * 2
    params = json.loads(rows[0][2])
    assert (
        params["purpose"] == "NTNU study 7"
        and params["sql"] == "select count(*) as n from cases"
    )


def test_the_research_documentation_matches_the_snapshot_definition():
    from gjenganger.flows.steps.research import DOC, render_doc

    assert DOC.read_text(encoding="utf-8") == render_doc()


def test_the_documented_example_queries_run_on_a_snapshot(con, tmp_path):
    from gjenganger.flows.steps.research import EXAMPLES

    _old_and_new(con, tmp_path)
    build_snapshot(con, tmp_path / "r", b"r" * 32)
    snap = duckdb.connect(str(tmp_path / "r" / "gjenganger.duckdb"), read_only=True)
    tables = {
        r[0]
        for r in snap.execute(
            "select table_name from information_schema.tables"
        ).fetchall()
    }
    ran = 0
    for _, sql in EXAMPLES:
        if all(
            t in tables or t not in sql
            for t in ("person_days", "use_periods", "episodes")
        ):
            snap.execute(sql).fetchall()
            ran += 1
    snap.close()
    assert ran >= 2


def test_interactive_query_logs_every_statement_with_its_sql(con, tmp_path):
    _old_and_new(con, tmp_path)
    build_snapshot(con, tmp_path / "research", b"r" * 32)
    snap = tmp_path / "research" / "gjenganger.duckdb"
    env = {**os.environ, "GJENGANGER_HOME": str(tmp_path / "home")}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "gjenganger",
            "--user",
            "forsker2",
            "query",
            "--purpose",
            "pilot study of case counts",
            "--snapshot",
            str(snap),
        ],
        input="select count(*) from cases\nselect 42\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "42" in r.stdout
    log = db.connect(tmp_path / "home" / "audit.duckdb", migrate=False)
    sqls = [
        json.loads(p).get("sql")
        for (p,) in log.execute(
            "select params_json from audit_log order by seq"
        ).fetchall()
    ]
    log.close()
    assert sqls[:2] == ["select count(*) from cases", "select 42"]

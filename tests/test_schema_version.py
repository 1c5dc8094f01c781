"""The schema version: new databases get it, older ones are migrated, newer ones
refused in one line; every table the pipeline writes is declared under sql/."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from gjenganger.cli import main
from gjenganger.errors import UserError
from gjenganger.sql import runner
from gjenganger.sql.runner import SCHEMA_VERSION
from gjenganger.store import db


def _versions(path) -> list[tuple[int, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "select version, note from schema_version order by applied_at"
        ).fetchall()
    finally:
        con.close()


def _tables(con) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables"
        " where table_schema = 'main' and table_type = 'BASE TABLE'"
    ).fetchall()
    return {r[0] for r in rows}


def test_a_new_database_gets_the_current_version_once(tmp_path):
    path = tmp_path / "new.duckdb"
    db.connect(path).close()
    db.connect(path).close()  # opening again records nothing more
    assert _versions(path) == [(SCHEMA_VERSION, "created")]
    db.connect(path, read_only=True).close()


def _claim_version(path, version: int) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "insert into schema_version values (?, now(), 'future', null)", [version]
        )
    finally:
        con.close()


@pytest.mark.parametrize("command", ["toplist", "ingest"])
def test_a_database_of_a_newer_release_is_refused_in_one_line(
    tmp_path, capsys, command
):
    path = tmp_path / "newer.duckdb"
    db.connect(path).close()
    _claim_version(path, SCHEMA_VERSION + 1)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    args = (
        ["--db", str(path)] if command == "toplist" else [str(inbox), "--db", str(path)]
    )
    assert main([command, *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gjenganger: ")
    assert "newer release" in err and f"schema {SCHEMA_VERSION + 1}" in err
    # nothing was written into it, not even an audit row
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("select count(*) from audit_log").fetchone()[0] == 0
    finally:
        con.close()


def _pre1(path) -> None:
    """A database as the release before schema versions left it: our tables, no
    `schema_version`, a derived table of an older shape and a resume mark."""
    con = db.connect(path)
    try:
        con.execute("drop table schema_version")
        con.execute("drop table toplist")
        con.execute("create table toplist (person_id varchar)")  # no as_of, no rank
        con.execute("insert into toplist values ('P1')")
        con.execute("insert into pipeline_steps values ('toplist', 'h', now(), '{}')")
        con.execute(
            "insert into ingest_batches (batch_id, started_at, status)"
            " values ('b1', now(), 'loaded')"
        )
    finally:
        con.close()


def test_a_pre1_database_is_refused_read_only_and_migrated_when_writable(tmp_path):
    path = tmp_path / "old.duckdb"
    _pre1(path)
    with pytest.raises(UserError) as exc:
        db.connect(path, read_only=True)
    assert "older release (schema 0)" in str(exc.value)
    assert "\n" not in str(exc.value)
    con = db.connect(path)
    try:
        cols = [r[0] for r in con.execute("describe toplist").fetchall()]
        assert cols[:3] == ["as_of", "window_days", "rank"]
        assert con.execute("select count(*) from toplist").fetchone()[0] == 0
        assert con.execute("select count(*) from pipeline_steps").fetchone()[0] == 0
        # loaded data stay
        assert con.execute("select batch_id from ingest_batches").fetchall() == [
            ("b1",)
        ]
    finally:
        con.close()
    ((version, note),) = _versions(path)
    assert version == SCHEMA_VERSION and "toplist" in note
    db.connect(path, read_only=True).close()


def test_a_pre1_database_whose_loaded_data_differ_is_refused(tmp_path):
    path = tmp_path / "odd.duckdb"
    _pre1(path)
    con = duckdb.connect(str(path))
    con.execute("drop table quarantine")
    con.execute("create table quarantine (batch_id varchar)")
    con.close()
    with pytest.raises(UserError) as exc:
        db.connect(path)
    assert "table quarantine differs" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_the_stored_evidence_columns_are_those_attribution_computes():
    from gjenganger.analytics import attribution_reuse as ar

    con = duckdb.connect()
    for name in ("attribution_evidence", "attribution_evidence_next"):
        runner.declare(con, name)
        cols = [r[0] for r in con.execute(f"describe {name}").fetchall()]
        assert cols == [
            "incident_id",
            "person_id",
            *ar.FEATURE_COLUMNS,
            "best_incident_id",
            "nearest_incident_id",
            "n_known",
        ]


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """Every step of a night on a small generated inbox (no Prefect, no maps)."""
    from gjenganger.flows import tasks
    from gjenganger.flows.steps.attribution import build_attribution
    from gjenganger.flows.steps.episodes import build_episodes
    from gjenganger.flows.steps.hotspot_cells import build_hotspot_cells
    from gjenganger.flows.steps.ingest import ingest
    from gjenganger.flows.steps.phases import build_phases
    from gjenganger.flows.steps.toplist import build_toplist
    from gjenganger.store import audit, frames
    from gjenganger.synth.config import SynthConfig
    from gjenganger.synth.generator import generate

    root = tmp_path_factory.mktemp("schema")
    cfg = SynthConfig(
        seed=5, start=dt.date(2025, 9, 1), days=60, scale=0.1, batch_days=20
    )
    generate(cfg, root / "data")
    path = root / "db.duckdb"
    con = db.connect(path)
    try:
        ingest(con, root / "data" / "inbox")
        day = frames.latest_data_date(con)
    finally:
        con.close()
    for name, fn in (
        ("toplist", build_toplist),
        ("attribution", build_attribution),
        ("phases", build_phases),
        ("episodes", build_episodes),
        ("hotspot_cells", build_hotspot_cells),
    ):
        tasks.run_step(str(path), name, fn, day, {}, resumable=True)
    audit.begin("test", {}, "tester", "operator")
    audit.finish(path, "ok")
    return path


@pytest.mark.slow
def test_every_table_a_night_leaves_is_declared_under_sql(night):
    con = db.connect(night, read_only=True)
    try:
        present = _tables(con)
        filled = {
            t for t in present if con.execute(f"select count(*) from {t}").fetchone()[0]
        }
    finally:
        con.close()
    declared = {p.stem for p in runner.sql_files()}
    assert present <= declared, present - declared
    # the night wrote every table it is said to write
    for table in (
        "person_days",
        "use_periods",
        "current_phase",
        "phase_model",
        "hotspot_cells",
        "episodes",
        "pipeline_steps",
        "audit_log",
        "attribution_model",
        "attribution_evidence",
        "attribution_fingerprints_persons",
        "attribution_fingerprints_cases",
        "toplist",
        "toplist_concentration",
        "attribution_candidates",
        "schema_version",
    ):
        assert table in filled, table


@pytest.mark.slow
def test_a_step_run_again_resumes_or_replaces_its_rows(night):
    from gjenganger.flows import tasks
    from gjenganger.flows.steps.phases import build_phases

    def rows():
        con = db.connect(night, read_only=True)
        try:
            return con.execute(  # (the fit may differ in the last digits)
                'select person_id, "date", as_of, model_version from person_days'
                " order by all"
            ).fetchall()
        finally:
            con.close()

    before = rows()
    con = db.connect(night, read_only=True)
    day = con.execute("select max(as_of) from person_days").fetchone()[0]
    con.close()
    again = tasks.run_step(str(night), "phases", build_phases, day, {}, True)
    assert again.get("resumed") is True
    redone = tasks.run_step(str(night), "phases", build_phases, day, {}, False)
    assert "resumed" not in redone
    assert rows() == before

"""#16 extras: purge refuses a meaningless retention, empties the attribution state
computed from purged cases and retires published nights built before it; files that
hold personal data are private to their owner (umask from configuration)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from batchkit import incident, link, write_batch

from gjenganger import cli
from gjenganger.store import db, publish, settings
from gjenganger.store.retention import ATTRIBUTION_STATE, purge


def _db_with_one_old_case(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    write_batch(
        inbox,
        "2024-01-10",
        {
            "incidents": [
                incident(
                    "old",
                    reported_at="2024-01-10T07:30:00+01:00",
                    updated_at="2024-01-10T08:00:00+01:00",
                    occurred_from="2024-01-09T22:00:00+01:00",
                    occurred_to="2024-01-10T06:00:00+01:00",
                )
            ],
            "incident_persons": [
                link("INC-old", updated_at="2024-01-10T09:00:00+01:00")
            ],
        },
        exported_at="2024-01-11T01:30:00+01:00",
    )
    path = tmp_path / "g.duckdb"
    assert cli.main(["ingest", str(inbox), "--db", str(path)]) == 0
    return path


@pytest.mark.parametrize("days", ["0", "-1", "-365"])
def test_purge_refuses_a_retention_under_one_day(tmp_path, capsys, days):
    path = _db_with_one_old_case(tmp_path)
    capsys.readouterr()
    assert cli.main(["purge", "--db", str(path), "--older-than", days]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "at least 1 day" in err
    con = db.connect(path, read_only=True)
    assert con.execute("select count(*) from incidents").fetchone()[0] == 1
    con.close()


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5", ""])
def test_a_bad_retention_setting_is_one_line(tmp_path, capsys, monkeypatch, value):
    path = _db_with_one_old_case(tmp_path)
    capsys.readouterr()
    monkeypatch.setenv("GJENGANGER_RETENTION_DAYS", value)
    assert cli.main(["purge", "--db", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "GJENGANGER_RETENTION_DAYS" in err


def test_purge_of_a_missing_database_creates_none(tmp_path, capsys):
    path = tmp_path / "none.duckdb"
    assert cli.main(["purge", "--db", str(path), "--older-than", "30"]) == 2
    assert not path.exists()
    assert "does not exist" in capsys.readouterr().err


def test_purge_empties_staging_history_and_the_attribution_state(tmp_path):
    path = _db_with_one_old_case(tmp_path)
    con = db.connect(path)
    con.execute(
        "insert into attribution_evidence (incident_id, person_id) "
        "values ('INC-old', 'Pabc'), ('INC-new', 'Pdef')"
    )
    con.execute("insert into attribution_model select * from attribution_model limit 0")
    deleted = purge(con, 365, date(2026, 11, 26))
    assert deleted["stg_incidents"] == 1 and deleted["stg_incident_persons"] == 1
    for table in ATTRIBUTION_STATE:
        assert con.execute(f"select count(*) from {table}").fetchone()[0] == 0
    assert con.execute("select count(*) from pipeline_steps").fetchone()[0] == 0
    con.close()


def test_purge_with_publish_retires_the_nights_built_before_it(tmp_path):
    root = tmp_path / "pub"
    for run in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z"):
        night = publish.start(root, run)
        (night.bundle("analyst") / "index.html").write_text(run)
        publish.commit(night, keep=7)
    path = _db_with_one_old_case(tmp_path)
    args = ["purge", "--db", str(path), "--older-than", "365", "--publish", str(root)]
    assert cli.main(args) == 0
    left = sorted(p.name for p in (root / "nights").iterdir())
    assert left == ["20260103T000000Z"]
    latest = publish.latest(root)
    assert (latest / publish.RETENTION_NOTE).is_file()
    assert (latest / "analyst" / "index.html").read_text() == "20260103T000000Z"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask, group_bits", [(None, 0), ("027", 0o040)])
def test_files_with_personal_data_are_private_unless_a_group_is_granted(
    tmp_path, umask, group_bits
):
    """A real process: the database, the audit log, keys and folders it creates."""
    inbox = tmp_path / "inbox"
    write_batch(inbox, "2026-11-20", {"incidents": [incident("a")]})
    home = tmp_path / "home"
    env = {**os.environ, "GJENGANGER_HOME": str(home)}
    env.pop("GJENGANGER_UMASK", None)
    if umask:
        env["GJENGANGER_UMASK"] = umask
    code = "import sys; from gjenganger.cli import main; sys.exit(main(sys.argv[1:]))"
    db_path = tmp_path / "out" / "g.duckdb"
    subprocess.run(
        [sys.executable, "-c", code, "ingest", str(inbox), "--db", str(db_path)],
        env=env,
        check=True,
        capture_output=True,
    )
    created = [db_path, db_path.parent, *home.rglob("*")]
    assert len(created) > 3
    for path in created:
        mode = _mode(path)
        assert mode & 0o007 == 0, (path, oct(mode))  # others: never
        if path.is_file() and path.suffix in (".duckdb", ".key"):
            assert mode & 0o070 in (0, group_bits) and mode & 0o020 == 0, (
                path,
                oct(mode),
            )
    if group_bits:
        assert _mode(db_path) & 0o040


@pytest.mark.parametrize("value", ["022", "000", "abc", "9"])
def test_a_umask_that_lets_others_read_is_refused(monkeypatch, value):
    monkeypatch.setenv("GJENGANGER_UMASK", value)
    old = os.umask(0o022)
    try:
        with pytest.raises(Exception) as exc:
            settings.apply_umask()
        assert "GJENGANGER_UMASK" in str(exc.value)
    finally:
        os.umask(old)

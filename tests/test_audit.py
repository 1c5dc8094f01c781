"""The audit log is append-only and tamper-evident; every command is recorded."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from batchkit import incident, write_batch

from gjenganger.store import audit, db

# whole nights / real processes: out of the quick loop (`-m 'not slow'`)
pytestmark = pytest.mark.slow


def _cli(*args, env=None):
    import os

    return subprocess.run(
        [sys.executable, "-m", "gjenganger", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def audited_db(tmp_path):
    inbox, path = tmp_path / "inbox", tmp_path / "db.duckdb"
    write_batch(inbox, "2026-11-20", {"incidents": [incident(1)]})
    for _ in range(3):
        assert (
            _cli(
                "--user",
                "kari",
                "--role",
                "analyst",
                "ingest",
                str(inbox),
                "--db",
                str(path),
            ).returncode
            == 0
        )
    return path


def test_every_command_appends_a_row_with_user_role_and_outcome(audited_db):
    r = _cli("audit", "show", "--db", str(audited_db), "--json")
    rows = json.loads(r.stdout)
    assert [(x["user"], x["role"], x["command"], x["outcome"]) for x in rows] == [
        ("kari", "analyst", "ingest", "ok")
    ] * 3


def test_verify_passes_on_an_untouched_log(audited_db):
    r = _cli("audit", "verify", "--db", str(audited_db))
    assert r.returncode == 0, r.stderr
    assert "intact: 3 rows" in r.stdout


@pytest.mark.parametrize(
    "tamper",
    [
        "update audit_log set user_name = 'ola' where seq = 2",
        "update audit_log set outcome = 'ok ' where seq = 1",
        "delete from audit_log where seq = 2",
        "delete from audit_log where seq = 3",
        "delete from audit_log where seq = 1",
    ],
)
def test_verify_fails_after_any_row_is_changed_or_removed(audited_db, tamper):
    con = db.connect(audited_db, migrate=False)
    con.execute(tamper)
    con.close()
    r = _cli("audit", "verify", "--db", str(audited_db))
    assert r.returncode == 2
    assert "fails verification" in r.stderr


def test_show_answers_who_looked_at_a_person(tmp_path):
    path = tmp_path / "a.duckdb"
    db.connect(path).close()
    for person, user in (("Pxyzxyzxyz", "kari"), ("Pother0000", "ola")):
        audit.begin("timeline", {"person": person}, user, "analyst")
        audit.looked_at(person)
        audit.finish(path, "ok")
    r = _cli("audit", "show", "--db", str(path), "--person", "Pxyzxyzxyz", "--json")
    assert [x["user"] for x in json.loads(r.stdout)] == ["kari"]

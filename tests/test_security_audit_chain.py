"""Issue #16, class 2: the audit chain cannot be rewritten without the audit key.

An insider with the database file (and even write access to the anchor folder,
but not the key) tries: editing a row and recomputing every hash (plain sha256, or
HMAC under a guessed key), deleting rows from the end and rewriting the anchor,
deleting the anchor, emptying the table, dropping it, renumbering, replacing the
log with a fresh one, rolling the anchors back. `gjenganger audit verify` fails on
every one; logs written before the chain was keyed say so in one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gjenganger.cli import main
from gjenganger.store import audit, audit_chain, db
from gjenganger.store.audit_chain import FIELDS, LEGACY_GENESIS


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    monkeypatch.setenv("GJENGANGER_HOME", str(h))
    for var in ("GJENGANGER_AUDIT_DB", "GJENGANGER_AUDIT_KEY_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("GJENGANGER_AUDIT_ANCHORS", raising=False)
    return h


def _log(path: Path, n: int, start: int = 0) -> Path:
    if not path.exists():
        duckdb.connect(str(path)).close()  # a database file of its own
    for i in range(start, start + n):
        audit.begin("timeline", {"person": f"P{i:03d}"}, f"user{i}", "analyst")
        audit.looked_at(f"P{i:03d}")
        audit.finish(path, "ok")
    return path


@pytest.fixture
def log(home):
    return _log(home.parent / "ops.duckdb", 6)


def _sql(path: Path, *statements: str, params=()) -> None:
    con = duckdb.connect(str(path))
    try:
        for s in statements:
            con.execute(s, list(params))
    finally:
        con.close()


def _problems(path: Path, **kw) -> list[str]:
    con = db.connect(path, migrate=False)
    try:
        return audit.verify(con, path, **kw)
    finally:
        con.close()


def _cli_verify(path: Path, capsys, *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["audit", "verify", "--db", str(path), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def _rechain(path: Path, digest, genesis: str | None = None) -> None:
    """Recompute every row hash with `digest(values)` (an insider's rewrite)."""
    con = duckdb.connect(str(path))
    try:
        rows = con.execute(
            f"select {', '.join(FIELDS)}, row_hash from audit_log order by seq"
        ).fetchall()
        prev = None
        for row in rows:
            values = dict(zip((*FIELDS, "row_hash"), row, strict=True))
            if prev is None and genesis is not None:
                values["prev_hash"] = genesis
            elif prev is not None:
                values["prev_hash"] = prev
            values["row_hash"] = digest(values)
            con.execute(
                "update audit_log set prev_hash = ?, row_hash = ? where seq = ?",
                [values["prev_hash"], values["row_hash"], values["seq"]],
            )
            prev = values["row_hash"]
    finally:
        con.close()


def _guessed_hmac(values: dict) -> str:
    return audit_chain.row_digest(b"g" * 32, values)


def _forge_head(path: Path) -> None:
    """Rewrite the head file to match the (truncated) log, MACed with a guess."""
    con = duckdb.connect(str(path), read_only=True)
    seq, head, log = con.execute(
        "select seq, row_hash, (select prev_hash from audit_log where seq = 1)"
        " from audit_log order by seq desc limit 1"
    ).fetchone()
    con.close()
    record = {
        "v": 1,
        "kind": "head",
        "path": str(path.resolve()),
        "log": log,
        "seq": seq,
        "head": head,
        "at": "2030-01-01T00:00:00+00:00",
    }
    fields = [record[f] for f in audit_chain.ANCHOR_FIELDS]
    record["mac"] = hashlib.sha256(json.dumps(fields).encode()).hexdigest()
    audit_chain.head_file(path).write_text(json.dumps(record) + "\n")


def test_an_untouched_log_verifies_and_is_keyed(log, capsys):
    assert _problems(log) == []
    code, out, _ = _cli_verify(log, capsys)
    assert code == 0 and "intact: 6 rows" in out
    con = duckdb.connect(str(log), read_only=True)
    first_prev = con.execute("select prev_hash from audit_log where seq = 1").fetchone()
    con.close()
    assert first_prev[0] != LEGACY_GENESIS  # a random name, not 64 zeros
    assert os.stat(audit_chain.journal_file()).st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "tamper",
    [
        # edit a row, recompute every hash the old way (sha256)
        lambda p: (
            _sql(p, "update audit_log set user_name = 'ola' where seq = 2"),
            _rechain(p, audit_chain.legacy_digest),
        ),
        # ... or with HMAC under a guessed key
        lambda p: (
            _sql(p, "update audit_log set outcome = 'ok ' where seq = 4"),
            _rechain(p, _guessed_hmac),
        ),
        # the whole log made to look like an old, unkeyed one
        lambda p: _rechain(p, audit_chain.legacy_digest, genesis=LEGACY_GENESIS),
        # delete the last rows and rewrite the anchor to match
        lambda p: (_sql(p, "delete from audit_log where seq > 3"), _forge_head(p)),
        # delete the last rows and the anchor file
        lambda p: (
            _sql(p, "delete from audit_log where seq > 4"),
            audit_chain.head_file(p).unlink(),
        ),
        # ... and the journal too
        lambda p: (
            _sql(p, "delete from audit_log where seq = 6"),
            audit_chain.head_file(p).unlink(),
            audit_chain.journal_file().unlink(),
        ),
        # empty the table
        lambda p: _sql(p, "delete from audit_log"),
        # empty the table and delete every anchor
        lambda p: (
            _sql(p, "delete from audit_log"),
            shutil.rmtree(audit_chain.journal_file().parent),
        ),
        # drop the table
        lambda p: _sql(p, "drop table audit_log"),
        # delete a row in the middle, renumber, recompute with a guessed key
        lambda p: (
            _sql(
                p,
                "delete from audit_log where seq = 3",
                "update audit_log set seq = seq - 1 where seq > 3",
            ),
            _rechain(p, _guessed_hmac),
            _forge_head(p),
        ),
        # an anchor edited by hand
        lambda p: audit_chain.head_file(p).write_text(
            audit_chain.head_file(p).read_text().replace('"seq": 6', '"seq": 5')
        ),
    ],
    ids=[
        "edit+sha256",
        "edit+guessed-hmac",
        "made-legacy",
        "truncate+forged-anchor",
        "truncate+anchor-deleted",
        "truncate+all-anchors-deleted",
        "emptied",
        "emptied+anchors-deleted",
        "dropped",
        "renumbered",
        "anchor-edited",
    ],
)
def test_every_rewrite_truncation_or_deletion_fails_verification(log, capsys, tamper):
    tamper(log)
    assert _problems(log)
    code, out, err = _cli_verify(log, capsys)
    assert code == 2
    assert err.count("\n") == 1 and "fails verification" in err


def test_a_log_replaced_by_a_fresh_one_fails_until_retired_on_record(log, capsys):
    _sql(log, "delete from audit_log")
    _log(log, 2)  # an insider's harmless commands start a new log
    problems = _problems(log)
    assert any("earlier audit log" in p for p in problems), problems
    # an operator who rebuilt the database on purpose says so, with the key
    capsys.readouterr()
    reason = "demo database rebuilt from scratch"
    assert main(["audit", "retire", "--db", str(log), "--reason", reason]) == 0
    assert _problems(log) == []
    con = duckdb.connect(str(log), read_only=True)
    last = con.execute(
        "select command, params_json from audit_log order by seq desc limit 1"
    ).fetchone()
    con.close()
    assert last[0] == "audit retire" and reason in last[1]


def test_a_rollback_of_both_anchor_files_is_caught_by_an_off_box_copy(
    log, tmp_path, capsys
):
    """Saving the anchors, appending, truncating back and restoring the saved anchors
    passes locally (the limit of an on-box anchor); the off-box journal catches it."""
    saved = tmp_path / "saved"
    shutil.copytree(audit_chain.journal_file().parent, saved)
    _log(log, 3, start=6)
    off_box = tmp_path / "syslog-copy.log"
    off_box.write_text(
        "".join(
            f"Dec  1 02:00:00 host gjenganger-audit: {line}\n"
            for line in audit_chain.journal_file().read_text().splitlines()
        )
    )
    _sql(log, "delete from audit_log where seq > 6")
    shutil.rmtree(audit_chain.journal_file().parent)
    shutil.copytree(saved, audit_chain.journal_file().parent)
    assert _problems(log) == []  # what root can do on the box alone
    code, _, err = _cli_verify(log, capsys, "--journal", str(off_box))
    assert code == 2 and "row 9 was anchored" in err


@pytest.mark.usefixtures("home")
def test_a_log_from_before_the_keyed_chain_says_so_in_one_line(tmp_path, capsys):
    path = tmp_path / "old.duckdb"
    _log(path, 3)
    _rechain(path, audit_chain.legacy_digest, genesis=LEGACY_GENESIS)
    shutil.rmtree(audit_chain.journal_file().parent)  # old logs had no anchors here
    code, out, err = _cli_verify(path, capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "predates the keyed audit chain" in err
    # appended to with the keyed chain, the unkeyed rows are covered from then on
    _log(path, 1)
    assert _problems(path) == []
    _sql(path, "update audit_log set user_name = 'ola' where seq = 2")
    assert _problems(path)


def test_without_the_audit_key_nothing_verifies(log, home, capsys):
    (home / "audit.key").unlink()
    code, _, err = _cli_verify(log, capsys)
    assert code == 2 and "audit key" in err


def test_a_moved_database_verifies_against_where_it_was_written(log, tmp_path):
    moved = tmp_path / "elsewhere" / "ops.duckdb"
    moved.parent.mkdir()
    shutil.copy(log, moved)
    assert _problems(moved)
    assert _problems(moved, anchored_as=log) == []


def test_the_key_never_enters_the_database(log, home):
    key = (home / "audit.key").read_bytes()
    wal = log.with_name(log.name + ".wal")
    blob = log.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert key not in blob and key.hex().encode() not in blob
    assert (home / "audit.key").stat().st_mode & 0o077 == 0


@pytest.mark.slow
@pytest.mark.usefixtures("home")
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seq=st.integers(1, 6),
    column=st.sampled_from(
        ["started_at", "user_name", "role", "command", "params_json", "outcome"]
    ),
    value=st.text(min_size=1, max_size=12),
    rechain=st.sampled_from(["none", "sha256", "guessed"]),
    truncate=st.integers(0, 6),
    forge_anchor=st.booleans(),
)
def test_random_rewrites_never_verify(
    tmp_path, seq, column, value, rechain, truncate, forge_anchor
):
    base = tmp_path / "base"
    path = tmp_path / "ops.duckdb"
    if not base.exists():
        _log(path, 6)
        base.mkdir()
        shutil.copy(path, base / "ops.duckdb")
        shutil.copytree(audit_chain.journal_file().parent, base / "anchors")
    shutil.copy(base / "ops.duckdb", path)
    shutil.rmtree(audit_chain.journal_file().parent)
    shutil.copytree(base / "anchors", audit_chain.journal_file().parent)
    con = duckdb.connect(str(path))
    old = con.execute(f"select {column} from audit_log where seq = ?", [seq]).fetchone()
    con.close()
    if truncate == 0 and old[0] == value:
        value += "!"
    _sql(path, f"update audit_log set {column} = ? where seq = ?", params=(value, seq))
    if truncate:
        _sql(path, f"delete from audit_log where seq > {6 - truncate}")
    digests = {"sha256": audit_chain.legacy_digest, "guessed": _guessed_hmac}
    if rechain in digests:
        _rechain(path, digests[rechain])
    if forge_anchor and 6 - truncate > 0:
        _forge_head(path)
    assert _problems(path)


def test_a_new_key_makes_an_old_log_fail_instead_of_being_trusted(log, home):
    (home / "audit.key").write_bytes(secrets.token_bytes(32))
    assert _problems(log)

"""Issue #16, class 3: auditing fails closed.

No query result is shown unless its audit row is committed (audit log locked by
another process, its location unwritable, not a database, the audit key or the
anchor folder unusable); the audit location is operator configuration, not a flag
of the person audited; every interactive statement and every night, failed or not,
leaves its row with the true outcome.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys

import duckdb
import pytest

from gjenganger.cli import main
from gjenganger.store import db

PURPOSE = "NTNU study of repeat burglary"


@pytest.fixture
def env(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("GJENGANGER_HOME", str(home))
    for var in ("GJENGANGER_AUDIT_DB", "GJENGANGER_AUDIT_KEY_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("GJENGANGER_AUDIT_ANCHORS", raising=False)
    snap = tmp_path / "snapshot.duckdb"
    con = duckdb.connect(str(snap))
    con.execute("create table cases as select range as n from range(5)")
    con.close()
    return {"home": home, "snap": snap, "log": home / "audit.duckdb", "tmp": tmp_path}


def _query(env, capsys, *sql: str, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    code = main(["query", "--purpose", PURPOSE, "--snapshot", str(env["snap"]), *sql])
    out, err = capsys.readouterr()
    return code, out, err


def _rows(path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "select command, outcome, params_json, counts_json from audit_log"
            " order by seq"
        ).fetchall()
    finally:
        con.close()


def _hold(path):
    """Another process holding the audit log open for writing."""
    script = (
        "import duckdb, sys, time\n"
        "c = duckdb.connect(sys.argv[1])\n"
        "c.execute('create table if not exists held (i int)')\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


QUERIES = {
    "rows": ["select n from cases order by n"],
    "json": ["--json", "select count(*) as n from cases"],
    "refused": ["copy cases to 'x.csv'"],
    "failing": ["select nope from cases"],
}


@pytest.mark.parametrize("args", QUERIES.values(), ids=QUERIES.keys())
def test_a_locked_audit_log_shows_no_result(env, capsys, args):
    env["log"].parent.mkdir(parents=True)
    holder = _hold(env["log"])
    try:
        code, out, err = _query(env, capsys, *args)
    finally:
        holder.kill()
        holder.wait()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "audit log not written" in err
    assert "no result shown" in err and "locked" in err


def test_a_locked_audit_log_ends_an_interactive_session_before_any_result(
    env, capsys, monkeypatch
):
    env["log"].parent.mkdir(parents=True)
    holder = _hold(env["log"])
    try:
        code, out, err = _query(
            env, capsys, stdin="select 41 + 1\nselect 7\n", monkeypatch=monkeypatch
        )
    finally:
        holder.kill()
        holder.wait()
    assert code == 2 and "42" not in out and "7" not in out
    assert err.count("\n") == 1 and "no result shown" in err


def _unwritable(env, kind: str, monkeypatch) -> None:
    if kind == "under a file":
        (env["tmp"] / "afile").write_text("x")
        monkeypatch.setenv(
            "GJENGANGER_AUDIT_DB", str(env["tmp"] / "afile" / "a.duckdb")
        )
    elif kind == "not a database":
        bogus = env["tmp"] / "bogus.duckdb"
        bogus.write_bytes(b"this is not a duckdb file" * 100)
        monkeypatch.setenv("GJENGANGER_AUDIT_DB", str(bogus))
    elif kind == "key readable by others":
        env["home"].mkdir(parents=True, exist_ok=True)
        key = env["home"] / "audit.key"
        key.write_bytes(b"k" * 32)
        key.chmod(0o644)
    elif kind == "anchor folder is a file":
        (env["tmp"] / "anchors").write_text("x")
        monkeypatch.setenv("GJENGANGER_AUDIT_ANCHORS", str(env["tmp"] / "anchors"))


@pytest.mark.parametrize(
    "kind",
    [
        "under a file",
        "not a database",
        "key readable by others",
        "anchor folder is a file",
    ],
)
def test_an_unusable_audit_location_shows_no_result(env, capsys, monkeypatch, kind):
    _unwritable(env, kind, monkeypatch)
    code, out, err = _query(env, capsys, "select 12345 as n")
    assert code == 2 and "12345" not in out and out == ""
    assert err.count("\n") == 1 and "audit log not written" in err


def test_the_audit_location_is_not_a_flag_of_the_person_audited(env, capsys, tmp_path):
    elsewhere = tmp_path / "mine.duckdb"
    code, out, err = _query(env, capsys, "--audit-db", str(elsewhere), "select 1")
    assert code == 2 and out == "" and "--audit-db" in err
    assert not elsewhere.exists()


def test_the_operator_configures_where_query_rows_go(env, capsys, monkeypatch):
    central = env["tmp"] / "central" / "audit.duckdb"
    monkeypatch.setenv("GJENGANGER_AUDIT_DB", str(central))
    code, out, _ = _query(env, capsys, "select 5 as n")
    assert code == 0 and "5" in out
    assert [r[:2] for r in _rows(central)] == [("query", "ok")]
    assert not env["log"].exists()


def test_each_interactive_statement_is_logged_with_its_true_outcome(
    env, capsys, monkeypatch
):
    stdin = "select 41 + 1 as a\nselect nope\ncopy cases to 'x.csv'\n\nselect 7 as b\n"
    code, out, err = _query(env, capsys, stdin=stdin, monkeypatch=monkeypatch)
    assert code == 2
    assert out.split() == ["a", "42", "b", "7"]
    assert err.count("\n") == 2 and "query failed" in err and "refused" in err
    rows = _rows(env["log"])
    got = [(o.split(":")[0], json.loads(p).get("sql")) for _, o, p, _ in rows]
    assert got == [
        ("ok", "select 41 + 1 as a"),
        ("error", "select nope"),
        ("refused", "copy cases to 'x.csv'"),
        ("ok", "select 7 as b"),
        ("error", None),  # the session: 2 of 4 failed
    ]
    assert json.loads(rows[-1][3]) == {"errors": 1, "refused": 1, "statements": 4}
    assert json.loads(rows[0][3]) == {"rows": 1}


def test_a_result_is_shown_only_after_its_row_is_committed(env, capsys, monkeypatch):
    """The order is row first, output second: the row exists when printing starts."""
    from gjenganger.commands import query as command

    seen = []
    real_print = print

    def spy(*args, **kw):
        seen.append(len(_rows(env["log"])) if env["log"].exists() else 0)
        real_print(*args, **kw)

    monkeypatch.setattr(command, "print", spy, raising=False)
    code, out, _ = _query(env, capsys, "select 3 as n")
    assert code == 0 and seen == [1]


def test_other_commands_exit_non_zero_when_their_row_cannot_be_written(
    env, capsys, monkeypatch
):
    (env["tmp"] / "afile").write_text("x")
    monkeypatch.setenv("GJENGANGER_AUDIT_DB", str(env["tmp"] / "afile" / "a.duckdb"))
    key = env["tmp"] / "p.key"
    key.write_bytes(b"p" * 32)
    key.chmod(0o600)
    src = env["tmp"] / "in.csv"
    src.write_text("person_id,x\nabc,1\n")
    capsys.readouterr()
    code = main(
        [
            "pseudonymise",
            "--key-file",
            str(key),
            "--columns",
            "person_id",
            str(src),
            str(env["tmp"] / "out.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "audit log not written" in err


class PanicError(BaseException):
    """Like pyo3's PanicException (a Rust panic in Polars): not an Exception."""


@pytest.mark.parametrize(
    "crash",
    [
        PanicError("called `Option::unwrap()` on a `None` value"),
        KeyboardInterrupt(),
        SystemExit(3),
        MemoryError(),
        RuntimeError("disk full"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_night_that_crashes_anywhere_leaves_a_failed_row(env, monkeypatch, crash):
    from gjenganger.flows import nightly

    path = env["tmp"] / "db.duckdb"
    db.connect(path).close()

    def boom(*_a, **_k):
        raise crash

    monkeypatch.setattr(nightly, "_night", boom)
    with pytest.raises(type(crash)):
        nightly.nightly.fn(str(env["tmp"] / "inbox"), str(path), str(env["tmp"] / "p"))
    rows = _rows(path)
    assert [(c, o.split(":")[0]) for c, o, _, _ in rows] == [("flow nightly", "failed")]
    assert type(crash).__name__ in rows[0][1] or "stopped by" in rows[0][1]


def test_a_night_whose_publication_cannot_start_leaves_a_failed_row(env, monkeypatch):
    from gjenganger.flows import nightly
    from gjenganger.store import publish

    path = env["tmp"] / "db.duckdb"
    db.connect(path).close()

    def cannot(*_a, **_k):
        raise OSError("No space left on device")

    monkeypatch.setattr(publish, "start", cannot)
    with pytest.raises(OSError):
        nightly.nightly.fn(str(env["tmp"] / "inbox"), str(path), str(env["tmp"] / "p"))
    assert "No space left" in _rows(path)[-1][1]


def test_a_run_report_that_cannot_be_written_still_leaves_the_row(env, monkeypatch):
    from gjenganger.flows import run_report

    path = env["tmp"] / "db.duckdb"
    db.connect(path).close()

    def cannot(*_a, **_k):
        raise PermissionError("runs/ is read-only")

    monkeypatch.setattr(run_report, "write_report", cannot)
    report = {
        "run": "r1",
        "status": "failed",
        "failed_step": "phases",
        "error": "InjectedFaultError: injected failure at step:phases",
        "steps": [],
    }
    with pytest.raises(PermissionError):
        run_report.finish(str(env["tmp"] / "p"), report, str(path))
    assert _rows(path)[-1][1] == (
        "failed: phases: InjectedFaultError: injected failure at step:phases"
    )


@pytest.mark.slow
def test_a_real_night_failing_mid_flow_leaves_its_row_with_the_failing_step(tmp_path):
    from gjenganger.synth.config import SynthConfig
    from gjenganger.synth.generator import generate

    cfg = SynthConfig(
        seed=5, start=dt.date(2025, 9, 1), days=40, scale=0.08, batch_days=20
    )
    generate(cfg, tmp_path / "data")
    path = tmp_path / "db.duckdb"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "gjenganger",
            "nightly",
            "--inbox",
            str(tmp_path / "data" / "inbox"),
            "--db",
            str(path),
            "--publish",
            str(tmp_path / "pub"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **os.environ,
            "GJENGANGER_HOME": str(tmp_path / "home"),
            "GJENGANGER_FAULT_FAIL": "step:toplist",
        },
    )
    assert r.returncode == 2, r.stderr[-2000:]
    rows = {c: o for c, o, _, _ in _rows(path)}
    assert rows["flow nightly"].startswith("failed: toplist: InjectedFaultError")
    assert rows["nightly"].startswith("error: nightly run failed")
    verify = subprocess.run(
        [sys.executable, "-m", "gjenganger", "audit", "verify", "--db", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GJENGANGER_HOME": str(tmp_path / "home")},
    )
    assert verify.returncode == 0, verify.stderr


def test_an_interrupted_session_leaves_the_statement_and_the_session_row(
    env, capsys, monkeypatch
):
    from gjenganger.store import query as sandbox

    real = sandbox.run_query

    def run_query(con, sql):
        if "interrupt" in sql:
            raise KeyboardInterrupt
        return real(con, sql)

    monkeypatch.setattr(sandbox, "run_query", run_query)
    stdin = "select 1 as a\nselect 'interrupt me'\nselect 2 as b\n"
    code, out, _ = _query(env, capsys, stdin=stdin, monkeypatch=monkeypatch)
    assert code == 130 and out.split() == ["a", "1"]
    rows = _rows(env["log"])
    assert [o for _, o, _, _ in rows] == [
        "ok",
        "interrupted: KeyboardInterrupt",
        "interrupted",
    ]
    assert json.loads(rows[-1][3]) == {"errors": 0, "refused": 0, "statements": 1}

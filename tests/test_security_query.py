"""Issue #16, class 1: a research query is one SELECT in a sandbox.

Every forbidden variant (writing a published page or the snapshot, reading
/etc/passwd or the key file, globbing, attaching the operational database,
installing or loading extensions, changing settings, several statements, hidden
statements, DDL and DML, EXPORT, CALL, a blank or short purpose) gets: exit 2, one
line on stderr, nothing written, and an audit row `refused: ...`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gjenganger.cli import main
from gjenganger.store import query as sandbox

PURPOSE = "NTNU study of repeat burglary"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A publication with a research snapshot and a prevention page, an operational
    database with operational pseudonyms, and a home with a key file."""
    root = tmp_path_factory.mktemp("sandbox")
    publish = root / "publish"
    research = publish / "latest" / "research"
    research.mkdir(parents=True)
    page = publish / "latest" / "prevention" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html>prevention map</html>")
    con = duckdb.connect(str(research / "gjenganger.duckdb"))
    con.execute(
        "create table cases as select range as n, 'C' || range as case_key"
        " from range(3)"
    )
    con.execute("insert into cases select * from cases")
    con.close()
    op = root / "operational.duckdb"
    con = duckdb.connect(str(op))
    con.execute("create table persons as select 'Pabcdefghijklmnop' as person_id")
    con.close()
    home = root / "home"
    home.mkdir()
    key = home / "research.key"
    key.write_bytes(b"k" * 32)
    key.chmod(0o600)
    return {
        "root": root,
        "publish": publish,
        "snapshot": research / "gjenganger.duckdb",
        "page": page,
        "op": op,
        "key": key,
        "home": home,
    }


@pytest.fixture(autouse=True)
def _home(world, monkeypatch):
    monkeypatch.setenv("GJENGANGER_HOME", str(world["home"]))
    monkeypatch.delenv("GJENGANGER_AUDIT_DB", raising=False)
    monkeypatch.delenv("GJENGANGER_AUDIT_KEY_FILE", raising=False)
    monkeypatch.delenv("GJENGANGER_AUDIT_ANCHORS", raising=False)


def _fingerprint(world) -> dict:
    """sha256 of every file outside the home folder (where the audit log lives)."""
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(world["root"].rglob("*"))
        if p.is_file() and world["home"] not in p.parents
    } | {"key": hashlib.sha256(world["key"].read_bytes()).hexdigest()}


def _last_row(world) -> tuple[str, dict]:
    con = duckdb.connect(str(world["home"] / "audit.duckdb"), read_only=True)
    try:
        outcome, params = con.execute(
            "select outcome, params_json from audit_log order by seq desc limit 1"
        ).fetchone()
    finally:
        con.close()
    return outcome, json.loads(params)


def _query(world, capsys, sql, purpose=PURPOSE):
    capsys.readouterr()
    code = main(
        ["query", "--purpose", purpose, "--publish", str(world["publish"]), sql]
    )
    out, err = capsys.readouterr()
    return code, out, err


def _assert_refused(world, capsys, sql, purpose=PURPOSE):
    before = _fingerprint(world)
    code, out, err = _query(world, capsys, sql, purpose)
    assert code == 2, (sql, out, err)
    assert out == "" and err.count("\n") == 1 and err.startswith("gjenganger: "), err
    assert _fingerprint(world) == before, sql
    outcome, params = _last_row(world)
    assert outcome.startswith("refused: "), (sql, outcome)
    assert params["sql"] == sql and params["purpose"] == purpose
    assert not (world["root"] / "stolen.csv").exists()
    return err


#: forbidden statements; {page} a published page, {snap} the snapshot, {key} a key
#: file, {op} the operational database, {root} the folder around them
FORBIDDEN = {
    "copy to a published page": "copy (select 'x') to '{page}' (header false)",
    "copy to the snapshot": "copy cases to '{snap}'",
    "copy out": "copy cases to '{root}/stolen.csv'",
    "read_csv passwd": "select * from read_csv('/etc/passwd', sep=':')",
    "read_text passwd": "select * from read_text('/etc/passwd')",
    "read_blob key": "select * from read_blob('{key}')",
    "read_text key": "select content from read_text('{key}')",
    "read_parquet": "select * from read_parquet('/etc/*.parquet')",
    "glob": "select * from glob('/etc/*')",
    "raw snapshot bytes": "select * from read_blob('{snap}')",
    "attach operational": "attach '{op}' as op",
    "attach and read": "attach '{op}' as op; select * from op.persons",
    "install": "install spatial",
    "load": "load spatial",
    "set external access": "set enable_external_access = true",
    "reset lock": "reset lock_configuration",
    "pragma setting": "pragma threads = 1",
    "pragma profiling": "pragma enable_profiling",
    "set variable": "set variable x = 1",
    "two statements": "select 1; select 2",
    "hidden after a comment": "select 1; /* harmless */ drop table cases",
    "comment first": "/* just a select */ copy cases to '{page}'",
    "create": "create table t as select 1",
    "create temp": "create temp table t as select 1",
    "insert": "insert into cases values (1, 'x')",
    "delete": "delete from cases",
    "drop": "drop table cases",
    "export": "export database '{root}/exported'",
    "call": "call pragma_table_info('cases')",
    "checkpoint": "checkpoint",
    "explain analyze copy": "explain analyze copy cases to '{page}'",
    "use": "use memory",
    "begin": "begin transaction",
    "empty": "   ",
}


def _sql(world, template: str) -> str:
    return template.format(
        page=world["page"],
        snap=world["snapshot"],
        key=world["key"],
        op=world["op"],
        root=world["root"],
    )


@pytest.mark.parametrize("template", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_every_forbidden_statement_is_refused_in_one_line_and_audited(
    world, capsys, template
):
    err = _assert_refused(world, capsys, _sql(world, template))
    assert "refused" in err


def test_a_file_named_as_a_table_is_not_read(world, capsys):
    """DuckDB's replacement scan (`from '/etc/passwd'`) is off: no such table."""
    code, out, err = _query(world, capsys, "select * from '/etc/passwd'")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert _last_row(world)[0].startswith("error: ")
    assert "root:" not in err


@pytest.mark.parametrize(
    "purpose",
    ["", "   ", "pilot", "study 7", "x" * 40, "12345678901234", "why\nnot a newline"],
)
def test_a_blank_short_or_wordless_purpose_is_refused(world, capsys, purpose):
    err = _assert_refused(world, capsys, "select 1", purpose)
    assert "purpose" in err


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    verb=st.sampled_from(
        [
            "copy cases to '{page}'",
            "attach '{op}' as op",
            "install httpfs",
            "load json",
            "set memory_limit = '1TB'",
            "drop table cases",
            "select 1; copy cases to '{page}'",
            "export database '{root}/x'",
            "pragma enable_checkpoint_on_shutdown",
        ]
    ),
    case=st.sampled_from(["lower", "upper", "title", "same"]),
    pad=st.sampled_from(["", " ", "\t", "  \t "]),
    comment=st.sampled_from(["", "/* select */ ", "-- select\n", "/* ; */"]),
    trailer=st.sampled_from(["", ";", " ; ", ";;"]),
)
def test_case_whitespace_and_comments_do_not_smuggle_a_statement(
    world, capsys, verb, case, pad, comment, trailer
):
    sql = _sql(world, verb)
    head, _, rest = sql.partition(" ")
    head = {"lower": head.lower(), "upper": head.upper(), "title": head.title()}.get(
        case, head
    )
    _assert_refused(world, capsys, f"{pad}{comment}{head} {rest}{trailer}")


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(purpose=st.text(max_size=sandbox.MIN_PURPOSE_CHARS - 1))
def test_any_purpose_shorter_than_the_minimum_is_refused(world, capsys, purpose):
    if purpose.startswith("-"):  # argparse would read it as an option
        purpose = " " + purpose[:-1]
    _assert_refused(world, capsys, "select 1", purpose)


@pytest.mark.parametrize(
    "sql",
    [
        "select count(*) as n from cases",
        "from cases select n order by n limit 2",
        "with t as (select n from cases) select max(n) from t",
        "describe cases",
        "show tables",
        "summarize cases",
        "pragma table_info('cases')",
        "select 1; ",
        "-- a note\nselect 2",
    ],
)
def test_reading_the_snapshot_still_works_and_is_audited_ok(world, capsys, sql):
    code, out, err = _query(world, capsys, sql)
    assert code == 0 and err == "" and out
    outcome, params = _last_row(world)
    assert outcome == "ok" and params["sql"] == sql


def test_the_sandbox_holds_even_if_the_statement_check_were_skipped(world):
    """Defence in depth: the connection itself refuses files, attach, extensions
    and setting changes."""
    con = sandbox.open_snapshot(world["snapshot"])
    try:
        for sql in (
            f"copy cases to '{world['page']}'",
            f"select * from read_blob('{world['key']}')",
            "select * from read_csv('/etc/passwd')",
            f"select * from read_blob('{world['snapshot']}')",
            f"attach '{world['op']}' as op",
            "install spatial",
            "load spatial",
            "set enable_external_access = true",
            "set disabled_filesystems = ''",
            "set lock_configuration = false",
            "set allow_community_extensions = true",
        ):
            with pytest.raises(duckdb.Error):
                con.execute(sql).fetchall()
        assert con.execute("select count(*) from cases").fetchone()[0] == 6
    finally:
        con.close()
    assert world["page"].read_text() == "<html>prevention map</html>"
    # nothing held open: a writer gets the operational database
    duckdb.connect(str(world["op"])).close()


def test_an_operational_attach_never_locks_writers_out(world):
    """The refused ATTACH ran in a separate process that exited; a writer opens the
    operational database at once."""
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "gjenganger",
            "query",
            "--purpose",
            PURPOSE,
            "--snapshot",
            str(world["snapshot"]),
            f"attach '{world['op']}' as op (read_only)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GJENGANGER_HOME": str(world["home"])},
    )
    assert r.returncode == 2 and r.stdout == "" and r.stderr.count("\n") == 1
    assert "ATTACH" in r.stderr
    duckdb.connect(str(world["op"])).close()

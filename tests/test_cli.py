"""The one CLI: every command has help; failures are one line and non-zero."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gjenganger.cli import build_parser, main


def _commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sorted(sub.choices)


def test_every_command_has_help_text_and_is_in_the_readme():
    with open(os.path.join(os.path.dirname(__file__), "..", "README.md")) as fh:
        readme = fh.read()
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    helps = {a.dest: a.help for a in sub._choices_actions}
    for name in _commands():
        assert helps.get(name), f"{name} has no help line"
        assert f"gjenganger {name}" in readme, f"README does not document {name}"


@pytest.mark.parametrize("name", _commands())
def test_help_of_each_command_exits_zero(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    assert "usage: gjenganger" in capsys.readouterr().out


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "gjenganger", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_missing_inbox_gives_one_line_and_exit_2(tmp_path):
    r = _run("ingest", str(tmp_path / "nope"), "--db", str(tmp_path / "x.duckdb"))
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0
    assert "does not exist" in r.stderr and "Traceback" not in r.stderr


def test_a_database_locked_by_another_writer_gives_one_line_and_exit_2(tmp_path):
    path = tmp_path / "x.duckdb"
    (tmp_path / "inbox").mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({str(path)!r});"
            " print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        r = _run("ingest", str(tmp_path / "inbox"), "--db", str(path))
    finally:
        holder.kill()
        holder.wait()
    assert r.returncode == 2
    assert "locked by another process" in r.stderr
    assert r.stderr.strip().count("\n") == 0


def test_version_and_top_level_help_load_no_command_module():
    code = (
        "import sys\n"
        "from gjenganger import cli\n"
        "for argv in (['--version'], ['--help']):\n"
        "    try:\n"
        "        cli.main(argv)\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, exc.code\n"
        "loaded = [m for m in sys.modules if m.startswith('gjenganger.commands.')]\n"
        "print('LOADED', loaded)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "gjenganger 0.1.0" in out or "gjenganger " in out.splitlines()[0]
    assert "LOADED []" in out
    assert "toplist" in out and "persons ranked by their linked cases" in out


def test_command_help_states_the_defaults(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["toplist", "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "default" in text and "365" in text


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            [
                "nightly",
                "--inbox",
                "x",
                "--db",
                "y",
                "--publish",
                "z",
                "--as-of",
                "2026",
            ],
            "--as-of: not a date",
        ),
        (["generate", "--out", "x", "--start", "31.12.2025"], "--start: not a date"),
        (["toplist", "--db", "x", "--as-of", "2025-13-01"], "--as-of: not a date"),
        (
            [
                "timeline",
                "--db",
                "x",
                "--person",
                "P",
                "--out",
                "o.html",
                "--from",
                "x",
            ],
            "--from: not a date",
        ),
        (
            [
                "timeline",
                "--db",
                "x",
                "--person",
                "P",
                "--out",
                "o.html",
                "--to",
                "2-3",
            ],
            "--to: not a date",
        ),
        (["nosuchcommand"], "invalid choice: 'nosuchcommand'"),
        (["toplist"], "required: --db"),
        (["toplist", "--db", "x", "--n", "many"], "--n: not a whole number"),
        (["toplist", "--db", "x", "--n", "0"], "--n: must be at least 1"),
        (
            ["toplist", "--db", "x", "--window-days", "-5"],
            "--window-days: must be at least 1",
        ),
        (["attribute", "--db", "x", "--as-of", "2025-02-30"], "--as-of: not a date"),
        (
            ["attribute", "--db", "x", "--window-days", "0"],
            "--window-days must be at least 1",
        ),
        (["attribute", "--db", "x", "--keep-days", "x"], "--keep-days: invalid int"),
        (["attribute", "--db", "x", "--limit", "0"], "--limit: must be at least 1"),
        (["phases", "--db", "x", "--as-of", "20.03.2026"], "--as-of: not a date"),
        (["phases", "--db", "x", "--days", "0"], "--days must be at least 30"),
        (
            ["hotspots", "--db", "x", "--out", "m.html", "--as-of", "yesterday"],
            "--as-of: not a date",
        ),
        (
            ["hotspots", "--db", "x", "--out", "m.html", "--cell-m", "abc"],
            "--cell-m: invalid float",
        ),
        (
            ["hotspots", "--db", "x", "--out", "m.html", "--window-days", "0"],
            "--window-days must be >= 1",
        ),
        (["episodes", "--db", "x", "--as-of", "x"], "--as-of: not a date"),
        (["episodes", "--db", "x", "--min-nok", "-5"], "--min-nok must be 0 or more"),
        (["episodes", "--db", "x", "--limit", "0"], "--limit: must be at least 1"),
        (
            ["nightly", "--inbox", "x", "--db", "y", "--publish", "z", "--keep", "0"],
            "--keep: must be at least 1",
        ),
        (["generate", "--out", "x", "--days", "x"], "--days: invalid int"),
        (["generate", "--out", "x", "--seed", "1.5"], "--seed: invalid int"),
        (["purge", "--db", "x", "--older-than", "x"], "--older-than: invalid int"),
        (["audit", "show", "--since", "yesterday"], "--since: not a date"),
        (
            ["query", "--purpose", "a real study", "--snapshot", "s", "--role", "boss"],
            "--role: invalid choice: 'boss'",
        ),
    ],
)
def test_argument_errors_are_one_line_and_exit_2(argv, says, capsys):
    """Issue #17: a bad date or number in any command is one line naming it."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "usage:" not in err and says in err, err


# ------------------------------------------------ global options, as-of dates
@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    """Two cases reported 2026-11-20 (a person linked to one), ingested."""
    from batchkit import incident, link, write_batch

    from gjenganger.flows.steps.ingest import ingest
    from gjenganger.store import db

    root = tmp_path_factory.mktemp("cli")
    write_batch(
        root / "inbox",
        "2026-11-20",
        {
            "incidents": [incident(1), incident(2, status="solved")],
            "incident_persons": [link("INC-2")],
        },
    )
    con = db.connect(root / "g.duckdb")
    try:
        ingest(con, root / "inbox")
    finally:
        con.close()
    return root / "g.duckdb"


def test_an_as_of_after_the_data_says_so_and_keeps_stdout_json(small_db, capsys):
    args = ["toplist", "--db", str(small_db), "--window-days", "30", "--json"]
    assert main([*args, "--as-of", "2026-11-25"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)[0]["cases"] == 1  # the case is in the window
    assert err.strip().splitlines() == [
        "gjenganger: as-of 2026-11-25 is after the newest data (2026-11-20); "
        "reports after 2026-11-20 are not in the database yet"
    ]


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        (
            "2030-01-01",
            "as-of 2030-01-01 is 1,138 days after the newest data "
            "(2026-11-20), beyond the 30-day window: nothing to show",
        ),
        ("2020-01-01", "as-of 2020-01-01 is before the oldest data (2026-11-20)"),
    ],
)
def test_an_as_of_outside_the_data_is_one_line_not_an_empty_list(
    small_db, capsys, as_of, message
):
    args = ["toplist", "--db", str(small_db), "--window-days", "30", "--json"]
    assert main([*args, "--as-of", as_of]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_query_takes_the_global_options_after_the_command_name(small_db, tmp_path):
    from gjenganger.flows.steps.research import build_snapshot
    from gjenganger.store import db

    con = db.connect(small_db, read_only=False)
    try:
        build_snapshot(con, tmp_path / "research", b"q" * 32)
    finally:
        con.close()
    env = {**os.environ, "GJENGANGER_HOME": str(tmp_path / "home")}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "gjenganger",
            "query",
            "--user",
            "forsker3",
            "--role",
            "researcher",
            "--purpose",
            "counting cases for a pilot",
            "--snapshot",
            str(tmp_path / "research" / "gjenganger.duckdb"),
            "--json",
            "select count(*) as n from cases",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [{"n": 2}]
    log = db.connect(tmp_path / "home" / "audit.duckdb", migrate=False)
    rows = log.execute("select user_name, role from audit_log").fetchall()
    log.close()
    assert rows == [("forsker3", "researcher")]


def test_a_global_option_before_the_command_still_wins():
    parser = build_parser(only="toplist")
    args = parser.parse_args(["--user", "anna", "toplist", "--db", "x"])
    assert args.user == "anna" and args.role is None and args.quiet is False
    args = parser.parse_args(["toplist", "--db", "x", "--role", "operator", "-q"])
    assert args.user is None and args.role == "operator" and args.quiet is True

"""The one CLI: every command has help; failures are one line and non-zero."""

from __future__ import annotations

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
    "argv",
    [
        ["nightly", "--inbox", "x", "--db", "y", "--publish", "z", "--as-of", "2026"],
        ["generate", "--out", "x", "--start", "31.12.2025"],
        ["toplist", "--db", "x", "--as-of", "2025-13-01"],
        ["timeline", "--db", "x", "--person", "P", "--out", "o.html", "--from", "x"],
        ["nosuchcommand"],
        ["toplist"],
    ],
)
def test_argument_errors_are_one_line_and_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "usage:" not in err

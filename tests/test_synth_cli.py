"""`gjenganger generate` on the command line: options, errors and the JSON summary."""

from __future__ import annotations

import json

import pytest

from gjenganger.cli import build_parser, main


def test_generate_is_a_documented_subcommand():
    parser = build_parser(only="generate")
    help_text = parser.format_help()
    assert "generate" in help_text
    sub = parser._subparsers._group_actions[0].choices["generate"]  # noqa: SLF001
    text = sub.format_help()
    for option in (
        "--out",
        "--seed",
        "--start",
        "--days",
        "--scale",
        "--catch-rate-factor",
        "--batch-days",
        "--format",
        "--json",
    ):
        assert option in text


def test_json_summary_names_the_paths_and_counts(tmp_path, capsys):
    code = main(
        [
            "generate",
            "--out",
            str(tmp_path),
            "--days",
            "12",
            "--scale",
            "0.1",
            "--batch-days",
            "4",
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["inbox"] == str(tmp_path / "inbox")
    assert summary["batches"] == 3 and summary["incidents"] > 0
    assert sorted(p.name for p in (tmp_path / "inbox").iterdir()) == [
        "2024-01-01",
        "2024-01-05",
        "2024-01-09",
    ]
    assert summary["episode_44k"]["total_nok"] >= 44_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "--days must be at least 1"),
        (["--days", "5", "--scale", "0"], "--scale must be between"),
        (["--days", "5", "--batch-days", "0"], "--batch-days must be at least 1"),
        (["--days", "5", "--catch-rate-factor", "-1"], "--catch-rate-factor"),
    ],
)
def test_bad_options_are_one_line_user_errors(tmp_path, capsys, args, message):
    assert main(["generate", "--out", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gjenganger: ") and message in err[0]


def test_an_out_folder_under_a_file_is_a_user_error(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert main(["generate", "--out", str(blocker / "sub"), "--days", "2"]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_existing_output_is_kept_unless_forced(tmp_path, capsys):
    args = ["generate", "--out", str(tmp_path), "--days", "2", "--scale", "0.05"]
    assert main(args) == 0
    assert main(args) == 2
    assert "pass --force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0

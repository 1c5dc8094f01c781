"""A night with nothing to analyse (an empty inbox, or one whose only batch is
damaged) ends in one line naming why, not in Prefect tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CODE = "import sys; from gjenganger.cli import main; sys.exit(main(sys.argv[1:]))"


def _night(tmp_path, inbox):
    env = {**os.environ, "GJENGANGER_HOME": str(tmp_path / "home")}
    env.pop("GJENGANGER_DEBUG", None)
    args = ["nightly", "--inbox", str(inbox), "--db", str(tmp_path / "g.duckdb")]
    args += ["--publish", str(tmp_path / "pub")]
    return subprocess.run(
        [sys.executable, "-c", CODE, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
@pytest.mark.parametrize("damaged", [False, True])
def test_nothing_to_analyse_is_one_line(tmp_path, damaged):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    if damaged:
        (inbox / "2026-01-01").mkdir()
        (inbox / "2026-01-01" / "manifest.json").write_text("not json")
    done = _night(tmp_path, inbox)
    assert done.returncode == 2
    problems = [ln for ln in done.stderr.splitlines() if not ln.startswith("[")]
    assert len(problems) == 1, done.stderr
    assert "nothing to analyse" in problems[0]
    assert "Traceback" not in done.stderr + done.stdout
    if damaged:
        assert "1 batch(es) rejected, first 2026-01-01" in problems[0]
    else:
        assert "the inbox held no batch" in problems[0]

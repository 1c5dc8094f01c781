"""One nightly run per database: a second waits its turn with a clear reason."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from gjenganger.errors import UserError
from gjenganger.store import runlock


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path):
    db = tmp_path / "db.duckdb"
    with runlock.hold(db) as path:
        assert path.read_text().strip() == str(os.getpid())
        with (
            pytest.raises(
                UserError, match=rf"another gjenganger run \(PID {os.getpid()}\)"
            ),
            runlock.hold(db),
        ):
            pass
    with runlock.hold(db):  # released when the block ends
        pass
    with (
        runlock.hold(tmp_path / "other.duckdb"),  # another database is another lock
        runlock.hold(db),
    ):
        pass


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    db = tmp_path / "db.duckdb"
    code = (
        "import sys, time; from gjenganger.store import runlock\n"
        f"with runlock.hold({str(db)!r}):\n"
        "    print('held', flush=True); time.sleep(120)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match=rf"PID {holder.pid}\)"), runlock.hold(db):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
    with runlock.hold(db):
        pass


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_the_nightly_flow_refuses_to_start_while_another_run_holds_the_database(
    tmp_path,
):
    from gjenganger.flows.nightly import nightly

    (tmp_path / "inbox").mkdir()
    db = tmp_path / "db.duckdb"
    with runlock.hold(db), pytest.raises(UserError, match="another gjenganger run"):
        nightly(str(tmp_path / "inbox"), str(db), str(tmp_path / "publish"))
    assert not db.exists()  # nothing was opened, ingested or published
    assert not (tmp_path / "publish" / "latest").exists()


def test_the_command_says_so_in_one_line_and_exits_non_zero(tmp_path):
    (tmp_path / "inbox").mkdir()
    db = tmp_path / "db.duckdb"
    with runlock.hold(db):
        res = subprocess.run(
            [
                sys.executable,
                "-m",
                "gjenganger",
                "nightly",
                "--inbox",
                str(tmp_path / "inbox"),
                "--db",
                str(db),
                "--publish",
                str(tmp_path / "publish"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        f"gjenganger: another gjenganger run (PID {os.getpid()}) is working on {db};"
        " wait for it to finish or stop it"
    ]


@pytest.mark.parametrize(
    "command",
    [
        ["ingest", "INBOX"],
        ["purge", "--older-than", "30"],
        ["attribute"],
        ["phases"],
        ["episodes", "--write"],
    ],
)
def test_commands_that_write_wait_for_a_running_night(tmp_path, command):
    (tmp_path / "inbox").mkdir()
    db = tmp_path / "db.duckdb"
    argv = [str(tmp_path / "inbox") if a == "INBOX" else a for a in command]
    with runlock.hold(db):
        res = subprocess.run(
            [sys.executable, "-m", "gjenganger", *argv, "--db", str(db)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert res.returncode == 2, res.stderr
    assert "another gjenganger run" in res.stderr and not db.exists()


def test_commands_that_only_read_do_not_take_the_lock(tmp_path):
    from gjenganger.store import db

    path = tmp_path / "db.duckdb"
    db.connect(path).close()
    with runlock.hold(path):
        res = subprocess.run(
            [
                sys.executable,
                "-m",
                "gjenganger",
                "phases",
                "--no-write",
                "--db",
                str(path),
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert "another gjenganger run" not in res.stderr

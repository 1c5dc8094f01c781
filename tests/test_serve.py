"""`gjenganger serve` against a live local Prefect server: the deployment and its
cron schedule in Europe/Oslo are registered, and Ctrl-C stops server and serving."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


@pytest.mark.slow
def test_serve_registers_the_nightly_schedule_and_stops_on_ctrl_c(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["GJENGANGER_HOME"] = str(tmp_path / "home")
    (tmp_path / "inbox").mkdir()
    gj = Path(sys.executable).parent / "gjenganger"
    proc = subprocess.Popen(
        [
            str(gj),
            "serve",
            "--inbox",
            str(tmp_path / "inbox"),
            "--db",
            str(tmp_path / "db.duckdb"),
            "--publish",
            str(tmp_path / "publish"),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    api = f"http://127.0.0.1:{port}/api"
    deployment = None
    try:
        deadline = time.time() + 180
        while time.time() < deadline and proc.poll() is None:
            try:
                deployment = _get(
                    f"{api}/deployments/name/gjenganger-nightly/gjenganger-nightly"
                )
                break
            except OSError:
                time.sleep(2)
        assert deployment is not None, (
            proc.stderr.read1().decode() if proc.poll() else "timeout"
        )
        crons = [
            (s["schedule"].get("cron"), s["schedule"].get("timezone"))
            for s in deployment["schedules"]
        ]
        assert crons == [("0 2 * * *", "Europe/Oslo")]
        assert deployment["parameters"]["db_path"] == str(
            (tmp_path / "db.duckdb").resolve()
        )
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0
    time.sleep(1)
    with socket.socket() as s:  # the local server is gone with it
        assert s.connect_ex(("127.0.0.1", port)) != 0

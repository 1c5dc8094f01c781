"""`gjenganger serve`: run the nightly flow on a cron schedule with Prefect's
`serve`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from gjenganger.errors import UserError
from gjenganger.store import publish

DEFAULT_CRON = "0 2 * * *"
TIMEZONE = "Europe/Oslo"


def register(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the nightly flow on a cron schedule (default 02:00 Europe/Oslo)",
        description="Serve the nightly flow with Prefect's `serve` on the schedule "
        f"--cron (default '{DEFAULT_CRON}', i.e. every night at 02:00) in the "
        f"{TIMEZONE} time zone. Prefect will not schedule on its temporary server, so "
        "this connects to the server in PREFECT_API_URL, or, with none set, starts a "
        "local `prefect server` on 127.0.0.1 (SQLite, no telemetry) and stops it on "
        "exit. Ctrl-C stops serving. For a production Prefect server with PostgreSQL "
        "and the UI, see the README.",
    )
    p.add_argument("--inbox", type=Path, required=True, help="folder of batch folders")
    p.add_argument("--db", type=Path, required=True, help="DuckDB database file")
    p.add_argument("--publish", type=Path, required=True, help="publication folder")
    p.add_argument(
        "--cron", default=DEFAULT_CRON, help=f"schedule (default '{DEFAULT_CRON}')"
    )
    p.add_argument("--lang", choices=("nb", "en"), default="nb", help="page language")
    p.add_argument(
        "--port", type=int, default=0, help="port for the local server (0: free)"
    )
    p.add_argument(
        "--runner",
        choices=("local", "dask"),
        default="local",
        help="where mapped per-person and per-group tasks run",
    )
    p.add_argument(
        "--dask-address",
        default=None,
        metavar="ADDR",
        help="scheduler of an existing Dask cluster (with --runner dask)",
    )
    p.set_defaults(func=run)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise UserError(f"local prefect server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise UserError(f"local prefect server at {url} did not start in {seconds:.0f} s")


def run(args) -> int:
    if not args.inbox.is_dir():
        raise UserError(f"inbox {args.inbox} does not exist or is not a folder")
    publish.check_writable(args.publish)
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        port = args.port or _free_port()
        url = f"http://127.0.0.1:{port}/api"
        env = {
            **os.environ,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_ENABLED": "false",
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        print(f"started local prefect server at {url}", file=sys.stderr)
        _wait_healthy(url, server)  # Prefect 3 answers at /api/health
        os.environ["PREFECT_API_URL"] = url
    try:
        from prefect.schedules import Cron

        from gjenganger.flows.nightly import nightly_with

        nightly_with(args.runner, args.dask_address).serve(
            name="gjenganger-nightly",
            schedules=[Cron(args.cron, timezone=TIMEZONE)],
            parameters={
                "inbox": str(args.inbox.resolve()),
                "db_path": str(args.db.resolve()),
                "publish_dir": str(args.publish.resolve()),
                "lang": args.lang,
            },
        )
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
    return 0

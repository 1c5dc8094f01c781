"""`gjenganger nightly`: run the nightly Prefect flow once, now."""

from __future__ import annotations

import json
from pathlib import Path

from gjenganger.arguments import add_as_of, positive
from gjenganger.errors import UserError
from gjenganger.store import publish, runlock


def register(sub) -> None:
    p = sub.add_parser(
        "nightly",
        help="run the nightly flow once: ingest, analytics, publish bundles",
        description="Run the nightly Prefect flow in local ephemeral mode (no server, "
        "no network): ingest INBOX into DB, build the top list, attribution, phases, "
        "hotspots and episodes, and publish the analyst, prevention and research "
        "bundles atomically into PUBLISH/nights/<run>, pointed at by PUBLISH/latest.",
    )
    p.add_argument("--inbox", type=Path, required=True, help="folder of batch folders")
    p.add_argument("--db", type=Path, required=True, help="DuckDB database file")
    p.add_argument("--publish", type=Path, required=True, help="publication folder")
    add_as_of(p, "analysis date (default: the newest report in the data)")
    p.add_argument("--lang", choices=("nb", "en"), default="nb", help="page language")
    p.add_argument(
        "--keep", type=positive, default=7, help="published nights to keep (>= 1)"
    )
    p.add_argument(
        "--runner",
        choices=("local", "dask"),
        default="local",
        help="where mapped per-person and per-group tasks run: threads "
        "in this process (local) or a Dask cluster through prefect-dask",
    )
    p.add_argument(
        "--dask-address",
        default=None,
        metavar="ADDR",
        help="scheduler of an existing Dask cluster (tcp://host:8786); "
        "default with --runner dask: a temporary local cluster",
    )
    p.add_argument("--json", action="store_true", help="print the run report as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    if not args.inbox.is_dir():
        raise UserError(f"inbox {args.inbox} does not exist or is not a folder")
    publish.check_writable(args.publish)
    if args.dask_address and args.runner != "dask":
        raise UserError("--dask-address needs --runner dask")
    runlock.ensure_free(args.db)
    from gjenganger.flows.nightly import nightly_with

    try:
        report = nightly_with(args.runner, args.dask_address)(
            str(args.inbox),
            str(args.db),
            str(args.publish),
            as_of=args.as_of,
            lang=args.lang,
            keep_nights=args.keep,
        )
    except UserError:
        raise
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"nightly run failed: {first}") from exc
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        latest = (Path(args.publish) / "latest").resolve()
        print(f"database:   {args.db.resolve()}")
        for bundle in ("analyst", "prevention", "research"):
            print(f"{bundle + ':':11} {latest / bundle}")
        print(f"run report: {latest / 'run-report.json'}")
        print("open in a browser:")
        print(f"  analysts:             {latest / 'analyst' / 'index.html'}")
        hotspots = latest / "prevention" / "hotspots" / "index.html"
        print(f"  prevention officers:  {hotspots}")
        print(f"  researchers:          {latest / 'research' / 'codebook.html'}")
        print(f"    (the DuckDB file:   {latest / 'research' / 'gjenganger.duckdb'})")
    return 0

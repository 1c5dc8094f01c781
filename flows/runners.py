"""Where the nightly's mapped tasks run: a thread pool in this process or a Dask
cluster (`task_runner`), and the Prefect API a local cluster's workers report to
(`worker_api`)."""

from __future__ import annotations

from contextlib import nullcontext

RUNNERS = ("local", "dask")


def task_runner(
    runner: str = "local", dask_address: str | None = None, workers: int = 2
):
    """The Prefect task runner for the mapped steps.

    `local`: a thread pool in this process. `dask`: `prefect_dask.DaskTaskRunner`
    on the scheduler at `dask_address`, or a temporary local cluster of `workers`
    single-threaded processes (no dashboard, quiet logs).
    """
    if runner == "local":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
    if runner != "dask":
        raise ValueError(f"runner must be one of {RUNNERS}, got {runner!r}")
    import logging

    from prefect_dask import DaskTaskRunner

    if dask_address:
        return DaskTaskRunner(address=dask_address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
            "silence_logs": logging.WARNING,
        }
    )


def worker_api():
    """A settings context pointing a local Dask cluster's tasks at this flow's Prefect
    API. Without it, with no PREFECT_API_URL set, every Dask worker starts an
    ephemeral Prefect server of its own on the same database file. A remote cluster
    (`--dask-address`) needs PREFECT_API_URL set to a server its workers can reach."""
    from prefect.context import FlowRunContext
    from prefect.settings import PREFECT_API_URL, temporary_settings

    ctx = FlowRunContext.get()
    runner = getattr(ctx, "task_runner", None)
    if (
        type(runner).__name__ != "DaskTaskRunner"
        or runner.address
        or PREFECT_API_URL.value()
        or ctx.client is None
    ):
        return nullcontext()
    url = str(ctx.client.api_url).rstrip("/")
    return temporary_settings(updates={PREFECT_API_URL: url})

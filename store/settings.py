"""Run-time settings from the environment, and the offline, no-telemetry defaults."""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path


def configure_environment() -> None:
    """Set Prefect and telemetry variables before Prefect is imported.

    Prefect runs in local ephemeral mode with a private home, no analytics and a
    generous server start-up timeout; nothing here needs the network.
    """
    home = Path(os.environ.get("GJENGANGER_HOME", Path.home() / ".gjenganger"))
    os.environ.setdefault("PREFECT_HOME", str(home / "prefect"))
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_API_ENABLE_HTTP2", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
    # Prefect's SQLite cannot create its file in a missing folder
    with suppress(OSError):
        Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)

"""Shared fixtures: environment for offline Prefect, fresh databases, tiny batches."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# Offline, no telemetry, private Prefect home, before anything imports prefect.
os.environ.setdefault(
    "GJENGANGER_HOME", str(Path(__file__).parent.parent / ".gjenganger-home")
)
# Under pytest-xdist (`make test` runs two workers) each worker gets its own home:
# its own Prefect database and server, audit anchors and keys, so two workers never
# share a SQLite file or a lock.
if _worker := os.environ.get("PYTEST_XDIST_WORKER"):
    _home = Path(os.environ["GJENGANGER_HOME"]) / f"xdist-{_worker}"
    os.environ["GJENGANGER_HOME"] = str(_home)
    os.environ["PREFECT_HOME"] = str(_home / "prefect")
from gjenganger.store import settings  # noqa: E402

settings.configure_environment()


@pytest.fixture
def con(tmp_path):
    """A fresh, migrated database file in tmp_path; closed afterwards."""
    from gjenganger.store import db

    connection = db.connect(tmp_path / "test.duckdb")
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test harness (temporary local API) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield

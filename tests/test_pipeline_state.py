"""Resume state: a step resumes only for the same inputs and the same code."""

from __future__ import annotations

import sys
from datetime import date

import duckdb
import pytest

from gjenganger.flows.steps import state
from gjenganger.store import steps as marks


@pytest.fixture
def fake_code(tmp_path, monkeypatch):
    """A throwaway package standing in for the step code, on sys.path."""
    pkg = tmp_path / "src" / "stepcode"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "view.sql").write_text("select 1")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    monkeypatch.setattr(state, "CODE_PACKAGES", ("stepcode",))
    state.code_digest.cache_clear()
    yield pkg
    sys.modules.pop("stepcode", None)
    state.code_digest.cache_clear()


def test_code_version_follows_the_source_files(fake_code):
    v1 = state.code_version()
    assert len(v1) == 64 and state.code_version() == v1
    (fake_code / "sub" / "view.sql").write_text("select 2")
    state.code_digest.cache_clear()
    v2 = state.code_version()
    assert v2 != v1
    (fake_code / "notes.txt").write_text("not code")
    state.code_digest.cache_clear()
    assert state.code_version() == v2


def test_a_finished_step_resumes_until_the_code_changes(fake_code):
    con = duckdb.connect()

    def key():
        return state.input_hash("toplist", data="3:x", as_of=date(2025, 10, 10))

    marks.mark_finished(con, "toplist", key(), {"persons": 7})
    assert marks.finished(con, "toplist", key()) == {"persons": 7}
    assert key() != state.input_hash("toplist", data="4:y", as_of=date(2025, 10, 10))
    (fake_code / "__init__.py").write_text("MODEL_VERSION = 'v3'\n")
    state.code_digest.cache_clear()
    assert marks.finished(con, "toplist", key()) is None

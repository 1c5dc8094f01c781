"""The contract declaration drives the DDL, the dictionary and validation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gjenganger.data_schema import ddl, dictionary
from gjenganger.data_schema.contract import TABLES
from gjenganger.data_schema.validation import fnr_is_valid


def test_generated_sql_files_match_the_contract():
    for path, text in ddl.expected_files().items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: make ddl"


def test_data_dictionary_matches_the_contract():
    assert dictionary.DOC.read_text(encoding="utf-8") == dictionary.render()


def test_live_database_columns_match_the_contract(con):
    for table in TABLES:
        for name, extra in (
            (table.name, ["batch_id"]),
            (f"stg_{table.name}", ["batch_id", "source_file", "line"]),
        ):
            described = con.execute(f"describe {name}").fetchall()
            got = [(r[0], r[1], r[2]) for r in described]
            want = [
                (c.name, c.duckdb_type, "YES" if c.nullable else "NO")
                for c in table.columns
            ]
            assert got[: len(want)] == want
            assert [r[0] for r in got[len(want) :]] == extra


def test_known_identity_numbers_pass_the_mod11_check():
    # constructed: 150765 005 + check digits 6, 5
    assert fnr_is_valid("15076500565")
    assert not fnr_is_valid("15076500566")
    assert not fnr_is_valid("1507650056")


@pytest.mark.slow
@settings(deadline=None, max_examples=300)
@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_sql_and_python_mod11_checks_agree(digits):
    got = _mem().execute("select fnr_valid(?)", [digits]).fetchone()[0]
    assert got == fnr_is_valid(digits)


_MEM = []


def _mem():
    if not _MEM:
        import duckdb

        from gjenganger.data_schema.validation import macro_sql

        c = duckdb.connect()
        for s in macro_sql():
            c.execute(s)
        _MEM.append(c)
    return _MEM[0]


def test_identity_guard_finds_numbers_inside_text_and_split_by_a_space():
    c = _mem()
    rows = c.execute(
        "select has_fnr('note 15076500565 x'), has_fnr('150765 00565'),"
        " has_fnr('115076500565'), has_fnr('63.430512'), has_fnr_number('15076500565'),"
        " has_fnr_number('63.15076500565')"
    ).fetchone()
    assert rows == (True, True, False, False, True, False)

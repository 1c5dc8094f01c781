"""Property: whatever a row holds, ingest never raises and never loses it."""

from __future__ import annotations

import itertools

import pytest
from batchkit import incident, link, write_batch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gjenganger.data_schema.contract import INCIDENTS
from gjenganger.flows.steps.ingest import ingest
from gjenganger.store import db

NASTY = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "NULL",
            "15076500565",
            "150765 00565",
            "1e309",
            "-0",
            "nan",
            "2026-02-30T10:00:00",
            "63.4",
            "99.9",
            "true",
            "ja",
            '"',
            ",",
            "\n",
            "2026-11-20T07:30:00+14:00",
            "9" * 40,
            "Ø" * 50,
        ]
    ),
)
COLUMNS = st.sampled_from(INCIDENTS.column_names)
_counter = itertools.count()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    mutations=st.lists(
        st.lists(st.tuples(COLUMNS, NASTY), max_size=4), min_size=1, max_size=8
    )
)
@pytest.mark.slow
@example(mutations=[[("incident_id", "0\r")]])  # once crashed DuckDB's CSV parser
def test_mutated_rows_are_each_loaded_or_quarantined_and_ingest_never_raises(
    tmp_path, mutations
):
    run = tmp_path / f"run{next(_counter)}"
    rows = []
    for i, muts in enumerate(mutations):
        row = incident(i)
        for col, value in muts:
            row[col] = value
        rows.append(row)
    write_batch(
        run / "inbox",
        "2026-11-20",
        {"incidents": rows, "incident_persons": [link("INC-0")]},
    )
    con = db.connect(run / "db.duckdb")
    try:
        (result,) = ingest(con, run / "inbox")
        assert result.status in ("loaded", "rejected")
        if result.status == "loaded":
            for counts in result.files.values():
                assert counts.read == counts.loaded + counts.quarantined
            inc = result.files["incidents.csv"]
            assert inc.read == len(rows)
            stored = con.execute("select count(*) from stg_incidents").fetchone()[0]
            held = con.execute(
                "select count(*) from quarantine where source_file = 'incidents.csv'"
            ).fetchone()[0]
            assert (stored, held) == (inc.loaded, inc.quarantined)
            assert (
                con.execute(
                    "select count(*) from quarantine where reason is null"
                ).fetchone()[0]
                == 0
            )
        else:
            assert result.reason
            assert con.execute("select count(*) from stg_incidents").fetchone()[0] == 0
    finally:
        con.close()

"""Issue #17, researchers: the snapshot explains itself.

Every table and column of a built snapshot carries a non-empty DuckDB comment (from
`data_schema/snapshot.py`, the source of the data dictionary too); the reference
tables are in it; `hotspot_cells` names its target type and window; the bundle's
codebook lists every table and column with its type, and codes with labels.
"""

from __future__ import annotations

import datetime as dt
import html

import duckdb
import pytest

from gjenganger.data_schema import dictionary
from gjenganger.data_schema import snapshot as described
from gjenganger.flows.steps import research as step


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A small generated world with every derived table the snapshot reads,
    and its research bundle (fixed salt)."""
    from gjenganger.flows.steps.episodes import build_episodes
    from gjenganger.flows.steps.hotspot_cells import build_hotspot_cells
    from gjenganger.flows.steps.ingest import ingest
    from gjenganger.flows.steps.phases import build_phases
    from gjenganger.store import db
    from gjenganger.synth.config import SynthConfig
    from gjenganger.synth.generator import generate

    root = tmp_path_factory.mktemp("codebook")
    cfg = SynthConfig(
        seed=5, start=dt.date(2025, 1, 6), days=60, scale=0.1, batch_days=60
    )
    generate(cfg, root / "data")
    con = db.connect(root / "db.duckdb")
    try:
        ingest(con, root / "data" / "inbox")
        build_episodes(con)
        build_phases(con)
        build_hotspot_cells(con)
        step.build_snapshot(con, root / "research", b"c" * 32)
    finally:
        con.close()
    return root / "research"


def _catalogue(path) -> tuple[list[tuple], list[tuple]]:
    snap = duckdb.connect(str(path), read_only=True)
    try:
        tables = snap.execute(
            "select table_name, comment from duckdb_tables()"
            " where database_name = current_database()"
        ).fetchall()
        columns = snap.execute(
            "select table_name, column_name, data_type, comment from duckdb_columns()"
            " where database_name = current_database()"
        ).fetchall()
    finally:
        snap.close()
    return tables, columns


def test_every_table_and_column_of_the_snapshot_has_a_comment(bundle):
    tables, columns = _catalogue(bundle / "gjenganger.duckdb")
    names = {t for t, _ in tables}
    assert {
        "cases",
        "case_persons",
        "episodes",
        "person_days",
        "use_periods",
        "hotspot_cells",
        "ref_offence_codes",
        "ref_codes",
        "about",
    } <= names
    assert [t for t, comment in tables if not (comment or "").strip()] == []
    assert len(columns) > 80
    missing = [(t, c) for t, c, _, comment in columns if not (comment or "").strip()]
    assert missing == []
    # the comment is the data_schema text, contract columns with their rule
    comments = {(t, c): text for t, c, _, text in columns}
    assert comments[("cases", "status")].startswith("case status (one of `open`")
    assert comments[("cases", "value_band")] == described.COLUMNS["cases"]["value_band"]


def test_offence_codes_have_labels_and_hotspot_cells_their_target_and_window(bundle):
    snap = duckdb.connect(str(bundle / "gjenganger.duckdb"), read_only=True)
    try:
        label = snap.execute(
            "select label_nb, label_en, group_label_nb from ref_offence_codes"
            " where offence_code = 'burglary_cabin'"
        ).fetchone()
        unlabelled = snap.execute(
            "select count(*) from cases c anti join ref_offence_codes r"
            " using (offence_code) where c.offence_code is not null"
        ).fetchone()[0]
        cells = snap.execute(
            "select count(*), count(distinct target_type), min(target_type),"
            " min(window_end - window_start), count(cell_size_m)"
            " from hotspot_cells"
        ).fetchone()
        phases = snap.execute(
            "select label_nb from ref_codes where code_list = 'phase' and code = 'rest'"
        ).fetchone()
    finally:
        snap.close()
    assert label == ("Hytteinnbrudd", "Cabin burglary", "Vinning")
    assert unlabelled == 0
    assert cells[0] > 0 and cells[1:3] == (1, "all")
    assert cells[3] == 27 and cells[4] == cells[0]  # a 28-day window, each row
    assert phases == ("Hvile",)


def test_the_codebook_lists_every_table_and_column_with_its_type(bundle):
    _, columns = _catalogue(bundle / "gjenganger.duckdb")
    page = html.unescape((bundle / "codebook.html").read_text(encoding="utf-8"))
    text = (bundle / "codebook.md").read_text(encoding="utf-8")
    assert "<script" not in page and "http" not in page  # offline, self-contained
    for table, column, dtype, comment in columns:
        assert f'id="{table}"' in page, table
        row = f"| `{column}` | {dtype} | {comment} |"
        assert row in text, (table, column)
        assert f"<code>{column}</code></td><td>{dtype}</td><td>{comment}" in page
    # codes with their labels and counts, for a coded column
    assert "phase1 = Fase 1 / Phase 1: " in text
    assert "burglary_cabin = Hytteinnbrudd / Cabin burglary" in text or (
        "burglary_cabin" not in text.split("## `cases`")[1]
    )


def test_every_snapshot_column_is_described_in_the_data_dictionary():
    """The dictionary's snapshot section and the comments share one source."""
    doc = dictionary.DOC.read_text(encoding="utf-8")
    assert doc == dictionary.render()
    for table, columns in described.COLUMNS.items():
        assert f"### {table}" in doc
        for column, text in columns.items():
            assert f"| `{column}` | {text} |" in doc


def test_a_column_without_a_description_cannot_be_published():
    """A column added upstream (here `person_days.person_id`) stops the snapshot
    until someone describes it (and so looks at what it would publish)."""
    with pytest.raises(KeyError, match="person_days.person_id"):
        described.describe_column("person_days", "person_id")
    assert described.describe_column("cases", "lat").startswith("WGS84 latitude")

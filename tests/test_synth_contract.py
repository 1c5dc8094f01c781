"""Every file the generator writes follows the export contract, row by row.

The rules are read from `data_schema.contract` (never re-declared here) and checked
independently of the ingest; the last test also loads the batches with the real
ingest and expects nothing in quarantine.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import shapely

from gjenganger.data_schema.contract import NORWAY_LAT, NORWAY_LON, TABLES
from gjenganger.synth import SynthConfig, generate, geography

START = date(2025, 3, 10)  # spans the switch to summer time (30 March)
DAYS = 40
#: Offence codes whose target type is fixed by the code.
CODE_TARGETS = {
    "burglary_cabin": {"cabin"},
    "burglary_construction": {"construction_site"},
    "burglary_storage": {"storage_room"},
    "burglary_home": {"private_home"},
    "burglary_public": {"public_building"},
    "burglary_business": {"business", "shop"},
    "mail_theft": {"mailbox"},
    "shoplifting": {"shop"},
    "bicycle_theft": {"bicycle"},
    "vehicle_theft": {"vehicle"},
    "theft_from_vehicle": {"vehicle"},
    "card_fraud": {"person", "online", "shop"},
}
ELEVEN_DIGITS = re.compile(rb"[0-9]{11}")


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    generate(SynthConfig(seed=11, start=START, days=DAYS, scale=0.3), root)
    return root


def _batches(out: Path) -> list[Path]:
    return sorted((out / "inbox").iterdir())


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema_length=0)


def _ts(col: pl.Series) -> list[datetime]:
    return [datetime.fromisoformat(v) for v in col.drop_nulls()]


def test_there_is_one_batch_per_day_named_by_its_iso_date(out):
    names = [p.name for p in _batches(out)]
    assert names == [(START + timedelta(days=i)).isoformat() for i in range(DAYS)]


def test_manifests_name_the_batch_and_export_at_0130_the_next_day(out):
    for folder in _batches(out):
        m = json.loads((folder / "manifest.json").read_text())
        assert m["batch_id"] == folder.name
        exported = datetime.fromisoformat(m["exported_at"])
        assert exported.tzinfo is not None
        assert exported.date() == date.fromisoformat(folder.name) + timedelta(days=1)
        assert (exported.hour, exported.minute) == (1, 30)
        assert m["exported_at"][-6:] in ("+01:00", "+02:00")


def test_manifest_row_counts_and_checksums_match_the_files(out):
    for folder in _batches(out):
        m = json.loads((folder / "manifest.json").read_text())
        assert set(m["files"]) == {f"{t.name}.csv" for t in TABLES}
        for name, entry in m["files"].items():
            data = (folder / name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], (folder, name)
            assert data.count(b"\n") - 1 == entry["rows"], (folder, name)


def test_every_file_has_the_contract_header_in_contract_order(out):
    for folder in _batches(out):
        for t in TABLES:
            header = (folder / f"{t.name}.csv").read_text().splitlines()[0]
            assert header.split(",") == list(t.column_names)


def _check_column(frame: pl.DataFrame, col, where: str) -> None:
    s = frame[col.name]
    if not col.nullable:
        assert s.null_count() == 0, f"{where}: {col.name} has empty values"
    v = s.drop_nulls()
    if col.allowed is not None:
        assert set(v.to_list()) <= set(col.allowed), f"{where}: {col.name} bad code"
    if col.pattern is not None:
        assert v.str.contains(col.pattern).all(), (
            f"{where}: {col.name} breaks {col.pattern}"
        )
    if col.type == "timestamp":
        assert all(t.tzinfo is not None for t in _ts(s)), (
            f"{where}: {col.name} without offset"
        )
    if col.type == "bool":
        assert set(v.to_list()) <= {"true", "false"}, f"{where}: {col.name}"
    if col.type in ("int", "decimal", "double"):
        x = v.cast(pl.Float64)
        if col.type == "int":
            assert (x == x.round(0)).all()
        if col.min_value is not None:
            assert (
                (x > col.min_value) if col.min_exclusive else (x >= col.min_value)
            ).all(), f"{where}: {col.name} below minimum"
        if col.max_value is not None:
            assert (x <= col.max_value).all(), f"{where}: {col.name} above maximum"


def test_every_value_has_its_contract_type_code_pattern_and_range(out):
    for folder in _batches(out):
        for t in TABLES:
            frame = _read(folder / f"{t.name}.csv")
            for col in t.columns:
                _check_column(frame, col, f"{folder.name}/{t.name}")


def test_coordinates_are_both_null_or_both_in_norway_with_at_most_six_decimals(out):
    for folder in _batches(out):
        for name in ("incidents", "card_transactions"):
            f = _read(folder / f"{name}.csv")
            assert (f["lat"].is_null() == f["lon"].is_null()).all()
            for c, (lo, hi) in (("lat", NORWAY_LAT), ("lon", NORWAY_LON)):
                v = f[c].drop_nulls()
                assert v.cast(pl.Float64).is_between(lo, hi).all()
                assert v.str.contains(r"^-?[0-9]+(\.[0-9]{1,6})?$").all()


def test_time_windows_are_ordered_and_reported_before_the_export(out):
    for folder in _batches(out):
        exported = datetime.fromisoformat(
            json.loads((folder / "manifest.json").read_text())["exported_at"]
        )
        f = _read(folder / "incidents.csv")
        for row in f.iter_rows(named=True):
            a, b, r, u = (
                datetime.fromisoformat(row[k])
                for k in ("occurred_from", "occurred_to", "reported_at", "updated_at")
            )
            assert a <= b <= r <= u <= exported, row["incident_id"]


def test_custody_ends_after_it_starts_and_versions_are_not_after_the_export(out):
    for folder in _batches(out):
        exported = datetime.fromisoformat(
            json.loads((folder / "manifest.json").read_text())["exported_at"]
        )
        for row in _read(folder / "custody.csv").iter_rows(named=True):
            start = datetime.fromisoformat(row["start_at"])
            if row["end_at"] is not None:
                assert datetime.fromisoformat(row["end_at"]) >= start
            assert datetime.fromisoformat(row["updated_at"]) <= exported


def test_links_and_card_uses_refer_to_cases_of_this_or_an_earlier_batch(out):
    seen: dict[str, str] = {}
    for folder in _batches(out):
        inc = _read(folder / "incidents.csv")
        seen.update(zip(inc["incident_id"], inc["offence_code"], strict=True))
        links = _read(folder / "incident_persons.csv")
        assert set(links["incident_id"]) <= set(seen)
        tx = _read(folder / "card_transactions.csv")
        assert {seen[i] for i in tx["incident_id"]} <= {"card_fraud"}


def test_no_value_anywhere_contains_a_run_of_eleven_digits(out):
    for path in sorted(out.rglob("*.csv")):
        assert not ELEVEN_DIGITS.search(path.read_bytes()), path


def test_offence_codes_match_their_target_types(out):
    inc = pl.concat([_read(f / "incidents.csv") for f in _batches(out)])
    for code, targets in CODE_TARGETS.items():
        got = set(inc.filter(pl.col("offence_code") == code)["target_type"])
        assert got <= targets, code
    assert inc["offence_code"].n_unique() >= 15


def test_municipality_is_the_polygon_holding_the_point(out):
    geo = geography.load()
    inc = pl.concat([_read(f / "incidents.csv") for f in _batches(out)])
    located = inc.filter(pl.col("lat").is_not_null())
    assert located["municipality_no"].null_count() == 0
    assert set(located["municipality_no"]) <= set(geo.municipality_codes)
    assert (
        inc.filter(pl.col("lat").is_null())["municipality_no"].null_count()
        == inc.filter(pl.col("lat").is_null()).height
    )
    lat = located["lat"].cast(pl.Float64).to_numpy()
    lon = located["lon"].cast(pl.Float64).to_numpy()
    for code, poly in zip(geo.municipality_codes, geo.municipalities, strict=True):
        mine = (located["municipality_no"] == code).to_numpy()
        assert shapely.contains_xy(poly, lon[mine], lat[mine]).all(), code
    assert len(set(located["municipality_no"])) == 6  # plus users roam all six


def test_only_online_cases_lack_coordinates_and_they_are_few(out):
    inc = pl.concat([_read(f / "incidents.csv") for f in _batches(out)])
    no_xy = inc.filter(pl.col("lat").is_null())
    assert set(no_xy["target_type"]) <= {"online"}
    assert 0 < no_xy.height / inc.height < 0.05


def test_a_later_batch_repeats_a_case_as_solved_with_a_newer_version(out):
    versions = pl.concat([_read(f / "incidents.csv") for f in _batches(out)])
    by_case = versions.group_by("incident_id").agg(
        pl.col("status").sort_by("updated_at").alias("statuses"), pl.len().alias("n")
    )
    later = by_case.filter(pl.col("n") > 1)
    assert later.height > 20
    assert all(
        s[0] == "open" and s[-1] in ("solved", "dropped") for s in later["statuses"]
    )
    first = versions.sort("updated_at").group_by("incident_id").first()
    assert ((first["status"] == "solved") == (first["arrest_at_scene"] == "true")).all()


def test_truth_files_have_the_documented_columns(out):
    truth = out / "truth"
    expected = {
        "offenders.csv": ["incident_id", "person_id"],
        "phases.csv": ["person_id", "date", "phase"],
        "episodes.csv": [
            "incident_id",
            "card_ref",
            "person_id",
            "start_at",
            "end_at",
            "n_transactions",
            "total_nok",
            "max_36h_nok",
            "scripted",
        ],
    }
    for name, cols in expected.items():
        assert _read(truth / name).columns == cols
    persons = _read(truth / "persons.csv")
    assert {"person_id", "group", "home_lat", "home_lon"} <= set(persons.columns)
    assert set(persons["group"]) == {"plus", "mixed", "minus", "mas", "background"}
    assert set(_read(truth / "phases.csv")["phase"]) <= {
        "rest",
        "phase1",
        "phase2",
        "phase3",
        "inactive",
    }


def test_truth_names_an_offender_for_every_exported_case(out):
    ids = set(
        pl.concat([_read(f / "incidents.csv") for f in _batches(out)])["incident_id"]
    )
    offenders = _read(out / "truth" / "offenders.csv")
    assert set(offenders["incident_id"]) == ids
    persons = set(_read(out / "truth" / "persons.csv")["person_id"])
    assert set(offenders["person_id"]) <= persons


def test_the_ingest_loads_every_row_and_quarantines_none(out, tmp_path):
    from gjenganger.flows.steps.ingest import ingest
    from gjenganger.store import db

    con = db.connect(tmp_path / "synth.duckdb")
    try:
        results = ingest(con, out / "inbox")
    finally:
        con.close()
    assert [r.status for r in results] == ["loaded"] * DAYS
    quarantined = sum(c.quarantined for r in results for c in r.files.values())
    assert quarantined == 0

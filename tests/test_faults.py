"""Bad input and faults through the real CLI: one line naming the file, non-zero,
nothing partial.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from batchkit import incident, link, write_batch

from gjenganger.store import db


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "gjenganger", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _count(path) -> int:
    con = db.connect(path)
    try:
        return con.execute("select count(*) from stg_incidents").fetchone()[0]
    finally:
        con.close()


def _manifest(folder, name, data: bytes, rows: int) -> None:
    m = json.loads((folder / "manifest.json").read_text())
    m["files"][name] = {"rows": rows, "sha256": hashlib.sha256(data).hexdigest()}
    (folder / "manifest.json").write_text(json.dumps(m))


def _damage(folder, kind: str) -> str:
    """Damage a batch folder; return the file name the error must name."""
    csv_path = folder / "incidents.csv"
    if kind == "truncated_csv":
        csv_path.write_bytes(csv_path.read_bytes()[:-40])
        return "incidents.csv"
    if kind == "not_utf8":
        data = csv_path.read_bytes().replace(b"business", b"bu\xffsiness", 1)
        csv_path.write_bytes(data)
        _manifest(folder, "incidents.csv", data, 3)
        return "incidents.csv"
    if kind == "manifest_not_json":
        (folder / "manifest.json").write_text("{'batch_id': 2026")
        return "manifest.json"
    if kind == "missing_required_file":
        (folder / "incident_persons.csv").unlink()
        m = json.loads((folder / "manifest.json").read_text())
        del m["files"]["incident_persons.csv"]
        (folder / "manifest.json").write_text(json.dumps(m))
        return "incident_persons"
    if kind == "corrupted_parquet":
        pq.write_table(
            pa.table({"incident_id": ["INC-9"]}), folder / "incidents.parquet"
        )
        data = (folder / "incidents.parquet").read_bytes()
        data = data[:20] + b"\x00garbage\x00" + data[29:]
        (folder / "incidents.parquet").write_bytes(data)
        csv_path.unlink()
        m = json.loads((folder / "manifest.json").read_text())
        del m["files"]["incidents.csv"]
        (folder / "manifest.json").write_text(json.dumps(m))
        _manifest(folder, "incidents.parquet", data, 1)
        return "incidents.parquet"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "truncated_csv",
        "not_utf8",
        "manifest_not_json",
        "missing_required_file",
        "corrupted_parquet",
    ],
)
def test_a_damaged_batch_gives_one_line_naming_the_file_and_loads_nothing(
    tmp_path, kind
):
    inbox, path = tmp_path / "inbox", tmp_path / "db.duckdb"
    folder = write_batch(
        inbox,
        "2026-11-20",
        {
            "incidents": [incident(1), incident(2), incident(3)],
            "incident_persons": [link("INC-1")],
        },
    )
    name = _damage(folder, kind)
    r = _cli("ingest", str(inbox), "--db", str(path))
    assert r.returncode == 3
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and "Traceback" not in r.stderr
    assert _count(path) == 0


def test_an_inbox_that_does_not_exist_is_one_line(tmp_path):
    r = _cli("ingest", str(tmp_path / "missing"), "--db", str(tmp_path / "d.duckdb"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "missing" in r.stderr


def test_a_publish_folder_that_cannot_be_written_is_one_line_before_any_work(tmp_path):
    blocker = tmp_path / "plain-file"
    blocker.write_text("not a folder")
    (tmp_path / "inbox").mkdir()
    r = _cli(
        "nightly",
        "--inbox",
        str(tmp_path / "inbox"),
        "--db",
        str(tmp_path / "d.duckdb"),
        "--publish",
        str(blocker / "publish"),
    )
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "publish" in r.stderr
    assert not (tmp_path / "d.duckdb").exists()


def test_a_database_path_in_a_missing_unwritable_place_is_one_line(tmp_path):
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")
    (tmp_path / "inbox").mkdir()
    r = _cli("ingest", str(tmp_path / "inbox"), "--db", str(blocker / "db.duckdb"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "plain-file" in r.stderr

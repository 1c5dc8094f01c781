"""Tiny contract-true batches for tests: rows in, a batch folder with manifest out."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

from gjenganger.data_schema.contract import TABLES_BY_NAME


def incident(i: int | str, **over) -> dict:
    """A valid incidents row; keyword arguments override columns."""
    row = {
        "incident_id": f"INC-{i}",
        "updated_at": "2026-11-20T08:00:00+01:00",
        "reported_at": "2026-11-20T07:30:00+01:00",
        "occurred_from": "2026-11-19T22:00:00+01:00",
        "occurred_to": "2026-11-20T06:00:00+01:00",
        "offence_code": "burglary_business",
        "target_type": "business",
        "entry_method": "cylinder_snap",
        "planned": "true",
        "participants": "1",
        "value_nok": "12000.50",
        "lat": "63.430500",
        "lon": "10.395100",
        "municipality_no": "5001",
        "status": "open",
        "arrest_at_scene": "false",
    }
    row.update({k: ("" if v is None else str(v)) for k, v in over.items()})
    return row


def link(incident_id: str, person_id: str = "Pabcdefghij", **over) -> dict:
    row = {
        "incident_id": incident_id,
        "person_id": person_id,
        "role": "suspect",
        "updated_at": "2026-11-20T09:00:00+01:00",
        "retracted": "false",
    }
    row.update({k: ("" if v is None else str(v)) for k, v in over.items()})
    return row


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([r.get(c, "") for c in columns])
    data = buf.getvalue().encode("utf-8")
    path.write_bytes(data)
    return data


def write_batch(
    inbox: Path,
    batch_id: str,
    tables: dict[str, list[dict]],
    exported_at: str = "2026-11-21T01:30:00+01:00",
    extra_columns: dict[str, list[str]] | None = None,
) -> Path:
    """Write one batch folder; incidents and incident_persons always exist."""
    folder = inbox / batch_id
    folder.mkdir(parents=True, exist_ok=True)
    tables = {"incidents": [], "incident_persons": [], **tables}
    files = {}
    for name, rows in tables.items():
        cols = list(TABLES_BY_NAME[name].column_names) + (extra_columns or {}).get(
            name, []
        )
        data = write_csv(folder / f"{name}.csv", cols, rows)
        files[f"{name}.csv"] = {
            "rows": len(rows),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    manifest = {"batch_id": batch_id, "exported_at": exported_at, "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def fix_manifest(folder: Path) -> None:
    """Recompute the manifest's sha256 and rows after a test edited a file."""
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in manifest["files"]:
        data = (folder / name).read_bytes()
        rows = max(
            len(list(csv.reader(io.StringIO(data.decode("utf-8", "replace"))))) - 1, 0
        )
        manifest["files"][name] = {
            "rows": rows,
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    (folder / "manifest.json").write_text(json.dumps(manifest))

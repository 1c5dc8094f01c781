"""Writing batches (contract format, manifest with row counts and sha256) and truth.

CSV: UTF-8, header row, `""` quoting where needed, empty field = null, timestamps ISO
8601 with the Oslo offset, decimals without trailing zeros, coordinates with at most
6 decimals. Parquet: the same columns, timestamps as Oslo-zoned datetimes, decimals
as Decimal(14, 2). Every batch folder holds all four tables (possibly header only).
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import polars as pl

from gjenganger.data_schema.contract import TABLES, Table
from gjenganger.synth.clock import Clock, iso, iso_one, local_datetime

EPOCH_COLUMNS = {
    "updated_at",
    "reported_at",
    "occurred_from",
    "occurred_to",
    "at",
    "start_at",
    "end_at",
}


def _decimal_text(name: str) -> pl.Expr:
    v = pl.col(name)
    return (
        pl.when(v.round(0) == v)
        .then(v.cast(pl.Int64).cast(pl.String))
        .otherwise(v.round(2).cast(pl.String))
        .alias(name)
    )


def shape(frame: pl.DataFrame, table: Table, fmt: str) -> pl.DataFrame:
    """Contract columns in contract order, typed for the format (plus `batch`)."""
    frame = (
        frame.rename({"_updated": "updated_at"})
        if "_updated" in frame.columns
        else frame
    )
    exprs = []
    for col in table.columns:
        name = col.name
        if name in EPOCH_COLUMNS:
            exprs.append(
                (iso if fmt == "csv" else local_datetime)(pl.col(name)).alias(name)
            )
        elif col.type == "decimal":
            exprs.append(
                _decimal_text(name)
                if fmt == "csv"
                else pl.col(name).cast(pl.Decimal(14, 2))
            )
        elif col.type == "int":
            exprs.append(pl.col(name).cast(pl.Int32))
        else:
            exprs.append(pl.col(name))
    return frame.select(*exprs, pl.col("batch"))


def _bytes(frame: pl.DataFrame, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "csv":
        frame.write_csv(buf, line_terminator="\n")
    else:
        frame.write_parquet(buf, compression="zstd", statistics=False)
    return buf.getvalue()


def write_batches(
    inbox: Path,
    clock: Clock,
    batch_days: int,
    fmt: str,
    frames: dict[str, pl.DataFrame],
    log,
) -> list[dict]:
    """One folder per batch; returns [{batch_id, exported_at, rows by table}]."""
    n_batches = (clock.days + batch_days - 1) // batch_days
    shaped = {t.name: shape(frames[t.name], t, fmt) for t in TABLES}
    parts = {
        name: {
            key[0]: df.drop("batch")
            for key, df in f.partition_by(
                "batch", as_dict=True, maintain_order=True
            ).items()
        }
        for name, f in shaped.items()
    }
    empty = {name: f.drop("batch").clear() for name, f in shaped.items()}
    inbox.mkdir(parents=True, exist_ok=True)
    out = []
    for b in range(n_batches):
        first = b * batch_days
        last = min(first + batch_days, clock.days) - 1
        batch_id = clock.date_of(first).isoformat()
        folder = inbox / batch_id
        folder.mkdir(exist_ok=True)
        files = {}
        for t in TABLES:
            df = parts[t.name].get(b, empty[t.name])
            data = _bytes(df, fmt)
            name = f"{t.name}.{fmt}"
            (folder / name).write_bytes(data)
            files[name] = {
                "rows": df.height,
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        exported = iso_one(int(clock.exported_at(last)))
        manifest = {
            "batch_id": batch_id,
            "exported_at": exported,
            "files": dict(sorted(files.items())),
        }
        (folder / "manifest.json").write_text(
            json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
        )
        out.append(
            {
                "batch_id": batch_id,
                "exported_at": exported,
                "rows": {t.name: files[f"{t.name}.{fmt}"]["rows"] for t in TABLES},
            }
        )
        if log and (b + 1) % 100 == 0:
            log(f"wrote {b + 1:,}/{n_batches:,} batches")
    return out


def write_truth(folder: Path, frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    """truth/<name>.csv for each frame; returns rows per file."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = {}
    for name, frame in frames.items():
        (folder / f"{name}.csv").write_bytes(_bytes(frame, "csv"))
        rows[f"{name}.csv"] = frame.height
    return rows

"""Finding batch folders in an inbox and checking them against their manifest.

A batch that fails any check here (manifest unreadable, a file missing, a row count
or checksum that differs, a file that is not UTF-8 or not Parquet, a header lacking
contract columns, an `exported_at` outside the sane window, a symlink leading out of
the inbox, an identity number in its batch_id, folder or a column name) is a
transfer fault and is rejected whole before anything of it is read into the
database.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from gjenganger.data_schema.contract import (
    FILE_FORMATS,
    TABLES,
    TIMESTAMP_FLOOR,
    TIMESTAMP_LEEWAY_HOURS,
)
from gjenganger.data_schema.identity import identity_numbers_in, mask_identity_numbers
from gjenganger.errors import UserError

OSLO = ZoneInfo("Europe/Oslo")
CHUNK = 1 << 20


class BatchRejectedError(Exception):
    """The batch does not match its manifest or cannot be read; nothing is loaded."""


@dataclass
class BatchFile:
    table: str
    name: str  # e.g. incidents.csv
    path: Path
    fmt: str  # csv | parquet
    rows: int  # as the manifest says
    columns: list[str] = field(default_factory=list)


@dataclass
class Batch:
    batch_id: str
    folder: Path
    manifest_sha256: str
    exported_at: datetime | None = None
    files: dict[str, BatchFile] = field(default_factory=dict)  # by table name


def list_batch_folders(inbox: Path) -> list[Path]:
    """Every batch folder of the inbox (sub-folders, hidden ones excepted)."""
    if not inbox.exists():
        raise UserError(f"inbox {inbox} does not exist")
    if not inbox.is_dir():
        raise UserError(f"inbox {inbox} is not a folder")
    try:
        return sorted(
            p for p in inbox.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
    except PermissionError as exc:
        raise UserError(f"cannot read inbox {inbox}: permission denied") from exc


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 timestamp; without an offset it is Europe/Oslo local time."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=OSLO)


def refuse_links_outside(folder: Path, inbox: Path) -> None:
    """`BatchRejectedError` when the batch folder, or anything in it, is a symlink
    leading out of the inbox: a batch is what the exporter wrote into the inbox,
    never a file elsewhere on the machine."""
    root = inbox.resolve()
    try:
        entries = [folder, *folder.iterdir()]
    except OSError as exc:
        raise BatchRejectedError(f"{folder}: cannot read ({exc.strerror})") from exc
    for path in entries:
        if not path.is_symlink():
            continue
        try:
            inside = path.resolve().is_relative_to(root)
        except (OSError, RuntimeError):  # a symlink loop
            inside = False
        if not inside:
            raise BatchRejectedError(
                f"{path}: a symlink leading out of the inbox; refused"
            )


def refuse_identity_names(folder: Path, batch_id: str) -> None:
    """`BatchRejectedError` when the batch_id or folder name holds a national
    identity number (pseudonymisation failed; both would reach every table and
    report). The message holds it masked."""
    for what, name in (("batch_id", batch_id), ("folder name", folder.name)):
        if identity_numbers_in(name):
            raise BatchRejectedError(
                f"{mask_identity_numbers(str(folder))}: {what}"
                f" '{mask_identity_numbers(name)}' holds a national identity"
                " number; pseudonymisation failed"
            )


def check_exported_at(text: object, now: datetime | None = None) -> datetime:
    """The manifest's `exported_at`: ISO 8601, not before the contract's floor and
    not more than its leeway ahead of `now` (a date like 9999-12-31 would become
    the as-of date of every command); `BatchRejectedError` otherwise."""
    try:
        value = parse_timestamp(str(text))
    except ValueError as exc:
        raise BatchRejectedError("exported_at is not ISO 8601") from exc
    now = now or datetime.now(UTC)
    leeway = timedelta(hours=TIMESTAMP_LEEWAY_HOURS)
    if not parse_timestamp(TIMESTAMP_FLOOR) <= value <= now + leeway:
        raise BatchRejectedError(
            f"exported_at {value.isoformat()} is before {TIMESTAMP_FLOOR[:10]} or"
            f" more than {TIMESTAMP_LEEWAY_HOURS} h in the future"
        )
    return value


def read_manifest(folder: Path) -> tuple[dict, str]:
    """The parsed manifest of a batch folder and the sha256 of its bytes."""
    path = folder / "manifest.json"
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise BatchRejectedError(f"{path}: manifest.json is missing") from exc
    except OSError as exc:
        raise BatchRejectedError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BatchRejectedError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict):
        raise BatchRejectedError(f"{path}: not a JSON object")
    return manifest, hashlib.sha256(raw).hexdigest()


def batch_id_of(folder: Path) -> str:
    """The manifest's batch_id, or the folder name when the manifest is unusable."""
    try:
        manifest, _ = read_manifest(folder)
    except BatchRejectedError:
        return folder.name
    bid = manifest.get("batch_id")
    return bid if isinstance(bid, str) and bid else folder.name


def _hash_and_check_utf8(path: Path, check_utf8: bool) -> str:
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                if check_utf8:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError as exc:
                        raise BatchRejectedError(
                            f"{path}: not UTF-8 (byte {offset + exc.start})"
                        ) from exc
                offset += len(chunk)
            if check_utf8:
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError as exc:
                    raise BatchRejectedError(
                        f"{path}: not UTF-8 (truncated character)"
                    ) from exc
    except OSError as exc:
        raise BatchRejectedError(f"{path}: cannot read ({exc.strerror})") from exc
    return digest.hexdigest()


def _csv_header(path: Path) -> list[str]:
    # utf-8-sig: a byte-order mark (exporters write one) is not part of the name
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        try:
            return next(csv.reader(fh))
        except StopIteration as exc:
            raise BatchRejectedError(f"{path}: empty file, no header row") from exc
        except csv.Error as exc:
            raise BatchRejectedError(f"{path}: unreadable header ({exc})") from exc


def _parquet_columns(path: Path) -> tuple[list[str], int]:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
        return list(meta.schema.names), meta.num_rows
    except Exception as exc:  # noqa: BLE001 - any parse failure is a bad file
        raise BatchRejectedError(f"{path}: not a readable Parquet file") from exc


def check_batch(folder: Path, now: datetime | None = None) -> Batch:
    """Check a batch folder against its manifest; `BatchRejectedError` if it fails.
    `now`: the clock of the load (`exported_at` may not lie beyond it)."""
    manifest, manifest_sha = read_manifest(folder)
    batch_id = manifest.get("batch_id")
    if not isinstance(batch_id, str) or not batch_id:
        raise BatchRejectedError(f"{folder / 'manifest.json'}: batch_id missing")
    refuse_identity_names(folder, batch_id)
    batch = Batch(batch_id=batch_id, folder=folder, manifest_sha256=manifest_sha)
    try:
        batch.exported_at = check_exported_at(manifest.get("exported_at"), now)
    except BatchRejectedError as exc:
        raise BatchRejectedError(f"{folder / 'manifest.json'}: {exc}") from exc
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise BatchRejectedError(f"{folder / 'manifest.json'}: files is not an object")

    data_names = {f"{t.name}.{fmt}": t for t in TABLES for fmt in FILE_FORMATS}
    on_disk = {p.name for p in folder.iterdir() if p.is_file() and p.name in data_names}
    for name in sorted(set(listed) - on_disk):
        raise BatchRejectedError(f"{folder / name}: listed in the manifest but missing")
    for name in sorted(on_disk - set(listed)):
        raise BatchRejectedError(f"{folder / name}: present but not in the manifest")
    for name in sorted(set(listed) - set(data_names)):
        raise BatchRejectedError(f"{folder / 'manifest.json'}: unknown file {name}")

    for name in sorted(listed):
        table = data_names[name]
        entry = listed[name]
        rows = entry.get("rows") if isinstance(entry, dict) else None
        if type(rows) is not int or rows < 0:  # noqa: E721 - bool is an int too
            raise BatchRejectedError(
                f"{folder / 'manifest.json'}: no row count for {name}"
            )
        if table.name in batch.files:
            raise BatchRejectedError(f"{folder}: both CSV and Parquet for {table.name}")
        fmt = name.rsplit(".", 1)[1]
        path = folder / name
        digest = _hash_and_check_utf8(path, check_utf8=fmt == "csv")
        if digest != str(entry.get("sha256", "")).lower():
            raise BatchRejectedError(f"{path}: sha256 differs from the manifest")
        bf = BatchFile(table.name, name, path, fmt, entry["rows"])
        if fmt == "csv":
            bf.columns = _csv_header(path)
        else:
            bf.columns, n_rows = _parquet_columns(path)
            if n_rows != bf.rows:
                raise BatchRejectedError(
                    f"{path}: {n_rows} rows, manifest says {bf.rows}"
                )
        missing = [c for c in table.column_names if c not in bf.columns]
        if missing:
            raise BatchRejectedError(f"{path}: lacks column(s) {', '.join(missing)}")
        if len(set(bf.columns)) != len(bf.columns):
            raise BatchRejectedError(f"{path}: repeated column names in the header")
        for name in (c for c in bf.columns if identity_numbers_in(c)):
            raise BatchRejectedError(
                f"{path}: column name '{mask_identity_numbers(name)}' holds a"
                " national identity number; pseudonymisation failed"
            )
        batch.files[table.name] = bf

    for table in TABLES:
        if table.required and table.name not in batch.files:
            raise BatchRejectedError(
                f"{folder}: required file {table.name}.csv is missing"
            )
    return batch

"""Loading batches from an inbox into DuckDB, following the export contract.

Set-based: every pending batch's files are read as text in one `read_csv` per
table (and header layout), validated with SQL derived from `data_schema`, and
written in ONE transaction: valid rows to staging (history) and, where newest, to
core; bad rows to `quarantine` with a reason. A kill at any point leaves the
database as it was before. Rows read = loaded + quarantined for every file.

This step decides what to load and keeps each batch's result; the SQL is in
`gjenganger.store.ingest`.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from gjenganger.data_schema.contract import TABLES, Table
from gjenganger.data_schema.identity import mask_identity_numbers
from gjenganger.store import batches, db, faults
from gjenganger.store import ingest as sql


@dataclass
class FileCounts:
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    superseded: int = 0  # loaded as history, but an equal or newer version exists


@dataclass
class BatchResult:
    batch_id: str
    folder: str
    status: str  # loaded | rejected | skipped
    reason: str | None = None
    files: dict[str, FileCounts] = field(default_factory=dict)
    reasons: Counter = field(default_factory=Counter)
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)
    identity_numbers: list[dict] = field(default_factory=list)  # file, line, column

    def __post_init__(self) -> None:
        # what reaches the summary, ingest_batches and the run report never holds
        # an identity number, not even one in a batch_id, folder or quoted name
        self.batch_id = mask_identity_numbers(self.batch_id)
        self.folder = mask_identity_numbers(self.folder)
        if self.reason is not None:
            self.reason = mask_identity_numbers(self.reason)

    def as_dict(self) -> dict:
        """The batch's summary (`ingest --json`, `ingest_batches.summary_json`)."""
        out = {
            "batch_id": self.batch_id,
            "status": self.status,
            "files": {k: vars(v) for k, v in sorted(self.files.items())},
            "reasons": dict(sorted(self.reasons.items())),
            "ignored_columns": {
                f: [mask_identity_numbers(c) for c in cols]
                for f, cols in self.ignored_columns.items()
            },
            "identity_numbers": self.identity_numbers,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        return out


def _log(progress: bool, msg: str) -> None:
    if progress:
        print(f"[ingest] {msg}", file=sys.stderr, flush=True)


def check_inbox(inbox: str | Path) -> None:
    """A one-line `UserError` when the inbox is missing or not a readable folder
    (before a database or lock file is created)."""
    batches.list_batch_folders(Path(inbox))


def ingest(con, inbox: str | Path, progress: bool = False) -> list[BatchResult]:
    """Load every batch of `inbox` not loaded before, in `batch_id` order."""
    inbox = Path(inbox)
    folders = batches.list_batch_folders(inbox)
    done = sql.loaded_manifests(con)
    now = datetime.now(UTC)
    results: dict[str, BatchResult] = {}
    duplicates: list[BatchResult] = []
    pending: list[batches.Batch] = []
    for folder in folders:
        bid, result, batch = _triage(folder, inbox, done, now)
        if bid in results:
            duplicates.append(
                BatchResult(
                    bid,
                    str(folder),
                    "rejected",
                    reason=f"{folder}: batch_id {bid} appears twice in the inbox",
                )
            )
            continue
        results[bid] = result
        if batch is not None:
            pending.append(batch)
    pending.sort(key=lambda b: b.batch_id)
    _log(
        progress,
        f"{len(folders)} batch folders: {len(pending)} to load, "
        f"{sum(r.status == 'skipped' for r in results.values())} already loaded",
    )

    if pending:
        _load(con, pending, results, now, progress)
    every = sorted(
        [*results.values(), *duplicates], key=lambda r: (r.batch_id, r.folder)
    )
    _record_rejections(con, every, now)
    return every


def _triage(
    folder: Path, inbox: Path, done: dict[str, str | None], now: datetime
) -> tuple[str, BatchResult, batches.Batch | None]:
    """(batch_id, result, batch to load or None) of one batch folder: refused
    (a symlink out of the inbox, an identity number in its names, a changed
    re-send of a loaded batch, a manifest mismatch), skipped (loaded before with
    this very manifest) or checked and pending."""
    bid = batches.batch_id_of(folder)
    try:
        batches.refuse_links_outside(folder, inbox)
        batches.refuse_identity_names(folder, bid)
        if bid in done:
            _, sha = batches.read_manifest(folder)
            if done[bid] is None or done[bid] == sha:
                return bid, BatchResult(bid, str(folder), "skipped"), None
            raise batches.BatchRejectedError(
                f"{folder / 'manifest.json'}: batch_id {bid} was loaded before with"
                " another manifest; a changed export needs a new batch_id"
            )
        batch = batches.check_batch(folder, now)
    except batches.BatchRejectedError as exc:
        return bid, BatchResult(bid, str(folder), "rejected", reason=str(exc)), None
    return bid, BatchResult(bid, str(folder), "loaded"), batch


def _load(
    con, pending: list[batches.Batch], results: dict[str, BatchResult], now, progress
) -> None:
    """Read, validate and write the pending batches (the writes in one transaction)."""
    key = quarantine_key().hex()  # keyed hash of detected identity numbers, never clear
    sql.list_pending(con, pending)
    read = _read_all(con, pending, results, progress)
    with db.transaction(con):
        _write_all(con, read, results, now, key, progress)
        _collect(con, pending, results, now)


def _read_all(
    con, pending: list[batches.Batch], results: dict[str, BatchResult], progress
) -> list[tuple[Table, list, list[str]]]:
    """Read every table's files into temp tables and check the manifest row counts
    before writing anything, so a mismatching batch is rejected whole."""
    read: list[tuple[Table, list, list[str]]] = []
    for table in TABLES:
        files = [
            (b, b.files[table.name])
            for b in pending
            if table.name in b.files and results[b.batch_id].status == "loaded"
        ]
        if not files:
            continue
        extras = _read_until_readable(con, table, files, results)
        files = [(b, f) for b, f in files if results[b.batch_id].status == "loaded"]
        _log(progress, f"{table.name}: read {len(files)} files")
        got = sql.rows_read(con, table)
        for b, f in files:
            n = got.get(str(f.path), 0)
            if n != f.rows and results[b.batch_id].status == "loaded":
                _reject_inside(
                    con, b, results, f"{f.path}: {n} rows, manifest says {f.rows}"
                )
        read.append((table, files, extras))
    return read


def _write_all(con, read, results: dict[str, BatchResult], now, key, progress) -> None:
    """Validate and write each table, incidents first (links check against them);
    the per-file counts go to the batch results."""
    per_file: dict[tuple[str, str], FileCounts] = {}
    for table, files_read, extras in read:
        files = [
            (b, f) for b, f in files_read if results[b.batch_id].status == "loaded"
        ]
        sql.classify(con, table, extras)
        sql.write_table(con, table, extras, now, key)
        for batch_id, file, *counts in sql.file_counts(con, table):
            fc = per_file.setdefault((batch_id, file), FileCounts())
            for name, n in zip(
                ("read", "loaded", "quarantined", "superseded"), counts, strict=True
            ):
                setattr(fc, name, getattr(fc, name) + n)
        for b, f in files:
            present = [c for c in f.columns if c not in table.column_names]
            if present and results[b.batch_id].status == "loaded":
                results[b.batch_id].ignored_columns[f.name] = present
        _log(progress, f"{table.name}: validated and loaded")
        faults.point(f"ingest:{table.name}")
    for (bid, fname), counts in per_file.items():
        results[bid].files[fname] = counts


def _collect(
    con, pending: list[batches.Batch], results: dict[str, BatchResult], now
) -> None:
    """Quarantine reasons and identity numbers into the results; one
    `ingest_batches` row per loaded batch."""
    for bid, reason, n in sql.quarantine_reasons(con, now):
        results[bid].reasons[reason] += n
    for bid, file, line, column in sql.identity_numbers(con, now):
        results[bid].identity_numbers.append(
            {"file": file, "line": line, "column": column}
        )
    for b in pending:
        r = results[b.batch_id]
        if r.status != "loaded":
            continue
        for f in b.files.values():
            r.files.setdefault(f.name, FileCounts())
        tot = [
            sum(getattr(c, k) for c in r.files.values())
            for k in ("read", "loaded", "quarantined")
        ]
        sql.record_loaded(con, b, now, tot, r.as_dict())


def _read_until_readable(con, table: Table, files, results) -> list[str]:
    """Read a table's files; a file the parser cannot read rejects its batch."""
    while True:
        live = [(b, f) for b, f in files if results[b.batch_id].status == "loaded"]
        if not live:
            return []
        try:
            return sql.read_table_raw(con, table, live)
        except sql.UnreadableFileError as exc:
            batch = next(b for b, f in live if str(f.path) == exc.path)
            _reject_inside(con, batch, results, f"{exc}")


def _reject_inside(con, batch: batches.Batch, results, reason: str) -> None:
    """Drop a batch's rows from the temp tables of this load and mark it rejected."""
    results[batch.batch_id] = BatchResult(
        batch.batch_id, str(batch.folder), "rejected", reason
    )
    sql.drop_batch(con, batch.batch_id)


def _record_rejections(con, results: list[BatchResult], now) -> None:
    for r in results:
        if r.status == "rejected":
            sql.record_rejected(con, r.batch_id, now, r.reason, r.as_dict())


def quarantine_key() -> bytes:
    """The key for hashing detected identity numbers: `$GJENGANGER_QUARANTINE_KEY_FILE`
    or `$GJENGANGER_HOME/quarantine.key` (created 0600 on first use)."""
    import os

    from gjenganger.store.keys import ensure_key_file

    home = Path(os.environ.get("GJENGANGER_HOME", Path.home() / ".gjenganger"))
    return ensure_key_file(
        os.environ.get("GJENGANGER_QUARANTINE_KEY_FILE", home / "quarantine.key")
    )


def summary(results: list[BatchResult]) -> dict:
    """The `ingest --json` document."""
    return {"batches": [r.as_dict() for r in results]}

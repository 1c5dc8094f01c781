"""Loading batches from an inbox into DuckDB, following the export contract.

Set-based: every pending batch's files are read as text in one `read_csv` per
table (and header layout), validated with SQL derived from `data_schema`, and
written in ONE transaction: valid rows to staging (history) and, where newest, to
core; bad rows to `quarantine` with a reason. A kill at any point leaves the
database as it was before. Rows read = loaded + quarantined for every file.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from gjenganger.data_schema.contract import TABLES, Table
from gjenganger.data_schema.ddl import ident
from gjenganger.data_schema.validation import (
    classify_sql,
    fnr_hint_sql,
    identity_column_sql,
    quote_ident,
    quote_literal,
    typed_expr,
)
from gjenganger.store import faults
from gjenganger.store import batches as B


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

    def as_dict(self) -> dict:
        out = {
            "batch_id": self.batch_id,
            "status": self.status,
            "files": {k: vars(v) for k, v in sorted(self.files.items())},
            "reasons": dict(sorted(self.reasons.items())),
            "ignored_columns": self.ignored_columns,
            "identity_numbers": self.identity_numbers,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        return out


def _log(progress: bool, msg: str) -> None:
    if progress:
        print(f"[ingest] {msg}", file=sys.stderr, flush=True)


def loaded_batch_ids(con) -> set[str]:
    """Batch ids already loaded (a rejected batch is tried again next time)."""
    rows = con.execute("select batch_id from ingest_batches where status = 'loaded'")
    return {r[0] for r in rows.fetchall()}


def _read_table_raw(
    con, table: Table, files: list[tuple[B.Batch, B.BatchFile]]
) -> list[str]:
    """Read every file of one table as text into temp table `raw_<table>`.

    Returns the extra (non-contract) column names seen. Each raw row carries
    `_batch_id`, `_file` (e.g. incidents.csv), `_line` (1 = header) and `_path`.
    Rows the CSV parser cannot split go to `rej_<table>` with their line.
    """
    contract_cols = list(table.column_names)
    extras = sorted({c for _, f in files for c in f.columns} - set(contract_cols))
    all_cols = contract_cols + extras
    raw = f"raw_{table.name}"
    rej = f"rej_{table.name}"
    con.execute(
        f"create or replace temp table {raw} ("
        + ", ".join(f"{quote_ident(c)} varchar" for c in all_cols)
        + ", _batch_id varchar, _file varchar, _line bigint, _path varchar)"
    )
    con.execute(
        f"create or replace temp table {rej} (_batch_id varchar, _file varchar,"
        " _line bigint, _path varchar, csv_line varchar, error varchar)"
    )
    path_to_batch = {str(f.path): (b.batch_id, f.name) for b, f in files}
    con.execute(
        "create or replace temp table _paths (path varchar, batch_id varchar, file varchar)"
    )
    con.executemany(
        "insert into _paths values (?, ?, ?)",
        [(p, b, n) for p, (b, n) in path_to_batch.items()],
    )

    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for _, f in files:
        groups.setdefault((f.fmt, tuple(f.columns)), []).append(str(f.path))
    for (fmt, cols), paths in sorted(groups.items()):
        plist = "[" + ", ".join(quote_literal(p) for p in paths) + "]"
        select_cols = ", ".join(
            f"cast({quote_ident(c)} as varchar)" if c in cols else "null"
            for c in all_cols
        )
        if fmt == "parquet":
            try:
                con.execute(
                    f"insert into {raw} select {select_cols}, p.batch_id, p.file,"
                    f" file_row_number + 1, filename from read_parquet({plist},"
                    " filename = true, file_row_number = true)"
                    " join _paths p on p.path = filename"
                )
            except duckdb.Error as exc:
                raise _find_unreadable(
                    con, paths, "read_parquet({plist})", exc
                ) from exc
            continue
        colspec = "{" + ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in cols) + "}"
        con.execute("drop table if exists _rej_errors; drop table if exists _rej_scans")
        options = (
            f", columns = {colspec}, header = true, auto_detect = false,"
            " delim = ',', quote = '\"', escape = '\"', strict_mode = true"
        )
        try:
            con.execute(
                f"create or replace temp table _grp as select * from read_csv({plist}"
                f"{options}, filename = true, store_rejects = true,"
                " rejects_table = '_rej_errors', rejects_scan = '_rej_scans')"
            )
        except duckdb.Error as exc:
            reader = (
                "read_csv({plist}" + options.replace("{", "{{").replace("}", "}}") + ")"
            )
            raise _find_unreadable(con, paths, reader, exc) from exc
        # parser rejects, with their true line numbers
        con.execute(
            f"insert into {rej} select p.batch_id, p.file, e.line, s.file_path,"
            " any_value(e.csv_line), min(e.error_type) from _rej_errors e join _rej_scans s"
            " using (scan_id, file_id) join _paths p on p.path = s.file_path"
            " group by p.batch_id, p.file, e.line, s.file_path"  # one row per bad line
        )
        # line of a good row: its ordinal among good rows + 1 (header) + the number
        # of rejected rows before it (found with an ASOF join on good-rows-before)
        # rows of one file are contiguous in scan order: ordinal = rowid - first + 1
        con.execute(
            "create or replace temp table _first as select filename, min(rowid) as first"
            " from _grp group by filename"
        )
        con.execute(
            f"create or replace temp table _rj as select _path, _line,"
            f" _line - 1 - row_number() over (partition by _path order by _line) as good_before,"
            f" row_number() over (partition by _path order by _line) as n_rej"
            f" from {rej} where _path in (select path from _paths)"
        )
        con.execute(
            f"insert into {raw} select {select_cols.replace('cast(', 'cast(g.')},"
            " p.batch_id, p.file, g.rowid - o.first + 2 + coalesce(r.n_rej, 0), g.filename"
            " from _grp g join _first o on o.filename = g.filename"
            " join _paths p on p.path = g.filename"
            " asof left join _rj r on r._path = g.filename"
            " and r.good_before < g.rowid - o.first + 1"
        )
    return extras


def _classify(con, table: Table, extras: list[str]) -> None:
    """Add `_reason` and `_column` to every raw row (NULL when the row is valid)."""
    expr, reasons, columns = classify_sql(table)
    hint = fnr_hint_sql([*table.column_names, *extras])
    joins, extra_cols = "", ""
    if "unknown_incident" in table.checks:
        joins += (
            " left join (select incident_id, min(batch_id) as first_batch from"
            " stg_incidents group by incident_id) k on k.incident_id = r.incident_id"
        )
        extra_cols += (
            ", coalesce(k.first_batch <= r._batch_id, false) as _incident_known"
        )
    if "not_card_fraud" in table.checks:
        joins += " left join incidents ci on ci.incident_id = r.incident_id"
        extra_cols += ", coalesce(ci.offence_code = 'card_fraud', false) as _incident_is_card_fraud"
    # the exact identity-number check runs only on rows the cheap regexp flags
    con.execute(
        f"create or replace temp table _fnr as select _path, _line,"
        f" {identity_column_sql(table, extras)} as _fnr_column, concat_ws('|', "
        + ", ".join(quote_ident(c) for c in [*table.column_names, *extras])
        + ") as _fnr_text"
        f" from raw_{table.name} where {hint}"
    )
    reason_list = "[" + ", ".join(quote_literal(r) for r in reasons) + "]"
    column_list = "[" + ", ".join(quote_literal(c) for c in columns) + "]"
    con.execute(
        f"create or replace temp table chk_{table.name} as"
        f" with joined as (select r.*, b.exported_at as _exported_at, f._fnr_column,"
        f" first_fnr(f._fnr_text) as _fnr_value"
        f" {extra_cols} from raw_{table.name} r join _batches b on b.batch_id = r._batch_id"
        f" left join _fnr f on f._path = r._path and f._line = r._line {joins}),"
        f" ranked as (select *, {expr} as _rule from joined)"
        f" select * exclude (_rule), {reason_list}[_rule] as _reason,"
        f" coalesce(nullif({column_list}[_rule], ''), _fnr_column) as _column from ranked"
    )


def _write(con, table: Table, extras: list[str], now: datetime, key: str) -> None:
    """Quarantine bad rows, stage valid ones, apply the newest versions to core."""
    name = table.name
    record = (
        "json_object("
        + ", ".join(
            f"{quote_literal(c)}, {quote_ident(c)}"
            for c in [*table.column_names, *extras]
        )
        + ")"
    )
    con.execute(
        f"insert into quarantine select _batch_id, _file, _line, _reason, _column,"
        f" mask_fnr(cast({record} as varchar)), ?,"
        f" case when _reason = 'identity_number' then sha256(? || _fnr_value) end"
        f" from chk_{name} where _reason is not null",
        [now, key],
    )
    con.execute(
        f"insert into quarantine select _batch_id, _file, _line, 'malformed_row', null,"
        f" mask_fnr(csv_line), ?, sha256(? || first_fnr(csv_line)) from rej_{name}",
        [now, key],
    )
    typed = ", ".join(f"{typed_expr(c)} as {ident(c.name)}" for c in table.columns)
    cols = ", ".join(ident(c) for c in table.column_names)
    # cast once; staging takes every valid row, core the newest version of each key
    con.execute(
        f"create or replace temp table typed_{name} as select {typed}, _batch_id, _file,"
        f" _line from chk_{name} where _reason is null"
    )
    con.execute(
        f"insert into stg_{name} select {cols}, _batch_id, _file, _line from typed_{name}"
    )
    key = ", ".join(table.key)
    on = " and ".join(f"n.{k} = c.{k}" for k in table.key)
    con.execute(
        f"create or replace temp table apply_{name} as"
        f" with newest as (select * from typed_{name} qualify row_number() over"
        f" (partition by {key} order by updated_at desc, _batch_id desc, _line desc) = 1)"
        f" select n.*, c.{table.key[0]} is not null as _exists from newest n"
        f" left join {name} c on {on} where c.{table.key[0]} is null"
        f" or n.updated_at > c.updated_at"
    )
    # new keys: a plain insert; known keys with a newer version: replace
    con.execute(
        f"insert into {name} select {cols}, _batch_id from apply_{name} where not _exists"
    )
    con.execute(
        f"insert or replace into {name} select {cols}, _batch_id from apply_{name} where _exists"
    )


def _counts(con, table: Table) -> dict[tuple[str, str], FileCounts]:
    """Per (batch, file): read, loaded, quarantined, superseded."""
    name = table.name
    out: dict[tuple[str, str], FileCounts] = {}
    rows = con.execute(
        f"with c as (select _batch_id, _file, _reason, _line from chk_{name}),"
        f" a as (select _batch_id, _file, _line from apply_{name}),"
        f" r as (select _batch_id, _file, count(*) as n from rej_{name} group by all)"
        f" select c._batch_id, c._file, count(*) as read,"
        f" count(*) filter (where c._reason is null) as loaded,"
        f" count(*) filter (where c._reason is not null) as quarantined,"
        f" count(*) filter (where c._reason is null and a._line is null) as superseded"
        f" from c left join a using (_batch_id, _file, _line) group by all"
        f" union all select _batch_id, _file, n, 0, n, 0 from r"
    ).fetchall()
    for batch_id, file, read, loaded, quarantined, superseded in rows:
        fc = out.setdefault((batch_id, file), FileCounts())
        fc.read += read
        fc.loaded += loaded
        fc.quarantined += quarantined
        fc.superseded += superseded
    return out


def ingest(con, inbox: str | Path, progress: bool = False) -> list[BatchResult]:
    """Load every batch of `inbox` not loaded before, in `batch_id` order."""
    inbox = Path(inbox)
    folders = B.list_batch_folders(inbox)
    done = loaded_batch_ids(con)
    results: dict[str, BatchResult] = {}
    duplicates: list[BatchResult] = []
    pending: list[B.Batch] = []
    for folder in folders:
        bid = B.batch_id_of(folder)
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
        if bid in done:
            results[bid] = BatchResult(bid, str(folder), "skipped")
            continue
        try:
            pending.append(B.check_batch(folder))
            results[bid] = BatchResult(bid, str(folder), "loaded")
        except B.BatchRejected as exc:
            results[bid] = BatchResult(bid, str(folder), "rejected", reason=str(exc))
    pending.sort(key=lambda b: b.batch_id)
    _log(
        progress,
        f"{len(folders)} batch folders: {len(pending)} to load, "
        f"{sum(r.status == 'skipped' for r in results.values())} already loaded",
    )

    now = datetime.now(UTC)
    if pending:
        _load(con, pending, results, now, progress)
    every = sorted(
        [*results.values(), *duplicates], key=lambda r: (r.batch_id, r.folder)
    )
    _record_rejections(con, every, now)
    return every


def _load(
    con, pending: list[B.Batch], results: dict[str, BatchResult], now, progress
) -> None:
    key = quarantine_key().hex()  # keyed hash of detected identity numbers, never clear
    in_transaction = False
    try:
        con.execute(
            "create or replace temp table _batches (batch_id varchar, exported_at timestamptz)"
        )
        con.executemany(
            "insert into _batches values (?, ?)",
            [(b.batch_id, b.exported_at) for b in pending],
        )
        # 1. read every table's files; check manifest row counts before writing
        # anything, so a mismatching batch is rejected whole
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
            got = dict(
                con.execute(
                    f"select _path, sum(n) from (select _path, count(*) n from raw_{table.name}"
                    f" group by all union all select _path, count(*) from rej_{table.name}"
                    " group by all) group by all"
                ).fetchall()
            )
            for b, f in files:
                n = got.get(str(f.path), 0)
                if n != f.rows and results[b.batch_id].status == "loaded":
                    _reject_inside(
                        con, b, results, f"{f.path}: {n} rows, manifest says {f.rows}"
                    )
            read.append((table, files, extras))
        # 2. validate and write, incidents first (links check against them), all in
        # one transaction (reading above only filled temp tables)
        con.execute("begin transaction")
        in_transaction = True
        per_file: dict[tuple[str, str], FileCounts] = {}
        for table, files_read, extras in read:
            files = [
                (b, f) for b, f in files_read if results[b.batch_id].status == "loaded"
            ]
            _classify(con, table, extras)
            _write(con, table, extras, now, key)
            per_file.update(_counts(con, table))
            for b, f in files:
                present = [c for c in f.columns if c not in table.column_names]
                if present and results[b.batch_id].status == "loaded":
                    results[b.batch_id].ignored_columns[f.name] = present
            _log(progress, f"{table.name}: validated and loaded")
            faults.point(f"ingest:{table.name}")
        reasons = con.execute(
            "select batch_id, reason, count(*) from quarantine where quarantined_at = ?"
            " group by all",
            [now],
        ).fetchall()
        for bid, reason, n in reasons:
            results[bid].reasons[reason] += n
        for bid, file, line, column in con.execute(
            "select batch_id, source_file, line, column_name from quarantine where"
            " quarantined_at = ? and reason = 'identity_number' order by all",
            [now],
        ).fetchall():
            results[bid].identity_numbers.append(
                {"file": file, "line": line, "column": column}
            )
        for (bid, fname), counts in per_file.items():
            results[bid].files[fname] = counts
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
            con.execute(
                "insert into ingest_batches values (?, ?, ?, ?, ?, 'loaded', null, ?, ?, ?, ?)",
                [
                    b.batch_id,
                    b.manifest_sha256,
                    b.exported_at,
                    now,
                    datetime.now(UTC),
                    *tot,
                    json.dumps(r.as_dict(), sort_keys=True),
                ],
            )
        con.execute("commit")
    except BaseException:
        if in_transaction:
            try:
                con.execute("rollback")
            except duckdb.Error:
                pass
        raise


class FileUnreadable(Exception):
    """DuckDB's reader could not parse a data file at all."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path


def _read_until_readable(con, table: Table, files, results) -> list[str]:
    """Read a table's files; a file the parser cannot read rejects its batch."""
    while True:
        live = [(b, f) for b, f in files if results[b.batch_id].status == "loaded"]
        if not live:
            return []
        try:
            return _read_table_raw(con, table, live)
        except FileUnreadable as exc:
            batch = next(b for b, f in live if str(f.path) == exc.path)
            _reject_inside(con, batch, results, f"{exc}")


def _find_unreadable(
    con, paths: list[str], reader: str, exc: Exception
) -> FileUnreadable:
    """Which file of a failed multi-file read is unreadable (by name, else by trial)."""
    msg = str(exc).strip().splitlines()[0]
    named = re.search(r"file = (\S+)", str(exc))
    if named and named.group(1) in paths:
        return FileUnreadable(named.group(1), msg)
    for path in paths:
        try:
            con.execute(
                f"select count(*) from {reader.format(plist=quote_literal(path))}"
            )
        except duckdb.Error as one:
            return FileUnreadable(path, str(one).strip().splitlines()[0])
    return FileUnreadable(paths[0], msg)


def _reject_inside(con, batch: B.Batch, results, reason: str) -> None:
    """Drop a batch's rows from the temp tables of this load and mark it rejected."""
    results[batch.batch_id] = BatchResult(
        batch.batch_id, str(batch.folder), "rejected", reason
    )
    for table in TABLES:
        for prefix in ("raw", "rej"):
            try:
                con.execute(
                    f"delete from {prefix}_{table.name} where _batch_id = ?",
                    [batch.batch_id],
                )
            except duckdb.CatalogException:
                pass
    con.execute("delete from _batches where batch_id = ?", [batch.batch_id])


def _record_rejections(con, results: list[BatchResult], now) -> None:
    rejected = [r for r in results if r.status == "rejected"]
    for r in rejected:
        con.execute(
            "insert into ingest_batches values (?, null, null, ?, ?, 'rejected', ?,"
            " 0, 0, 0, ?)",
            [r.batch_id, now, datetime.now(UTC), r.reason, json.dumps(r.as_dict())],
        )


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

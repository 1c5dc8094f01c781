"""The SQL of loading batches: raw text tables, validation, quarantine, staging, core.

Used by `gjenganger.flows.steps.ingest`, which decides what to load and keeps the
per-batch results. Every pending batch's files are read as text into temp tables
(`raw_<table>`, parser rejects in `rej_<table>`), classified with SQL derived from
`data_schema` (`chk_<table>`), and written inside the caller's transaction: bad rows
to `quarantine`, valid rows to staging and, where newest, to core.
"""

from __future__ import annotations

import json
import re
from contextlib import suppress
from datetime import UTC, datetime

import duckdb

from gjenganger.data_schema.contract import TABLES, Table
from gjenganger.data_schema.ddl import ident
from gjenganger.data_schema.validation import (
    classify_sql,
    fnr_hint_sql,
    identity_column_sql,
    identity_value_sql,
    masked_record_sql,
    quote_ident,
    quote_literal,
    typed_expr,
)
from gjenganger.store.batches import Batch, BatchFile


def loaded_manifests(con) -> dict[str, str | None]:
    """Batch ids already loaded, each with the sha256 of the manifest it was loaded
    with (a rejected batch is tried again next time)."""
    rows = con.execute(
        "select batch_id, any_value(manifest_sha256) from ingest_batches"
        " where status = 'loaded' group by batch_id"
    )
    return dict(rows.fetchall())


def list_pending(con, pending: list[Batch]) -> None:
    """Temp table `_batches`: the batches of this load and their export times."""
    con.execute(
        "create or replace temp table _batches"
        " (batch_id varchar, exported_at timestamptz)"
    )
    con.executemany(
        "insert into _batches values (?, ?)",
        [(b.batch_id, b.exported_at) for b in pending],
    )


class UnreadableFileError(Exception):
    """DuckDB's reader could not parse a data file at all."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path


def read_table_raw(
    con, table: Table, files: list[tuple[Batch, BatchFile]]
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
        "create or replace temp table _paths"
        " (path varchar, batch_id varchar, file varchar)"
    )
    con.executemany(
        "insert into _paths values (?, ?, ?)",
        [(p, b, n) for p, (b, n) in path_to_batch.items()],
    )

    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for _, f in files:
        groups.setdefault((f.fmt, tuple(f.columns)), []).append(str(f.path))
    for (fmt, cols), paths in sorted(groups.items()):
        select_cols = ", ".join(
            f"cast({quote_ident(c)} as varchar)" if c in cols else "null"
            for c in all_cols
        )
        read = _read_parquet if fmt == "parquet" else _read_csv
        read(con, table.name, paths, cols, select_cols)
    return extras


def _read_parquet(con, name: str, paths: list[str], _cols, select_cols: str) -> None:
    """One group of Parquet files into `raw_<name>`."""
    plist = "[" + ", ".join(quote_literal(p) for p in paths) + "]"
    try:
        con.execute(
            f"insert into raw_{name} select {select_cols}, p.batch_id, p.file,"
            f" file_row_number + 1, filename from read_parquet({plist},"
            " filename = true, file_row_number = true)"
            " join _paths p on p.path = filename"
        )
    except duckdb.Error as exc:
        raise find_unreadable(con, paths, "read_parquet({plist})", exc) from exc


def _read_csv(
    con, name: str, paths: list[str], cols: tuple[str, ...], select_cols: str
) -> None:
    """One group of CSV files (same header) into `raw_<name>`; rows the parser
    cannot split into `rej_<name>`, each with its true line number."""
    raw, rej = f"raw_{name}", f"rej_{name}"
    plist = "[" + ", ".join(quote_literal(p) for p in paths) + "]"
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
        raise find_unreadable(con, paths, reader, exc) from exc
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
        f" _line - 1 - row_number() over (partition by _path order by _line)"
        " as good_before,"
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


def find_unreadable(
    con, paths: list[str], reader: str, exc: Exception
) -> UnreadableFileError:
    """Which file of a failed multi-file read is unreadable (by name, else by trial)."""
    msg = str(exc).strip().splitlines()[0]
    named = re.search(r"file = (\S+)", str(exc))
    if named and named.group(1) in paths:
        return UnreadableFileError(named.group(1), msg)
    for path in paths:
        try:
            con.execute(
                f"select count(*) from {reader.format(plist=quote_literal(path))}"
            )
        except duckdb.Error as one:
            return UnreadableFileError(path, str(one).strip().splitlines()[0])
    return UnreadableFileError(paths[0], msg)


def rows_read(con, table: Table) -> dict[str, int]:
    """Rows read per file path (parsed and rejected by the parser)."""
    return dict(
        con.execute(
            f"select _path, sum(n) from (select _path, count(*) n from raw_{table.name}"
            f" group by all union all select _path, count(*) from rej_{table.name}"
            " group by all) group by all"
        ).fetchall()
    )


def drop_batch(con, batch_id: str) -> None:
    """Drop a batch's rows from the temp tables of this load."""
    for table in TABLES:
        for prefix in ("raw", "rej"):
            with suppress(duckdb.CatalogException):  # not read in this load
                con.execute(
                    f"delete from {prefix}_{table.name} where _batch_id = ?",
                    [batch_id],
                )
    con.execute("delete from _batches where batch_id = ?", [batch_id])


def classify(con, table: Table, extras: list[str]) -> None:
    """Add `_reason` and `_column` to every raw row (NULL when the row is valid)."""
    expr, reasons, columns = classify_sql(table)
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
        extra_cols += (
            ", coalesce(ci.offence_code = 'card_fraud', false)"
            " as _incident_is_card_fraud"
        )
    # the exact identity-number check runs only on rows the cheap regexp flags
    con.execute(
        f"create or replace temp table _fnr as select _path, _line,"
        f" {identity_column_sql(table, extras)} as _fnr_column,"
        f" {identity_value_sql(table, extras)} as _fnr_value"
        f" from raw_{table.name} where {fnr_hint_sql(table, extras)}"
    )
    reason_list = "[" + ", ".join(quote_literal(r) for r in reasons) + "]"
    column_list = "[" + ", ".join(quote_literal(c) for c in columns) + "]"
    con.execute(
        f"create or replace temp table chk_{table.name} as"
        f" with joined as (select r.*, b.exported_at as _exported_at, f._fnr_column,"
        f" f._fnr_value"
        f" {extra_cols} from raw_{table.name} r"
        " join _batches b on b.batch_id = r._batch_id"
        f" left join _fnr f on f._path = r._path and f._line = r._line {joins}),"
        f" ranked as (select *, {expr} as _rule from joined)"
        f" select * exclude (_rule), {reason_list}[_rule] as _reason,"
        f" coalesce(nullif({column_list}[_rule], ''), _fnr_column) as _column"
        " from ranked"
    )


def write_table(con, table: Table, extras: list[str], now: datetime, key: str) -> None:
    """Quarantine bad rows, stage valid ones, apply the newest versions to core."""
    name = table.name
    con.execute(
        f"insert into quarantine select _batch_id, _file, _line, _reason, _column,"
        f" {masked_record_sql(table, extras)}, ?,"
        f" case when _reason = 'identity_number' then sha256(? || _fnr_value) end"
        f" from chk_{name} where _reason is not null",
        [now, key],
    )
    con.execute(
        f"insert into quarantine select _batch_id, _file, _line, 'malformed_row', null,"
        f" mask_fnr(csv_line), ?, sha256(? || first_fnr_line(csv_line))"
        f" from rej_{name}",
        [now, key],
    )
    typed = ", ".join(f"{typed_expr(c)} as {ident(c.name)}" for c in table.columns)
    cols = ", ".join(ident(c) for c in table.column_names)
    # cast once; staging takes every valid row, core the newest version of each key
    con.execute(
        f"create or replace temp table typed_{name} as select {typed}, _batch_id,"
        f" _file, _line from chk_{name} where _reason is null"
    )
    con.execute(
        f"insert into stg_{name} select {cols}, _batch_id, _file, _line"
        f" from typed_{name}"
    )
    key = ", ".join(table.key)
    on = " and ".join(f"n.{k} = c.{k}" for k in table.key)
    con.execute(
        f"create or replace temp table apply_{name} as"
        f" with newest as (select * from typed_{name} qualify row_number() over"
        f" (partition by {key} order by updated_at desc, _batch_id desc, _line desc)"
        " = 1)"
        f" select n.*, c.{table.key[0]} is not null as _exists from newest n"
        f" left join {name} c on {on} where c.{table.key[0]} is null"
        f" or n.updated_at > c.updated_at"
    )
    # new keys: a plain insert; known keys with a newer version: replace
    con.execute(
        f"insert into {name} select {cols}, _batch_id from apply_{name}"
        " where not _exists"
    )
    con.execute(
        f"insert or replace into {name} select {cols}, _batch_id from apply_{name}"
        " where _exists"
    )


def file_counts(con, table: Table) -> list[tuple[str, str, int, int, int, int]]:
    """(batch, file, read, loaded, quarantined, superseded) rows of one table."""
    name = table.name
    return con.execute(
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


def quarantine_reasons(con, now: datetime) -> list[tuple[str, str, int]]:
    """(batch, reason, rows) quarantined by the load that started at `now`."""
    return con.execute(
        "select batch_id, reason, count(*) from quarantine where quarantined_at = ?"
        " group by all",
        [now],
    ).fetchall()


def identity_numbers(con, now: datetime) -> list[tuple[str, str, int, str]]:
    """(batch, file, line, column) of the identity numbers the load at `now` found
    (in a malformed row too: column NULL)."""
    return con.execute(
        "select batch_id, source_file, line, column_name from quarantine where"
        " quarantined_at = ? and identity_hash is not null order by all",
        [now],
    ).fetchall()


def record_loaded(
    con, batch: Batch, started: datetime, totals: list[int], summary: dict
) -> None:
    """The `ingest_batches` row of a loaded batch; `totals` = read, loaded,
    quarantined."""
    con.execute(
        "insert into ingest_batches values (?, ?, ?, ?, ?, 'loaded', null, ?, ?, ?, ?)",
        [
            batch.batch_id,
            batch.manifest_sha256,
            batch.exported_at,
            started,
            datetime.now(UTC),
            *totals,
            json.dumps(summary, sort_keys=True),
        ],
    )


def record_rejected(
    con, batch_id: str, started: datetime, reason: str | None, summary: dict
) -> None:
    """The `ingest_batches` row of a rejected batch."""
    con.execute(
        "insert into ingest_batches values (?, null, null, ?, ?, 'rejected', ?,"
        " 0, 0, 0, ?)",
        [batch_id, started, datetime.now(UTC), reason, json.dumps(summary)],
    )

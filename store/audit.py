"""Append-only, tamper-evident audit log of every command and flow run.

Each row records who (OS user or `--user`, and the OS user when they differ), role,
command and parameters, the persons looked at, the files written (with sha256), row
counts, start, end and outcome, and carries a keyed hash chained to the row before
(`gjenganger.store.audit_chain`): editing, deleting or truncating rows, emptying the
table or replacing the log is found by `verify`, and cannot be hidden without the
audit key, which no database holds.

The log lives in the operational database given by `--db`, or in the configured
audit log (`$GJENGANGER_AUDIT_DB`, default `$GJENGANGER_HOME/audit.duckdb`) for
commands without one; table `audit_log` is declared in sql/core/audit_log.sql. A row
that cannot be written raises `AuditNotWrittenError`: callers fail closed.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from gjenganger.errors import UserError
from gjenganger.sql import runner
from gjenganger.store import audit_chain, keys, settings
from gjenganger.store.audit_chain import FIELDS

ROLES = ("analyst", "prevention", "researcher", "operator")
SECRET_PARAMS = {"key_file", "key"}


class AuditNotWrittenError(UserError):
    """The audit row could not be committed: the command must not report success."""


@dataclass
class Entry:
    """What one command did, filled in while it runs."""

    command: str
    params: dict
    user: str
    role: str
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    persons: set[str] = field(default_factory=set)
    files: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


_stack: list[Entry] = []  # nested: a flow run inside a CLI command has its own row


def _top() -> Entry | None:
    return _stack[-1] if _stack else None


def begin(command: str, params: dict, user: str | None, role: str | None) -> Entry:
    """Start recording a command; parameters naming secrets are left out. A `user`
    given on the command line is kept, and the OS user beside it when different."""
    clean = {
        k: (str(v) if isinstance(v, Path) else v)
        for k, v in params.items()
        if k not in SECRET_PARAMS and not callable(v)
    }
    os_user = getpass.getuser()
    name = user or os.environ.get("GJENGANGER_USER") or os_user
    if name != os_user:
        clean["os_user"] = os_user
    entry = Entry(
        command=command,
        params=json.loads(json.dumps(clean, default=str)),
        user=name,
        role=role or os.environ.get("GJENGANGER_ROLE") or "analyst",
    )
    _stack.append(entry)
    return entry


def pending() -> bool:
    """True while a begun row has not been finished (the CLI then writes it)."""
    return bool(_stack)


def looked_at(*person_ids: str) -> None:
    """Record that the running command showed these persons."""
    if (entry := _top()) is not None:
        entry.persons.update(p for p in person_ids if p)


def wrote(*paths: str | Path) -> None:
    """Record files the running command wrote (hashed now)."""
    entry = _top()
    if entry is None:
        return
    for p in paths:
        path = Path(p)
        if path.is_file():
            entry.files[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            for f in sorted(x for x in path.rglob("*") if x.is_file()):
                entry.files[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()


def counted(**counts: int) -> None:
    """Record row counts of the running command."""
    if (entry := _top()) is not None:
        entry.counts.update({k: int(v) for k, v in counts.items()})


def default_db() -> Path:
    """The configured audit log, for commands without a database of their own."""
    return settings.audit_db()


def finish(db_path: str | Path | None, outcome: str) -> Path:
    """Append the running command's row (after its own connection closed); the log
    it went to.

    If the command's database cannot be opened (locked, newer release), the row goes
    to the configured audit log with the reason, so no command goes unrecorded; if
    that fails too, `AuditNotWrittenError`.
    """
    if not _stack:
        return default_db()
    entry = _stack.pop()
    from gjenganger.store import db

    # the command's database if it exists (never create one just to log a failure)
    targets = [Path(db_path)] if db_path and Path(db_path).is_file() else []
    targets.append(default_db())
    reason = ""
    for path in targets:
        try:
            con = db.connect(path, migrate=False)
        except Exception as exc:  # noqa: BLE001 - try the next place
            reason = _first_line(exc)
            entry.params["audit_fallback_from"] = str(path)
            continue
        try:
            append(con, path, entry, outcome)
            return path
        except Exception as exc:  # noqa: BLE001 - one line, the caller fails closed
            raise AuditNotWrittenError(
                f"audit log not written ({path}: {_first_line(exc)})"
            ) from exc
        finally:
            con.close()
    raise AuditNotWrittenError(f"audit log not written ({reason})")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def append(con, db_path: Path, entry: Entry, outcome: str) -> dict:
    """Append one keyed, chained row in a transaction, then move the log's anchor
    (outside the database, MACed with the audit key)."""
    key = keys.audit_key()
    runner.declare(con, "audit_log")
    con.execute("begin transaction")
    try:
        last = con.execute(
            "select seq, row_hash from audit_log order by seq desc limit 1"
        ).fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, audit_chain.new_log_id())
        log = prev if seq == 1 else _log_id(con)
        values = {
            "seq": seq,
            "started_at": entry.started_at,
            "finished_at": datetime.now(UTC).isoformat(),
            "user_name": entry.user,
            "role": entry.role,
            "command": entry.command,
            "params_json": json.dumps(entry.params, sort_keys=True),
            "persons_json": json.dumps(sorted(entry.persons)),
            "files_json": json.dumps(entry.files, sort_keys=True),
            "counts_json": json.dumps(entry.counts, sort_keys=True),
            "outcome": outcome,
            "prev_hash": prev,
        }
        values["row_hash"] = audit_chain.row_digest(key, values)
        con.execute(
            f"insert into audit_log values ({', '.join('?' * (len(FIELDS) + 1))})",
            [values[f] for f in (*FIELDS, "row_hash")],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    audit_chain.write_anchor(key, db_path, log, seq, values["row_hash"])
    return values


def _log_id(con) -> str:
    """Row 1's prev_hash, the log's name (empty if row 1 is gone)."""
    first = con.execute("select prev_hash from audit_log where seq = 1").fetchone()
    return first[0] if first else ""


def _all_rows(con) -> list[dict]:
    runner.declare(con, "audit_log")
    names = (*FIELDS, "row_hash")
    sql = f"select {', '.join(names)} from audit_log order by seq"
    return [dict(zip(names, r, strict=True)) for r in con.execute(sql).fetchall()]


def verify(
    con,
    db_path: Path,
    anchored_as: Path | None = None,
    journals: tuple[Path, ...] = (),
) -> list[str]:
    """Every problem found in the log of `db_path` (empty when intact): rows changed,
    missing, unkeyed after keyed ones, removed from the end, an emptied or replaced
    log, an altered anchor. `anchored_as`: the path the database was written at, if
    it moved; `journals`: off-box copies of the anchor journal to check as well."""
    try:
        key = keys.audit_key(create=False)
    except UserError as exc:
        return [f"the audit key cannot be read, nothing can be verified: {exc}"]
    rows = _all_rows(con)
    return audit_chain.check(key, rows, Path(anchored_as or db_path), journals)


def retire(con, db_path: Path) -> list[dict]:
    """Record that every earlier log anchored at `db_path` was deleted on purpose
    (the database was built again); the retired heads. `con` is the database now at
    that path, or None."""
    keep = _log_id(con) if con is not None and row_count(con) else None
    return audit_chain.retire(keys.audit_key(create=False), Path(db_path), keep)


def row_count(con) -> int:
    """Rows in the audit log."""
    runner.declare(con, "audit_log")
    return con.execute("select count(*) from audit_log").fetchone()[0]


def rows(con, person: str | None = None, since: date | None = None) -> list[tuple]:
    """(seq, started_at, user_name, role, command, persons_json, outcome,
    params_json) of the rows that looked at `person` and started on or after
    `since` (all when None), oldest first."""
    runner.declare(con, "audit_log")
    sql = (
        "select seq, started_at, user_name, role, command, persons_json, outcome,"
        " params_json from audit_log where 1=1"
    )
    params: list = []
    if person:
        sql += " and list_contains(cast(persons_json as json)::varchar[], ?)"
        params.append(person)
    if since:
        sql += " and started_at >= ?"
        params.append(since.isoformat())
    return con.execute(sql + " order by seq", params).fetchall()

"""Append-only, tamper-evident audit log of every command and flow run.

Each row records who (OS user or `--user`), role, command and parameters, the
persons looked at, the files written (with sha256), row counts, start, end and
outcome, and carries `row_hash = sha256(prev_hash + canonical row)`. Editing or
deleting any row breaks the chain; removing rows from the end is caught by the head
anchor kept in a file beside the database (`<db>.audit-head`).

The log lives in the operational database given by `--db`, or in
`$GJENGANGER_HOME/audit.duckdb` for commands without one; table `audit_log` is
declared in sql/core/audit_log.sql.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from gjenganger.sql import runner

ROLES = ("analyst", "prevention", "researcher", "operator")
GENESIS = "0" * 64
FIELDS = (
    "seq",
    "started_at",
    "finished_at",
    "user_name",
    "role",
    "command",
    "params_json",
    "persons_json",
    "files_json",
    "counts_json",
    "outcome",
    "prev_hash",
)
SECRET_PARAMS = {"key_file", "key"}


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
    """Start recording a command; parameters naming secrets are left out."""
    clean = {
        k: (str(v) if isinstance(v, Path) else v)
        for k, v in params.items()
        if k not in SECRET_PARAMS and not callable(v)
    }
    entry = Entry(
        command=command,
        params=json.loads(json.dumps(clean, default=str)),
        user=user or os.environ.get("GJENGANGER_USER") or getpass.getuser(),
        role=role or os.environ.get("GJENGANGER_ROLE") or "analyst",
    )
    _stack.append(entry)
    return entry


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


def _row_hash(values: dict) -> str:
    canon = json.dumps([values[f] for f in FIELDS], separators=(",", ":"))
    return hashlib.sha256((values["prev_hash"] + canon).encode()).hexdigest()


def _anchor(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".audit-head")


def default_db() -> Path:
    """The home audit log, for commands without a database of their own."""
    home = Path(os.environ.get("GJENGANGER_HOME", Path.home() / ".gjenganger"))
    return home / "audit.duckdb"


def finish(db_path: str | Path | None, outcome: str) -> Path:
    """Append the running command's row (after its own connection closed).

    If the command's database cannot take it (locked, unwritable), the row goes to
    the home audit log with the reason, so no command goes unrecorded.
    """
    if not _stack:
        return default_db()
    entry = _stack.pop()
    from gjenganger.store import db

    # the command's database if it exists (never create one just to log a failure)
    targets = [Path(db_path)] if db_path and Path(db_path).is_file() else []
    targets.append(default_db())
    last_exc: Exception | None = None
    for path in targets:
        try:
            con = db.connect(path, migrate=False)
        except Exception as exc:  # noqa: BLE001 - try the next place
            last_exc = exc
            entry.params["audit_fallback_from"] = str(path)
            continue
        try:
            append(con, path, entry, outcome)
            return path
        finally:
            con.close()
    raise RuntimeError(f"audit log not writable: {last_exc}")


def append(con, db_path: Path, entry: Entry, outcome: str) -> dict:
    """Append one chained row in a transaction and move the head anchor."""
    runner.declare(con, "audit_log")
    con.execute("begin transaction")
    try:
        last = con.execute(
            "select seq, row_hash from audit_log order by seq desc limit 1"
        ).fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
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
        values["row_hash"] = _row_hash(values)
        con.execute(
            f"insert into audit_log values ({', '.join('?' * (len(FIELDS) + 1))})",
            [values[f] for f in (*FIELDS, "row_hash")],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    anchor = _anchor(db_path)
    tmp = anchor.with_suffix(".tmp")
    tmp.write_text(f"{seq} {values['row_hash']}\n")
    os.replace(tmp, anchor)
    return values


def verify(con, db_path: Path) -> list[str]:
    """Every problem found in the chain (empty when the log is intact)."""
    runner.declare(con, "audit_log")
    rows = con.execute(
        f"select {', '.join(FIELDS)}, row_hash from audit_log order by seq"
    ).fetchall()
    problems: list[str] = []
    prev, expected_seq = GENESIS, 1
    for row in rows:
        values = dict(zip((*FIELDS, "row_hash"), row, strict=True))
        if values["seq"] != expected_seq:
            problems.append(f"row {expected_seq} is missing (next is {values['seq']})")
        if values["prev_hash"] != prev:
            problems.append(
                f"row {values['seq']}: chain broken (a row before it changed or went)"
            )
        if _row_hash(values) != values["row_hash"]:
            problems.append(
                f"row {values['seq']}: content changed after it was written"
            )
        prev, expected_seq = values["row_hash"], values["seq"] + 1
    anchor = _anchor(db_path)
    if anchor.exists():
        seq_s, head = anchor.read_text().split()
        if not rows or rows[-1][0] != int(seq_s) or prev != head:
            problems.append(
                f"the log ends before row {seq_s} recorded in {anchor.name}"
            )
    elif rows:
        problems.append(f"head anchor {anchor.name} is missing")
    return problems


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

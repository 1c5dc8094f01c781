"""The keyed audit chain: row MACs, the anchors kept outside the database, and the
checks `gjenganger audit verify` runs.

`row_hash = HMAC-SHA256(audit key, prev_hash + canonical row)`; the key is a file in
the key store (`gjenganger.store.settings.audit_key_file`), never in a database, so
whoever holds only a database file cannot recompute a row. Row 1's `prev_hash` is a
random nonce that names the log. After every append the new head (path, log, seq,
row_hash) is written, MACed with the same key, to `<anchors>/<path-id>.head` and
appended to `<anchors>/journal.jsonl` (and to syslog with `GJENGANGER_AUDIT_SYSLOG=1`).
Removing rows from the end, emptying the table, or replacing the log leaves an
anchored head the log no longer has; an anchor cannot be forged without the key.
Logs written before the chain was keyed (plain sha256, 64 zeros before row 1) are
recognised and reported as unverifiable. See docs/audit-trust.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from gjenganger.store import settings
from gjenganger.store.keys import mac

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
#: row 1's prev_hash in logs written before the chain was keyed
LEGACY_GENESIS = "0" * 64
ANCHOR_FIELDS = ("v", "kind", "path", "log", "seq", "head", "at")


def new_log_id() -> str:
    """A random nonce: row 1's prev_hash, the name of a new log."""
    return secrets.token_hex(32)


def _canon(values: dict) -> str:
    return json.dumps([values[f] for f in FIELDS], separators=(",", ":"))


def row_digest(key: bytes, values: dict) -> str:
    """The keyed row hash: HMAC-SHA256(key, prev_hash + canonical row)."""
    return mac(key, values["prev_hash"] + _canon(values))


def legacy_digest(values: dict) -> str:
    """The row hash of logs written before the chain was keyed (plain sha256)."""
    return hashlib.sha256((values["prev_hash"] + _canon(values)).encode()).hexdigest()


def db_path_key(db_path: str | Path) -> str:
    """The absolute path an audit log is anchored under."""
    return str(Path(db_path).resolve())


def head_file(db_path: str | Path) -> Path:
    """`<anchors>/<sha256 of the absolute path>.head`: the log's latest anchor."""
    digest = hashlib.sha256(db_path_key(db_path).encode()).hexdigest()[:32]
    return settings.audit_anchor_dir() / f"{digest}.head"


def journal_file() -> Path:
    """`<anchors>/journal.jsonl`: every anchor ever written, one JSON line each."""
    return settings.audit_anchor_dir() / "journal.jsonl"


def _signed(key: bytes, **fields) -> str:
    record = {"v": 1, "at": datetime.now(UTC).isoformat(), **fields}
    record["mac"] = mac(key, json.dumps([record[f] for f in ANCHOR_FIELDS]))
    return json.dumps(record, sort_keys=True)


def _append_journal(line: str) -> None:
    fd = os.open(journal_file(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    if settings.audit_syslog():
        import syslog

        syslog.openlog("gjenganger-audit", 0, syslog.LOG_AUTH)
        syslog.syslog(syslog.LOG_NOTICE, line)


def write_anchor(key: bytes, db_path: Path, log: str, seq: int, head: str) -> None:
    """Record the new head of `db_path`'s log: head file (atomic) and journal."""
    settings.audit_anchor_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
    line = _signed(
        key, kind="head", path=db_path_key(db_path), log=log, seq=seq, head=head
    )
    target = head_file(db_path)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(line + "\n")
    os.replace(tmp, target)
    _append_journal(line)


def retire(key: bytes, db_path: Path, keep_log: str | None) -> list[dict]:
    """Mark every anchored log of `db_path` but `keep_log` as deliberately gone
    (a database deleted and built again); the retired heads."""
    records, _ = read_anchors(key, db_path)
    heads: dict[str, dict] = {}
    for r in records:
        if r["log"] != keep_log and r["seq"] >= heads.get(r["log"], {}).get("seq", -1):
            heads[r["log"]] = r
    done = {r["log"] for r in records if r["kind"] == "retired"}
    retired = [r for log, r in heads.items() if log not in done]
    settings.audit_anchor_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
    for r in retired:
        _append_journal(
            _signed(
                key,
                kind="retired",
                path=r["path"],
                log=r["log"],
                seq=r["seq"],
                head=r["head"],
            )
        )
    return retired


def _lines(source: Path) -> list[str]:
    try:
        text = source.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    # a line may carry a syslog prefix: the record is the JSON from the first `{`
    return [ln[ln.index("{") :] for ln in text.splitlines() if "{" in ln]


def read_anchors(
    key: bytes, db_path: Path, journals: tuple[Path, ...] = ()
) -> tuple[list[dict], list[str]]:
    """The anchors of `db_path` (head file, journal, extra journal copies) whose MAC
    holds, and a problem for every one whose MAC does not."""
    path = db_path_key(db_path)
    good: list[dict] = []
    altered: list[str] = []
    for source in (head_file(db_path), journal_file(), *journals):
        for line in _lines(source):
            try:
                record = json.loads(line)
                if record.get("path") != path:
                    continue
                expected = mac(key, json.dumps([record[f] for f in ANCHOR_FIELDS]))
            except (ValueError, KeyError, TypeError):
                altered.append(f"{source.name}: an anchor line is not readable")
                continue
            if hmac.compare_digest(expected, str(record.get("mac", ""))):
                good.append(record)
            else:
                altered.append(f"{source.name}: an anchor was altered (MAC mismatch)")
    return good, sorted(set(altered))


def walk(key: bytes, rows: list[dict]) -> tuple[list[str], int]:
    """Problems of the chain itself, and how many leading rows are unkeyed
    (written before the chain was keyed; allowed only before the first keyed row)."""
    problems: list[str] = []
    expected, prev, keyed, legacy = 1, None, False, 0
    for values in rows:
        seq = values["seq"]
        if seq != expected:
            problems.append(f"row {expected} is missing (next is {seq})")
        if prev is not None and values["prev_hash"] != prev:
            problems.append(
                f"row {seq}: chain broken (a row before it changed or went)"
            )
        if hmac.compare_digest(values["row_hash"], row_digest(key, values)):
            keyed = True
        elif not keyed and values["row_hash"] == legacy_digest(values):
            legacy += 1
        else:
            problems.append(f"row {seq}: content changed after it was written")
        expected, prev = seq + 1, values["row_hash"]
    return problems, legacy


def _log_of(rows: list[dict], records: list[dict]) -> str | None:
    """The log's name: row 1's prev_hash, or (row 1 gone) the newest anchored log."""
    if rows and rows[0]["seq"] == 1:
        return rows[0]["prev_hash"]
    newest = max(records, key=lambda r: r["at"], default=None)
    return newest["log"] if newest else None


def anchor_problems(rows: list[dict], records: list[dict]) -> list[str]:
    """What the anchors say is missing or different in the log."""
    log = _log_of(rows, records)
    retired = {r["log"] for r in records if r["kind"] == "retired"}
    mine = [r for r in records if r["log"] == log and r["kind"] == "head"]
    gone = [r for r in records if r["log"] != log and r["log"] not in retired]
    problems: list[str] = []
    if gone:
        top = max(gone, key=lambda r: r["seq"])
        problems.append(
            f"an earlier audit log of this database is gone ({top['seq']} rows, last "
            f"anchored {top['at'][:19]}); if it was deleted on purpose, "
            "`gjenganger audit retire` records that"
        )
    last = rows[-1]["seq"] if rows else 0
    if not mine:
        if rows:
            problems.append("no anchor for this log: its anchors were deleted")
        elif not gone:
            problems.append(
                "the log is empty and has no anchor: it was never written, or its "
                "rows and anchors were deleted"
            )
        return problems
    top = max(mine, key=lambda r: r["seq"])
    if top["seq"] > last:
        problems.append(
            f"the log is empty but {top['seq']} rows were written to it"
            if not rows
            else f"the log ends at row {last} but row {top['seq']} was anchored: "
            "rows were removed from the end"
        )
    hashes = {v["seq"]: v["row_hash"] for v in rows}
    bad = sorted(r["seq"] for r in mine if hashes.get(r["seq"], r["head"]) != r["head"])
    if bad:
        problems.append(f"row {bad[0]} is not the row that was anchored: rewritten")
    return problems


def check(
    key: bytes, rows: list[dict], db_path: Path, journals: tuple[Path, ...] = ()
) -> list[str]:
    """Every problem of a log (empty when intact). A log whose rows all predate the
    keyed chain and that has no anchor gets one line saying so."""
    chain, legacy = walk(key, rows)
    records, altered = read_anchors(key, db_path, journals)
    if rows and legacy == len(rows) and not records and not chain and not altered:
        return [
            f"the log predates the keyed audit chain ({legacy} unkeyed rows, no "
            "anchor): a rewrite cannot be ruled out"
        ]
    return chain + altered + anchor_problems(rows, records)

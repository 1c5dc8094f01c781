"""One nightly run per database at a time.

A night opens and closes its DuckDB connection step by step, so a second run
started meanwhile (a manual run during the scheduled one, or a command that writes)
could slip its writes in between two steps of the first. The flow and every command
that writes (`ingest`, `purge`, `attribute`, `phases`, `episodes --write`) therefore
hold an exclusive `flock` on `<database>.run-lock` while they work. The kernel drops
the lock when the holder exits, however it exits (kill -9 included), so a lock is
never stale.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from gjenganger.errors import UserError


def lock_path(db_path: str | Path) -> Path:
    """The lock file beside the database."""
    p = Path(db_path)
    return p.with_name(p.name + ".run-lock")


@contextmanager
def hold(db_path: str | Path) -> Iterator[Path]:
    """Hold the database's run lock for the block; a `UserError` naming the holder's
    PID when another run has it."""
    path = lock_path(db_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise UserError(f"cannot create the run lock {path}: {exc.strerror}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise UserError(
                f"another gjenganger run (PID {holder}) is working on {Path(db_path)};"
                " wait for it to finish or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def ensure_free(db_path: str | Path) -> None:
    """Refuse early (a one-line `UserError`) when another run holds the database, so
    the command line can say so before it starts a flow run that would fail."""
    with hold(db_path):
        pass


def hold_when(writing: bool, db_path: str | Path) -> AbstractContextManager:
    """`hold(db_path)` for a command that writes, nothing for one that only reads."""
    return hold(db_path) if writing else nullcontext()

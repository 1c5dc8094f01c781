"""Atomic publishing of the nightly bundles.

A night is built in `PUBLISH_DIR/.building-<run>/` (bundles `analyst/`,
`prevention/`, `research/`), moved whole to `PUBLISH_DIR/nights/<run>/` with one
rename, then `PUBLISH_DIR/latest` (a symlink) is swapped to it with another
(`os.replace` of a fresh link). Readers of the previous night keep a whole
folder; a failed night leaves `latest` where it was. The last `keep` nights stay.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from gjenganger.errors import UserError
from gjenganger.store import faults

BUNDLES = ("analyst", "prevention", "research")


@dataclass
class Night:
    publish_dir: Path
    run_name: str

    @property
    def building(self) -> Path:
        return self.publish_dir / f".building-{self.run_name}"

    @property
    def final(self) -> Path:
        return self.publish_dir / "nights" / self.run_name

    def bundle(self, name: str) -> Path:
        """The folder of one bundle of the night being built."""
        path = self.building / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def write_text(path: str | Path, text: str) -> Path:
    """Write one published file (UTF-8), creating its folder; the one place the
    steps write pages, CSV notes and reports."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from exc
    return path


def make_folder(path: str | Path) -> Path:
    """Create a published folder (and its parents); a one-line error if we cannot."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot write to {path}: {exc.strerror}") from exc
    return path


def check_writable(publish_dir: str | Path) -> None:
    """Fail early, in one line, when the publication folder cannot be written."""
    path = Path(publish_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise UserError(
            f"cannot write to publish folder {path}: {exc.strerror}"
        ) from exc


def start(publish_dir: str | Path, run_name: str) -> Night:
    """Prepare an empty building folder for tonight's bundles."""
    publish_dir = Path(publish_dir)
    try:
        publish_dir.mkdir(parents=True, exist_ok=True)
        night = Night(publish_dir, run_name)
        for stale in publish_dir.glob(".building-*"):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
        for name in BUNDLES:
            night.bundle(name)
        probe = night.building / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise UserError(
            f"cannot write to publish folder {publish_dir}: {exc.strerror}"
        ) from exc
    return night


def commit(night: Night, keep: int = 7) -> Path:
    """Move the built night into place and point `latest` at it; prune old nights."""
    night.final.parent.mkdir(parents=True, exist_ok=True)
    faults.point("publish:commit")
    if night.final.exists():
        shutil.rmtree(night.final)
    os.replace(night.building, night.final)
    link = night.publish_dir / "latest"
    tmp = night.publish_dir / f".latest-{night.run_name}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(Path("nights") / night.run_name, tmp)
    os.replace(tmp, link)
    prune(night.publish_dir, keep)
    return night.final


def abandon(night: Night) -> None:
    """Remove a half-built night; the published ones are untouched."""
    shutil.rmtree(night.building, ignore_errors=True)


def prune(publish_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` nights (never the one `latest` points at)."""
    nights = sorted((publish_dir / "nights").iterdir(), key=lambda p: p.name)
    current = (publish_dir / "latest").resolve()
    removed = []
    for path in nights[:-keep] if keep > 0 else []:
        if path.resolve() != current:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


RETENTION_NOTE = "RETENTION-PENDING.txt"


def after_purge(publish_dir: str | Path, purged_at: str) -> dict:
    """Published nights were built before a purge and may hold purged cases: delete
    every night but the one `latest` points at, and mark that one until the next
    night replaces it (readers of `latest` keep working)."""
    publish_dir = Path(publish_dir)
    nights = publish_dir / "nights"
    if not nights.is_dir():
        return {"nights_removed": 0, "latest_marked": False}
    current = (publish_dir / "latest").resolve()
    removed = 0
    for path in sorted(nights.iterdir()):
        if path.resolve() != current:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    marked = current.is_dir() and current.parent == nights.resolve()
    if marked:
        write_text(
            current / RETENTION_NOTE,
            f"Built before the purge at {purged_at}: this night may still hold cases "
            "past retention until the next nightly run replaces it.\n",
        )
    return {"nights_removed": removed, "latest_marked": marked}


def latest(publish_dir: str | Path) -> Path | None:
    """The folder of the newest published night, if any."""
    link = Path(publish_dir) / "latest"
    return link.resolve() if link.exists() else None


def file_digests(folder: Path) -> dict[str, str]:
    """sha256 of every file below a folder, by relative path (for audit and tests)."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        out[str(path.relative_to(folder))] = hashlib.sha256(
            path.read_bytes()
        ).hexdigest()
    return out

"""Secret keys for keyed hashing (HMAC-SHA256) and the pseudonyms made with them.

A key file must be at least 32 bytes and readable by its owner only. Keys and the
raw values they hash are never logged or written anywhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from gjenganger.errors import UserError

KEY_BYTES = 32
# hex digit -> letter, so pseudonyms hold no digit runs that could look like an
# identity number (the ingest guard would quarantine them)
_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def read_key_file(path: str | Path) -> bytes:
    """The key in `path`; refuses one others can read or shorter than 32 bytes."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise UserError(f"key file {path} does not exist") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UserError(f"key file {path} is readable by others (chmod 600 it)")
    key = path.read_bytes()
    if len(key) < KEY_BYTES:
        raise UserError(f"key file {path} is shorter than {KEY_BYTES} bytes")
    return key


def ensure_key_file(path: str | Path) -> bytes:
    """Read the key, creating it (0600, 32 random bytes) if it does not exist."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(KEY_BYTES))
    return read_key_file(path)


def pseudonym(key: bytes, value: str, prefix: str = "P", length: int = 24) -> str:
    """`prefix` + the first `length` hex digits of HMAC-SHA256(key, value), as
    letters."""
    digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return prefix + digest[:length].translate(_LETTERS)


def audit_key(create: bool = True) -> bytes:
    """The key of the audit chain (`gjenganger.store.settings.audit_key_file`).

    Appending creates it (0600, in a 0700 folder if the folder is new); verifying
    never does (`create=False`): a missing key is a one-line `UserError`, not a new
    key that would make every row look forged.
    """
    from gjenganger.store import settings

    path = settings.audit_key_file()
    if create and not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another process made it first
            return ensure_key_file(path)
    return read_key_file(path)


def mac(key: bytes, message: str) -> str:
    """HMAC-SHA256 of `message` under `key`, as 64 hex digits."""
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()

"""Pseudonyms and keys: random letters, never a run of digits that could be an identity.

Person, card and merchant pseudonyms are a prefix plus random ASCII letters only, so no
value can contain the 11-digit run of a Norwegian identity number. Keys that count
(`INC-00001234`) have at most nine digits.
"""

from __future__ import annotations

import numpy as np

_ALPHABET = np.frombuffer(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8
)


def pseudonyms(
    rng: np.random.Generator, n: int, prefix: str, length: int = 15
) -> np.ndarray:
    """`n` distinct strings `prefix` + `length` random letters (object array)."""
    out = np.empty(n, dtype=object)
    todo = np.arange(n)
    seen: set[str] = set()
    while len(todo):
        codes = rng.integers(0, len(_ALPHABET), size=(len(todo), length))
        raw = _ALPHABET[codes].view(f"S{length}").ravel()
        again = []
        for i, value in zip(todo, raw, strict=True):
            text = prefix + value.decode("ascii")
            if text in seen:
                again.append(i)
            else:
                seen.add(text)
                out[i] = text
        todo = np.asarray(again, dtype=np.int64)
    return out

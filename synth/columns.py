"""A tiny column store: a dict of equally long NumPy arrays, filtered as one."""

from __future__ import annotations

import numpy as np
import polars as pl


class Columns(dict):
    """Named NumPy columns of one table; every column has the same length `n`."""

    @property
    def n(self) -> int:
        return len(next(iter(self.values()))) if self else 0

    def take(self, index) -> Columns:
        """Rows selected by an index array or boolean mask, all columns alike."""
        return Columns({k: v[index] for k, v in self.items()})

    @staticmethod
    def concat(*parts: Columns) -> Columns:
        keys = list(parts[0])
        for p in parts[1:]:
            if list(p) != keys:
                raise ValueError(f"columns differ: {keys} vs {list(p)}")
        return Columns({k: np.concatenate([p[k] for p in parts]) for k in keys})


def strings(values: np.ndarray, name: str = "") -> pl.Series:
    """An object array of str / None as a Polars String series (nulls kept)."""
    return pl.Series(name, values.tolist(), dtype=pl.String)


def lookup(names, index: np.ndarray, name: str = "") -> pl.Series:
    """`names[index]` as a String series; index -1 gives null. Fast on big arrays."""
    table = (
        names
        if isinstance(names, pl.Series)
        else pl.Series(list(names), dtype=pl.String)
    )
    idx = pl.Series(np.asarray(index, dtype=np.int64))
    idx = pl.select(pl.when(idx >= 0).then(idx)).to_series()
    return table.gather(idx).alias(name)


def keys(prefix: str, seq: np.ndarray, width: int, name: str = "") -> pl.Series:
    """Keys like `INC-00001234` from integers (`width` digits, zero-padded)."""
    s = pl.Series(np.asarray(seq, dtype=np.int64)).cast(pl.String).str.zfill(width)
    return (prefix + s).alias(name)

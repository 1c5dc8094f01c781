"""A tiny column store: a dict of equally long NumPy arrays, filtered and joined whole."""

from __future__ import annotations

import numpy as np


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

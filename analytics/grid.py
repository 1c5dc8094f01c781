"""A regular square grid in EPSG:25833 and (weighted) counts on it.

Cells are aligned to multiples of the cell size from the projection origin, so a
cell keeps its id (`"250m_E269000_N7039000"`: size and south-west corner) across
runs, extents and data sets. Cell ids carry no information about incidents.
Arrays over a grid are flat, row-major from the south-west: index = iy * nx + ix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from gjenganger.analytics.geo import to_wgs84

DEFAULT_CELL_M = 250.0


@dataclass(frozen=True)
class Grid:
    """Grid of `nx` x `ny` square cells of `cell_m` metres from corner (`x0`, `y0`)."""

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int

    @classmethod
    def covering(
        cls,
        xmin: float,
        ymin: float,
        xmax: float,
        ymax: float,
        cell_m: float = DEFAULT_CELL_M,
    ) -> Grid:
        """The smallest aligned grid covering the box (edges included)."""
        if not (np.isfinite(cell_m) and cell_m > 0):
            raise ValueError(
                f"cell_m must be a positive number of metres, got {cell_m!r}"
            )
        if (
            not all(np.isfinite(v) for v in (xmin, ymin, xmax, ymax))
            or xmin > xmax
            or ymin > ymax
        ):
            raise ValueError(
                f"bad extent ({xmin}, {ymin}, {xmax}, {ymax}): need finite "
                "xmin <= xmax and ymin <= ymax in EPSG:25833 metres"
            )
        x0 = np.floor(xmin / cell_m) * cell_m
        y0 = np.floor(ymin / cell_m) * cell_m
        nx = int(np.floor((xmax - x0) / cell_m)) + 1
        ny = int(np.floor((ymax - y0) / cell_m)) + 1
        return cls(float(x0), float(y0), float(cell_m), nx, ny)

    @property
    def n(self) -> int:
        return self.nx * self.ny

    @property
    def shape(self) -> tuple[int, int]:
        """(ny, nx): rows are northings, columns eastings."""
        return self.ny, self.nx

    def index(self, x, y) -> np.ndarray:
        """Flat cell index of each point; -1 outside the grid or for NaN."""
        x = np.asarray(x, dtype="float64")
        y = np.asarray(y, dtype="float64")
        with np.errstate(invalid="ignore"):
            ix = np.floor((x - self.x0) / self.cell_m)
            iy = np.floor((y - self.y0) / self.cell_m)
        ok = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        out = np.full(x.shape, -1, dtype="int64")
        out[ok] = (iy[ok] * self.nx + ix[ok]).astype("int64")
        return out

    def ixy(self, idx) -> tuple[np.ndarray, np.ndarray]:
        idx = np.asarray(idx, dtype="int64")
        return idx % self.nx, idx // self.nx

    def centres(self, idx=None) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of cell centres (all cells, or those in `idx`)."""
        idx = np.arange(self.n) if idx is None else np.asarray(idx, dtype="int64")
        ix, iy = self.ixy(idx)
        return self.x0 + (ix + 0.5) * self.cell_m, self.y0 + (iy + 0.5) * self.cell_m

    def centres_wgs84(self, idx=None) -> tuple[np.ndarray, np.ndarray]:
        """(lat, lon) of cell centres."""
        return to_wgs84(*self.centres(idx))

    def corners_wgs84(self, idx) -> np.ndarray:
        """Array (len(idx), 5, 2) of [lon, lat] rings (SW, SE, NE, NW, SW)."""
        ix, iy = self.ixy(idx)
        xw = self.x0 + ix * self.cell_m
        ys = self.y0 + iy * self.cell_m
        c = self.cell_m
        xs = np.stack([xw, xw + c, xw + c, xw, xw], axis=1)
        yv = np.stack([ys, ys, ys + c, ys + c, ys], axis=1)
        lat, lon = to_wgs84(xs.ravel(), yv.ravel())
        return np.stack([lon, lat], axis=1).reshape(len(ix), 5, 2)

    def cell_ids(self, idx=None) -> np.ndarray:
        """Stable ids "<size>m_E<west>_N<south>" of cells."""
        idx = np.arange(self.n) if idx is None else np.asarray(idx, dtype="int64")
        ix, iy = self.ixy(idx)
        e = (self.x0 + ix * self.cell_m).round().astype("int64")
        n = (self.y0 + iy * self.cell_m).round().astype("int64")
        size = f"{self.cell_m:g}m_E"
        return np.char.add(
            np.char.add(np.char.add(size, e.astype(str)), "_N"), n.astype(str)
        )

    def mask_from_polygons(self, polygons) -> np.ndarray:
        """Boolean mask of cells whose centre lies in any of the shapely polygons
        (EPSG:25833)."""
        import shapely

        union = shapely.union_all(list(polygons))
        x, y = self.centres()
        return np.asarray(shapely.contains_xy(union, x, y), dtype=bool)


def cell_counts(grid: Grid, x, y, weight=None) -> np.ndarray:
    """Summed weight (1 per point by default) of points in each cell, flat array
    of length grid.n. Points outside the grid are ignored."""
    idx = grid.index(x, y)
    ok = idx >= 0
    w = None if weight is None else np.asarray(weight, dtype="float64")[ok]
    return np.bincount(idx[ok], weights=w, minlength=grid.n).astype("float64")


def grouped_counts(
    grid: Grid,
    frame: pl.DataFrame,
    by: list[str] | tuple[str, ...] = (),
    weight: str | None = None,
) -> pl.DataFrame:
    """Long frame of counts per cell (and per `by` group): columns `cell`, *by,
    `count`. `frame` needs `x`, `y` (EPSG:25833) and the `by`/`weight` columns."""
    need = ["x", "y", *by] + ([weight] if weight else [])
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise ValueError(f"grouped_counts needs columns {need}; missing {missing}")
    idx = grid.index(frame["x"].to_numpy(), frame["y"].to_numpy())
    w = pl.col(weight) if weight else pl.lit(1.0)
    return (
        frame.with_columns(pl.Series("cell", idx))
        .filter(pl.col("cell") >= 0)
        .group_by(["cell", *by])
        .agg(w.cast(pl.Float64).sum().alias("count"))
        .sort(["cell", *by])
    )

"""Where things happen: the six municipalities, Trondheim's districts, named centres.

Geodata ships with the package (`data_schema/geodata/`, see its PROVENANCE.md):
municipality polygons (medium detail) and Trondheim's four districts clipped to land.
A point counts as *on land* when it lies in one of the six municipalities and, inside
Trondheim, also in a district (the districts follow the fjord shore, the municipality
outline does not). `municipality_no` is the municipality polygon holding the point.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from shapely.geometry import shape

from gjenganger.data_schema import GEODATA

KM_PER_DEG_LAT = 111.2
TRONDHEIM = "5001"
#: The five municipalities around Trondheim (cabins, construction sites, local centres).
SURROUNDING = ("5028", "5029", "5031", "5035", "5059")
COORD_DECIMALS = 6


@dataclass(frozen=True)
class Poi:
    name: str
    category: str
    kommune: str
    lat: float
    lon: float


@dataclass
class Geography:
    municipality_codes: tuple[str, ...]
    municipality_names: tuple[str, ...]
    municipalities: tuple  # prepared shapely geometries, same order as the codes
    trondheim_land: object  # prepared union of the four districts
    districts: dict  # district name -> prepared geometry
    pois: tuple[Poi, ...]

    def municipality_index(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Index into `municipality_codes` of the polygon holding each point; -1 if none
        (or in Trondheim's water)."""
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        out = np.full(lat.shape, -1, dtype=np.int64)
        for i, geom in enumerate(self.municipalities):
            todo = out < 0
            if not todo.any():
                break
            hit = np.zeros(lat.shape, dtype=bool)
            hit[todo] = shapely.contains_xy(geom, lon[todo], lat[todo])
            out[hit] = i
        t = self.municipality_codes.index(TRONDHEIM)
        in_t = out == t
        if in_t.any():
            land = shapely.contains_xy(self.trondheim_land, lon[in_t], lat[in_t])
            idx = np.flatnonzero(in_t)
            out[idx[~land]] = -1
        return out

    def municipality_no(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Four-digit municipality number of each point (None where not on land)."""
        idx = self.municipality_index(lat, lon)
        codes = np.array((*self.municipality_codes, None), dtype=object)
        return codes[idx]

    def scatter(
        self,
        rng: np.random.Generator,
        lat0: np.ndarray,
        lon0: np.ndarray,
        sd_km: np.ndarray,
        tries: int = 40,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gaussian points around centres (`sd_km` each), redrawn until on land.

        Coordinates are rounded to 6 decimals before the land test, so the written
        value is the tested one. A point still at sea after `tries` draws takes its
        centre (centres are on land).
        """
        lat0 = np.asarray(lat0, dtype=float)
        lon0 = np.asarray(lon0, dtype=float)
        sd = np.broadcast_to(np.asarray(sd_km, dtype=float), lat0.shape)
        lat = np.empty_like(lat0)
        lon = np.empty_like(lon0)
        todo = np.arange(lat0.size)
        for _ in range(tries):
            if not len(todo):
                break
            k = sd[todo] / KM_PER_DEG_LAT
            la = np.round(lat0[todo] + rng.normal(0, 1, len(todo)) * k, COORD_DECIMALS)
            coslat = np.cos(np.radians(lat0[todo]))
            lo = np.round(
                lon0[todo] + rng.normal(0, 1, len(todo)) * k / coslat, COORD_DECIMALS
            )
            ok = self.municipality_index(la, lo) >= 0
            lat[todo[ok]] = la[ok]
            lon[todo[ok]] = lo[ok]
            todo = todo[~ok]
        lat[todo] = np.round(lat0[todo], COORD_DECIMALS)
        lon[todo] = np.round(lon0[todo], COORD_DECIMALS)
        return lat, lon

    def pois_where(self, *, kommune: str | None = None, names=None) -> list[int]:
        """Indices of POIs in a municipality (by name) or with the given names."""
        out = []
        for i, p in enumerate(self.pois):
            if kommune is not None and p.kommune != kommune:
                continue
            if names is not None and p.name not in names:
                continue
            out.append(i)
        return out

    @property
    def poi_lat(self) -> np.ndarray:
        return np.array([p.lat for p in self.pois])

    @property
    def poi_lon(self) -> np.ndarray:
        return np.array([p.lon for p in self.pois])


def _read(name: str) -> str:
    return (GEODATA / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load() -> Geography:
    """The packaged geodata, parsed and prepared once per process."""
    region = json.loads(_read("trondheim_region.geojson"))
    feats = sorted(region["features"], key=lambda f: f["properties"]["kommunenummer"])
    geoms = []
    for f in feats:
        g = shape(f["geometry"])
        shapely.prepare(g)
        geoms.append(g)
    bydeler = json.loads(_read("trondheim_bydeler_land.geojson"))
    districts = {}
    for f in bydeler["features"]:
        g = shape(f["geometry"])
        shapely.prepare(g)
        districts[f["properties"]["bydelnavn"]] = g
    land = shapely.union_all(list(districts.values()))
    shapely.prepare(land)
    pois = tuple(
        Poi(r["name"], r["category"], r["kommune"], float(r["lat"]), float(r["lon"]))
        for r in csv.DictReader(_read("pois_named_approx.csv").splitlines())
    )
    return Geography(
        municipality_codes=tuple(f["properties"]["kommunenummer"] for f in feats),
        municipality_names=tuple(f["properties"]["kommunenavn_kort"] for f in feats),
        municipalities=tuple(geoms),
        trondheim_land=land,
        districts=districts,
        pois=pois,
    )

"""Where a cell is, in words, for maps without street tiles.

`place_texts(lat, lon, lang)` names, for each cell centre, its Trondheim city
district (bydel) or its municipality, and the nearest named place of the
project's open geodata (`data_schema/geodata/pois_named_approx.csv`: 16 shopping
and local centres with coordinates accurate to 50-500 m), with the distance
rounded to match: "Østbyen, Trondheim · ca. 350 m fra Solsiden Senter". So an
officer can say which part of town a hot cell covers when no basemap is
configured. Reads the vendored geodata files only (as `maps.basemap` does).
"""

from __future__ import annotations

import csv
import json
import re
from functools import cache

import numpy as np

from gjenganger.data_schema import GEODATA
from gjenganger.maps.i18n import t

POI_FILE = "pois_named_approx.csv"
M_PER_DEG_LAT = 111_320.0


@cache
def named_places() -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """(names, lat, lon) of the named places; English glosses in brackets are
    dropped ("Torvet (city square)" -> "Torvet")."""
    with (GEODATA / POI_FILE).open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    names = tuple(re.sub(r"\s*\(.*\)\s*$", "", r["name"]) for r in rows)
    lat = np.array([float(r["lat"]) for r in rows])
    lon = np.array([float(r["lon"]) for r in rows])
    return names, lat, lon


@cache
def _areas() -> tuple[list[tuple[object, str]], list[tuple[object, str]]]:
    """([(district polygon, name)], [(municipality polygon, name)]), prepared."""
    import shapely
    from shapely.geometry import shape

    def load(name: str, key: str) -> list[tuple[object, str]]:
        fc = json.loads((GEODATA / name).read_text(encoding="utf-8"))
        out = []
        for f in fc["features"]:
            geom = shape(f["geometry"])
            shapely.prepare(geom)
            out.append((geom, str(f["properties"][key])))
        return out

    return (
        load("trondheim_bydeler_land.geojson", "bydelnavn"),
        load("trondheim_region.geojson", "kommunenavn_kort"),
    )


def area_names(lat: np.ndarray, lon: np.ndarray) -> list[str]:
    """ "District, Trondheim" inside a Trondheim district, else the municipality's
    name, else "" (outside the region)."""
    import shapely

    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    out = np.full(lat.shape, "", dtype=object)
    districts, municipalities = _areas()
    for geom, name in municipalities:
        out[(out == "") & shapely.contains_xy(geom, lon, lat)] = name
    for geom, name in districts:
        inside = shapely.contains_xy(geom, lon, lat)
        out[inside] = f"{name}, Trondheim"
    return out.tolist()


def distance_text(metres: float, lang: str) -> str:
    """A rounded distance: "350 m" (to 50 m) below 1 km, else "2,1 km" / "2.1 km"."""
    if metres < 975:
        return f"{max(50, int(round(metres / 50.0)) * 50)} m"
    km = f"{metres / 1000:.1f}"
    return (km.replace(".", ",") if lang == "nb" else km) + " km"


def nearest_places(lat: np.ndarray, lon: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The nearest named place of each point and its distance in metres
    (equirectangular; the places are accurate to 50-500 m anyway)."""
    names, plat, plon = named_places()
    lat, lon = np.asarray(lat, float)[:, None], np.asarray(lon, float)[:, None]
    dy = (lat - plat[None, :]) * M_PER_DEG_LAT
    dx = (lon - plon[None, :]) * M_PER_DEG_LAT * np.cos(np.radians(lat))
    d = np.hypot(dx, dy)
    best = d.argmin(axis=1) if d.size else np.zeros(0, dtype=int)
    return [names[i] for i in best], d[np.arange(len(best)), best]


def place_texts(lat: np.ndarray, lon: np.ndarray, lang: str = "nb") -> list[str]:
    """One line per point: its district or municipality and the nearest named
    place with a rounded distance (see module docstring)."""
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    if lat.size == 0:
        return []
    areas = area_names(lat, lon)
    places, dist = nearest_places(lat, lon)
    near = t("near_place", lang)
    return [
        " · ".join(
            x for x in (a, near.format(d=distance_text(float(m), lang), place=p)) if x
        )
        for a, p, m in zip(areas, places, dist, strict=True)
    ]

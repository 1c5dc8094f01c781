"""Simulated incidents for the hotspot tests (and checks of the simulator).

`simulate(n, seed)` returns a frame shaped like `store.load_incidents`: stable
hotspots around a few Trondheim places, a uniform background over the region,
and near repeats (follow-ups within ~150 m and ~10 days), with aoristic windows
of a few hours (cabins: up to two weeks).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from gjenganger.analytics.geo import to_utm33, to_wgs84

CENTRES = [  # lat, lon, weight
    (63.4305, 10.3951, 4.0),  # Torvet
    (63.4344, 10.4125, 2.0),  # Solsiden
    (63.4434, 10.4478, 2.0),  # City Lade
    (63.3600, 10.3700, 1.5),  # Tiller
]
TARGETS = np.array(
    [
        "business",
        "shop",
        "construction_site",
        "cabin",
        "storage_room",
        "mailbox",
        "vehicle",
        "bicycle",
    ]
)
TARGET_P = np.array([0.25, 0.15, 0.1, 0.05, 0.15, 0.1, 0.15, 0.05])
CODES = {
    "business": "burglary_business",
    "shop": "shoplifting",
    "construction_site": "burglary_construction",
    "cabin": "burglary_cabin",
    "storage_room": "burglary_storage",
    "mailbox": "mail_theft",
    "vehicle": "theft_from_vehicle",
    "bicycle": "bicycle_theft",
}


def simulate(
    n: int = 4000,
    seed: int = 1,
    start: dt.date = dt.date(2024, 1, 1),
    days: int = 540,
    repeat_p: float = 0.3,
) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n_base = int(n / (1 + repeat_p))
    cx, cy = to_utm33([c[0] for c in CENTRES], [c[1] for c in CENTRES])
    w = np.array([c[2] for c in CENTRES] + [3.0])
    comp = rng.choice(len(w), size=n_base, p=w / w.sum())
    x = np.empty(n_base)
    y = np.empty(n_base)
    hot = comp < len(CENTRES)
    x[hot] = cx[comp[hot]] + rng.normal(0, 300, hot.sum())
    y[hot] = cy[comp[hot]] + rng.normal(0, 300, hot.sum())
    x[~hot] = rng.uniform(cx.min() - 8000, cx.max() + 8000, (~hot).sum())
    y[~hot] = rng.uniform(cy.min() - 8000, cy.max() + 8000, (~hot).sum())
    t = rng.uniform(0, days, n_base)
    n_rep = n - n_base
    parent = rng.integers(0, n_base, n_rep)
    x = np.concatenate([x, x[parent] + rng.normal(0, 100, n_rep)])
    y = np.concatenate([y, y[parent] + rng.normal(0, 100, n_rep)])
    t = np.concatenate(
        [t, np.minimum(t[parent] + rng.exponential(6, n_rep), days - 0.01)]
    )
    target = rng.choice(TARGETS, size=n, p=TARGET_P)
    dur = np.where(target == "cabin", rng.uniform(0, 14, n), rng.uniform(0, 0.4, n))
    lat, lon = to_wgs84(x, y)
    t0 = np.datetime64(start, "us") + (t * 86_400e6).astype("timedelta64[us]")
    t1 = t0 + (dur * 86_400e6).astype("timedelta64[us]")
    rep = t1 + np.timedelta64(2, "h")
    return (
        pl.DataFrame(
            {
                "incident_id": [f"SIM{i:07d}" for i in range(n)],
                "offence_code": [CODES[t] for t in target],
                "offence_group": ["acquisitive"] * n,
                "target_type": target,
                "lat": lat,
                "lon": lon,
                "municipality_no": ["5001"] * n,
                "status": ["open"] * n,
                "reported_at": rep,
                "occurred_from": t0,
                "occurred_to": t1,
                "updated_at": rep,
            }
        )
        .with_columns(
            pl.col(["reported_at", "occurred_from", "occurred_to", "updated_at"]).cast(
                pl.Datetime("us")
            )
        )
        .sort("occurred_from")
    )


def test_the_simulator_is_reproducible_and_shaped_like_the_store():
    a, b = simulate(500, seed=3), simulate(500, seed=3)
    assert a.equals(b)
    assert a.height == 500
    assert (a["occurred_to"] >= a["occurred_from"]).all()
    assert a.schema["occurred_from"] == pl.Datetime("us")


def write_batch(
    inbox,
    frame: pl.DataFrame,
    batch_id: str = "2025-06-30",
    n_links: int = 300,
    seed: int = 0,
):
    """A contract batch (CSV + manifest) of `frame`, with some person links."""
    import hashlib
    import json
    from pathlib import Path

    from gjenganger.data_schema.contract import INCIDENT_PERSONS, INCIDENTS

    folder = Path(inbox) / batch_id
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = frame.height
    inc = frame.with_columns(
        pl.lit(None, pl.String).alias("entry_method"),
        pl.lit(None, pl.Boolean).alias("planned"),
        pl.lit(None, pl.Int64).alias("participants"),
        pl.lit(None, pl.Float64).alias("value_nok"),
        pl.lit(False).alias("arrest_at_scene"),
    ).select(INCIDENTS.column_names)
    ts = ["updated_at", "reported_at", "occurred_from", "occurred_to"]
    inc = inc.with_columns(pl.col(ts).dt.strftime("%Y-%m-%dT%H:%M:%S"))
    exported = frame["reported_at"].max() + dt.timedelta(hours=3)
    pick = rng.choice(n, size=min(n_links, n), replace=False)
    links = pl.DataFrame(
        {
            "incident_id": frame["incident_id"].gather(pick),
            "person_id": [f"PERS{int(k) % 40:05d}X" for k in pick],
            "role": ["suspect"] * len(pick),
            "updated_at": frame["reported_at"]
            .gather(pick)
            .dt.strftime("%Y-%m-%dT%H:%M:%S"),
            "retracted": [False] * len(pick),
        }
    ).select(INCIDENT_PERSONS.column_names)
    files = {}
    for name, f in (("incidents.csv", inc), ("incident_persons.csv", links)):
        f.write_csv(folder / name)
        files[name] = {
            "rows": f.height,
            "sha256": hashlib.sha256((folder / name).read_bytes()).hexdigest(),
        }
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "batch_id": batch_id,
                "exported_at": exported.strftime("%Y-%m-%dT%H:%M:%S+02:00"),
                "files": files,
            }
        )
    )
    return folder


def make_db(tmp_path, frame: pl.DataFrame):
    """A DuckDB database at tmp_path/'h.duckdb' holding `frame` (ingested)."""
    from gjenganger.flows.steps.ingest import ingest
    from gjenganger.store import db

    write_batch(tmp_path / "inbox", frame)
    path = tmp_path / "h.duckdb"
    con = db.connect(path)
    try:
        results = ingest(con, tmp_path / "inbox")
    finally:
        con.close()
    return path, results

"""From what happened to what the case system exports: record versions in batches.

Every record is written in the batch of the local day of its `updated_at`:

- an incident first appears `open` (or `solved` with `arrest_at_scene`) in the batch
  of its report day; a later batch repeats it `solved` or `dropped`;
- a link appears when its case is solved; later versions change the role or retract;
- card transactions arrive with their fraud case's report;
- a custody period appears when it starts (`end_at` null) and again when it ends
  (arrests only once, when they end).

Versions dated after the last day are not exported yet. With `batch_days` > 1 a
batch covers several days and holds only the newest version of each key.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from data_schema.contract import (
    CUSTODY,
    ENTRY_METHODS,
    INCIDENTS,
    MERCHANT_CATEGORIES,
    ROLES,
    TARGET_TYPES,
)
from gjenganger.synth import modus
from gjenganger.synth.clock import Clock
from gjenganger.synth.columns import Columns
from gjenganger.synth.geography import Geography

PARTICIPANTS_UNKNOWN = 0.02


def _opt(values: np.ndarray, names) -> np.ndarray:
    """Code indices (-1 = null) to an object array of names / None."""
    table = np.array([*names, None], dtype=object)
    return table[np.where(values < 0, len(names), values)]


def _nullable_bool(v: np.ndarray) -> pl.Series:
    """-1/0/1 as a Boolean series with nulls."""
    s = pl.Series(v == 1)
    return pl.select(pl.when(pl.lit(pl.Series(v < 0))).then(None).otherwise(s)).to_series()


def _nan_null(v: np.ndarray) -> pl.Series:
    return pl.Series(v.astype(np.float64)).fill_nan(None)


def batch_of(clock: Clock, updated: np.ndarray, batch_days: int) -> np.ndarray:
    return np.maximum(clock.day_of(updated), 0) // batch_days


def incident_ids(rows: Columns) -> np.ndarray:
    """`INC-00000001` ... in order of report time (ties: occurrence, person, gen)."""
    order = np.lexsort((rows["gen"], rows["person"], rows["t"], rows["t_report"]))
    seq = np.empty(rows.n, dtype=np.int64)
    seq[order] = np.arange(1, rows.n + 1)
    return np.array([f"INC-{s:08d}" for s in seq], dtype=object)


def incidents(rng, geo: Geography, clock: Clock, rows: Columns, batch_days: int) -> pl.DataFrame:
    """All versions of all exported incidents, with `batch` and `_updated` (epoch)."""
    end = clock.end
    tmpl = rows["template"]
    codes = np.array([t.code for t in modus.TEMPLATES], dtype=object)
    participants = rows["participants"].astype(np.int64)
    unknown = rng.random(rows.n) < PARTICIPANTS_UNKNOWN
    lat, lon = rows["lat"], rows["lon"]
    has = ~np.isnan(lat)
    muni = np.full(rows.n, None, dtype=object)
    muni[has] = geo.municipality_no(lat[has], lon[has])
    base = pl.DataFrame(
        {
            "incident_id": rows["incident_id"],
            "reported_at": rows["t_report"],
            "occurred_from": rows["t_from"],
            "occurred_to": rows["t_to"],
            "offence_code": codes[tmpl],
            "target_type": np.array(TARGET_TYPES, dtype=object)[rows["target"]],
            "entry_method": _opt(rows["entry"], ENTRY_METHODS),
            "planned": _nullable_bool(rows["planned"]),
            "participants": _nan_null(np.where(unknown, np.nan, participants)).cast(pl.Int32),
            "value_nok": _nan_null(rows["value"]),
            "lat": _nan_null(lat),
            "lon": _nan_null(lon),
            "municipality_no": pl.Series(muni, dtype=pl.String),
            "arrest_at_scene": rows["arrest"],
            "_solved": rows["solved_at"],
            "_dropped": rows["dropped_at"],
        }
    )
    first = base.with_columns(
        pl.col("reported_at").alias("_updated"),
        pl.when(pl.col("arrest_at_scene")).then(pl.lit("solved")).otherwise(pl.lit("open"))
        .alias("status"),
    )  # fmt: skip
    solved = base.filter(~pl.col("arrest_at_scene") & (pl.col("_solved") >= 0)
                         & (pl.col("_solved") < end)).with_columns(
        pl.col("_solved").alias("_updated"), pl.lit("solved").alias("status"))  # fmt: skip
    dropped = base.filter((pl.col("_dropped") >= 0) & (pl.col("_dropped") < end)).with_columns(
        pl.col("_dropped").alias("_updated"), pl.lit("dropped").alias("status"))  # fmt: skip
    out = pl.concat([first, solved, dropped]).drop("_solved", "_dropped")
    return _finish(out, clock, batch_days, INCIDENTS.key)


def links(clock: Clock, link: Columns, person_ids: np.ndarray, batch_days: int) -> pl.DataFrame:
    """All versions of case-person links (`link` carries `incident_id`)."""
    out = pl.DataFrame(
        {
            "incident_id": link["incident_id"],
            "person_id": person_ids[link["person"]],
            "role": np.array(ROLES, dtype=object)[link["role"]],
            "_updated": link["updated"],
            "retracted": link["retracted"],
        }
    ).filter(pl.col("_updated") < clock.end)
    return _finish(out, clock, batch_days, ("incident_id", "person_id"))


def transactions(clock: Clock, tx: Columns, merchants, batch_days: int) -> pl.DataFrame:
    """Card uses, in the batch of their fraud case's report (`tx` carries the ids)."""
    out = pl.DataFrame(
        {
            "transaction_id": tx["transaction_id"],
            "incident_id": tx["incident_id"],
            "card_ref": tx["card_ref"],
            "at": tx["at"],
            "amount_nok": np.round(tx["amount"], 2),
            "merchant_category": np.array(MERCHANT_CATEGORIES, dtype=object)[tx["category"]],
            "merchant_ref": merchants.ref[tx["merchant"]],
            "approved": tx["approved"],
            "pin_used": tx["pin_used"],
            "lat": _nan_null(merchants.lat[tx["merchant"]]),
            "lon": _nan_null(merchants.lon[tx["merchant"]]),
            "_updated": tx["updated"],
        }
    ).filter(pl.col("_updated") < clock.end)
    return _finish(out, clock, batch_days, ("transaction_id",))


def custody(clock: Clock, iv, person_ids, batch_days: int) -> pl.DataFrame:
    """Custody versions: at the start (end null) and at the end; arrests once."""
    end = clock.end
    keep = (iv.end >= clock.midnight(0)) & (iv.start < end)
    person, kind, start, stop = iv.person[keep], iv.kind[keep], iv.start[keep], iv.end[keep]
    order = np.lexsort((kind, person, start))
    person, kind, start, stop = person[order], kind[order], start[order], stop[order]
    cid = np.array([f"CUS-{i + 1:07d}" for i in range(len(person))], dtype=object)
    base = pl.DataFrame({"custody_id": cid, "person_id": person_ids[person], "kind": kind,
                         "start_at": start, "_end": stop})  # fmt: skip
    arrest = pl.col("kind") == "arrest"
    ended = pl.col("_end") < end
    opening = base.filter(~arrest | ~ended).with_columns(
        pl.col("start_at").alias("_updated"), pl.lit(None, pl.Int64).alias("end_at"))
    closing = base.filter(ended).with_columns(
        pl.col("_end").alias("_updated"), pl.col("_end").alias("end_at"))
    out = pl.concat([opening, closing]).drop("_end")
    return _finish(out, clock, batch_days, CUSTODY.key)


def _finish(frame: pl.DataFrame, clock: Clock, batch_days: int, key) -> pl.DataFrame:
    """Add `batch`; keep the newest version of a key within a batch; sort."""
    key = list(key)
    batch = batch_of(clock, frame["_updated"].to_numpy(), batch_days)
    frame = frame.with_columns(pl.Series("batch", batch, dtype=pl.Int64))
    frame = frame.sort([*key, "_updated"]).unique(subset=["batch", *key], keep="last",
                                                   maintain_order=True)  # fmt: skip
    return frame.sort(["batch", "_updated", *key])

"""From what happened to what the case system exports: record versions in batches.

Every record is written in the batch of the local day of its `updated_at`:

- an incident first appears `open` (or `solved` with `arrest_at_scene`) in the batch
  of its report day; a later batch repeats it `solved` or `dropped`;
- a link appears when its case is solved; later versions change the role or retract;
- card transactions arrive with their fraud case's report;
- a custody period appears when it starts (`end_at` null) and again when it ends
  (arrests only once, when they end).

Versions dated after the last day are not exported yet. With `batch_days` > 1 a
batch covers several days and holds only the newest version of each key. Frames keep
times as epoch seconds (`writer` formats them) and carry integer sort keys `_k1`,
`_k2` standing for the string keys.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from gjenganger.data_schema.contract import (
    ENTRY_METHODS,
    MERCHANT_CATEGORIES,
    ROLES,
    TARGET_TYPES,
)
from gjenganger.synth import modus
from gjenganger.synth.clock import Clock
from gjenganger.synth.columns import Columns, keys, lookup, strings
from gjenganger.synth.geography import Geography
from gjenganger.synth.justice import Intervals

PARTICIPANTS_UNKNOWN = 0.02
CODES = tuple(t.code for t in modus.TEMPLATES)


def _nan_null(v: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(v, dtype=np.float64)).fill_nan(None)


def _nullable_bool(v: np.ndarray) -> pl.Series:
    """-1/0/1 as a Boolean series with nulls."""
    s = pl.Series(v == 1)
    return pl.select(
        pl.when(pl.lit(pl.Series(v < 0))).then(None).otherwise(s)
    ).to_series()


def incident_seq(rows: Columns) -> np.ndarray:
    """Case numbers 1.. in order of report time (ties: occurrence, person, gen)."""
    order = np.lexsort((rows["gen"], rows["person"], rows["t"], rows["t_report"]))
    seq = np.empty(rows.n, dtype=np.int64)
    seq[order] = np.arange(1, rows.n + 1)
    return seq


def incident_ids(seq: np.ndarray) -> pl.Series:
    """Case numbers as `INC-00001234` keys."""
    return keys("INC-", seq, 8, "incident_id")


def incidents(
    rng, geo: Geography, clock: Clock, rows: Columns, batch_days: int
) -> pl.DataFrame:
    """All versions of all exported incidents, with `batch` and `_updated` (epoch)."""
    end = clock.end
    participants = rows["participants"].astype(np.float64)
    participants[rng.random(rows.n) < PARTICIPANTS_UNKNOWN] = np.nan
    lat, lon = rows["lat"], rows["lon"]
    has = ~np.isnan(lat)
    muni = np.full(rows.n, None, dtype=object)
    muni[has] = geo.municipality_no(lat[has], lon[has])
    base = pl.DataFrame(
        [
            incident_ids(rows["seq"]),
            pl.Series("reported_at", rows["t_report"]),
            pl.Series("occurred_from", rows["t_from"]),
            pl.Series("occurred_to", rows["t_to"]),
            lookup(CODES, rows["template"], "offence_code"),
            lookup(TARGET_TYPES, rows["target"], "target_type"),
            lookup(ENTRY_METHODS, rows["entry"], "entry_method"),
            _nullable_bool(rows["planned"]).alias("planned"),
            _nan_null(participants).cast(pl.Int32).alias("participants"),
            _nan_null(rows["value"]).alias("value_nok"),
            _nan_null(lat).alias("lat"),
            _nan_null(lon).alias("lon"),
            strings(muni, "municipality_no"),
            pl.Series("arrest_at_scene", rows["arrest"]),
            pl.Series("_solved", rows["solved_at"]),
            pl.Series("_dropped", rows["dropped_at"]),
            pl.Series("_k1", rows["seq"]),
        ]
    )
    first = base.with_columns(
        pl.col("reported_at").alias("_updated"),
        pl.when(pl.col("arrest_at_scene"))
        .then(pl.lit("solved"))
        .otherwise(pl.lit("open"))
        .alias("status"),
    )
    solved = base.filter(
        ~pl.col("arrest_at_scene")
        & (pl.col("_solved") >= 0)
        & (pl.col("_solved") < end)
    ).with_columns(
        pl.col("_solved").alias("_updated"), pl.lit("solved").alias("status")
    )
    dropped = base.filter(
        (pl.col("_dropped") >= 0) & (pl.col("_dropped") < end)
    ).with_columns(
        pl.col("_dropped").alias("_updated"), pl.lit("dropped").alias("status")
    )
    out = pl.concat([first, solved, dropped]).drop("_solved", "_dropped")
    return _finish(out, clock, batch_days)


def links(
    clock: Clock, link: Columns, person_ids: pl.Series, batch_days: int
) -> pl.DataFrame:
    """All versions of case-person links (`link` carries the case number `seq`)."""
    out = pl.DataFrame(
        [
            incident_ids(link["seq"]),
            lookup(person_ids, link["person"], "person_id"),
            lookup(ROLES, link["role"], "role"),
            pl.Series("_updated", link["updated"]),
            pl.Series("retracted", link["retracted"]),
            pl.Series("_k1", link["seq"]),
            pl.Series("_k2", link["person"]),
        ]
    ).filter(pl.col("_updated") < clock.end)
    return _finish(out, clock, batch_days)


def transactions(
    clock: Clock, tx: Columns, card_refs, merchants, batch_days: int
) -> pl.DataFrame:
    """Card uses, in the batch of their fraud case's report (`tx` carries the ids)."""
    m = tx["merchant"]
    out = pl.DataFrame(
        [
            keys("TX-", tx["tx_seq"], 9, "transaction_id"),
            incident_ids(tx["seq"]),
            lookup(card_refs, tx["episode"], "card_ref"),
            pl.Series("at", tx["at"]),
            pl.Series("amount_nok", np.round(tx["amount"], 2)),
            lookup(MERCHANT_CATEGORIES, tx["category"], "merchant_category"),
            lookup(merchants.ref, m, "merchant_ref"),
            pl.Series("approved", tx["approved"]),
            pl.Series("pin_used", tx["pin_used"]),
            _nan_null(merchants.lat[m]).alias("lat"),
            _nan_null(merchants.lon[m]).alias("lon"),
            pl.Series("_updated", tx["updated"]),
            pl.Series("_k1", tx["tx_seq"]),
        ]
    ).filter(pl.col("_updated") < clock.end)
    return _finish(out, clock, batch_days)


def custody(
    clock: Clock, iv: Intervals, person_ids: pl.Series, batch_days: int
) -> pl.DataFrame:
    """Custody versions: at the start (end null) and at the end; arrests once."""
    end = clock.end
    keep = (iv.end >= clock.midnight(0)) & (iv.start < end)
    person, kind, start, stop = (
        iv.person[keep],
        iv.kind[keep],
        iv.start[keep],
        iv.end[keep],
    )
    order = np.lexsort((kind, person, start))
    person, kind, start, stop = person[order], kind[order], start[order], stop[order]
    seq = np.arange(1, len(person) + 1)
    base = pl.DataFrame(
        [
            keys("CUS-", seq, 7, "custody_id"),
            lookup(person_ids, person, "person_id"),
            strings(kind, "kind"),
            pl.Series("start_at", start),
            pl.Series("_end", stop),
            pl.Series("_k1", seq),
        ]
    )
    arrest = pl.col("kind") == "arrest"
    ended = pl.col("_end") < end
    opening = base.filter(~arrest | ~ended).with_columns(
        pl.col("start_at").alias("_updated"), pl.lit(None, pl.Int64).alias("end_at")
    )
    closing = base.filter(ended).with_columns(
        pl.col("_end").alias("_updated"), pl.col("_end").alias("end_at")
    )
    return _finish(pl.concat([opening, closing]).drop("_end"), clock, batch_days)


def _finish(frame: pl.DataFrame, clock: Clock, batch_days: int) -> pl.DataFrame:
    """Add `batch`; keep the newest version of a key within a batch; sort by time."""
    key = [c for c in ("_k1", "_k2") if c in frame.columns]
    if frame.is_empty():
        return frame.with_columns(pl.lit(0, pl.Int64).alias("batch")).drop(key)
    updated = frame["_updated"].to_numpy()
    batch = np.maximum(clock.day_of(updated), 0) // batch_days
    k = [frame[c].to_numpy() for c in key]
    order = np.lexsort((updated, *reversed(k), batch))  # by batch, key, then time
    b, kk = batch[order], [x[order] for x in k]
    same_next = b[1:] == b[:-1]
    for x in kk:
        same_next &= x[1:] == x[:-1]
    newest = order[np.r_[~same_next, True]]  # the last version of each (batch, key)
    final = newest[
        np.lexsort((*(x[newest] for x in reversed(k)), updated[newest], batch[newest]))
    ]
    return frame.with_columns(pl.Series("batch", batch, dtype=pl.Int64))[final].drop(
        key
    )

"""The back-test's tables: the cached past scorings, the figures, the recalibration.

A past scoring (every open case and candidate the model scored on a past date) is
cached in `attribution_backtest_cases` / `_candidates`, keyed by (past date,
model key, data fingerprint): a later night with the same past date re-checks only
the confirmations. The fingerprint covers every staged version known on the past
date, so a late-arriving old version or a purge makes a new scoring. The night of
a first of the month records its own scoring of that date here too, and scorings
are kept until both back-test dates have moved past them. Figures go to
`attribution_backtest` and `attribution_backtest_bands`, the fitted stage 2 to
`attribution_recalibration` (sql/marts).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import polars as pl

from gjenganger.store import frames
from gjenganger.store.db import table_exists

CASES = "attribution_backtest_cases"
CANDIDATES = "attribution_backtest_candidates"
FIGURES = "attribution_backtest"
BANDS = "attribution_backtest_bands"
RECALIBRATION = "attribution_recalibration"

_FINGERPRINT_SQL = {
    "stg_incidents": "updated_at < {d} and reported_at < {d}",
    "stg_incident_persons": "updated_at < {d}",
    "stg_custody": "updated_at < {d} and start_at < {d}",
}


def data_fingerprint(con, day: date) -> str:
    """sha256 over (rows, sum of row hashes) of every staged version known at the
    end of `day` (incidents, links, custody): what the past scoring read."""
    midnight = (day + timedelta(days=1)).isoformat()
    d = f"timestamptz '{midnight} 00:00:00 Europe/Oslo'"
    parts = []
    for table, where in _FINGERPRINT_SQL.items():
        row = con.execute(
            f"select count(*), coalesce(sum(hash(columns(*))::hugeint), 0)"
            f" from (select * exclude (batch_id, source_file, line) from {table}"
            f" where {where.format(d=d)})"
        ).fetchone()
        parts.append(f"{table}:{row[0]}:{row[1]}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def load_scoring(
    con, past: date, model_key: str, fingerprint: str
) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """(cases, candidates) cached for this past date, model and data; None if not."""
    key = [past, model_key, fingerprint]
    where = "where past_date = ? and model_key = ? and data_fingerprint = ?"
    n = con.execute(f"select count(*) from {CASES} {where}", key).fetchone()[0]
    if n == 0:
        return None
    cases = con.execute(
        "select incident_id, p_none, offence_group, area, age_days"
        f" from {CASES} {where} order by incident_id",
        key,
    ).pl()
    cand = con.execute(
        f"select incident_id, person_id, p, rank from {CANDIDATES} {where}"
        " order by incident_id, rank",
        key,
    ).pl()
    return cases, cand


def save_scoring(
    con,
    past: date,
    model_key: str,
    fingerprint: str,
    cases: pl.DataFrame,
    candidates: pl.DataFrame,
) -> None:
    """Replace the cached scoring of `past` (any model or data) with this one."""
    key = [
        pl.lit(past, pl.Date).alias("past_date"),
        pl.lit(model_key).alias("model_key"),
        pl.lit(fingerprint).alias("data_fingerprint"),
    ]
    for table, frame in ((CASES, cases), (CANDIDATES, candidates)):
        con.execute(f"delete from {table} where past_date = ?", [past])
        frames.insert_rows(con, table, frame.with_columns(*key))


def drop_scorings_before(con, cutoff: date) -> int:
    """Delete cached scorings of past dates before `cutoff` (no later night's
    back-test moves back to them); rows deleted."""
    n = 0
    for table in (CASES, CANDIDATES):
        n += con.execute(
            f"delete from {table} where past_date < ?", [cutoff]
        ).fetchone()[0]
    return n


def save_results(
    con, as_of: date, figures: pl.DataFrame, bands: pl.DataFrame, recal: dict
) -> None:
    """Replace `as_of`'s figures, bands and recalibration."""
    frames.replace_rows(con, FIGURES, figures, as_of=as_of)
    frames.replace_rows(con, BANDS, bands, as_of=as_of)
    frames.replace_rows(
        con, RECALIBRATION, pl.DataFrame([{"as_of": as_of, **recal}]), as_of=as_of
    )


def latest_recalibration(con, as_of: date) -> dict | None:
    """The recalibration of the newest back-test on or before `as_of` (a, c,
    shrink, n_confirmed, status, model_key, as_of), or None."""
    if not table_exists(con, RECALIBRATION):
        return None
    frame = con.execute(
        f"select * from {RECALIBRATION} where as_of <= ? order by as_of desc limit 1",
        [as_of],
    ).pl()
    return frame.row(0, named=True) if frame.height else None


def latest_results(con, as_of: date) -> tuple[pl.DataFrame, pl.DataFrame, dict] | None:
    """(figures, bands, recalibration) of the newest back-test on or before
    `as_of`, or None when there is none."""
    recal = latest_recalibration(con, as_of)
    if recal is None:
        return None
    day = [recal["as_of"]]
    figures = con.execute(
        f"select * from {FIGURES} where as_of = ?"
        " order by kind desc, horizon_days nulls last",
        day,
    ).pl()
    bands = con.execute(
        f"select * from {BANDS} where as_of = ?"
        " order by kind desc, horizon_days nulls last, band_lo",
        day,
    ).pl()
    return figures, bands, recal

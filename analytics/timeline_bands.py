"""Background bands of a person's timeline: use periods, phases, the attribution
window.

Pure: frames in (rows of the `use_periods` table, a person's day series), frames
of bands out, one row per band with `BAND_COLUMNS` (kind, label, start_at,
end_at); `clip_bands` cuts them to the page's time span. The attribution window
(`attribution_window_band`) is where hypotheses can exist at all: drawn on the
page, a two-year view does not read its hypotheses as a sudden escalation.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

__all__ = [
    "BAND_COLUMNS",
    "attribution_window_band",
    "clip_bands",
    "phase_bands",
    "use_period_bands",
]

BAND_COLUMNS: tuple[str, ...] = ("kind", "label", "start_at", "end_at")


def _empty_bands() -> pl.DataFrame:
    """A bands frame with no rows and the schema of `BAND_COLUMNS`."""
    ts = pl.Datetime("us")
    return pl.DataFrame(
        schema={"kind": pl.String, "label": pl.String, "start_at": ts, "end_at": ts}
    )


def _first_present(frame: pl.DataFrame, names: tuple[str, ...]) -> str | None:
    """The first of `names` that is a column of `frame`, else None."""
    return next((n for n in names if n in frame.columns), None)


def use_period_bands(use_periods: pl.DataFrame | None) -> pl.DataFrame:
    """Background bands (kind 'use_period') from a `use_periods` table's rows.

    Accepts start/end as dates (whole days: a period ending on a date lasts to the
    next midnight) or timestamps; `period_no` names the band when present.
    """
    if use_periods is None or use_periods.height == 0:
        return _empty_bands()
    s = _first_present(use_periods, ("start_at", "start", "start_date"))
    e = _first_present(use_periods, ("end_at", "end", "end_date"))
    if s is None or e is None:
        return _empty_bands()
    frame = use_periods
    label = (
        pl.concat_str(pl.lit("#"), pl.col("period_no").cast(pl.String))
        if "period_no" in frame.columns
        else pl.lit("")
    )

    def as_ts(col: str, end: bool) -> pl.Expr:
        if frame.schema[col] == pl.Date:
            expr = pl.col(col).cast(pl.Datetime("us"))
            return expr + timedelta(days=1) if end else expr
        return pl.col(col).cast(pl.Datetime("us"))

    return frame.select(
        kind=pl.lit("use_period"),
        label=label,
        start_at=as_ts(s, False),
        end_at=as_ts(e, True),
    ).drop_nulls(["start_at", "end_at"])


def phase_bands(person_days: pl.DataFrame | None) -> pl.DataFrame:
    """Background bands (kind 'phase', label = phase) from a person's day series.

    Consecutive days with the same phase (`path_phase`, the most likely joint path,
    else `phase`) become one band from the first day's midnight to the day after
    the last. Expects one person's rows (person_id, date, phase...).
    """
    if person_days is None or person_days.height == 0:
        return _empty_bands()
    col = _first_present(person_days, ("path_phase", "phase"))
    if col is None or "date" not in person_days.columns:
        return _empty_bands()
    days = (
        person_days.select(pl.col("date").cast(pl.Date), pl.col(col).alias("phase"))
        .drop_nulls()
        .unique("date", keep="first")
        .sort("date")
    )
    new_run = (
        (pl.col("phase") != pl.col("phase").shift(1))
        | ((pl.col("date") - pl.col("date").shift(1)) != timedelta(days=1))
    ).fill_null(True)
    runs = (
        days.with_columns(_run=new_run.cast(pl.Int64).cum_sum())
        .group_by("_run", maintain_order=True)
        .agg(
            pl.col("phase").first(),
            pl.col("date").min().alias("s"),
            pl.col("date").max().alias("e"),
        )
    )
    return runs.select(
        kind=pl.lit("phase"),
        label=pl.col("phase"),
        start_at=pl.col("s").cast(pl.Datetime("us")),
        end_at=pl.col("e").cast(pl.Datetime("us")) + timedelta(days=1),
    )


def attribution_window_band(as_of: date | None, window_days: int) -> pl.DataFrame:
    """The attribution window as one band (kind 'attribution_window', label the
    number of days): the `window_days` days up to and including `as_of`, the only
    days whose open cases attribution ranks persons for. No band without `as_of`
    (attribution has not run)."""
    if as_of is None:
        return _empty_bands()
    end = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    return pl.DataFrame(
        {
            "kind": ["attribution_window"],
            "label": [str(window_days)],
            "start_at": [end - timedelta(days=window_days)],
            "end_at": [end],
        },
        schema=_empty_bands().schema,
    )


def clip_bands(
    bands: pl.DataFrame, start: datetime | None, end: datetime | None
) -> pl.DataFrame:
    """Bands overlapping [start, end], cut to it."""
    out = bands
    if start is not None:
        out = out.filter(pl.col("end_at") > start).with_columns(
            start_at=pl.max_horizontal("start_at", pl.lit(start))
        )
    if end is not None:
        out = out.filter(pl.col("start_at") < end).with_columns(
            end_at=pl.min_horizontal("end_at", pl.lit(end))
        )
    return out

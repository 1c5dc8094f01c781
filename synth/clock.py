"""Time in the generator: whole-minute UTC epoch seconds, days counted from the start.

Every instant is an int64 of seconds since 1970 UTC, so DST never bites arithmetic.
Local (Europe/Oslo) midnights are looked up once per day; "an event at 14:05 on day d"
is `midnight(d) + 14h05m`. Output timestamps are ISO 8601 with the Oslo offset.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

TZ_NAME = "Europe/Oslo"
TZ = ZoneInfo(TZ_NAME)
HOUR = 3600
DAY = 86400
#: Days of calendar kept before the start and after the end (spells, solve delays).
PAD_DAYS = 800
#: Batches are exported at 01:30 local time the day after their last day.
EXPORT_SECONDS = HOUR + 30 * 60
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%:z"


class Clock:
    """Local midnights of days `-PAD_DAYS .. days + PAD_DAYS` around `start`."""

    def __init__(self, start: date, days: int):
        self.start = start
        self.days = days
        self.first = -PAD_DAYS
        self._mid = np.array(
            [
                int(
                    datetime.combine(start + timedelta(days=d), time(0), TZ).timestamp()
                )
                for d in range(self.first, days + PAD_DAYS + 1)
            ],
            dtype=np.int64,
        )

    def midnight(self, day):
        """Epoch seconds of local midnight starting `day` (int or int array)."""
        idx = np.clip(np.asarray(day) - self.first, 0, len(self._mid) - 1)
        return self._mid[idx]

    def at(self, day, hours):
        """Epoch seconds `hours` (float, may exceed 24) after local midnight of `day`,
        floored to the minute."""
        t = self.midnight(day) + np.round(np.asarray(hours) * HOUR).astype(np.int64)
        return t - t % 60

    def day_of(self, t):
        """The day index (relative to start) holding instant `t`."""
        return np.searchsorted(self._mid, np.asarray(t), side="right") - 1 + self.first

    def hour_of(self, t):
        """Local hour of day (float) of instant `t`."""
        t = np.asarray(t)
        return (t - self.midnight(self.day_of(t))) / HOUR

    @property
    def end(self) -> int:
        """First instant after the period (local midnight after the last day)."""
        return int(self.midnight(self.days))

    def exported_at(self, last_day):
        """Export instant of a batch whose last day is `last_day`: next day 01:30."""
        return self.midnight(np.asarray(last_day) + 1) + EXPORT_SECONDS

    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=int(day))


def iso(expr: pl.Expr) -> pl.Expr:
    """A Polars expression formatting epoch seconds as ISO 8601 with the Oslo offset."""
    return (
        pl.from_epoch(expr, time_unit="s")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(TZ_NAME)
        .dt.strftime(ISO_FORMAT)
    )


def local_datetime(expr: pl.Expr) -> pl.Expr:
    """Epoch seconds as a timezone-aware Oslo datetime (for Parquet output)."""
    return (
        pl.from_epoch(expr, time_unit="s")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(TZ_NAME)
    )


def iso_one(t: int) -> str:
    """One epoch instant as ISO 8601 with the Oslo offset (for manifests)."""
    return datetime.fromtimestamp(int(t), TZ).isoformat()

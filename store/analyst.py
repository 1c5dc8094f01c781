"""What the analyst bundle reads from the database besides the as-of frames.

The card episodes the episodes step stored, the top list, each top-list person's
current phase (with its uncertainty notes), one person's use periods and phase
days (the timeline's bands), the attribution window, and the pages' hypothesis
threshold setting. Tables missing from a database that was never migrated or never
had the step run read as empty (None or {}), except the episodes, which the bundle
needs.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl

from gjenganger.errors import UserError
from gjenganger.store.db import table_exists


def load_episodes(con, as_of: dt.date) -> pl.DataFrame:
    """The card episodes the episodes step stored for `as_of`, in the order it
    wrote them (its columns without `as_of`).

    The nightly flow runs that step before the analyst bundle; a one-line
    `UserError` when the table is missing or holds another date's run.
    """
    hint = "run the episodes step (the nightly flow, or `gjenganger episodes --write`)"
    if not table_exists(con, "episodes"):
        raise UserError(f"no episodes table; {hint} first")
    other = con.execute(
        "select any_value(as_of) from episodes where as_of is distinct from ?",
        [as_of],
    ).fetchone()
    if other is not None and other[0] is not None:
        raise UserError(f"table episodes is as of {other[0]}, not {as_of}; {hint}")
    return con.execute("select * exclude (as_of) from episodes order by rowid").pl()


def toplist_persons(con, as_of: dt.date) -> list[str]:
    """Persons of the newest top list on or before `as_of`, best rank first (ties
    by pseudonym); empty when the top-list step has not run for such a date."""
    if not table_exists(con, "toplist"):
        return []
    rows = con.execute(
        "select person_id from toplist"
        " where as_of = (select max(as_of) from toplist where as_of <= ?)"
        " group by person_id order by min(rank), person_id",
        [as_of],
    ).fetchall()
    return [r[0] for r in rows]


#: what `current_phases` gives per person: the phase today, its probability, and
#: the notes the CLI prints (low confidence = "usikker", in custody, p_cycling)
PHASE_COLUMNS = ("phase", "p", "low_confidence", "in_custody", "p_cycling")
#: the environment setting of the pages' hypothesis threshold
MIN_P_SETTING = "GJENGANGER_PAGE_MIN_P"
#: attribution's window when no run has stored its own
ATTRIBUTION_WINDOW_DAYS = 365


def current_phases(con) -> dict[str, dict]:
    """person_id -> {`PHASE_COLUMNS`} of today from the phases step."""
    if not table_exists(con, "current_phase"):
        return {}
    rows = con.execute(
        f"select person_id, {', '.join(PHASE_COLUMNS)} from current_phase"
    ).fetchall()
    return {r[0]: dict(zip(PHASE_COLUMNS, r[1:], strict=True)) for r in rows}


def attribution_window_days(con) -> int:
    """The window (days up to the as-of date) of the newest stored attribution
    models, else `ATTRIBUTION_WINDOW_DAYS`: where hypotheses can be at all."""
    if not table_exists(con, "attribution_model"):
        return ATTRIBUTION_WINDOW_DAYS
    row = con.execute(
        "select window_days from attribution_model order by as_of desc limit 1"
    ).fetchone()
    return int(row[0]) if row and row[0] else ATTRIBUTION_WINDOW_DAYS


def page_min_p(default: float) -> float:
    """The pages' hypothesis threshold: the `MIN_P_SETTING` environment setting
    (a probability 0-1), else `default`; a one-line `UserError` when malformed."""
    raw = os.environ.get(MIN_P_SETTING, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise UserError(f"{MIN_P_SETTING} must be a probability 0-1, got {raw!r}")
    return value


def person_use_periods(con, person_id: str) -> pl.DataFrame | None:
    """One person's rows of `use_periods` (None without the phases step)."""
    if not table_exists(con, "use_periods"):
        return None
    return con.execute(
        "select * from use_periods where person_id = ?", [person_id]
    ).pl()


def person_days(con, person_id: str) -> pl.DataFrame | None:
    """One person's rows of `person_days` (None without the phases step)."""
    if not table_exists(con, "person_days"):
        return None
    return con.execute(
        "select * from person_days where person_id = ?", [person_id]
    ).pl()


#: the table whose candidates the analyst bundle's hypothesis list is drawn from
CANDIDATES = "attribution_candidates"
#: columns rounded to three decimals in the list (p with 16 decimals helps no one)
_ROUNDED = ("p", "p_none", "in_custody_share", "nearest_case_km", "nearest_case_days")


def write_hypotheses_csv(
    con, path: str | Path, as_of: dt.date, min_p: float, label: str
) -> tuple[int, int]:
    """The hypotheses an analyst looks at, as CSV: the candidates of `as_of` with
    p >= `min_p`, most probable first, numbers rounded to three decimals, one
    leading `label` column (the table's own `label` and `is_hypothesis` left
    out). Returns (rows written, candidates left in the table below `min_p`)."""
    names = [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns"
            " where table_name = ? order by ordinal_position",
            [CANDIDATES],
        ).fetchall()
    ]
    if "p" not in names:  # attribution never ran: an empty list
        Path(path).write_text("label\n", encoding="utf-8")
        return 0, 0
    cols = [
        f"round({n}, 3) as {n}" if n in _ROUNDED else n
        for n in names
        if n not in ("label", "is_hypothesis")
    ]
    order = "p desc, incident_id, rank" + (
        ", person_id" if "person_id" in names else ""
    )
    text = str(path).replace("'", "''")
    written = con.execute(
        f"copy (select ? as label, {', '.join(cols)} from {CANDIDATES}"
        f" where as_of = ? and p >= ? order by {order})"
        f" to '{text}' (header, delimiter ',')",
        [label, as_of, min_p],
    ).fetchone()[0]
    below = con.execute(
        f"select count(*) from {CANDIDATES} where as_of = ? and p < ?",
        [as_of, min_p],
    ).fetchone()[0]
    return int(written), int(below)

"""The phase tables' neighbours: the top list the phases step reports on, and the
phase today that the top-list command shows.

The phases step writes `person_days`, `use_periods`, `current_phase` and
`phase_model` (sql/marts, the latest run only) with `frames.replace_rows`.
"""

from __future__ import annotations

from datetime import date


def toplist_person_ids(con, as_of: date) -> list[str]:
    """Person ids of the newest top list on or before `as_of`, by rank (of every
    stored top list when none is that old)."""
    rows = con.execute(
        "with newest as (select max(as_of) as d from toplist where as_of <= ?)"
        " select person_id, min(rank) as r from toplist, newest"
        " where newest.d is null or as_of = newest.d"
        " group by person_id order by r, person_id",
        [as_of],
    ).fetchall()
    return [r[0] for r in rows]


#: the columns of `current_phases`, after person_id
CURRENT_PHASE_COLUMNS = (
    "phase",
    "p",
    "days_in_use_period",
    "expected_days_to_rest",
    "low_confidence",
)


def current_phases(con) -> list[tuple]:
    """(person_id, *CURRENT_PHASE_COLUMNS) of every person of the latest phases run."""
    return con.execute(
        f"select person_id, {', '.join(CURRENT_PHASE_COLUMNS)} from current_phase"
    ).fetchall()


def phase_backtest(con):
    """The rows (test, group, metric, value, n, as_of) of the latest phase
    back-test (`phase_backtest`, analytics/phase_backtest.py), as a frame; None
    when the phases step has not written one."""
    frame = con.execute(
        'select test, "group", metric, value, n, as_of from phase_backtest'
    ).pl()
    return frame if frame.height else None

"""Argument types shared by every command: one parser for dates, one `--as-of`.

Dates are parsed here, once, at the edge; everything below the CLI receives a
`datetime.date` (or None for "the newest data date", resolved by
`gjenganger.store.frames.resolve_as_of`).
"""

from __future__ import annotations

import argparse
import datetime as dt

AS_OF_HELP = "use the data as known at the end of DATE (default: the newest report)"


def iso_date(text: str) -> dt.date:
    """An argparse type: a calendar date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_as_of(parser: argparse.ArgumentParser, help: str = AS_OF_HELP) -> None:  # noqa: A002 - argparse's word
    """Add the one `--as-of DATE` option (type `date`, default None)."""
    parser.add_argument(
        "--as-of", dest="as_of", type=iso_date, default=None, metavar="DATE", help=help
    )


def check_as_of(
    con, as_of: dt.date | None, window_days: int | None = None
) -> dt.date | None:
    """`as_of` itself, checked against the data's dates. After the newest report
    it says so in one line on stderr (the days since are days without reports,
    not days without crime); so far after it that a `window_days` window holds no
    report at all, or before the oldest report, it is a one-line error instead of
    an empty list. None stays None (the newest date)."""
    from gjenganger import progress
    from gjenganger.errors import UserError
    from gjenganger.store import frames

    if as_of is None:
        return None
    oldest, latest = frames.data_date_range(con)
    if latest is None or oldest <= as_of <= latest:
        return as_of
    if as_of < oldest:
        raise UserError(
            f"as-of {as_of} is before the oldest data ({oldest}): nothing was "
            "known by then"
        )
    gap = (as_of - latest).days
    if window_days is not None and gap >= window_days:
        raise UserError(
            f"as-of {as_of} is {gap:,} days after the newest data ({latest}), "
            f"beyond the {window_days}-day window: nothing to show; use an "
            f"as-of up to {latest} or leave it out"
        )
    progress.note(
        f"as-of {as_of} is after the newest data ({latest}); reports after "
        f"{latest} are not in the database yet"
    )
    return as_of


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value

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


def as_of_within_data(con, as_of: dt.date | None) -> dt.date | None:
    """`as_of`, or the newest data date when `as_of` lies after it (said in one
    line on stderr): a date past the data would otherwise give empty lists (no
    case occurred in a window after the last report), which reads as "nothing
    happened" rather than "no data yet". A date before the oldest report is a
    one-line error (nothing was known then). None stays None (the newest date)."""
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
    progress.note(
        f"as-of {as_of} is after the newest data ({latest}); showing {latest}"
    )
    return latest


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value

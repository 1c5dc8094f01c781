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

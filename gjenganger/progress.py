"""Progress of long commands as step lines on stderr: `[attribute] 8.4 s  scored
2,550 of 25,504 open cases`.

Lines go to stderr and start with `[COMMAND]`, so stdout stays the result (a
`--json` run prints only JSON there) and a log reader can tell progress from the
one-line error. `gjenganger --quiet` (or `-q` after the command) turns them off;
`note` lines (something the reader must know, such as an as-of date moved to the
data's newest) are shown even then.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

_state = {"quiet": False, "start": time.perf_counter()}


def configure(quiet: bool = False) -> None:
    """Set by the CLI once per command: silence or not, and the clock's start."""
    _state["quiet"] = bool(quiet)
    _state["start"] = time.perf_counter()


def elapsed() -> float:
    """Seconds since the command started."""
    return time.perf_counter() - _state["start"]


def say(command: str, message: str) -> None:
    """One step line, with the seconds since the command started (unless quiet)."""
    if _state["quiet"]:
        return
    print(f"[{command}] {elapsed():5.1f} s  {message}", file=sys.stderr, flush=True)


def reporter(command: str) -> Callable[[str], None]:
    """A `progress(message)` callback for a step that reports its own stages."""
    return lambda message: say(command, message)


def note(message: str) -> None:
    """One line the reader must see, quiet or not (`gjenganger: ...`)."""
    print(f"gjenganger: {message}", file=sys.stderr, flush=True)

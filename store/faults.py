"""Fault-injection points for the crash tests (inert unless a test sets them).

`GJENGANGER_FAULT_PAUSE=<point>` makes the process announce `fault-point <point>`
on stderr and sleep there, so a test can `kill -9` it at a known place mid-work;
`GJENGANGER_FAULT_FAIL=<point>` raises there instead.
"""

from __future__ import annotations

import os
import sys
import time


class InjectedFaultError(RuntimeError):
    """Raised at a fault point named in GJENGANGER_FAULT_FAIL."""


def point(name: str) -> None:
    """Pause or fail here if a test asked for it; otherwise do nothing."""
    if os.environ.get("GJENGANGER_FAULT_PAUSE") == name:
        print(f"fault-point {name}", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("GJENGANGER_FAULT_SECONDS", "60")))
    if os.environ.get("GJENGANGER_FAULT_FAIL") == name:
        raise InjectedFaultError(f"injected failure at {name}")

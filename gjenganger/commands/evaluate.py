"""`gjenganger evaluate KIND`: measure analytics against generator truth.

Each kind lives in `gjenganger/evaluate/<kind>.py` with `register(subparsers)`
adding its parser to the `evaluate` sub-parsers.
"""

from __future__ import annotations

import importlib
import pkgutil


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure attribution, phases or hotspots against truth or the future",
        description="Evaluation reports. Run `gjenganger evaluate KIND --help`.",
    )
    kinds = p.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    import gjenganger.evaluate as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"gjenganger.evaluate.{info.name}")
        if hasattr(module, "register"):
            module.register(kinds)

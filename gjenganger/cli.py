"""The one command line, `gjenganger`, with subcommands.

Subcommands are discovered from `gjenganger/commands/*.py`: each module defines
`register(subparsers)` adding its parser with `set_defaults(func=...)`. A func
returns an exit code (0 by default). Errors become one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from gjenganger import settings
from gjenganger.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every discovered subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="gjenganger",
        description="Police incident analytics on repeat offenders (synthetic-safe, "
        "offline). Run `gjenganger COMMAND --help` for each command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    import gjenganger.commands as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"gjenganger.commands.{info.name}")
        if hasattr(module, "register"):
            module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script: parse, run, map errors to exit codes."""
    settings.configure_environment()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except UserError as exc:
        print(f"gjenganger: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gjenganger: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback
        if os.environ.get("GJENGANGER_DEBUG"):
            raise
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"gjenganger: {type(exc).__name__}: {msg}", file=sys.stderr)
        return 1
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())

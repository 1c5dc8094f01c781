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

from gjenganger import audit, settings
from gjenganger.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every discovered subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="gjenganger",
        description="Police incident analytics on repeat offenders (synthetic-safe, "
        "offline). Run `gjenganger COMMAND --help` for each command.",
    )
    parser.add_argument("--user", help="who runs this (default: the OS user) for the audit log")
    parser.add_argument("--role", choices=audit.ROLES,
                        help="role for the audit log (default: $GJENGANGER_ROLE or analyst)")
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
    command = " ".join(x for x in (args.command, getattr(args, "kind", None)) if x)
    params = {k: v for k, v in vars(args).items() if k not in ("func", "user", "role")}
    audit.begin(command, params, args.user, args.role)
    outcome = "ok"
    try:
        code = int(args.func(args) or 0)
        outcome = "ok" if code == 0 else f"exit {code}"
    except UserError as exc:
        print(f"gjenganger: {exc}", file=sys.stderr)
        code, outcome = 2, f"error: {exc}"
    except KeyboardInterrupt:
        print("gjenganger: interrupted", file=sys.stderr)
        code, outcome = 130, "interrupted"
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback
        if os.environ.get("GJENGANGER_DEBUG"):
            raise
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"gjenganger: {type(exc).__name__}: {msg}", file=sys.stderr)
        code, outcome = 1, f"failed: {type(exc).__name__}"
    _record(args, outcome)
    return code


def _record(args, outcome: str) -> None:
    """Append the audit row to the command's database (or the home audit log)."""
    target = getattr(args, "audit_db", None) or getattr(args, "db", None)
    try:
        audit.finish(target, outcome)
    except Exception as exc:  # noqa: BLE001 - never hide the command's own result
        print(f"gjenganger: audit log not written: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())

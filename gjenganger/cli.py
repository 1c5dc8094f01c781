"""The one command line, `gjenganger`, with subcommands.

Subcommands are discovered from `gjenganger/commands/*.py`: each module defines
`register(subparsers)` adding its parser with `set_defaults(func=...)`. A func
returns an exit code (0 by default). Errors become one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import signal
import sys
import threading

from gjenganger import progress
from gjenganger.errors import Terminated, UserError
from gjenganger.store import audit, settings


class CommandLineError(Exception):
    """A command line that does not parse; printed as one line, exit 2."""


class HelpFormatter(argparse.HelpFormatter):
    """Help that states each option's default, unless its text already does."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "default" in text
            or action.default in (None, False, argparse.SUPPRESS)
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (no usage block) and exit 2, and
    every command's help states its defaults."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        raise CommandLineError(f"{self.prog}: {message}")


def version() -> str:
    """The installed release, for `gjenganger --version`."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("gjenganger")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def summary_line(name: str) -> str:
    """A command's one-line help, read from its module docstring without importing
    it (so `gjenganger --help` does not load every command's analytics)."""
    import ast
    from importlib.util import find_spec

    spec = find_spec(f"gjenganger.commands.{name}")
    source = open(spec.origin, encoding="utf-8").read()  # noqa: SIM115 - read once
    doc = (ast.get_docstring(ast.parse(source)) or "").strip().split("\n\n")[0]
    doc = " ".join(doc.split())
    return (
        doc.split(": ", 1)[1] if doc.startswith("`gjenganger") and ": " in doc else doc
    )


def command_names() -> list[str]:
    """Every subcommand, one per module of `gjenganger/commands/`."""
    import gjenganger.commands as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser; with `only`, just that subcommand's module is imported.

    Importing one command module instead of all keeps start-up fast: the analytics
    behind other commands (scipy, scikit-learn, folium) are not loaded.
    """
    parser = Parser(
        prog="gjenganger",
        description="Police incident analytics on repeat offenders (synthetic-safe, "
        "offline). Run `gjenganger COMMAND --help` for each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    add_global_options(parser, default=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    names = command_names()
    if only not in names:  # top-level help or an error: list, do not import
        for name in names:
            sub.add_parser(name, help=summary_line(name))
        return parser
    module = importlib.import_module(f"gjenganger.commands.{only}")
    module.register(sub)
    add_global_options(sub.choices[only], default=argparse.SUPPRESS)
    return parser


def add_global_options(parser: argparse.ArgumentParser, default) -> None:
    """`--user`, `--role` and `--quiet`, on the top-level parser and again on each
    command (so `gjenganger query --user X ...` works too); a command's copy
    defaults to SUPPRESS, so it never overwrites what was given before the
    command name."""
    parser.add_argument(
        "--user",
        default=default,
        help="who runs this (default: the OS user) for the audit log",
    )
    parser.add_argument(
        "--role",
        choices=audit.ROLES,
        default=default,
        help="role for the audit log (default: $GJENGANGER_ROLE or analyst)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=False if default is None else default,
        help="no progress lines on stderr (errors are still shown)",
    )


def _command_in(argv: list[str]) -> str | None:
    """The subcommand named in argv, skipping the global options and their values."""
    skip_value = False
    for arg in argv:
        if skip_value:
            skip_value = False
        elif arg in ("--user", "--role"):
            skip_value = True
        elif arg.startswith(("--user=", "--role=")) or arg in ("-q", "--quiet"):
            continue
        elif arg.startswith("-"):
            return None
        else:
            return arg
    return None


def _terminate(signum, _frame) -> None:
    raise Terminated(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script: parse, run, map errors to exit codes."""
    settings.configure_environment()
    try:
        settings.apply_umask()
    except UserError as exc:
        print(f"gjenganger: {exc}", file=sys.stderr)
        return 2
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(only=_command_in(argv))
    try:
        args = parser.parse_args(argv)
    except CommandLineError as exc:
        print(f"{exc} (see --help)", file=sys.stderr)
        return 2
    command = " ".join(x for x in (args.command, getattr(args, "kind", None)) if x)
    params = {
        k: v
        for k, v in vars(args).items()
        if k not in ("func", "user", "role", "quiet")
    }
    progress.configure(quiet=args.quiet)
    audit.begin(command, params, args.user, args.role)
    outcome = "ok"
    try:
        if getattr(args, "person", None):
            audit.looked_at(str(args.person))  # e.g. a timeline's person
        code = int(args.func(args) or 0)
        outcome = "ok" if code == 0 else f"exit {code}"
        out = getattr(args, "out", None)
        if code == 0 and out is not None and args.command != "generate":
            audit.wrote(out)
    except UserError as exc:
        print(f"gjenganger: {exc}", file=sys.stderr)
        code, outcome = 2, f"error: {exc}"
    except BrokenPipeError:  # e.g. `gjenganger toplist | head`
        code, outcome = 0, "ok (output closed early)"
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the final flush
    except Terminated as exc:
        print(f"gjenganger: stopped by {exc}", file=sys.stderr)
        code, outcome = 143, f"stopped by {exc}"
    except KeyboardInterrupt:
        print("gjenganger: interrupted", file=sys.stderr)
        code, outcome = 130, "interrupted"
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback
        if os.environ.get("GJENGANGER_DEBUG"):
            raise
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"gjenganger: {type(exc).__name__}: {msg}", file=sys.stderr)
        code, outcome = 1, f"failed: {type(exc).__name__}"
    return _record(args, outcome, code)


def _record(args, outcome: str, code: int) -> int:
    """Append the command's audit row, unless the command wrote it itself (as
    `query` does before showing a result), to its database's log (`--db`) or the
    configured audit log (never a location the person audited picks); the exit
    code. A row that cannot be written turns success into exit 2 (fail closed); a
    failing command keeps its own code."""
    if not audit.pending():
        return code
    try:
        audit.finish(getattr(args, "db", None), outcome)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        msg = str(exc)
        if not isinstance(exc, audit.AuditNotWrittenError):
            msg = f"audit log not written: {msg}"
        print(f"gjenganger: {msg}", file=sys.stderr)
        return code or 2
    return code


if __name__ == "__main__":
    sys.exit(main())

"""Errors the CLI turns into a one-line message and a non-zero exit."""


class UserError(Exception):
    """Something the user can fix: bad path, bad argument, locked database."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill PID`, a supervisor's stop): unwinds like Ctrl-C, so a night
    is marked failed, its half-built bundles are dropped and the temporary Prefect
    server is stopped instead of being left running without its parent."""

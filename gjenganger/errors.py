"""Errors the CLI turns into a one-line message and a non-zero exit."""


class UserError(Exception):
    """Something the user can fix: bad path, bad argument, locked database."""

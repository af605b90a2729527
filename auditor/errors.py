"""Errors the command line turns into a one-line message and exit status 2."""


class UsageError(Exception):
    """Bad input: a malformed snapshot, an unknown instance id, an unusable option."""

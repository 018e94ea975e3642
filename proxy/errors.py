"""Errors a user can act on: the CLI prints the message and exits with ``exit_code``."""

USAGE_EXIT_CODE = 4
"""The exit code of a wrong command line (an unknown option, a bad value, options that do not go together): like
pytest's 4, and apart from 2 (unusable input), which CI reads as "the recording is broken"."""


class OcppscopeError(Exception):
    """Bad input or an unusable environment; the message says what and where, for a person."""

    exit_code = 2


class UsageError(OcppscopeError):
    """The command line asks for something that cannot be done: options missing or not going together."""

    exit_code = USAGE_EXIT_CODE

"""Errors a user can act on: the CLI prints the message and exits with ``exit_code``."""


class OcppscopeError(Exception):
    """Bad input or an unusable environment; the message says what and where, for a person."""

    exit_code = 2

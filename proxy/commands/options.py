"""Options that mean the same in every command: the output format, ``--fail-on``, ``-v``/``-q``.

``--format`` is always what a command writes (how it reads its inputs is ``--input-format``); ``--json`` is
short for ``--format json`` wherever ``--format`` offers json, and nothing else anywhere. ``--fail-on`` takes
the same severities in every command that has it. ``-v``/``-q`` go before or after the command's name.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

FAIL_ON = ("error", "warning", "info", "never")
"""``--fail-on`` values: the lowest severity that exits 1, or never."""

_Parser = argparse.ArgumentParser | argparse._ArgumentGroup


def add_format_argument(parser: _Parser, choices: Sequence[str], *, default: str | None = "text",
                        help: str = "report format") -> None:
    """``--format`` (what the command writes) and, when json is one of ``choices``, ``--json`` for it."""
    shown = f"{help} (default {default})" if default else help
    parser.add_argument("--format", choices=tuple(choices), default=default, help=shown)
    if "json" in choices:
        parser.add_argument("--json", dest="format", action="store_const", const="json",
                            help="short for --format json")


def add_fail_on_argument(parser: _Parser, *, default: str, what: str = "finding") -> None:
    parser.add_argument("--fail-on", default=default, choices=FAIL_ON,
                        help=f"lowest severity of {what} that exits 1, or never (default {default})")


VERBOSITY_AFTER = {"verbose": "_verbose_after", "quiet": "_quiet_after"}
"""Where ``-v``/``-q`` given after the command's name are counted, apart from those given before it."""


def add_verbosity_arguments(parser: argparse.ArgumentParser, *, after_command: bool = False) -> None:
    """``-v``/``-q`` (counted); after the command's name they count apart, see :func:`merge_verbosity`."""
    verbose, quiet = (VERBOSITY_AFTER.values() if after_command else VERBOSITY_AFTER)
    default = argparse.SUPPRESS if after_command else 0
    parser.add_argument("-v", "--verbose", dest=verbose, action="count", default=default,
                        help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", dest=quiet, action="count", default=default,
                        help="less output (proxy: the findings and the summary, without the frames); warnings "
                        "and errors always show")


def merge_verbosity(args: argparse.Namespace) -> None:
    """Add the ``-v``/``-q`` given after the command's name to those given before it."""
    for dest, after in VERBOSITY_AFTER.items():
        setattr(args, dest, getattr(args, dest, 0) + vars(args).pop(after, 0))

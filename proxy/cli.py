"""The ``ocppscope`` command line: one module per subcommand in :mod:`proxy.commands`.

Each command module defines ``add_parser(subparsers)``, which registers its parser with ``func=run``, and
``run(args) -> int``. Modules keep heavy imports (mitmproxy, textual) inside ``run`` so ``--help`` is quick.
Exit codes: 0 fine, 1 findings or differences at or above the threshold, 2 unusable input, 3 a bug in
ocppscope itself (one line on stderr says so and names the file holding the traceback), 4 a wrong command line
(as pytest's 4), 130 interrupted. Options every command shares read the same everywhere: :mod:`proxy.commands.options`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from ocppscope.proxy import __version__
from ocppscope.proxy.commands.options import add_verbosity_arguments, merge_verbosity
from ocppscope.proxy.errors import USAGE_EXIT_CODE, OcppscopeError

COMMAND_MODULES = {
    "check": "ocppscope.proxy.commands.check",
    "proxy": "ocppscope.proxy.commands.proxy",
    "ca": "ocppscope.proxy.commands.ca",
    "import": "ocppscope.proxy.commands.importcmd",
    "export": "ocppscope.proxy.commands.export",
    "profiles": "ocppscope.proxy.commands.profiles",
    "endpoint": "ocppscope.proxy.commands.endpoint",
    "diff": "ocppscope.proxy.commands.diff",
    "replay": "ocppscope.proxy.commands.replay",
    "tui": "ocppscope.proxy.commands.tui",
    "diagnose": "ocppscope.proxy.commands.diagnose",
}
"""Each command and the module that defines it."""

BUG_EXIT_CODE = 3
"""The exit code of a failure of ocppscope itself: never 1, which CI reads as "findings"."""


MOVED_OPTIONS = {
    "--format": "--format is what a command writes; how it reads its inputs is --input-format",
    "--ca": "the backend's CA is --upstream-ca",
    "--insecure": "not verifying the backend is --insecure-upstream",
}
"""What an option that is not there (any more) is called: said with the error."""


class Parser(argparse.ArgumentParser):
    """argparse with a wrong command line exiting 4 (its own 2 is ocppscope's "unusable input"), and no
    abbreviations: a prefix never stands for another option (``--ca`` is not ``--call-timeout``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:  # said by the command's own parser, with its usage line, not by the top-level one
            self._command_parser(parsed).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def _command_parser(self, parsed: argparse.Namespace) -> argparse.ArgumentParser:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                child = action.choices.get(getattr(parsed, action.dest, None) or "")
                if isinstance(child, Parser):
                    return child._command_parser(parsed)
        return self

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        unknown = message.partition("unrecognized arguments:")[2].split()
        hints = [hint for flag, hint in MOVED_OPTIONS.items() if flag in unknown]
        self.exit(USAGE_EXIT_CODE, f"{self.prog}: error: {'; '.join([message, *hints])}\n")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the arguments, only the named command's module is imported (the others would
    cost ``check`` in CI a tenth of a second), else all of them, for help and for unknown commands."""
    parser = Parser(
        prog="ocppscope",
        description="OCPP-J debugging proxy: relay charger <-> backend traffic unchanged, and explain it.",
        epilog="Exit codes: 0 fine, 1 findings or differences, 2 unusable input, 3 a bug in ocppscope, "
        "4 a wrong command line.",
    )
    parser.add_argument("--version", action="version", version=f"ocppscope {__version__}")
    add_verbosity_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = next((arg for arg in argv or () if not arg.startswith("-")), None)
    for name, module in COMMAND_MODULES.items():
        if named not in COMMAND_MODULES or name == named:
            importlib.import_module(module).add_parser(sub)
    _add_verbosity_after(sub)
    return parser


def _add_verbosity_after(sub: argparse._SubParsersAction) -> None:
    """``-v``/``-q`` after a command's name (``ocppscope check -v``), down to ``profiles list -v``."""
    for command in dict.fromkeys(sub.choices.values()):  # aliases share their parser
        add_verbosity_arguments(command, after_command=True)
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                _add_verbosity_after(action)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    merge_verbosity(args)
    # -q never hides a warning (a capture that stopped, an unverified backend): it only drops what is chatter.
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except OcppscopeError as exc:
        print(f"ocppscope: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception:  # a bug: never exit 1, which CI reads as "findings"
        print(f"ocppscope: internal error (a bug in ocppscope, please report it): {_crash_report(argv)}",
              file=sys.stderr)
        return BUG_EXIT_CODE


def _crash_report(argv: Sequence[str]) -> str:
    """Write the current exception's traceback to a file; return the exception and where it went."""
    kind, value, _ = sys.exc_info()
    summary = f"{kind.__name__ if kind else 'error'}: {str(value)[:200]!r}"
    text = f"ocppscope {__version__}\nargs: {list(argv)!r}\n\n{traceback.format_exc()}"
    try:
        handle, name = tempfile.mkstemp(prefix=f"ocppscope-crash-{time.strftime('%Y%m%d-%H%M%S')}-",
                                        suffix=".txt")
        with os.fdopen(handle, "w", encoding="utf-8", errors="backslashreplace") as out:
            out.write(text)
    except OSError:
        sys.stderr.write(text)
        return f"{summary}; traceback above (it could not be written to a file)"
    return f"{summary}; traceback in {name}"


if __name__ == "__main__":
    sys.exit(main())

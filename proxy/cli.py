"""The ``ocppscope`` command line: one module per subcommand in :mod:`proxy.commands`.

Each command module defines ``add_parser(subparsers)``, which registers its parser with ``func=run``, and
``run(args) -> int``. Modules keep heavy imports (mitmproxy, textual) inside ``run`` so ``--help`` is quick.
Exit codes: 0 fine, 1 findings or differences at or above the threshold, 2 unusable input, 3 a bug in
ocppscope itself (one line on stderr says so and names the file holding the traceback), 130 interrupted.
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

from proxy import __version__
from proxy.errors import OcppscopeError

COMMAND_MODULES = {
    "check": "proxy.commands.check",
    "proxy": "proxy.commands.proxy",
    "ca": "proxy.commands.ca",
    "import": "proxy.commands.importcmd",
    "export": "proxy.commands.export",
    "profiles": "proxy.commands.profiles",
    "endpoint": "proxy.commands.endpoint",
    "diff": "proxy.commands.diff",
    "replay": "proxy.commands.replay",
    "tui": "proxy.commands.tui",
    "diagnose": "proxy.commands.diagnose",
}
"""Each command and the module that defines it."""

BUG_EXIT_CODE = 3
"""The exit code of a failure of ocppscope itself: never 1, which CI reads as "findings"."""


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the arguments, only the named command's module is imported (the others would
    cost ``check`` in CI a tenth of a second), else all of them, for help and for unknown commands."""
    parser = argparse.ArgumentParser(
        prog="ocppscope",
        description="OCPP-J debugging proxy: relay charger <-> backend traffic unchanged, and explain it.",
    )
    parser.add_argument("--version", action="version", version=f"ocppscope {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = next((arg for arg in argv or () if not arg.startswith("-")), None)
    for name, module in COMMAND_MODULES.items():
        if named not in COMMAND_MODULES or name == named:
            importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
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

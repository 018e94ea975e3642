"""The ``ocppscope`` command line: one module per subcommand in :mod:`proxy.commands`.

Each command module defines ``add_parser(subparsers)``, which registers its parser with ``func=run``, and
``run(args) -> int``. Modules keep heavy imports (mitmproxy, textual) inside ``run`` so ``--help`` is quick.
Exit codes: 0 fine, 1 findings or differences at or above the threshold, 2 unusable input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from proxy import __version__
from proxy.errors import OcppscopeError

COMMAND_MODULES = (
    "proxy.commands.check",
    "proxy.commands.proxy",
    "proxy.commands.ca",
    "proxy.commands.importcmd",
    "proxy.commands.export",
    "proxy.commands.profiles",
    "proxy.commands.endpoint",
    "proxy.commands.diff",
    "proxy.commands.replay",
    "proxy.commands.tui",
    "proxy.commands.diagnose",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocppscope",
        description="OCPP-J debugging proxy: relay charger <-> backend traffic unchanged, and explain it.",
    )
    parser.add_argument("--version", action="version", version=f"ocppscope {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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


if __name__ == "__main__":
    sys.exit(main())

"""``ocppscope replay CAPTURE…``: open recorded traffic in the terminal UI, with replay controls.

With ``--target URL`` the capture is instead played against a live backend (or served to a charger with
``--as backend``); that is :mod:`proxy.replay`'s job, which this command hands over to: see
``_LIVE_REPLAY_MODULE`` for the contract.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
from types import ModuleType

from ocppscope.proxy.errors import OcppscopeError

_LIVE_REPLAY_MODULE = "ocppscope.proxy.replay.command"
"""Live replay (issue 6) plugs in here: the module provides ``add_replay_arguments(parser)``, which adds
``--target``, ``--as`` and its own options (it may read ``args.speed``, defined here), and ``run(args) -> int``."""
SPEEDS = {"1": 1.0, "10": 10.0, "100": 100.0, "max": math.inf}


def _live_replay() -> ModuleType | None:
    try:
        return importlib.import_module(_LIVE_REPLAY_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name and _LIVE_REPLAY_MODULE.startswith(exc.name):
            return None
        raise


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ocppscope.proxy.capture.inputs import add_input_arguments
    from ocppscope.proxy.commands.check import add_analysis_arguments
    from ocppscope.proxy.profiles.options import add_profile_arguments

    parser = sub.add_parser(
        "replay",
        help="open captures (or any input `import` reads) in the terminal UI",
        description="Show recorded traffic in the same UI as the live proxy, analysed by the same rules: frames, "
        "chargers, findings, handshakes, with play/pause, speed, stepping and seeking. Several inputs are merged "
        "by time. Big captures open at once and are indexed in the background.",
    )
    add_input_arguments(parser)
    parser.add_argument("--play", action="store_true", help="start playing from the beginning")
    parser.add_argument("--speed", choices=tuple(SPEEDS), default="1",
                        help="playback speed: 1, 10, 100 or max (as fast as possible); default 1")
    parser.add_argument("--filter", default="", metavar="EXPR",
                        help='start with this filter, e.g. \'action == "BootNotification"\'')
    add_analysis_arguments(parser)
    add_profile_arguments(parser)
    live = _live_replay()
    if live is not None:
        live.add_replay_arguments(parser)
    else:
        parser.add_argument("--target", metavar="URL", help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "target", None):
        live = _live_replay()
        if live is None:
            raise OcppscopeError("replaying against a live backend (--target) is not available in this version")
        return int(live.run(args))
    from ocppscope.proxy.capture.inputs import STDIN, file_paths, inputs_from_args
    from ocppscope.proxy.capture.times import LOCAL_ZONE
    from ocppscope.proxy.commands.tui import require_terminal
    from ocppscope.tui.analysis import AnalysisSpec
    from ocppscope.tui.app import OcppscopeApp
    from ocppscope.tui.session import ReplaySession

    inputs = inputs_from_args(args)
    with file_paths(inputs, args.input_format, args.log_timezone) as paths:
        if STDIN in inputs.names:
            _terminal_on_stdin()
        require_terminal()
        fmt = args.input_format if args.log_timezone == LOCAL_ZONE else "auto"  # the logs became captures
        session = ReplaySession(paths, AnalysisSpec.from_args(args), fmt=fmt, play=args.play, speed=SPEEDS[args.speed])
        OcppscopeApp(session, initial_filter=args.filter).run()
    return 0


def _terminal_on_stdin() -> None:
    """After the traffic was read from standard input, the UI reads its keys from the terminal (as ``less`` does)."""
    try:
        terminal = os.open("/dev/tty", os.O_RDWR)
    except OSError as exc:
        raise OcppscopeError(f"the terminal UI read its input from standard input and needs a terminal for its keys: "
                             f"/dev/tty: {exc.strerror or exc}") from None
    os.dup2(terminal, sys.stdin.fileno())
    os.close(terminal)

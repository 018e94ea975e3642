"""``ocppscope replay CAPTURE…``: open recorded traffic in the terminal UI, with replay controls.

With ``--target URL`` the capture is instead played against a live backend (or served to a charger with
``--as backend``); that is :mod:`proxy.replay`'s job, which this command hands over to: see
``_LIVE_REPLAY_MODULE`` for the contract.
"""

from __future__ import annotations

import argparse
import importlib
import math
from pathlib import Path
from types import ModuleType

from proxy.errors import OcppscopeError

_LIVE_REPLAY_MODULE = "proxy.replay.command"
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
    from proxy.capture.sources import FORMATS
    from proxy.commands.check import add_analysis_arguments
    from proxy.profiles.options import add_profile_arguments

    parser = sub.add_parser(
        "replay",
        help="open captures (or any input `import` reads) in the terminal UI",
        description="Show recorded traffic in the same UI as the live proxy, analysed by the same rules: frames, "
        "chargers, findings, handshakes, with play/pause, speed, stepping and seeking. Several inputs are merged "
        "by time. Big captures open at once and are indexed in the background.",
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="CAPTURE",
                        help="ocppscope captures, Open OCPP Trace files or CSMS logs")
    parser.add_argument("--input-format", default="auto", choices=("auto", *FORMATS),
                        help="format of the inputs (default: detect from content)")
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
    for path in args.inputs:
        if not path.is_file():
            raise OcppscopeError(f"{path}: no such file")
    from proxy.commands.tui import require_terminal
    from tui.analysis import AnalysisSpec
    from tui.app import OcppscopeApp
    from tui.session import ReplaySession

    require_terminal()
    session = ReplaySession([str(path) for path in args.inputs], AnalysisSpec.from_args(args),
                            fmt=args.input_format, play=args.play, speed=SPEEDS[args.speed])
    OcppscopeApp(session, initial_filter=args.filter).run()
    return 0

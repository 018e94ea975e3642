"""``ocppscope diagnose CAPTURE…``: why does this charger keep dropping off?

Per charger: probable causes of lost connections, most likely first, each with the frames that show it and
what to change; then the timeline of its connections. Exit 0 (a diagnosis is not a gate; ``check`` is),
2 for unusable input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from proxy.core.events import Event


def add_parser(sub: argparse._SubParsersAction) -> None:
    from proxy.commands.check import add_analysis_arguments

    parser = sub.add_parser(
        "diagnose",
        help="explain lost connections: per-charger timeline and ranked probable causes",
        description="Read captures (or importable logs) and explain, per charger, why connections were lost: "
        "idle timeouts, reconnect storms, two connections for one identity, refused handshakes, boot loops, "
        "retry loops, closes after unanswered CALLs, CALLERROR bursts or concurrent CALLs, missing heartbeats; "
        "and the charger's clock: never set, ahead, behind, jumping, messages queued while offline. "
        "Several inputs are read as one stretch of time (e.g. one capture per day).",
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="CAPTURE",
                        help="ocppscope captures, Open OCPP Trace files or CSMS logs")
    parser.add_argument("--input-format", default="auto", help="format of the inputs (default: detect)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="report format (default text)")
    parser.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")
    parser.add_argument("-o", "--output", type=Path, help="write the report to this file instead of stdout")
    parser.add_argument("--charger", action="append", default=[], metavar="ID",
                        help="only this charger identity (repeatable)")
    parser.add_argument("--top", type=int, default=None, metavar="N", help="show only the N most likely causes")
    parser.add_argument("--clock-jump", type=float, default=60.0, metavar="SECONDS",
                        help="smallest change of the charger's clock reported as a jump (default 60)")
    add_analysis_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from proxy.capture.sources import read_events
    from proxy.commands.check import analyzer_options
    from proxy.core.render import json_bytes
    from proxy.diagnose import DiagnoseOptions, diagnose
    from proxy.diagnose.report_text import render

    def events() -> Iterator[Event]:
        for index, path in enumerate(args.inputs, 1):
            for event in read_events(path, args.input_format):
                if len(args.inputs) > 1:
                    # Connection ids restart in every capture: keep them apart.
                    event.conn_id = f"{index}:{event.conn_id}"
                yield event

    diagnosis = diagnose(events(), DiagnoseOptions(clock_jump=args.clock_jump), analyzer_options(args),
                         [str(path) for path in args.inputs])
    if args.charger:
        diagnosis.chargers = [c for c in diagnosis.chargers if c.charger in args.charger]
    if args.format == "json":
        data = json_bytes(diagnosis.to_json(), indent=True) + b"\n"
        if args.output:
            args.output.write_bytes(data)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        return 0
    if args.output:
        with args.output.open("w", encoding="utf-8") as fh:
            render(diagnosis, fh, top=args.top)
    else:
        render(diagnosis, sys.stdout, top=args.top)
    return 0

"""``ocppscope diagnose CAPTURE…``: why does this charger keep dropping off?

Per charger: probable causes of lost connections, most likely first, each with the frames that show it and
what to change; then the timeline of its connections. Exit 0 (a diagnosis is not a gate; ``check`` is),
2 for unusable input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ocppscope.proxy.capture.inputs import add_input_arguments
    from ocppscope.proxy.check.progress import add_progress_argument
    from ocppscope.proxy.commands.check import add_analysis_arguments
    from ocppscope.proxy.commands.options import add_format_argument

    parser = sub.add_parser(
        "diagnose",
        help="explain lost connections: per-charger timeline and ranked probable causes",
        description="Read captures (or importable logs) and explain, per charger, why connections were lost: "
        "idle timeouts, reconnect storms, two connections for one identity, refused handshakes, boot loops, "
        "retry loops, closes after unanswered CALLs, CALLERROR bursts or concurrent CALLs, missing heartbeats; "
        "and the charger's clock: never set, ahead, behind, jumping, messages queued while offline. "
        "Several inputs are read as one stretch of time (e.g. one capture per day).",
    )
    add_input_arguments(parser)
    add_format_argument(parser, ("text", "json"))
    add_progress_argument(parser)
    parser.add_argument("-o", "--output", type=Path, help="write the report to this file instead of stdout")
    parser.add_argument("--charger", action="append", default=[], metavar="ID",
                        help="only this charger identity (repeatable)")
    parser.add_argument("--top", type=int, default=None, metavar="N", help="show only the N most likely causes")
    parser.add_argument("--clock-jump", type=float, default=60.0, metavar="SECONDS",
                        help="smallest change of the charger's clock reported as a jump (default 60)")
    add_analysis_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ocppscope.proxy.capture.inputs import events_from_args, inputs_from_args, progress_of, say_notes
    from ocppscope.proxy.check.progress import counted
    from ocppscope.proxy.commands.check import analyzer_options
    from ocppscope.proxy.core.render import json_bytes
    from ocppscope.proxy.diagnose import DiagnoseOptions, diagnose
    from ocppscope.proxy.diagnose.report_text import render

    inputs = inputs_from_args(args)
    events = events_from_args(args, inputs)  # one stretch of time: connection ids kept apart where they repeat
    diagnosis = diagnose(counted(events, progress_of(args, events)), DiagnoseOptions(clock_jump=args.clock_jump),
                         analyzer_options(args), inputs.names)
    say_notes(events)
    if len(inputs.files) > 1:
        for charger in diagnosis.chargers:
            for conn in charger.connections:
                conn.source = events.source_of.get(conn.conn_id)
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

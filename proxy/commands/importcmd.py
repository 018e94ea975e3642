"""``ocppscope import FILE -o CAPTURE``: turn an Open OCPP Trace file or a CSMS log into a capture."""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import Counter
from pathlib import Path

from ocppscope.proxy.capture.inputs import add_input_arguments
from ocppscope.proxy.check.progress import add_progress_argument
from ocppscope.proxy.errors import OcppscopeError


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import",
        help="convert an Open OCPP Trace file or a CSMS log into a capture",
        description="Read FILE (an ocppscope capture, Open OCPP Trace as JSON Lines or a JSON array, or an "
        "ocpp-go/evcc, Home Assistant, SteVe or plain '<time> <direction> <frame>' log) and write it as an "
        "ocppscope capture, with credentials redacted. Lines that are not OCPP traffic are counted and "
        "reported on stderr.",
    )
    add_input_arguments(parser, metavar="FILE",
                        help="the files to import (folders, glob patterns, - for standard input): several are "
                        "one recording, merged by time into one capture")
    add_progress_argument(parser)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="CAPTURE",
                        help="the capture to write (replaced if it exists)")
    parser.add_argument("--no-redact", action="store_true",
                        help="keep passwords and authorization keys in clear text (the capture says so)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ocppscope.proxy.capture import CaptureWriter, SourceError
    from ocppscope.proxy.capture.inputs import STDIN, events_from_args, inputs_from_args, progress_of, say_notes
    from ocppscope.proxy.check.progress import counted
    from ocppscope.proxy.core.events import ConnectionOpened, Message

    inputs = inputs_from_args(args)
    written = args.output.resolve()
    for file in inputs.files:
        if file.name != STDIN and Path(file.name).resolve() == written:
            raise OcppscopeError(f"{args.output}: the capture would overwrite its own input")
    events = events_from_args(args, inputs)
    stream = iter(counted(events, progress_of(args, events)))
    # The first event is read before the capture is created, so unreadable input leaves no empty capture behind;
    # every input is read once (a pipe or a FIFO cannot be read twice).
    first = next(stream, None)
    counts: Counter[type] = Counter()
    with CaptureWriter(args.output, redact=not args.no_redact) as writer:
        try:
            for event in itertools.chain([] if first is None else [first], stream):
                writer.write(event)
                counts[type(event)] += 1
        except SourceError:
            print(f"ocppscope: {writer.records} event(s) read before the error were written to {args.output}",
                  file=sys.stderr)
            raise
    say_notes(events)
    reports = events.reports
    source = (f"{reports[0].source} ({reports[0].format})" if len(reports) == 1
              else f"{len(reports)} files, merged by time,")
    summary = (f"{source} -> {args.output}: {writer.records} event(s), "
               f"{counts[Message]} frame(s) on {counts[ConnectionOpened]} connection(s)")
    if writer.redacted:
        summary += f"; secrets redacted in {writer.redacted} event(s)"
    skipped = sum(report.skipped for report in reports)
    if skipped:
        summary += f"; {skipped} line(s) skipped"
    if len(reports) > 1:
        for report in reports:
            print(f"ocppscope: read {report.source} ({report.format}): {report.events} event(s)"
                  + (f", {report.skipped} line(s) skipped" if report.skipped else ""), file=sys.stderr)
    print(summary, file=sys.stderr)
    return 0

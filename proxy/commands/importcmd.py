"""``ocppscope import FILE -o CAPTURE``: turn an Open OCPP Trace file or a CSMS log into a capture."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from proxy.capture.sources import FORMATS
from proxy.errors import OcppscopeError

INPUT_FORMATS = ("auto", *FORMATS)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import",
        help="convert an Open OCPP Trace file or a CSMS log into a capture",
        description="Read FILE (an ocppscope capture, Open OCPP Trace as JSON Lines or a JSON array, or an "
        "ocpp-go/evcc, Home Assistant, SteVe or plain '<time> <direction> <frame>' log) and write it as an "
        "ocppscope capture, with credentials redacted. Lines that are not OCPP traffic are counted and "
        "reported on stderr.",
    )
    parser.add_argument("input", type=Path, metavar="FILE", help="the file to import")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="CAPTURE",
                        help="the capture to write (replaced if it exists)")
    parser.add_argument("--input-format", choices=INPUT_FORMATS, default="auto",
                        help="format of FILE (default: detect from the content), as in every command")
    parser.add_argument("--no-redact", action="store_true",
                        help="keep passwords and authorization keys in clear text (the capture says so)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from proxy.capture import CaptureWriter, ReadReport, SourceError, detect_format, read_events
    from proxy.core.events import ConnectionOpened, Message

    if args.output.resolve() == args.input.resolve():
        raise OcppscopeError(f"{args.output}: the capture would overwrite its own input")
    # Detected before the capture is created, so unreadable input leaves no empty capture behind.
    fmt = detect_format(args.input) if args.input_format == "auto" else args.input_format
    report = ReadReport(str(args.input), on_warning=_warn)
    counts: Counter[type] = Counter()
    with CaptureWriter(args.output, redact=not args.no_redact) as writer:
        try:
            for event in read_events(args.input, fmt, report=report):
                writer.write(event)
                counts[type(event)] += 1
        except SourceError:
            print(f"ocppscope: {writer.records} event(s) read before the error were written to {args.output}",
                  file=sys.stderr)
            raise
    summary = (f"{args.input} ({report.format}) -> {args.output}: {writer.records} event(s), "
               f"{counts[Message]} frame(s) on {counts[ConnectionOpened]} connection(s)")
    if writer.redacted:
        summary += f"; secrets redacted in {writer.redacted} event(s)"
    if report.skipped:
        summary += f"; {report.skipped} line(s) skipped"
    print(summary, file=sys.stderr)
    return 0


def _warn(message: str) -> None:
    print(f"ocppscope: warning: {message}", file=sys.stderr)

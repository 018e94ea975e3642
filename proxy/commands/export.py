"""``ocppscope export CAPTURE -o FILE``: write recorded traffic as Open OCPP Trace, stating what is lost."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ocppscope.proxy.capture.inputs import add_input_arguments
from ocppscope.proxy.check.progress import add_progress_argument

OUTPUT_FORMATS = ("oot-jsonl", "oot-json")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export",
        help="write a capture as Open OCPP Trace (JSON Lines or a JSON array)",
        description="Write CAPTURE (or any input ocppscope reads) as Open OCPP Trace v1.1 records. What the "
        "format cannot hold (binary frames, invalid JSON, 2.1 CALLRESULTERROR/SEND, pings, failed "
        "handshakes) is left out and listed on stderr. Handshakes and closes travel in meta.ocppscope.",
    )
    add_input_arguments(parser, help="the captures (or other inputs) to export: files, folders, glob patterns or - "
                        "for standard input; several are one recording, merged by time into one trace")
    add_progress_argument(parser)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="the file to write")
    parser.add_argument("--format", choices=OUTPUT_FORMATS, default=None,
                        help="oot-jsonl (one record per line) or oot-json (one array); "
                        "default: oot-json for a .json FILE, else oot-jsonl")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ocppscope.proxy.capture.inputs import export_inputs, inputs_from_args, note_on_stderr, warn_on_stderr

    fmt = args.format or ("oot-json" if args.output.suffix.lower() == ".json" else "oot-jsonl")
    report = export_inputs(inputs_from_args(args), args.output, fmt=args.input_format, array=fmt == "oot-json",
                           on_warning=warn_on_stderr, log_timezone=args.log_timezone, on_note=note_on_stderr,
                           progress=args.progress)
    for line in report.describe():
        print(f"ocppscope: {line}", file=sys.stderr)
    return 0

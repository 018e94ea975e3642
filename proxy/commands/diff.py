"""``ocppscope diff A B``: what changed in how one side answers, between two captures of the same exchange.

Typical use: A recorded against the backend's last release, B against the candidate. Exit 0 when nothing
changed (at or above ``--fail-on``), 1 on differences, 2 for unusable input.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    from proxy.diff.options import add_diff_arguments

    parser = sub.add_parser(
        "diff",
        help="compare two captures: answers, fields, CALLERRORs, findings, latency; exit 1 on differences",
        description="Compare capture B with capture A the way a live replay is compared with its recording: "
        "per charger and connection, the answers of the side under test (status changed, fields added or "
        "missing, new CALLERRORs, new findings, slower answers), its own CALLs, and how it closed. "
        "Timestamps, currentTime, transactionId values and message ids are not compared.",
    )
    parser.add_argument("recorded", type=Path, metavar="A", help="the reference capture (or importable log)")
    parser.add_argument("live", type=Path, metavar="B", help="the capture to compare with it")
    parser.add_argument("--input-format", default="auto", help="format of both inputs (default: detect)")
    add_diff_arguments(parser, subject_option=True)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from proxy.capture.sources import read_events
    from proxy.core.events import Direction
    from proxy.diff import diff_events
    from proxy.diff.options import analyzer_options, checkers_from_args, diff_options, finish
    from proxy.diff.report import diff_result

    subject = Direction.FROM_CHARGER if args.subject == "charger" else Direction.FROM_BACKEND
    differences, live = diff_events(
        read_events(args.recorded, args.input_format),
        read_events(args.live, args.input_format),
        diff_options(args, subject),
        checkers=checkers_from_args(args),
        analyzer=analyzer_options(args),
    )
    return finish(args, [diff_result(f"{args.recorded} → {args.live}", live, differences)])

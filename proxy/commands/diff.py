"""``ocppscope diff A B``: what changed in how one side answers, between two captures of the same exchange.

Typical use: A recorded against the backend's last release, B against the candidate. Exit 0 when nothing
changed (at or above ``--fail-on``), 1 on differences, 2 for unusable input.
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ocppscope.proxy.capture.inputs import add_input_arguments
    from ocppscope.proxy.diff.options import add_diff_arguments

    parser = sub.add_parser(
        "diff",
        help="compare two captures: answers, fields, CALLERRORs, findings, latency; exit 1 on differences",
        description="Compare capture B with capture A the way a live replay is compared with its recording: "
        "per charger and connection, the answers of the side under test (status changed, fields added or "
        "missing, new CALLERRORs, new findings, slower answers), its own CALLs, and how it closed. "
        "Timestamps, currentTime, transactionId values and message ids are not compared.",
    )
    add_input_arguments(parser, dest="recorded", metavar="A", nargs=None,
                        help="the reference: a capture (or importable log), a folder of them (a proxy run's "
                        "--capture folder), a quoted glob pattern, or - for standard input")
    parser.add_argument("live", metavar="B", help="what to compare with it, in the same forms; connections are "
                        "paired by charger identity, in order")
    add_diff_arguments(parser, subject_option=True)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ocppscope.proxy.capture.inputs import events_from_args, inputs_from_args, say_notes
    from ocppscope.proxy.capture.report import SourceError
    from ocppscope.proxy.capture.sources import STDIN
    from ocppscope.proxy.core.events import Direction
    from ocppscope.proxy.diff import diff_events
    from ocppscope.proxy.diff.options import analyzer_options, checkers_from_args, diff_options, finish
    from ocppscope.proxy.diff.report import diff_result

    subject = Direction.FROM_CHARGER if args.subject == "charger" else Direction.FROM_BACKEND
    if args.recorded == args.live == STDIN:
        raise SourceError(STDIN, "standard input can be read only once: give - for one side only")
    recorded = events_from_args(args, inputs_from_args(args, [args.recorded]))
    live = events_from_args(args, inputs_from_args(args, [args.live]))
    differences, exchanges = diff_events(recorded, live, diff_options(args, subject), checkers=checkers_from_args(args),
                                         analyzer=analyzer_options(args))
    say_notes(recorded)
    say_notes(live)
    result = diff_result(f"{recorded.inputs.label} → {live.inputs.label}", exchanges, differences)
    result.files = live.inputs.names  # the report names the file of each connection of B when it has several
    for conn_id, summary in result.connections.items():
        summary.source = live.source_of.get(conn_id)
    return finish(args, [result])

"""Command-line options of every command that compares conversations (``diff``, live ``replay``).

Options a command already defines (a shared ``--format``, say) are left as they are, so the live-replay
options can join a parser that has its own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ocppscope.proxy.check import baseline
from ocppscope.proxy.check.runner import InputResult
from ocppscope.proxy.core.analyzer import AnalyzerOptions, Checker
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.diff.compare import DiffOptions
from ocppscope.proxy.diff.payload import VOLATILE, IgnoreRules
from ocppscope.proxy.diff.report import verdict, write_report

REPORT_FORMATS = ("text", "json", "junit")


def add_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, *flags: str, **kwargs: object) -> None:
    """``add_argument`` unless the parser already has one of ``flags``."""
    existing = getattr(parser, "_option_string_actions", {})
    if any(flag in existing for flag in flags):
        return
    parser.add_argument(*flags, **kwargs)  # type: ignore[arg-type]


def add_diff_arguments(parser: argparse.ArgumentParser, *, subject_option: bool = False) -> None:
    from ocppscope.proxy.commands.check import add_analysis_arguments
    from ocppscope.proxy.commands.options import add_fail_on_argument, add_format_argument
    from ocppscope.proxy.profiles.options import add_profile_arguments

    group = parser.add_argument_group("regression diff")
    add_option(group, "--ignore", action="append", default=[], metavar="JSONPATH",
               help="leave this payload field out of the comparison, e.g. '$..expiryDate' or "
               "'BootNotification:$.interval' (repeatable; the values of " + ", ".join(VOLATILE) +
               " and of date-times are never compared)")
    add_option(group, "--latency-threshold", type=float, default=2.0, metavar="SECONDS",
               help="report answers this much slower than recorded (default 2)")
    if subject_option:
        add_option(group, "--subject", choices=("backend", "charger"), default="backend",
                   help="the side whose behaviour is compared (default backend)")
    if "--format" not in parser._option_string_actions:
        add_format_argument(group, REPORT_FORMATS)
    add_option(group, "-o", "--output", type=Path, help="write the report to this file instead of stdout")
    if "--fail-on" not in parser._option_string_actions:
        add_fail_on_argument(group, default="warning", what="difference")
    add_option(group, "--baseline", type=Path, help="accept the differences listed in this baseline file")
    add_option(group, "--write-baseline", type=Path, metavar="FILE",
               help="write the differences found to FILE as the new baseline (and exit 0)")
    if "--call-timeout" not in parser._option_string_actions:
        add_analysis_arguments(parser)
    if "--profile" not in parser._option_string_actions:
        add_profile_arguments(parser)


def checkers_from_args(args: argparse.Namespace) -> Callable[[], list[Checker]]:
    """A factory of the checkers both sides of a diff are analysed with (default rules plus profiles)."""
    from ocppscope.proxy.profiles.options import profile_checker_from_args

    def build() -> list[Checker]:
        checker = profile_checker_from_args(args) if hasattr(args, "no_profiles") else None
        return default_checkers() + ([checker] if checker else [])

    return build


def analyzer_options(args: argparse.Namespace) -> AnalyzerOptions:
    return AnalyzerOptions(call_timeout=getattr(args, "call_timeout", 30.0),
                           slow_response=getattr(args, "slow_response", 10.0))


def diff_options(args: argparse.Namespace, subject: Direction, answer_timeout: float | None = None) -> DiffOptions:
    return DiffOptions(subject=subject, ignore=IgnoreRules.build(args.ignore),
                       latency_threshold=args.latency_threshold, answer_timeout=answer_timeout)


def finish(args: argparse.Namespace, results: Sequence[InputResult]) -> int:
    """Write the baseline or the report; the exit code (1 when differences reach --fail-on)."""
    if args.write_baseline:
        count = baseline.write(args.write_baseline, [f for r in results for f in r.findings])
        print(f"wrote {count} difference(s) to baseline {args.write_baseline}", file=sys.stderr)
        return 0
    accepted = baseline.load(args.baseline) if args.baseline else None
    outcome = verdict(results, args.fail_on, accepted)
    write_report(args.format, args.output, results, outcome)
    return 1 if outcome.failed else 0

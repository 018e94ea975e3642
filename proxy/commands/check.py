"""``ocppscope check CAPTURE...``: analyse recorded traffic and fail CI on findings."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from proxy.core.analyzer import AnalyzerOptions, Checker
from proxy.core.findings import Severity
from proxy.profiles.options import add_profile_arguments, profile_checker_from_args

if TYPE_CHECKING:
    from proxy.check.runner import InputResult
    from proxy.check.verdict import Verdict

FORMATS = ("text", "json", "junit")


def add_analysis_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that change what the analyzer reports; shared by every command that analyses traffic."""
    parser.add_argument("--call-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="report CALLs unanswered after this long (default 30)")
    parser.add_argument("--slow-response", type=float, default=10.0, metavar="SECONDS",
                        help="report answers slower than this (default 10)")


def analyzer_options(args: argparse.Namespace) -> AnalyzerOptions:
    return AnalyzerOptions(call_timeout=args.call_timeout, slow_response=args.slow_response)


class CheckersFromArgs:
    """Builds a fresh set of checkers (the defaults plus the charger profiles the options ask for).

    A fresh set per input, and per worker of a parallel run: checkers keep state per charger. Picklable, so
    a worker process can build its own.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        # Loaded once, here: a bad profile file is an error before any work starts, and neither each input
        # nor each worker parses the profile files again (about 50 ms each time).
        self._profiles = profile_checker_from_args(args)

    def __call__(self) -> list[Checker]:
        from proxy.core.checks import default_checkers

        return default_checkers() + ([self._profiles.fresh()] if self._profiles is not None else [])


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "check",
        help="analyse captures (or importable logs) and exit 1 on findings",
        description="Run the OCPP inspection over recorded traffic and print findings grouped by charger and "
        "connection. Exit 0 when nothing reaches --fail-on, 1 when something does, 2 for unusable input.",
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="CAPTURE",
                        help="ocppscope captures, Open OCPP Trace files or CSMS logs")
    parser.add_argument("--input-format", default="auto",
                        help="format of the inputs (default: detect from content)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format (default text)")
    parser.add_argument("-o", "--output", type=Path, help="write the report to this file instead of stdout")
    parser.add_argument("--fail-on", default="error", choices=("error", "warning", "info", "never"),
                        help="lowest severity that fails the check (default error)")
    parser.add_argument("--baseline", type=Path, help="accept the findings listed in this baseline file")
    parser.add_argument("--write-baseline", type=Path, metavar="FILE",
                        help="write all findings to FILE as the new baseline (and exit 0)")
    parser.add_argument("-j", "--jobs", type=int, default=0, metavar="N",
                        help="processes for a big capture (default: the number of cores, up to 4; 1 = serial)")
    add_analysis_arguments(parser)
    add_profile_arguments(parser)
    parser.set_defaults(func=run)


class _Progress:
    """Frames/s on stderr for big inputs, only when stderr is a terminal."""

    def __init__(self, path: Path, stream: TextIO) -> None:
        self._path = path
        self._stream = stream
        self._start = time.monotonic()
        self._shown = False

    def __call__(self, frames: int) -> None:
        elapsed = time.monotonic() - self._start
        if elapsed > 0.5:
            self._stream.write(f"\r{self._path}: {frames:,} frames ({frames / elapsed:,.0f}/s)")
            self._stream.flush()
            self._shown = True

    def done(self) -> None:
        if self._shown:
            self._stream.write("\n")


def run(args: argparse.Namespace) -> int:
    from proxy.check import baseline
    from proxy.check.parallel import analyze_many, default_jobs, worth_many
    from proxy.check.runner import batch_gc
    from proxy.check.verdict import judge

    options = analyzer_options(args)
    checkers = CheckersFromArgs(args)
    jobs = args.jobs or default_jobs()
    with batch_gc():
        if worth_many(args.inputs, jobs):
            # Each input is analysed on its own anyway (a fresh analyzer per file), so files go to workers whole.
            results = analyze_many(args.inputs, args.input_format, jobs, options, checkers)
        else:
            results = [_analyze_one(path, args.input_format, jobs, options, checkers) for path in args.inputs]
    if args.write_baseline:
        count = baseline.write(args.write_baseline, [f for r in results for f in r.findings])
        print(f"wrote {count} finding(s) to baseline {args.write_baseline}", file=sys.stderr)
        return 0
    accepted = baseline.load(args.baseline) if args.baseline else None
    fail_on = None if args.fail_on == "never" else Severity.parse(args.fail_on)
    verdict = judge(results, fail_on, accepted)
    write_report(args.format, args.output, results, verdict)
    return 1 if verdict.failed else 0


def _analyze_one(path: Path, fmt: str, jobs: int, options: AnalyzerOptions, checkers: CheckersFromArgs,
                 ) -> InputResult:
    from proxy.capture.sources import read_events
    from proxy.check.parallel import analyze_parallel, worth_parallel
    from proxy.check.runner import analyze_events

    if fmt in ("auto", "capture") and worth_parallel(path, jobs):
        try:
            return analyze_parallel(path, jobs, options, checkers)
        except Exception:  # a worker met bad input or crashed: the serial run reports it precisely
            pass
    progress = _Progress(path, sys.stderr) if sys.stderr.isatty() else None
    result = analyze_events(path, read_events(path, fmt), checkers(), options, progress=progress)
    if progress:
        progress.done()
    return result


def write_report(fmt: str, output: Path | None, results: Sequence[InputResult], verdict: Verdict,
                 title: str = "ocppscope check") -> None:
    """Write a report in ``fmt`` (text, json, junit) to ``output`` or stdout; ``title`` names the JUnit root."""
    from proxy.check import report_json, report_junit, report_text

    if fmt == "text":
        if output:
            with output.open("w", encoding="utf-8") as fh:
                report_text.render(results, verdict, fh)
        else:
            report_text.render(results, verdict, sys.stdout, colour=sys.stdout.isatty())
        return
    with output.open("wb") if output else contextlib.nullcontext(sys.stdout.buffer) as fh:
        sys.stdout.flush()
        if fmt == "json":
            report_json.render(results, verdict, fh)
        else:
            report_junit.render(results, verdict, fh, title)
        fh.flush()

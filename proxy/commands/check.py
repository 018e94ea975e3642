"""``ocppscope check CAPTURE...``: analyse recorded traffic and fail CI on findings."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ocppscope.proxy.capture.inputs import (
    InputFile,
    Inputs,
    add_input_arguments,
    input_paths,
    inputs_from_args,
    merged_events,
)
from ocppscope.proxy.capture.times import LOCAL_ZONE
from ocppscope.proxy.commands.options import add_fail_on_argument, add_format_argument
from ocppscope.proxy.core.analyzer import AnalyzerOptions, Checker
from ocppscope.proxy.core.findings import Severity
from ocppscope.proxy.errors import OcppscopeError
from ocppscope.proxy.profiles.options import add_profile_arguments, profile_checker_from_args

if TYPE_CHECKING:
    from ocppscope.proxy.check.runner import InputResult
    from ocppscope.proxy.check.verdict import Verdict

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
        from ocppscope.proxy.core.checks import default_checkers

        return default_checkers() + ([self._profiles.fresh()] if self._profiles is not None else [])


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "check",
        help="analyse captures (or importable logs) and exit 1 on findings",
        description="Run the OCPP inspection over recorded traffic and print findings grouped by charger and "
        "connection. Exit 0 when nothing reaches --fail-on, 1 when something does, 2 for unusable input.",
    )
    add_input_arguments(parser)
    parser.add_argument("--each", action="store_true",
                        help="a report per file (default: all inputs are one recording, analysed as one stream)")
    add_format_argument(parser, FORMATS)
    parser.add_argument("-o", "--output", type=Path, help="write the report to this file instead of stdout")
    add_fail_on_argument(parser, default="error")
    parser.add_argument("--baseline", type=Path, help="accept the findings listed in this baseline file")
    parser.add_argument("--write-baseline", type=Path, metavar="FILE",
                        help="write all findings to FILE as the new baseline (and exit 0)")
    parser.add_argument("-j", "--jobs", type=int, default=0, metavar="N",
                        help="processes for a big capture, or for the files of --each (default: the number of "
                        "cores, up to 4; 1 = serial); results never depend on it")
    parser.add_argument("--progress", action="store_true",
                        help="show progress on stderr even when it is not a terminal (percent and time left "
                        "for a big capture)")
    add_analysis_arguments(parser)
    add_profile_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ocppscope.proxy.check import baseline
    from ocppscope.proxy.check.parallel import analyze_many, default_jobs, worth_many
    from ocppscope.proxy.check.progress import wanted
    from ocppscope.proxy.check.report_junit import gate_rules
    from ocppscope.proxy.check.runner import batch_gc
    from ocppscope.proxy.check.verdict import judge

    options = analyzer_options(args)
    checkers = CheckersFromArgs(args)
    jobs = args.jobs or default_jobs()
    inputs = inputs_from_args(args)
    zone = args.log_timezone
    shown = wanted(sys.stderr, args.progress)
    with batch_gc():
        if len(inputs.files) == 1:
            results = [_analyze_one(inputs.files[0], args.input_format, jobs, options, checkers, zone, shown)]
        elif not args.each:
            results = [_analyze_together(inputs, args.input_format, jobs, options, checkers, zone, shown)]
        elif zone == LOCAL_ZONE and worth_many(input_paths(inputs), jobs):
            # Each input is analysed on its own (a fresh analyzer per file), so files go to workers whole.
            results = analyze_many(input_paths(inputs), args.input_format, jobs, options, checkers)
        else:
            results = [_analyze_one(file, args.input_format, jobs, options, checkers, zone, shown)
                       for file in inputs.files]
    if args.write_baseline:
        if _no_traffic(results):
            return 2
        count = baseline.write(args.write_baseline, [f for r in results for f in r.findings])
        print(f"wrote {count} finding(s) to baseline {args.write_baseline}", file=sys.stderr)
        return 0
    accepted = baseline.load(args.baseline) if args.baseline else None
    fail_on = None if args.fail_on == "never" else Severity.parse(args.fail_on)
    verdict = judge(results, fail_on, accepted)
    write_report(args.format, args.output, results, verdict, junit_rules=gate_rules(fail_on))
    if _no_traffic(results):
        return 2
    return 1 if verdict.failed else 0


def _no_traffic(results: Sequence[InputResult]) -> bool:
    """Say which inputs yielded nothing to check (a gate that passes on nothing is no gate); True if any."""
    empty = [result for result in results if result.reading is not None and result.reading.empty]
    for result in empty:
        assert result.reading is not None
        print(f"ocppscope: error: {result.path}: no OCPP traffic could be read ({result.reading.tried()})",
              file=sys.stderr)
    return bool(empty)


def _analyze_one(file: InputFile, fmt: str, jobs: int, options: AnalyzerOptions, checkers: CheckersFromArgs,
                 zone: str = LOCAL_ZONE, shown: bool = False) -> InputResult:
    from ocppscope.proxy.check.parallel import SerialNeeded, analyze_parallel, worth_parallel
    from ocppscope.proxy.check.progress import Progress

    path = Path(file.path)
    if fmt in ("auto", "capture") and worth_parallel(path, jobs):
        progress = Progress(f"{file.name} ({jobs} processes)", sys.stderr, path.stat().st_size) if shown else None
        try:
            result = analyze_parallel(path, jobs, options, checkers, progress)
        except SerialNeeded as exc:
            if progress is not None:
                progress.done(None)
            print(f"ocppscope check: {file.name} {exc}", file=sys.stderr)
        else:
            if progress is not None:
                progress.done(result.frames)
            result.path = Path(file.name)
            for summary in result.connections.values():
                summary.source = file.name
            return result
    return _analyze_together(Inputs([file], label=file.name), fmt, 1, options, checkers, zone, shown)


def _analyze_together(inputs: Inputs, fmt: str, jobs: int, options: AnalyzerOptions, checkers: CheckersFromArgs,
                      zone: str = LOCAL_ZONE, shown: bool = False) -> InputResult:
    """The files of ``inputs`` as one recording, merged by time, in this process."""
    from ocppscope.proxy.check.parallel import MIN_PARALLEL_BYTES
    from ocppscope.proxy.check.progress import Progress
    from ocppscope.proxy.check.runner import analyze_events

    if jobs > 1 and len(inputs.files) > 1 and _size(inputs) >= MIN_PARALLEL_BYTES:
        print(f"ocppscope check: {len(inputs.files)} files analysed as one stream in one process "
              "(-j splits a single capture, or the files of --each)", file=sys.stderr)
    events = merged_events(inputs, fmt, log_timezone=zone)
    progress = Progress(inputs.label, sys.stderr, events.size(), position=events.bytes_read) if shown else None
    result = analyze_events(Path(inputs.label), events, checkers(), options, progress=progress)
    result.reading = events.reading()
    result.files = inputs.names
    for conn_id, summary in result.connections.items():
        summary.source = events.source_of.get(conn_id)
    if progress is not None:
        progress.done(result.frames)
    return result


def _size(inputs: Inputs) -> int:
    total = 0
    for file in inputs.files:
        with contextlib.suppress(OSError):
            total += os.stat(file.path).st_size
    return total


def write_report(fmt: str, output: Path | None, results: Sequence[InputResult], verdict: Verdict,
                 title: str = "ocppscope check", junit_rules: Sequence[str] = ()) -> None:
    """Write a report in ``fmt`` (text, json, junit) to ``output`` or stdout; ``title`` names the JUnit root,
    ``junit_rules`` the rules every charger gets a JUnit case for."""
    try:
        _write_report(fmt, output, results, verdict, title, junit_rules)
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise OcppscopeError(f"{output or 'standard output'}: cannot write the report: {exc.strerror or exc}"
                             ) from None


def _write_report(fmt: str, output: Path | None, results: Sequence[InputResult], verdict: Verdict,
                  title: str, junit_rules: Sequence[str]) -> None:
    from ocppscope.proxy.check import report_json, report_junit, report_text

    if fmt == "text":
        if output:
            with output.open("w", encoding="utf-8") as fh:
                report_text.render(results, verdict, fh)
        else:
            # The report escapes what it shows; this keeps a terminal that cannot show every character going.
            if hasattr(sys.stdout, "reconfigure"):
                sys.stdout.reconfigure(errors="backslashreplace")
            report_text.render(results, verdict, sys.stdout, colour=sys.stdout.isatty())
        return
    with output.open("wb") if output else contextlib.nullcontext(sys.stdout.buffer) as fh:
        sys.stdout.flush()
        if fmt == "json":
            report_json.render(results, verdict, fh)
        else:
            report_junit.render(results, verdict, fh, title, junit_rules)
        fh.flush()

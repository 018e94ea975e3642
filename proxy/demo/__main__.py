"""``python -m ocppscope.proxy.demo`` (what ``make demo`` runs): a real charge point and central system (the ``ocpp``
package) on loopback talking through ocppscope's real proxy, a charging session with a few deliberate faults,
every frame and finding printed live.

``--captures`` instead checks the bundled captures (each with the options its scenario was recorded for,
``unanswered-call`` with a 2 s call timeout; see captures/README.md) with ``ocppscope check``'s text report.
The demo exits 0 either way: the findings are the point.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from ocppscope.proxy.capture.reader import read_capture
from ocppscope.proxy.check import report_text
from ocppscope.proxy.check.runner import InputResult, analyze_events
from ocppscope.proxy.check.verdict import judge
from ocppscope.proxy.core.analyzer import AnalyzerOptions
from ocppscope.proxy.demo.record_captures import CAPTURE_SUFFIX, default_directory
from ocppscope.proxy.demo.scenarios import SCENARIOS

INTRO = """\
ocppscope demo: the bundled captures were recorded from real OCPP peers (the Python `ocpp` package) talking
over loopback through a recording relay; several misbehave on purpose. Below is what `ocppscope check`
makes of them. captures/README.md explains what each one shows.
"""


def options_for(capture: Path) -> AnalyzerOptions:
    """The analyzer options the capture's scenario was recorded for."""
    scenario = SCENARIOS.get(capture.name.removesuffix(CAPTURE_SUFFIX))
    if scenario is not None and scenario.call_timeout is not None:
        return AnalyzerOptions(call_timeout=scenario.call_timeout)
    return AnalyzerOptions()


def bundled_captures() -> list[Path]:
    """The bundled captures, clean ones first and the demo session last, as the scenarios are listed."""
    order = {name: index for index, name in enumerate(SCENARIOS)}
    directory = default_directory()
    with contextlib.suppress(ValueError):  # shorter names in the report when run from the source tree
        directory = directory.relative_to(Path.cwd())
    found = directory.glob(f"*{CAPTURE_SUFFIX}")
    return sorted(found, key=lambda path: (order.get(path.name.removesuffix(CAPTURE_SUFFIX), len(order)),
                                           path.name))


def check_captures(captures: Sequence[Path]) -> list[InputResult]:
    return [analyze_events(path, read_capture(path), options=options_for(path)) for path in captures]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocppscope.proxy.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("captures", nargs="*", type=Path,
                        help="with --captures: the captures to check (default: the bundled ones)")
    parser.add_argument("--captures", dest="offline", action="store_true",
                        help="check recorded captures instead of running the live demo")
    parser.add_argument("--capture", type=Path, metavar="DIR", help="live demo: also write a capture into DIR")
    args = parser.parse_args(argv)
    if not args.offline and not args.captures:
        import asyncio

        from ocppscope.proxy.demo.live import run_live_demo

        asyncio.run(run_live_demo(sys.stdout, args.capture))
        print("\nThe same findings for recorded traffic: `python -m ocppscope.proxy.demo --captures`; "
              "in CI: `ocppscope check`.")
        return 0
    captures = args.captures or bundled_captures()
    if not captures:
        print("ocppscope demo: no captures found; record them with `python -m ocppscope.proxy.demo.record_captures`",
              file=sys.stderr)
        return 2
    print(INTRO)
    results = check_captures(captures)
    report_text.render(results, judge(results, None, None), sys.stdout, colour=sys.stdout.isatty())
    return 0


if __name__ == "__main__":
    sys.exit(main())

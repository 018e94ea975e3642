"""Regenerate the bundled captures: ``python -m ocppscope.proxy.demo.record_captures [NAME ...] [--out DIR]``.

Each scenario of :data:`proxy.demo.scenarios.SCENARIOS` runs with real ``ocpp`` peers through the
recording relay on loopback, and its events go to ``DIR/NAME.jsonl`` through the capture writer, redacted.
Ids and timestamps change on every run; the order of frames (and so every ``seq``) does not.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ocppscope.proxy.capture.writer import CaptureWriter
from ocppscope.proxy.demo.runner import record_scenario
from ocppscope.proxy.demo.scenarios import SCENARIOS, Scenario

CAPTURE_SUFFIX = ".jsonl"
BUNDLED_SALT = b"ocppscope bundled demo captures"
"""Redaction salt of the bundled captures. Fixed, so regenerating them gives the same markers for the same
secrets; those secrets are demo values printed in :mod:`proxy.demo.scenarios` anyway."""


def default_directory() -> Path:
    """``captures/`` of the source tree this module runs from, else of the current directory."""
    tree = Path(__file__).resolve().parents[2] / "captures"
    return tree if tree.is_dir() else Path("captures")


async def record_capture(scenario: Scenario, path: Path, *, salt: bytes = BUNDLED_SALT) -> int:
    """Record ``scenario`` into the capture ``path`` (replaced only once complete); return the event count."""
    events = await record_scenario(scenario)
    partial = path.with_name(path.name + ".partial")
    with CaptureWriter(partial, salt=salt) as writer:
        for event in events:
            writer.write(event)
    os.replace(partial, path)
    return len(events)


async def record_all(names: Sequence[str], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        started = time.monotonic()
        path = directory / f"{name}{CAPTURE_SUFFIX}"
        count = await record_capture(SCENARIOS[name], path)
        print(f"{path}: {count} events ({time.monotonic() - started:.1f} s)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocppscope.proxy.demo.record_captures", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"scenarios to record (default all: "
                        f"{', '.join(SCENARIOS)})")
    parser.add_argument("--out", type=Path, default=None, help="directory (default: the bundled captures/)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    # The peers log every deliberately broken frame with a traceback; that is the point, not news.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("ocppscope.demo.peers").setLevel(logging.CRITICAL)
    asyncio.run(record_all(args.names or list(SCENARIOS), args.out or default_directory()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

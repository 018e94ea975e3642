"""The long fuzz run (``make fuzz``): fuzzed traffic at scale through ``ocppscope check`` and the live proxy.

    .venv/bin/python -m tests.fuzz_run [--frames 100000] [--seed 1]

For each input format (ocppscope capture, Open OCPP Trace, plain log) it writes inputs of about 2,000 fuzzed
frames each (tests/fuzzing.py), reads each once to account for every line, and runs the real ``ocppscope
check`` on it in every report format; one input in 25 also carries a 10 MB frame and is checked in its own
process, to measure memory. Then a real websockets charger and backend talk through the real proxy: every
fuzzed frame must arrive byte for byte while the analysis side gets the junk. It prints the figures that
docs/check.md quotes and exits 1 if any of them is not zero.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from ocppscope.proxy.capture.format import implausible
from ocppscope.proxy.capture.report import ReadReport
from ocppscope.proxy.capture.sources import read_events
from ocppscope.proxy.cli import main
from ocppscope.proxy.core.events import Message

from tests import fuzzing

FRAMES_PER_INPUT = 2000
BIG_EVERY = 25
BIG_FRAME = 10 << 20
REPORT_FORMATS = ("text", "json", "junit")


@dataclass
class Figures:
    """What one input format (or the proxy) came through."""

    frames: int = 0
    runs: int = 0
    crashes: int = 0
    internal_errors: int = 0
    unparseable_reports: int = 0
    bad_lines_unnamed: int = 0
    absurd_taken: int = 0
    exit_codes: Counter[int] = field(default_factory=Counter)
    peak_rss_mib: float = 0.0
    problems: list[str] = field(default_factory=list)

    def failed(self) -> bool:
        return bool(self.crashes or self.internal_errors or self.unparseable_reports or self.bad_lines_unnamed
                    or self.absurd_taken)


def _big_frame() -> fuzzing.Frame:
    return fuzzing.Frame("cp", b'[2,"big","DataTransfer",{"vendorId":"x","data":"' + b"y" * BIG_FRAME + b'"}]', True)


def make_input(rnd: random.Random, input_format: str, big: bool) -> fuzzing.Written:
    sessions: list[list[fuzzing.Frame]] = []
    count = 0
    while count < FRAMES_PER_INPUT:
        session = fuzzing.fuzzed_session(rnd, rate=0.4)
        sessions.append(session)
        count += len(session)
    if big:
        sessions[-1].append(_big_frame())
    return fuzzing.WRITERS[input_format](sessions, rnd, 0.05)


def account(path: Path, input_format: str, written: fuzzing.Written, figures: Figures) -> None:
    """Read ``path`` once: every line must be an event, named as unusable, counted as skipped, or the cut last
    line; and no event may carry a time or sequence number that cannot be true."""
    report = ReadReport(str(path), on_warning=lambda _text: None)
    events = frames = 0
    try:
        for event in read_events(path, input_format, report=report):
            events += 1
            frames += type(event) is Message
            if implausible(event) is not None:
                figures.absurd_taken += 1
    except Exception as exc:  # an unusable input (exit 2) is fine here; check names it
        if type(exc).__name__ not in ("SourceError", "CaptureError"):
            figures.crashes += 1
            figures.problems.append(f"{path}: reading raised {exc!r}")
        return
    lines = [line for line in path.read_bytes().split(b"\n") if line.strip()]
    used = events if input_format == "capture" else frames  # traces and logs add synthetic opens
    header = 1 if input_format == "capture" else 0
    accounted = used + report.unusable + report.skipped + (report.truncated_line is not None) + header
    if accounted < len(lines):
        figures.bad_lines_unnamed += len(lines) - accounted
        figures.problems.append(f"{path}: {len(lines) - accounted} line(s) neither used nor named")


def check_in_process(path: Path, out: Path, figures: Figures) -> None:
    codes = set()
    for report_format in REPORT_FORMATS:
        out.unlink(missing_ok=True)
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                code = main(["check", "--format", report_format, "-o", str(out), str(path)])
        except BaseException as exc:  # counting them is the point
            figures.crashes += 1
            figures.problems.append(f"{path} ({report_format}): {exc!r}")
            continue
        codes.add(code)
        judge_report(path, report_format, code, out.read_bytes() if out.exists() else None, figures)
    if len(codes) > 1:
        figures.problems.append(f"{path}: exit codes differ between report formats: {sorted(codes)}")
        figures.unparseable_reports += 1


def judge_report(path: Path, report_format: str, code: int, data: bytes | None, figures: Figures) -> None:
    figures.runs += 1
    figures.exit_codes[code] += 1
    if code not in (0, 1, 2):
        figures.crashes += 1
        figures.problems.append(f"{path} ({report_format}): exit {code}")
        return
    if data is None:
        if code != 2:
            figures.unparseable_reports += 1
        return
    try:
        if report_format == "json":
            document = json.loads(data)
            figures.internal_errors += sum(result["internal_errors"] for result in document["inputs"])
        elif report_format == "junit":
            ET.fromstring(data)
        elif not data.decode("utf-8").rstrip().endswith("."):
            raise ValueError("no summary line")
    except ValueError as exc:
        figures.unparseable_reports += 1
        figures.problems.append(f"{path} ({report_format}): report does not parse: {exc}")


_MEASURED_CHECK = """\
import atexit, runpy, sys
def peak():
    with open("/proc/self/status") as status:
        kib = next((line.split()[1] for line in status if line.startswith("VmHWM")), "0")
    sys.stderr.write(f"\\npeak-rss-kib {kib}\\n")
atexit.register(peak)
sys.argv = ["ocppscope", *sys.argv[1:]]
runpy.run_module("proxy", run_name="__main__", alter_sys=True)
"""
"""``ocppscope`` that prints its own peak RSS when it exits. Linux's ``ru_maxrss`` of a child starts from its
parent's peak (kept across fork and exec), so RUSAGE_CHILDREN would report this harness's memory, not check's."""


def check_in_subprocess(path: Path, out: Path, figures: Figures) -> None:
    measured = Path("/proc/self/status").exists()
    command = [sys.executable, "-c", _MEASURED_CHECK] if measured else [sys.executable, "-m", "ocppscope"]
    for report_format in REPORT_FORMATS:
        out.unlink(missing_ok=True)
        done = subprocess.run([*command, "check", "--format", report_format, "-o", str(out), str(path)],
                              capture_output=True, timeout=600, check=False)
        judge_report(path, report_format, done.returncode, out.read_bytes() if out.exists() else None, figures)
        kib = done.stderr.rpartition(b"peak-rss-kib ")[2].split(b"\n")[0] if measured else b""
        peak = int(kib) / 1024 if kib.isdigit() else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        figures.peak_rss_mib = max(figures.peak_rss_mib, peak)


def run_format(input_format: str, frames: int, seed: int, directory: Path) -> Figures:
    figures = Figures()
    rnd = random.Random(f"{seed}-{input_format}")
    number = 0
    while figures.frames < frames:
        big = number % BIG_EVERY == BIG_EVERY - 1
        written = make_input(rnd, input_format, big)
        path = directory / f"fuzz-{number}{fuzzing.SUFFIX[input_format]}"
        path.write_bytes(written.data)
        figures.frames += written.frames
        account(path, input_format, written, figures)
        (check_in_subprocess if big else check_in_process)(path, directory / "report", figures)
        path.unlink()
        number += 1
    return figures


# -- the live proxy -------------------------------------------------------------------------------------

async def relay(frames: int, seed: int) -> Figures:
    """A charger and a backend exchange fuzzed frames through the proxy; both ends must get exactly what the
    other sent (text stays text, invalid UTF-8 goes as binary), and the analysis must not fail."""
    from ocppscope.proxy.engine import open_proxy

    from tests.engine_support import Backend, BackendConnection, connect_direct

    figures = Figures()
    rnd = random.Random(f"{seed}-proxy")
    to_backend: list[str | bytes] = []
    to_charger: list[str | bytes] = []
    while len(to_backend) + len(to_charger) < frames:
        for frame in fuzzing.fuzzed_session(rnd, rate=0.4):
            try:
                message: str | bytes = frame.content.decode("utf-8")
            except UnicodeDecodeError:
                message = frame.content  # WebSocket text must be UTF-8: a binary frame, as a broken peer sends
            (to_backend if frame.sender == "cp" else to_charger).append(message)
    to_backend.append(_big_frame().content.decode())
    sent_back = asyncio.Event()

    async def answer(conn: BackendConnection) -> None:
        for message in to_charger:
            await conn.ws.send(message)
        sent_back.set()
        async for message in conn.ws:
            conn.received.append(message)
            if len(conn.received) == len(to_backend):
                return

    async with (
        Backend(answer) as backend,
        open_proxy(backend.url(), keep_events=False) as proxy,
        connect_direct(proxy.url + "/ocpp/CP-FUZZ", subprotocols=["ocpp1.6"], max_size=None, ping_interval=None,
                       open_timeout=30) as charger,
    ):
        received: list[str | bytes] = []

        async def receive() -> None:
            while len(received) < len(to_charger):
                received.append(await charger.recv())

        receiving = asyncio.create_task(receive())
        for message in to_backend:
            await charger.send(message)
        await asyncio.wait_for(receiving, 600)
        await asyncio.wait_for(sent_back.wait(), 600)
        for _ in range(6000):
            if backend.connections and len(backend.connections[0].received) >= len(to_backend):
                break
            await asyncio.sleep(0.1)
    figures.frames = len(to_backend) + len(to_charger)
    figures.runs = 1
    got = backend.connections[0].received if backend.connections else []
    mismatched = sum(a != b or type(a) is not type(b) for a, b in zip(got, to_backend, strict=False))
    mismatched += sum(a != b or type(a) is not type(b) for a, b in zip(received, to_charger, strict=False))
    mismatched += abs(len(got) - len(to_backend)) + abs(len(received) - len(to_charger))
    if mismatched:
        figures.crashes += mismatched
        figures.problems.append(f"proxy: {mismatched} frame(s) not relayed byte for byte")
    figures.internal_errors = sum(finding.rule == "ocppscope.internal-error" for finding in proxy.findings)
    figures.peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def main_run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz_run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=100_000, help="fuzzed frames per input format and proxy")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default=",".join((*fuzzing.FORMATS, "proxy")),
                        help="comma-separated: which of capture, oot, plain, proxy to run (default all)")
    args = parser.parse_args(argv)
    chosen = set(args.only.split(","))
    logging.disable(logging.CRITICAL)  # thousands of named bad lines: the figures count them
    results: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory(prefix="ocppscope-fuzz-") as folder:
        for input_format in (f for f in fuzzing.FORMATS if f in chosen):
            start = time.monotonic()
            results[input_format] = run_format(input_format, args.frames, args.seed, Path(folder))
            print(f"{input_format}: done in {time.monotonic() - start:.0f} s", file=sys.stderr)
        if "proxy" in chosen:
            start = time.monotonic()
            os.environ["OCPPSCOPE_HOME"] = folder  # the proxy's CA and salt: never the user's own
            results["live proxy"] = asyncio.run(relay(args.frames, args.seed))
            print(f"live proxy: done in {time.monotonic() - start:.0f} s", file=sys.stderr)
    print(f"{'input':<12} {'frames':>8} {'runs':>5} {'crashes':>7} {'internal':>8} {'unparseable':>11} "
          f"{'unnamed':>7} {'absurd':>6} {'peak RSS':>9}  exit codes")
    for name, figures in results.items():
        codes = " ".join(f"{code}:{count}" for code, count in sorted(figures.exit_codes.items()))
        print(f"{name:<12} {figures.frames:>8} {figures.runs:>5} {figures.crashes:>7} {figures.internal_errors:>8} "
              f"{figures.unparseable_reports:>11} {figures.bad_lines_unnamed:>7} {figures.absurd_taken:>6} "
              f"{figures.peak_rss_mib:>5.0f} MiB  {codes}")
        for problem in figures.problems[:10]:
            print(f"  {problem}")
    return 1 if any(figures.failed() for figures in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main_run())

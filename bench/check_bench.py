"""``ocppscope check`` over a generated capture: throughput of the whole pipeline against bare ``json.loads``
and against the ``ocpp`` package's own validation of the same frames, and peak memory.

Targets (issue 2): ≥ 0.35× json.loads, ≥ 7× the ocpp package path, peak RSS ≤ 300 MB, for 1M frames.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.results import OUT
from bench.traffic import TRAFFIC_VERSION, events, frame_pairs


def _capture(frames: int) -> Path:
    from ocppscope.proxy.capture.writer import CaptureWriter

    path = OUT / f"check-{TRAFFIC_VERSION}-{frames}.jsonl"  # a new traffic version makes a new capture
    if path.exists():
        return path
    OUT.mkdir(exist_ok=True)
    partial = path.with_suffix(".partial")
    with CaptureWriter(partial, redact=False, salt=b"bench") as writer:
        for event in events(frames):
            writer.write(event)
    partial.rename(path)
    return path


def _json_loads_rate(frames: int) -> float:
    texts = [text for pair in frame_pairs(frames) for text in pair]
    start = time.perf_counter()
    for text in texts:
        json.loads(text)
    return len(texts) / (time.perf_counter() - start)


def _ocpp_package_rate(frames: int) -> float:
    """The ocpp package's path for the same frames: unpack, then validate against its bundled schemas."""
    from ocpp.messages import CallResult, _validate_payload, unpack

    pairs = list(frame_pairs(frames))
    start = time.perf_counter()
    for request, answer in pairs:
        call = unpack(request)
        _validate_payload(call, "1.6")
        result = unpack(answer)
        assert isinstance(result, CallResult)
        result.action = call.action
        _validate_payload(result, "1.6")
    return 2 * len(pairs) / (time.perf_counter() - start)


def _check_run(capture: Path) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit code of `ocppscope check` in its own process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "ocppscope", "check", "--fail-on", "never", "--format", "json", "-o", os.devnull,
         str(capture)],
        check=False,
    )
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024, proc.returncode


ROUNDS = 4


def main(quick: bool = False) -> int:
    frames = 100_000 if quick else 1_000_000
    print(f"check benchmark: {frames:,} frames (OCPP 1.6 charging mix over 100 chargers)")
    capture = _capture(frames)
    # Best of ROUNDS rounds, each measuring both baselines and the pipeline: on a shared machine the noise only
    # ever slows a run down, and it comes and goes over seconds (seen here: the same pipeline at 150k and 220k
    # frames/s in consecutive runs), so the best of rounds spread over time is the fairest figure for each side.
    # The baselines run on one core: each round puts them on the next, since the cores of a shared machine are not
    # always equally fast (seen here: json.loads at 255k frames/s on one and 366k on the other).
    loads = package = 0.0
    runs: list[tuple[float, float, int]] = []
    cores = sorted(os.sched_getaffinity(0))
    for round_ in range(ROUNDS):
        os.sched_setaffinity(0, {cores[round_ % len(cores)]})
        try:
            loads = max(loads, _json_loads_rate(min(frames, 200_000)))
            package = max(package, _ocpp_package_rate(min(frames, 20_000)))
        finally:
            os.sched_setaffinity(0, cores)
        runs.append(_check_run(capture))
        if runs[-1][2] != 0:
            print(f"  ocppscope check failed with exit code {runs[-1][2]}")
            return 1
    pipeline = frames / min(elapsed for elapsed, _, _ in runs)
    peak_mb = max(peak for _, peak, _ in runs)
    rows = [
        ("ocppscope check (read + decode + pair + validate + rules)", pipeline, ""),
        ("json.loads of the same frames (baseline)", loads, f"pipeline / json.loads = {pipeline / loads:.2f}x"
         " (target >= 0.35x)"),
        ("ocpp package unpack + validate (baseline)", package, f"pipeline / ocpp = {pipeline / package:.1f}x"
         " (target >= 7x)"),
    ]
    for name, rate, note in rows:
        print(f"  {name:<58} {rate:>10,.0f} frames/s  {note}")
    print(f"  peak RSS of a check process: {peak_mb:.0f} MB (target <= 300 MB); {os.cpu_count()} cores")
    targets = {"pipeline >= 0.35x json.loads": pipeline / loads >= 0.35, "pipeline >= 7x ocpp": pipeline / package >= 7,
               "peak RSS <= 300 MB": peak_mb <= 300}
    missed = [name for name, met in targets.items() if not met]
    print(f"  MISSES: {', '.join(missed)}" if missed else "  meets the targets")
    return 0

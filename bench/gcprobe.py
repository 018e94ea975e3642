"""The garbage collector's pauses in a benchmark process, with their wall-clock times, written to a file at exit.

The proxy benchmark's latencies are decided by stalls of a few processes sharing two cores: the relay, the
backend and the load generator each pause for their own collections. With every party's pauses timed on the
same clock, the orchestrator can say whose collections fell inside a measured window.

``BENCH_GC_DIR`` (set by the orchestrator) is where each process writes ``ROLE-PID.json``: a list of
``[wall time at the end, generation, milliseconds]``, for every full collection and every other one of 1 ms or
more. Without it nothing is recorded. ``python -m bench.gcprobe ROLE MODULE [ARGS...]`` runs ``python -m MODULE
ARGS...`` under the probe (how the benchmark runs ``ocppscope proxy``).
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import runpy
import sys
import time
from pathlib import Path
from typing import Any

ENV = "BENCH_GC_DIR"
_LONG_MS = 1.0


def install(role: str) -> None:
    """Record this process's collections until it exits (nothing unless ``BENCH_GC_DIR`` is set)."""
    directory = os.environ.get(ENV)
    if not directory:
        return
    pauses: list[tuple[float, int, float]] = []
    started = 0.0

    def callback(phase: str, info: dict[str, Any]) -> None:
        nonlocal started
        if phase == "start":
            started = time.perf_counter()
            return
        ms = (time.perf_counter() - started) * 1000
        if info["generation"] == 2 or ms >= _LONG_MS:
            pauses.append((time.time(), info["generation"], round(ms, 3)))

    def write() -> None:
        Path(directory, f"{role}-{os.getpid()}.json").write_text(json.dumps(pauses))

    gc.callbacks.append(callback)
    atexit.register(write)


def read(directory: Path, role: str, pid: int) -> list[tuple[float, int, float]]:
    path = directory / f"{role}-{pid}.json"
    return [tuple(p) for p in json.loads(path.read_text())] if path.exists() else []  # type: ignore[misc]


def within(pauses: list[tuple[float, int, float]], window: tuple[float, float]) -> dict[str, Any]:
    """The collections that overlap ``window`` (wall clock): full ones, and the longest of any kind."""
    inside = [p for p in pauses if p[0] >= window[0] and p[0] - p[2] / 1000 <= window[1]]
    full = [p[2] for p in inside if p[1] == 2]
    return {
        "full": len(full),
        "full_max_ms": max(full, default=0.0),
        "full_sum_ms": round(sum(full), 3),
        "max_ms": max((p[2] for p in inside), default=0.0),
    }


def main(argv: list[str]) -> None:
    role, module, *args = argv
    install(role)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])

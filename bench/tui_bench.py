"""The terminal UI under load: a million-frame capture, and a live proxy at 2000 frames/s.

Measured (every party its own process on 127.0.0.1; the UI runs headless, so it composes every screen update
but writes none to a terminal):

- 1M-frame capture: time to first paint, time until fully indexed, time until fully analysed, peak RSS of the
  UI process and of its analysis process; the UI's event-loop lag while it indexes.
- Live: relayed round trip p50/p99 at 100 chargers × 500 round trips/s with no UI (``ocppscope proxy -q``),
  and with the stream on and the UI attached; the UI's event-loop lag p99 at 2000 frames/s (1000 round
  trips/s), and the relay's p99 at that rate with and without the UI. The backend and the open-loop load
  generator are the proxy benchmark's (``bench.proxy_bench``). All of it shares the machine's two cores.

Targets (issue 5): first paint ≤ 1 s, indexed ≤ 10 s, peak RSS ≤ 500 MB; UI loop lag p99 ≤ 20 ms; relayed p99
≤ 10 ms with the UI attached. Run: ``python -m bench tui`` (``--quick``: 100k frames, shorter runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.results import save_results

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-0123456789"
TARGETS = {"first_paint_s": 1.0, "indexed_s": 10.0, "peak_rss_mb": 500.0, "ui_lag_p99_ms": 20.0,
           "relay_p99_ms": 10.0}


def _p(values: Sequence[float], q: float) -> float | None:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else None


class _LagProbe:
    """How late a 10 ms sleep wakes up on the UI's loop: what a key press would wait."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            self.lags.append(time.perf_counter() - start - 0.01)

    def stop(self) -> dict[str, float | None]:
        if self._task is not None:
            self._task.cancel()
        lags = self.lags
        return {"lag_p50_ms": _ms(_p(lags, 0.5)), "lag_p99_ms": _ms(_p(lags, 0.99)),
                "lag_max_ms": _ms(max(lags) if lags else None)}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


# -- roles, each run as `python -m bench.tui_bench ROLE ...` ---------------------------------------------------

async def _open_capture(path: str) -> dict[str, Any]:
    """Open a capture in the UI; when did the first rows paint, when was it indexed and analysed."""
    from ocppscope.tui.app import OcppscopeApp
    from ocppscope.tui.session import ReplaySession

    started = time.monotonic()
    session = ReplaySession([path])
    app = OcppscopeApp(session)
    result: dict[str, Any] = {}
    async with app.run_test(size=(160, 48)) as pilot:
        probe = _LagProbe()
        probe.start()
        while app.first_paint_at is None:
            await asyncio.sleep(0.002)
        result["first_paint_s"] = round(app.first_paint_at - started, 3)
        result["rows_at_first_paint"] = session.index.count
        while not session.loader.done:
            await asyncio.sleep(0.05)
        state = session.loader.state
        result["indexed_s"] = round((state.indexed_at or time.monotonic()) - started, 2)
        result["analysed_s"] = round((state.analysed_at or time.monotonic()) - started, 2)
        result.update({f"indexing_{k}": v for k, v in probe.stop().items()})
        result["rows"] = session.index.count
        result["findings"] = len(session.index.placed)
        app.frame_view.go_to_row(session.index.count // 2)
        await pilot.pause()
        result["error"] = state.error
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["analysis_process_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    return result


async def _watch(address: str, seconds: float) -> dict[str, Any]:
    """The UI attached to a proxy's stream for ``seconds``: its loop lag and what reached it."""
    from ocppscope.tui.app import OcppscopeApp
    from ocppscope.tui.live import LiveSession

    session = LiveSession(f"ws://{address}", TOKEN)
    app = OcppscopeApp(session)
    async with app.run_test(size=(160, 48)) as pilot:
        probe = _LagProbe()
        probe.start()
        print("READY", flush=True)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await pilot.pause(0.25)
        result = probe.stop()
        result["rows"] = session.index.count
        result["lost"] = session.client.lost
        result["tick_lag_p99_ms"] = _ms(_p(app.tick_lags, 0.99))
    return result


# -- orchestration ---------------------------------------------------------------------------------------------

async def _spawn(*args: str, env: dict[str, str] | None = None, stderr: int | None = asyncio.subprocess.DEVNULL,
                 stdout: int | None = asyncio.subprocess.PIPE) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *args, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=stdout, stderr=stderr,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


async def _line(process: asyncio.subprocess.Process, prefix: str, timeout: float = 300) -> str:
    assert process.stdout is not None
    while True:
        raw = await asyncio.wait_for(process.stdout.readline(), timeout)
        if not raw:
            raise RuntimeError(f"process ended before printing {prefix}")
        text = raw.decode().strip()
        if text.startswith(prefix):
            return text[len(prefix):].strip()


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _proxy(backend_port: int, work: Path, stream: bool) -> tuple[asyncio.subprocess.Process, int, str | None]:
    ready = work / f"stream-{time.monotonic_ns()}"
    extra = ["--stream", "127.0.0.1:0", "--stream-ready-file", str(ready)] if stream else []
    process = await _spawn(sys.executable, "-m", "ocppscope", "proxy", "--upstream", f"ws://127.0.0.1:{backend_port}",
                           "--listen", "127.0.0.1:0", "-q", *extra, stderr=asyncio.subprocess.PIPE,
                           stdout=asyncio.subprocess.DEVNULL,  # its findings: unread, they would fill the pipe
                           env={"OCPPSCOPE_HOME": str(work / "home"), "OCPPSCOPE_STREAM_TOKEN": TOKEN})
    assert process.stderr is not None
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 60)).decode()
        if not line:
            raise RuntimeError("ocppscope ended before it listened")
        if "listening on" in line:
            port = int(line.split("listening on ", 1)[1].split()[0].rsplit(":", 1)[1])
            break
    asyncio.get_running_loop().create_task(process.stderr.read())  # keep it drained
    address = None
    if stream:
        for _ in range(600):
            if ready.exists():
                address = ready.read_text().strip()
                break
            await asyncio.sleep(0.05)
    return process, port, address


async def _load(port: int, chargers: int, rate: float, seconds: float) -> dict[str, Any]:
    load = await _spawn(sys.executable, "-m", "bench.proxy_bench", "load", "open", f"ws://127.0.0.1:{port}",
                        str(chargers), str(rate), str(seconds))
    result = json.loads(await _line(load, "RESULT"))
    await load.wait()
    return result


async def _live_round(backend_port: int, work: Path, *, ui: bool, rate: float, seconds: float) -> dict[str, Any]:
    print(f"  live: {rate:g} round trips/s, {'UI attached' if ui else 'no UI'}", file=sys.stderr, flush=True)
    proxy, port, address = await _proxy(backend_port, work, stream=ui)
    watcher = None
    try:
        if ui:
            assert address is not None
            watcher = await _spawn(sys.executable, "-m", "bench.tui_bench", "watch", address, str(seconds + 4))
            await _line(watcher, "READY", timeout=60)
        result = {"relay": await _load(port, 100, rate, seconds)}
        if watcher is not None:
            result["ui"] = json.loads(await _line(watcher, "RESULT", timeout=60))
        return result
    finally:
        if watcher is not None:
            await _stop(watcher)
        await _stop(proxy)


async def _orchestrate(quick: bool) -> dict[str, Any]:
    from bench.check_bench import _capture

    frames = 100_000 if quick else 1_000_000
    seconds = 4.0 if quick else 10.0
    results: dict[str, Any] = {"frames": frames}
    capture = _capture(frames)
    print(f"  opening the {frames:,}-frame capture", file=sys.stderr, flush=True)
    opener = await _spawn(sys.executable, "-m", "bench.tui_bench", "open", str(capture))
    results["capture"] = json.loads(await _line(opener, "RESULT", timeout=600))
    await opener.wait()
    backend = await _spawn(sys.executable, "-m", "bench.proxy_bench", "backend")
    try:
        backend_port = int(await _line(backend, "PORT"))
        with tempfile.TemporaryDirectory(prefix="ocppscope-tui-bench-") as work:
            results["no_ui_500"] = await _live_round(backend_port, Path(work), ui=False, rate=500, seconds=seconds)
            results["ui_500"] = await _live_round(backend_port, Path(work), ui=True, rate=500, seconds=seconds)
            results["no_ui_2000fps"] = await _live_round(backend_port, Path(work), ui=False, rate=1000,
                                                         seconds=seconds)
            results["ui_2000fps"] = await _live_round(backend_port, Path(work), ui=True, rate=1000, seconds=seconds)
    finally:
        await _stop(backend)
    return results


def _report(results: dict[str, Any]) -> tuple[str, bool]:
    capture = results["capture"]
    peak = max(capture["peak_rss_mb"], capture["analysis_process_peak_rss_mb"])
    relay_off = results["no_ui_500"]["relay"]
    relay_on = results["ui_500"]["relay"]
    fast = results["ui_2000fps"]
    checks = {
        "first_paint_s": capture["first_paint_s"] <= TARGETS["first_paint_s"],
        "indexed_s": capture["indexed_s"] <= TARGETS["indexed_s"],
        "peak_rss_mb": peak <= TARGETS["peak_rss_mb"],
        "ui_lag_p99_ms": (fast["ui"]["lag_p99_ms"] or 0) <= TARGETS["ui_lag_p99_ms"],
        "relay_p99_ms": (relay_on["p99_ms"] or 1e9) <= TARGETS["relay_p99_ms"],
    }
    ratio = (relay_on["p99_ms"] or 0) / relay_off["p99_ms"] if relay_off["p99_ms"] else float("nan")
    lines = [
        f"tui benchmark: {results['frames']:,}-frame capture, live 100 chargers",
        f"  capture: first paint {capture['first_paint_s']:.2f} s ({capture['rows_at_first_paint']:,} rows indexed "
        f"by then; target <= 1 s), fully indexed {capture['indexed_s']:.1f} s (target <= 10 s), fully analysed "
        f"{capture['analysed_s']:.1f} s",
        f"           peak RSS UI {capture['peak_rss_mb']:.0f} MB, analysis process "
        f"{capture['analysis_process_peak_rss_mb']:.0f} MB (target <= 500 MB); UI loop lag while indexing p99 "
        f"{capture['indexing_lag_p99_ms']} ms",
        f"  relay at 500 RT/s: no UI p50/p99 {relay_off['p50_ms']:.1f}/{relay_off['p99_ms']:.1f} ms; UI attached "
        f"{relay_on['p50_ms']:.1f}/{relay_on['p99_ms']:.1f} ms (target p99 <= 10 ms; with/without = {ratio:.2f}x)",
        f"  UI at 500 RT/s: loop lag p99 {results['ui_500']['ui']['lag_p99_ms']} ms, "
        f"{results['ui_500']['ui']['rows']:,} rows, {results['ui_500']['ui']['lost']} lost",
        f"  UI at 2000 frames/s: loop lag p50/p99 {fast['ui']['lag_p50_ms']}/{fast['ui']['lag_p99_ms']} ms "
        f"(target p99 <= 20 ms), {fast['ui']['rows']:,} rows, {fast['ui']['lost']} lost; relay p99 "
        f"{fast['relay']['p99_ms']:.1f} ms (no UI at that rate: {results['no_ui_2000fps']['relay']['p99_ms']:.1f} ms)",
        "  " + ("meets the targets" if all(checks.values()) else
                "MISSES: " + ", ".join(name for name, ok in checks.items() if not ok)),
    ]
    return "\n".join(lines), all(checks.values())


def main(quick: bool = False) -> int:
    results = asyncio.run(_orchestrate(quick))
    text, _ok = _report(results)
    print(text)
    save_results("tui", results)
    return 0


def _role(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tui_bench")
    sub = parser.add_subparsers(dest="role")
    opener = sub.add_parser("open")
    opener.add_argument("path")
    watch = sub.add_parser("watch")
    watch.add_argument("address")
    watch.add_argument("seconds", type=float)
    if not argv or argv[0].startswith("-"):
        sys.exit(main(quick="--quick" in argv))
    args = parser.parse_args(argv)
    result = asyncio.run(_open_capture(args.path) if args.role == "open" else _watch(args.address, args.seconds))
    print("RESULT", json.dumps(result), flush=True)


if __name__ == "__main__":
    _role(sys.argv[1:])

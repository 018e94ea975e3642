"""Live relay benchmark: ocppscope against a direct connection and a bare mitmproxy Master, in one run.

Every party is its own process on 127.0.0.1: the backend (answers each CALL with its CALLRESULT), the proxy
under test, and the load generator. Measured, for each path (direct, bare Master without addons, ocppscope as
``ocppscope proxy --capture DIR -q`` runs it):

- round trips per second at saturation, 100 chargers in closed loop;
- p50/p99 latency, open loop (sends on a fixed schedule, latency counted from the scheduled time), at
  100 chargers × 500 round trips/s and 1000 chargers × 1000 round trips/s;
- memory per open connection (RSS with 1000 connections open minus before, / 1000);
- memory growth per frame over 100k frames (RSS after 20k frames and after 100k).

Targets (issue 3): capacity ≥ 0.9× bare, p99 ≤ 1.2× bare, ≤ 50 KB per connection, no growth per frame.
Run: ``python -m bench proxy`` (``--quick`` for a smoke run). Everything is bounded in count and time.
``python -m bench.proxy_bench [--only LOAD,...] [--paths PATH,...] [--rounds N]`` runs a selection (loads:
memory, saturation, open_100x500, open_1000x1000; paths: direct, bare, ocppscope, and ocppscope-gc-off for
ocppscope without its relay's garbage-collection policy) and saves it apart.

Every open-loop figure comes with the garbage collections of the relay, the backend and the load generator
that overlapped its measured window (``relay_full_gcs``, ``relay_full_gc_max_ms``, ...; see bench/gcprobe.py):
on two shared cores they say whose stall a p99 was.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import gcprobe
from bench.results import save_results
from bench.traffic import frame_pairs

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("direct", "bare", "ocppscope")
EXTRA_KINDS = {"ocppscope-gc-off": {"OCPPSCOPE_RELAY_GC": "off"}}
"""Paths only run when named with --paths: ocppscope with its relay's GC policy off (proxy/engine/relaygc.py)."""
LOADS = ("memory", "saturation", "open_100x500", "open_1000x1000")
PARTIES = ("relay", "backend", "load")
TARGETS = {"capacity": 0.9, "p99": 1.2, "per_connection": 50 * 1024}
_HANDSHAKES_AT_ONCE = 50


def _mix() -> tuple[list[str], dict[str, str]]:
    """Request templates with an ``{id}`` hole, and the answer template for each."""
    requests, answers = [], {}
    for request, answer in frame_pairs(16):
        msg_id = json.loads(request)[1]
        template = request.decode().replace(msg_id, "{id}")
        requests.append(template)
        answers[template] = answer.decode().replace(msg_id, "{id}")
    return requests, answers


# -- the parties (each runs as `python -m bench.proxy_bench ROLE ...`) -----------------------------------------

async def _backend() -> None:
    from websockets.asyncio.server import serve

    _, answers = _mix()

    async def handler(ws: Any) -> None:
        async for message in ws:
            msg_id = json.loads(message)[1]
            await ws.send(answers[message.replace(msg_id, "{id}", 1)].replace("{id}", msg_id, 1))

    async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"], compression=None, ping_interval=None,
                     max_queue=None) as server:
        print("PORT", server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


async def _bare(upstream_port: int, confdir: str) -> None:
    from mitmproxy import options
    from mitmproxy.addons import core, next_layer, proxyserver, tlsconfig
    from mitmproxy.master import Master

    opts = options.Options()
    master = Master(opts)
    master.addons.add(core.Core(), proxyserver.Proxyserver(), next_layer.NextLayer(), tlsconfig.TlsConfig())
    opts.update(confdir=confdir, connection_strategy="lazy",
                mode=[f"reverse:http://127.0.0.1:{upstream_port}@127.0.0.1:0"])
    task = asyncio.create_task(master.run())
    while True:
        servers = list(master.addons.get("proxyserver").servers)
        if servers and servers[0].is_running:
            break
        await asyncio.sleep(0.05)
    print("PORT", servers[0].listen_addrs[0][1], flush=True)
    await task


@asynccontextmanager
async def _chargers(url: str, count: int) -> AsyncIterator[list[Any]]:
    from websockets.asyncio.client import connect

    limit = asyncio.Semaphore(_HANDSHAKES_AT_ONCE)

    async def one(n: int) -> Any:
        async with limit:
            return await connect(f"{url}/CP{n:05d}", subprotocols=["ocpp1.6"], compression=None,
                                 ping_interval=None, proxy=None, open_timeout=60, max_queue=None)

    connections = await asyncio.gather(*(one(n) for n in range(count)))
    try:
        yield connections
    finally:
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)


async def _saturate(url: str, chargers: int, seconds: float) -> dict[str, Any]:
    requests, _ = _mix()
    async with _chargers(url, chargers) as connections:
        deadline = time.perf_counter() + seconds
        counts = [0] * chargers

        async def loop(n: int, ws: Any) -> None:
            while time.perf_counter() < deadline:
                await ws.send(requests[counts[n] % len(requests)].replace("{id}", f"{n}-{counts[n]}"))
                await ws.recv()
                counts[n] += 1

        start = time.perf_counter()
        await asyncio.gather(*(loop(n, ws) for n, ws in enumerate(connections)))
        elapsed = time.perf_counter() - start
    return {"round_trips": sum(counts), "seconds": elapsed, "rate": sum(counts) / elapsed}


async def _open_loop(url: str, chargers: int, rate: float, seconds: float, warmup: float) -> dict[str, Any]:
    requests, _ = _mix()
    interval = chargers / rate
    latencies: list[float] = []
    sent = answered = 0
    connecting = time.time()
    async with _chargers(url, chargers) as connections:
        start = time.perf_counter() + 0.2
        end = start + warmup + seconds
        to_wall = time.time() - time.perf_counter()
        connected = time.time()

        async def charger(n: int, ws: Any) -> None:
            nonlocal sent, answered
            scheduled: dict[str, float] = {}
            offset = start + (n / chargers) * interval

            async def receive() -> None:
                nonlocal answered
                async for message in ws:
                    msg_id = message[4:message.index('"', 4)]
                    at = scheduled.pop(msg_id)
                    answered += 1
                    if at >= start + warmup:
                        latencies.append(time.perf_counter() - at)
                    if not scheduled and time.perf_counter() >= end:
                        return

            receiver = asyncio.create_task(receive())
            k = 0
            while (at := offset + k * interval) < end:
                delay = at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                msg_id = f"{n}-{k}"
                scheduled[msg_id] = at
                await ws.send(requests[k % len(requests)].replace("{id}", msg_id))
                sent += 1
                k += 1
            try:
                await asyncio.wait_for(receiver, 10)
            except TimeoutError:
                receiver.cancel()

        await asyncio.gather(*(charger(n, ws) for n, ws in enumerate(connections)))
    latencies.sort()
    return {
        "sent": sent, "answered": answered, "measured": len(latencies),
        "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else None,
        "max_ms": 1000 * latencies[-1] if latencies else None,
        "window": [to_wall + start + warmup, to_wall + end],
        "burst": [connecting, connected],
    }


async def _hold(url: str, chargers: int) -> None:
    """Open ``chargers`` connections with one exchange each, say READY, wait for a line, close."""
    requests, _ = _mix()
    async with _chargers(url, chargers) as connections:
        for n, ws in enumerate(connections):
            await ws.send(requests[0].replace("{id}", f"{n}-0"))
            await ws.recv()
        print("READY", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def _frames(url: str, chargers: int, total: int, every: int) -> None:
    """Send ``total`` frames (half CALLs, half answers); after each ``every`` say FRAMES n and wait for a line."""
    requests, _ = _mix()
    async with _chargers(url, chargers) as connections:
        done = 0
        while done < total:
            async def burst(n: int, ws: Any, count: int, base: int) -> None:
                for k in range(count):
                    await ws.send(requests[k % len(requests)].replace("{id}", f"{n}-{base + k}"))
                    await ws.recv()

            per = every // 2 // chargers
            await asyncio.gather(*(burst(n, ws, per, done) for n, ws in enumerate(connections)))
            done += per * chargers * 2
            print("FRAMES", done, flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


# -- the orchestrator ------------------------------------------------------------------------------------------

def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


@dataclass
class _Process:
    process: asyncio.subprocess.Process
    drain: asyncio.Task[bytes] | None = None

    async def line(self, prefix: str, timeout: float = 120) -> str:
        assert self.process.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.process.stdout.readline(), timeout)
            if not raw:
                raise RuntimeError(f"process ended before printing {prefix}")
            text = raw.decode().strip()
            if text.startswith(prefix):
                return text[len(prefix):].strip()

    async def send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode() + b"\n")
        await self.process.stdin.drain()

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def _spawn(*args: str) -> _Process:
    process = await asyncio.create_subprocess_exec(
        *args, cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return _Process(process)


def _me(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.proxy_bench", *args]


async def _run_load(*args: str) -> dict[str, Any]:
    load = await _spawn(*_me("load", *args))
    result = json.loads(await load.line("RESULT", timeout=300))
    await load.process.wait()
    result["pids"] = {"load": load.process.pid}
    return result


async def _start_proxy(kind: str, backend_port: int, work: Path) -> tuple[_Process | None, int]:
    if kind == "direct":
        return None, backend_port
    if kind == "bare":
        proxy = await _spawn(*_me("bare", str(backend_port), str(work / "bare-conf")))
        return proxy, int(await proxy.line("PORT"))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.gcprobe", "relay", "proxy", "proxy", "--upstream", f"ws://127.0.0.1:{backend_port}",
        "--listen", "127.0.0.1:0", "--capture", str(work / "captures"), "-q",
        cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OCPPSCOPE_HOME": str(work / "home"), **EXTRA_KINDS.get(kind, {})},
    )
    assert process.stderr is not None
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 60)).decode()
        if not line:
            raise RuntimeError("ocppscope ended before it listened")
        if "listening on" in line:
            port = int(line.split("listening on ", 1)[1].split()[0].rsplit(":", 1)[1])
            break
    return _Process(process, asyncio.create_task(process.stderr.read())), port  # keep stderr drained


async def _memory_per_connection(proxy: _Process, url: str, connections: int) -> float:
    pid = proxy.process.pid
    warm = await _spawn(*_me("hold", url, "10"))
    await warm.line("READY")
    await warm.send("")
    await warm.process.wait()
    before = _rss(pid)
    hold = await _spawn(*_me("hold", url, str(connections)))
    await hold.line("READY", timeout=300)
    with_connections = _rss(pid)
    await hold.send("")
    await hold.process.wait()
    return (with_connections - before) / connections


async def _memory_per_frame(proxy: _Process, url: str, frames: int) -> dict[str, Any]:
    """RSS after each fifth of ``frames``; the growth counted from the first sample (after the warm-up)."""
    feeder = await _spawn(*_me("frames", url, "10", str(frames), str(frames // 5)))
    samples = []
    while True:
        done = int(await feeder.line("FRAMES", timeout=300))
        samples.append((done, _rss(proxy.process.pid)))
        await feeder.send("")
        if done >= frames:
            break
    await feeder.process.wait()
    (first_frames, first_rss), (last_frames, last_rss) = samples[0], samples[-1]
    return {"rss_samples": samples, "growth_per_frame": (last_rss - first_rss) / (last_frames - first_frames)}


def _cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of ``pids`` so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


async def _round(kind: str, backend_port: int, work: Path, scale: float, seconds: float,
                 loads: Sequence[str] = LOADS) -> dict[str, Any]:
    """One fresh proxy of ``kind`` through the loads, with the CPU its processes spent per round trip."""
    proxy, port = await _start_proxy(kind, backend_port, work)
    url = f"ws://127.0.0.1:{port}"
    results: dict[str, Any] = {}
    try:
        if "saturation" in loads:
            relay = [proxy.process.pid] if proxy is not None else []
            analysis = [pid for pid in relay for pid in _children(pid)]
            cpu_before = (_cpu_seconds(relay), _cpu_seconds(analysis))
            saturation = await _run_load("saturate", url, str(max(1, int(100 * scale))), str(seconds))
            cpu_after = (_cpu_seconds(relay), _cpu_seconds(analysis))
            saturation["relay_us_per_rt"] = 1e6 * (cpu_after[0] - cpu_before[0]) / saturation["round_trips"]
            saturation["analysis_us_per_rt"] = 1e6 * (cpu_after[1] - cpu_before[1]) / saturation["round_trips"]
            results["saturation"] = saturation
        if "open_100x500" in loads:
            results["open_100x500"] = await _run_load("open", url, str(int(100 * scale)), str(500 * scale),
                                                      str(seconds))
        if "open_1000x1000" in loads:
            results["open_1000x1000"] = await _run_load("open", url, str(int(1000 * scale)), str(1000 * scale),
                                                        str(seconds))
    finally:
        if proxy is not None:
            await proxy.stop()
    for result in results.values():
        result.setdefault("pids", {})["relay"] = proxy.process.pid if proxy is not None else None
    return results


def _attribute_collections(results: dict[str, Any], work: Path, backend_pid: int) -> None:
    """Add to every open-loop figure the collections of each party that overlapped its measured window."""
    backend = gcprobe.read(work, "backend", backend_pid)
    for entry in results.values():
        for round_ in entry["rounds"]:
            for result in round_.values():
                pids = result.pop("pids", {})
                window = result.pop("window", None)
                burst = result.pop("burst", None)
                if window is None:
                    continue
                for party in PARTIES:
                    pid = backend_pid if party == "backend" else pids.get(party)
                    pauses = backend if party == "backend" else gcprobe.read(work, party, pid) if pid else []
                    seen = gcprobe.within(pauses, tuple(window))  # type: ignore[arg-type]
                    result[f"{party}_full_gcs"] = seen["full"]
                    result[f"{party}_full_gc_max_ms"] = seen["full_max_ms"]
                    result[f"{party}_gc_max_ms"] = seen["max_ms"]
                    if party == "relay":  # and over the relay's whole life (its start and the connection bursts)
                        whole = gcprobe.within(pauses, (0.0, float("inf")))
                        result["relay_life_full_gcs"] = whole["full"]
                        result["relay_life_full_gc_max_ms"] = whole["full_max_ms"]
                        # While the chargers connected: what relayed traffic would feel when chargers (re)connect.
                        connecting = gcprobe.within(pauses, tuple(burst))  # type: ignore[arg-type]
                        result["relay_burst_full_gcs"] = connecting["full"]
                        result["relay_burst_gc_max_ms"] = connecting["max_ms"]


async def _orchestrate(quick: bool, loads: Sequence[str] = LOADS, kinds: Sequence[str] = KINDS,
                       rounds: int | None = None) -> dict[str, Any]:
    """Memory on fresh processes, then rounds with the paths in rotating order (the machine is shared:
    interleaving spreads its noise over all of them), each figure the median of its rounds. About 10 minutes."""
    scale = 0.25 if quick else 1.0
    seconds = 2.0 if quick else 5.0
    rounds = rounds or (1 if quick else 5)
    results: dict[str, Any] = {kind: {"rounds": []} for kind in kinds}
    with tempfile.TemporaryDirectory(prefix="ocppscope-bench-") as tmp:
        work = Path(tmp)
        os.environ[gcprobe.ENV] = str(work)  # every party records its collections there (bench/gcprobe.py)
        backend = await _spawn(*_me("backend"))
        backend_port = int(await backend.line("PORT"))
        try:
            for kind in [k for k in kinds if k != "direct" and "memory" in loads]:
                # Each measure on a fresh process: memory freed by one would hide the growth of the other.
                memory: dict[str, Any] = {}
                proxy, port = await _start_proxy(kind, backend_port, work)
                try:
                    memory["per_connection"] = await _memory_per_connection(
                        proxy, f"ws://127.0.0.1:{port}", int(1000 * scale))  # type: ignore[arg-type]
                finally:
                    await proxy.stop()  # type: ignore[union-attr]
                proxy, port = await _start_proxy(kind, backend_port, work)
                try:
                    memory |= await _memory_per_frame(proxy, f"ws://127.0.0.1:{port}",  # type: ignore[arg-type]
                                                      int(100_000 * scale))
                finally:
                    await proxy.stop()  # type: ignore[union-attr]
                results[kind]["memory"] = memory
            for n in range(rounds):
                turn = n % len(kinds)
                for kind in [*kinds[turn:], *kinds[:turn]]:
                    results[kind]["rounds"].append(await _round(kind, backend_port, work, scale, seconds, loads))
        finally:
            await backend.stop()
            os.environ.pop(gcprobe.ENV, None)
        _attribute_collections(results, work, backend.process.pid)
    for entry in results.values():
        entry.update(_medians(entry["rounds"]))
    return results


def _medians(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    if not rounds:
        return merged
    for load in rounds[0]:
        merged[load] = {key: statistics.median(r[load][key] for r in rounds)
                        for key, value in rounds[0][load].items() if isinstance(value, int | float)}
    return merged


def _report(results: dict[str, Any]) -> tuple[str, bool]:
    rows = ["path        RT/s@100  relay CPU/RT  p50/p99 100x500 (ms)  p50/p99 1000x1000 (ms)  KB/conn  B/frame"]
    for kind, entry in results.items():
        memory = entry.get("memory")
        cpu = entry["saturation"]
        relay = f"{cpu['relay_us_per_rt']:.0f}+{cpu['analysis_us_per_rt']:.0f} µs" if kind != "direct" else "-"
        rows.append(
            f"{kind:<11} {entry['saturation']['rate']:>8.0f}  {relay:>12}  "
            f"{entry['open_100x500']['p50_ms']:>8.2f} / {entry['open_100x500']['p99_ms']:<8.2f}  "
            f"{entry['open_1000x1000']['p50_ms']:>10.2f} / {entry['open_1000x1000']['p99_ms']:<10.2f}  "
            + (f"{memory['per_connection'] / 1024:>7.1f}  {memory['growth_per_frame']:>7.1f}" if memory
               else "      -        -")
        )
    ours, bare = results["ocppscope"], results["bare"]
    capacity = ours["saturation"]["rate"] / bare["saturation"]["rate"]
    p99_low = ours["open_100x500"]["p99_ms"] / bare["open_100x500"]["p99_ms"]
    p99_high = ours["open_1000x1000"]["p99_ms"] / bare["open_1000x1000"]["p99_ms"]
    per_connection = ours["memory"]["per_connection"]
    growth = ours["memory"]["growth_per_frame"]
    relay_cpu = ours["saturation"]["relay_us_per_rt"] / bare["saturation"]["relay_us_per_rt"]
    checks = [
        (f"capacity {capacity:.2f}× bare (≥ {TARGETS['capacity']})", capacity >= TARGETS["capacity"]),
        (f"relay CPU per round trip {relay_cpu:.2f}× bare (analysis runs in its own process: "
         f"{ours['saturation']['analysis_us_per_rt']:.0f} µs per round trip there)", True),
        (f"p99 100x500 {p99_low:.2f}× bare (≤ {TARGETS['p99']})", p99_low <= TARGETS["p99"]),
        (f"p99 1000x1000 {p99_high:.2f}× bare (≤ {TARGETS['p99']})", p99_high <= TARGETS["p99"]),
        (f"{per_connection / 1024:.1f} KB per connection (≤ 50)", per_connection <= TARGETS["per_connection"]),
        (f"{growth:.1f} B growth per frame over the last 80% of the frames (≈ 0)", growth < 16),
        (f"direct {results['direct']['saturation']['rate']:.0f} RT/s; ocppscope "
         f"{ours['saturation']['rate'] / results['direct']['saturation']['rate']:.2f}× direct", True),
    ]
    rows.append("")
    rows += [f"{'ok  ' if ok else 'MISS'} {text}" for text, ok in checks]
    return "\n".join(rows), all(ok for _, ok in checks)


def _gc_max(result: dict[str, Any], party: str) -> str:
    return f"{result[party + '_full_gc_max_ms']:.0f}"


def _report_selected(results: dict[str, Any]) -> str:
    """A selection's figures: per path and load, the medians, the spread of p99 and whose collections it saw."""
    rows = []
    for kind, entry in results.items():
        for load in (name for name in LOADS if name in entry):
            figures = entry[load]
            if load == "saturation":
                rows.append(f"{kind:<16} {load:<15} {figures['rate']:.0f} RT/s")
                continue
            # Each round: its p99, and the longest full collection of the relay / backend / load generator that
            # overlapped its measured window.
            per_round = "  ".join(
                f"{r[load]['p99_ms']:.1f} ({'/'.join(_gc_max(r[load], party) for party in PARTIES)})"
                for r in entry["rounds"])
            rows.append(f"{kind:<16} {load:<15} p50 {figures['p50_ms']:.2f}  p99 {figures['p99_ms']:.2f} ms  "
                        f"rounds: {per_round}  relay, medians: {figures['relay_burst_full_gcs']:g} full collections "
                        "while the chargers connected, longest pause then "
                        f"{figures['relay_burst_gc_max_ms']:.0f} ms; over its life {figures['relay_life_full_gcs']:g}, "
                        f"longest {figures['relay_life_full_gc_max_ms']:.0f} ms")
    for kind in (k for k in results if k.startswith("ocppscope") and "bare" in results):
        for load in (name for name in LOADS[2:] if name in results["bare"]):
            ratio = results[kind][load]["p99_ms"] / results["bare"][load]["p99_ms"]
            rows.append(f"p99 {load} {kind} / bare: {ratio:.2f} (target ≤ {TARGETS['p99']})")
    rows.append("(per round: p99 ms (longest full collection in its window, ms: relay/backend/load generator))")
    return "\n".join(rows)


def main(quick: bool = False, loads: Sequence[str] = LOADS, kinds: Sequence[str] = KINDS,
         rounds: int | None = None) -> int:
    selected = tuple(loads) != LOADS or tuple(kinds) != KINDS
    print(f"proxy benchmark ({'quick' if quick else 'full'}): {', '.join(kinds)}"
          f"{'; ' + ', '.join(loads) if selected else ''}; separate processes on 127.0.0.1", flush=True)
    results = asyncio.run(_orchestrate(quick, loads, kinds, rounds))
    if selected:
        print(_report_selected(results))
        save_results("proxy-selected", results)  # never in place of a full run's figures
        return 0
    text, _ = _report(results)
    print(text)
    save_results("proxy", results)
    return 0


def _selection(argv: Sequence[str]) -> argparse.Namespace:
    def names(allowed: Sequence[str]) -> Any:
        def parse(text: str) -> list[str]:
            chosen = [name.strip() for name in text.split(",") if name.strip()]
            unknown = [name for name in chosen if name not in allowed]
            if unknown or not chosen:
                raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}")
            return [name for name in allowed if name in chosen]  # in the benchmark's own order
        return parse

    parser = argparse.ArgumentParser(prog="python -m bench.proxy_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--only", type=names(LOADS), default=list(LOADS), metavar="LOAD,...",
                        help=f"only these loads ({', '.join(LOADS)})")
    paths = (*KINDS, *EXTRA_KINDS)
    parser.add_argument("--paths", type=names(paths), default=list(KINDS), metavar="PATH,...",
                        help=f"only these paths ({', '.join(paths)})")
    parser.add_argument("--rounds", type=int, metavar="N", help="rounds per path (default 5, 1 with --quick)")
    return parser.parse_args(argv)


def _role(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.proxy_bench")
    sub = parser.add_subparsers(dest="role")
    sub.add_parser("backend")
    bare = sub.add_parser("bare")
    bare.add_argument("upstream_port", type=int)
    bare.add_argument("confdir")
    load = sub.add_parser("load")
    load.add_argument("scenario", choices=("saturate", "open"))
    load.add_argument("url")
    load.add_argument("chargers", type=int)
    load.add_argument("rate_or_seconds", type=float)
    load.add_argument("seconds", type=float, nargs="?")
    hold = sub.add_parser("hold")
    hold.add_argument("url")
    hold.add_argument("chargers", type=int)
    frames = sub.add_parser("frames")
    frames.add_argument("url")
    frames.add_argument("chargers", type=int)
    frames.add_argument("total", type=int)
    frames.add_argument("every", type=int)
    if not argv or argv[0].startswith("-"):
        selection = _selection(argv)
        sys.exit(main(selection.quick, selection.only, selection.paths, selection.rounds))
    args = parser.parse_args(argv)
    if args.role in ("backend", "bare", "load"):
        gcprobe.install("relay" if args.role == "bare" else args.role)
    if args.role == "backend":
        asyncio.run(_backend())
    elif args.role == "bare":
        asyncio.run(_bare(args.upstream_port, args.confdir))
    elif args.role == "load":
        if args.scenario == "saturate":
            result = asyncio.run(_saturate(args.url, args.chargers, args.rate_or_seconds))
        else:
            result = asyncio.run(_open_loop(args.url, args.chargers, args.rate_or_seconds, args.seconds, 1.0))
        print("RESULT", json.dumps(result), flush=True)
    elif args.role == "hold":
        asyncio.run(_hold(args.url, args.chargers))
    else:
        asyncio.run(_frames(args.url, args.chargers, args.total, args.every))


if __name__ == "__main__":
    _role(sys.argv[1:])

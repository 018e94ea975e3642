"""The analysis process: reads the relay's event stream on stdin and runs the hub (analyzer, capture, console).

Started by :class:`~proxy.engine.engine.ProxyEngine` when ``EngineConfig.analysis`` is set (the CLI does).
It runs at a lower priority than the relay, and ignores Ctrl-C and SIGTERM, which reach the whole process
group: the relay closes its connections first and then closes the stream, and the end of the stream is when
the summary is printed and the captures closed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import select
import signal
import sys
import time

from ocppscope.proxy.engine.lograte import limit_repeats
from ocppscope.proxy.engine.stream import WorkerSpec, decode_batches, read_frame

TICK = 1.0


def run(fd: int) -> int:
    from ocppscope.addons.capture import OcppCapture
    from ocppscope.addons.console import OcppConsole
    from ocppscope.proxy.engine.hub import Hub

    spec_frame = read_frame(lambda n: os.read(fd, n))
    if spec_frame is None:
        return 0  # the relay never started
    spec: WorkerSpec = pickle.loads(spec_frame)
    hub = Hub(spec.checkers(), spec.analyzer)
    hub.subscribe(OcppConsole(mode=spec.console))
    if spec.capture_dir is not None:
        hub.subscribe(OcppCapture(spec.capture_dir, split=spec.capture_split, max_size=spec.capture_max_size,
                                  redact=spec.capture_redact))
    if spec.stream is not None:
        from ocppscope.proxy.stream.worker import serve

        serve(hub, spec.stream)  # the live view's stream, served from here so the relay never waits for a UI
    next_tick = time.monotonic() + TICK

    def read(size: int) -> bytes:
        # Blocks for input, but lets the clock run: call timeouts are noticed on an idle line too.
        nonlocal next_tick
        while True:
            wait = max(0.0, next_tick - time.monotonic())
            ready, _, _ = select.select([fd], [], [], wait)
            if time.monotonic() >= next_tick:
                hub.tick(time.time())
                next_tick = time.monotonic() + TICK
            if ready:
                return os.read(fd, size)

    for kind, item in decode_batches(read):
        if kind == "event":
            hub.publish(item)
        else:
            hub.warn(item)
    hub.finish()
    return 0


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # On a busy machine the relay goes first: its latency is what the charger and the backend feel.
    with contextlib.suppress(OSError, AttributeError):
        os.nice(10)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    limit_repeats()
    try:
        return run(sys.stdin.buffer.fileno())
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())

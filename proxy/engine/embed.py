"""The proxy as a library: start it on loopback, point peers at it, watch what it saw.

::

    async with open_proxy("ws://127.0.0.1:9000/ocpp") as proxy:
        charger_url = proxy.url + "/CP01"        # ws://127.0.0.1:<port>/CP01 → ws://127.0.0.1:9000/ocpp/CP01
        ...                                      # run the peers
    proxy.findings                               # every finding, after the clean shutdown

``on_inspection(event, inspection)`` is called on the event loop for every event in relay order;
``proxy.stream()`` is the same as an async iterator.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from ocppscope.proxy.core.analyzer import AnalyzerOptions, Inspection
from ocppscope.proxy.core.events import Event
from ocppscope.proxy.core.findings import Finding
from ocppscope.proxy.engine.engine import EngineConfig, ProxyEngine
from ocppscope.proxy.engine.hub import Listener, Summary
from ocppscope.proxy.engine.routes import Route

Observation = tuple[Event | None, Inspection | None, Sequence[Finding]]
"""(event, inspection, its findings); event and inspection are None for findings the clock or the end caused."""


class RunningProxy(Listener):
    """What :func:`open_proxy` yields: addresses, the engine, and everything it observed."""

    name = "embedder"

    def __init__(self, engine: ProxyEngine, on_inspection: Callable[[Event, Inspection | None], None] | None,
                 keep: bool) -> None:
        self.engine = engine
        self.findings: list[Finding] = []
        self.events: list[Event] = []
        self.summary: Summary | None = None
        self._keep = keep
        self._on_inspection = on_inspection
        self._queues: list[asyncio.Queue[Observation | None]] = []

    @property
    def url(self) -> str:
        """ws://HOST:PORT of the first listener; append the charger's path."""
        return self.engine.listening[0].url

    @property
    def address(self) -> tuple[str, int]:
        first = self.engine.listening[0]
        return first.host, first.port

    def stream(self) -> AsyncIterator[Observation]:
        """Observations from now on, ending when the proxy stops."""
        queue: asyncio.Queue[Observation | None] = asyncio.Queue()
        self._queues.append(queue)

        async def iterate() -> AsyncIterator[Observation]:
            while (item := await queue.get()) is not None:
                yield item

        return iterate()

    def on_inspection(self, event: Event, inspection: Inspection | None) -> None:
        found = inspection.findings if inspection is not None else []
        if self._keep:
            self.events.append(event)
        self.findings.extend(found)
        if self._on_inspection is not None:
            self._on_inspection(event, inspection)
        for queue in self._queues:
            queue.put_nowait((event, inspection, found))

    def on_findings(self, found: Sequence[Finding]) -> None:
        self.findings.extend(found)
        for queue in self._queues:
            queue.put_nowait((None, None, found))

    def on_close(self, summary: Summary) -> None:
        self.summary = summary
        for queue in self._queues:
            queue.put_nowait(None)


@asynccontextmanager
async def open_proxy(
    upstream: str,
    *,
    listen: str = "127.0.0.1:0",
    rewrites: Sequence[str] = (),
    on_inspection: Callable[[Event, Inspection | None], None] | None = None,
    keep_events: bool = True,
    analyzer: AnalyzerOptions | None = None,
    addons: Sequence[object] = (),
    listeners: Sequence[Listener] = (),
    **config: Any,
) -> AsyncIterator[RunningProxy]:
    """Run ocppscope between ``upstream`` and a loopback listener (port chosen by the OS) for the block."""
    from ocppscope.proxy.engine.routes import Rewrite

    route = Route.parse(listen, upstream, tuple(Rewrite.parse(r) for r in rewrites))
    engine = ProxyEngine(
        EngineConfig(routes=[route], analyzer=analyzer or AnalyzerOptions(), **config), addons=addons,
        listeners=listeners,
    )
    running = RunningProxy(engine, on_inspection, keep_events)
    engine.subscribe(running)
    await engine.start()
    try:
        yield running
    finally:
        await engine.stop()

"""Running mitmproxy programmatically as the OCPP relay.

A bare :class:`mitmproxy.master.Master` with only the addons a reverse proxy needs (core, proxyserver,
next_layer, tlsconfig) plus ours: DumpMaster would halve the throughput and ``sys.exit`` on a busy port.
mitmproxy keeps its master in process-global state, so there is one engine per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ocppscope.proxy.core.analyzer import AnalyzerOptions, Checker
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.engine import ca
from ocppscope.proxy.engine.hub import Hub, Listener, Publisher
from ocppscope.proxy.engine.relaygc import GcPolicy, RelayGc
from ocppscope.proxy.engine.routes import Route
from ocppscope.proxy.engine.stream import EventStream, WorkerSpec, frame
from ocppscope.proxy.errors import OcppscopeError

log = logging.getLogger("ocppscope.engine")

SHUTDOWN_CODE = 1001
SHUTDOWN_REASON = "ocppscope is shutting down"
_SETTLE_SECONDS = 3.0
_WORKER_SECONDS = 60.0
_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass
class EngineConfig:
    routes: Sequence[Route]
    confdir: Path | None = None
    """mitmproxy's state and the CA (default: ``<ocppscope config dir>/mitmproxy``)."""
    insecure_upstream: bool = False
    certs: Sequence[str] = ()
    """Certificates to show wss chargers, mitmproxy ``certs`` syntax: ``[domain=]cert-and-key.pem``."""
    upstream_ca: Path | None = None
    """Extra CA bundle (PEM) to trust for the backend, e.g. a private CSMS CA."""
    analyzer: AnalyzerOptions = field(default_factory=AnalyzerOptions)
    checkers: Callable[[], list[Checker]] = default_checkers
    keep_messages: bool = False
    tick_interval: float = 1.0
    handshake_timeout: float = 10.0
    """Seconds a charger has to send its complete upgrade request once connected (0: no limit)."""
    upstream_timeout: float = 30.0
    """Seconds the backend has to answer an upgrade before the charger's connection is closed (0: no limit)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Further mitmproxy options (and the addons' ``ocpp_*`` options)."""
    analysis: WorkerSpec | None = None
    """Run the analysis, capture and console in a separate process (what the CLI does), instead of in this one
    where listeners can subscribe. It keeps the relay's CPU and event loop for relaying: see stream.py."""
    gc_policy: GcPolicy | None = None
    """Manage the garbage collector for the relay (freeze long-lived connections: see relaygc.py). It takes over
    the process's ``gc.freeze``/``gc.unfreeze``, so only where the relay has the process to itself (the CLI)."""


@dataclass(frozen=True)
class Listening:
    """A route and the address it actually listens on (the port is resolved when 0 was asked)."""

    route: Route
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}"


class ProxyEngine:
    """The relay and its inspection. ``async with ProxyEngine(config) as engine:`` or start()/stop()."""

    def __init__(self, config: EngineConfig, addons: Sequence[object] = (),
                 listeners: Sequence[Listener] = ()) -> None:
        """``addons``: further mitmproxy addons; ``listeners``: subscribed to the hub (console, capture, apps)."""
        if not config.routes:
            raise OcppscopeError("nothing to proxy: give --upstream or --route")
        from ocppscope.addons.inspector import OcppInspector

        self.config = config
        self.routes = _distinct_ports(config.routes)
        self.hub: Hub | None = None
        """The in-process hub (None when the analysis runs in its own process)."""
        self.publisher: Publisher
        if config.analysis is None:
            self.hub = self.publisher = Hub(config.checkers(), config.analyzer)
        elif listeners:
            raise OcppscopeError("listeners need the analysis in this process (EngineConfig.analysis=None)")
        self.inspector = OcppInspector(self.hub, config.tick_interval if self.hub else 0, finish_on_done=False)
        self.gc: RelayGc | None = RelayGc(config.gc_policy) if config.gc_policy is not None else None
        self.listening: list[Listening] = []
        self.warnings: list[str] = []
        self._addons = list(addons)
        for listener in listeners:
            self.subscribe(listener)
        self._master: Any = None
        self._task: asyncio.Task[None] | None = None
        self._worker: asyncio.subprocess.Process | None = None
        self._stopped = False

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        if self.hub is None:
            raise OcppscopeError("the analysis runs in its own process: nothing to subscribe to here")
        return self.hub.subscribe(listener)

    @property
    def master(self) -> Any:
        return self._master

    @property
    def analysis_pid(self) -> int | None:
        """The process id of the analysis process (``EngineConfig.analysis``), while it runs."""
        return self._worker.pid if self._worker is not None and self._worker.returncode is None else None

    async def start(self) -> list[Listening]:
        confdir = self.config.confdir or ca.confdir()
        ca.ensure_ca(confdir)
        if self.config.analysis is not None:
            self.publisher = self.inspector.hub = await self._start_worker(self.config.analysis)
        try:
            await self._start_master(confdir)
        except BaseException:
            await self._stop_worker(report=False)
            raise
        failures = self._bind_results()
        if failures:
            await self.stop(report=False)
            raise OcppscopeError("; ".join(failures))
        return self.listening

    async def _start_master(self, confdir: Path) -> None:
        from mitmproxy import exceptions, options
        from mitmproxy.addons import core, next_layer, proxyserver, tlsconfig
        from mitmproxy.master import Master
        from ocppscope.addons.handshake_timeout import OcppHandshakeTimeout
        from ocppscope.addons.routing import OcppRouting

        opts = options.Options()
        master = Master(opts)
        self._master = master
        ours = [OcppRouting(self.routes), self.inspector, OcppHandshakeTimeout(),
                *([self.gc] if self.gc is not None else []), *self._addons]
        master.addons.add(
            core.Core(), proxyserver.Proxyserver(), next_layer.NextLayer(), tlsconfig.TlsConfig(), _Nested(ours),
        )
        settings: dict[str, Any] = {
            "confdir": str(confdir),
            # lazy: an unreachable backend then gives the charger 502 and us an error hook, not a bare TCP close.
            "connection_strategy": "lazy",
            "mode": [route.mode_spec() for route in self.routes],
            "ssl_insecure": self.config.insecure_upstream,
            # OCPP is WebSocket over HTTP/1.1; mitmproxy cannot carry WebSockets over HTTP/2.
            "http2": False,
            "certs": list(self.config.certs),
            "ocpp_keep_messages": self.config.keep_messages,
            "ocpp_handshake_timeout": self.config.handshake_timeout,
            "ocpp_upstream_timeout": self.config.upstream_timeout,
            **self.config.options,
        }
        if self.config.upstream_ca is not None:
            settings["ssl_verify_upstream_trusted_ca"] = str(self.config.upstream_ca)
        try:
            opts.update(**settings)
        except (exceptions.OptionsError, KeyError) as exc:
            raise OcppscopeError(f"cannot configure the proxy: {exc}") from None
        if self.config.insecure_upstream:
            self.warnings.append("upstream TLS certificates are NOT verified (--insecure-upstream)")
            self.publisher.warn(self.warnings[-1])
        self._task = asyncio.get_running_loop().create_task(master.run(), name="mitmproxy master")
        started = self.inspector.started
        waiter = asyncio.ensure_future(started.wait())
        await asyncio.wait([waiter, self._task], return_when=asyncio.FIRST_COMPLETED)
        if not started.is_set():
            waiter.cancel()
            exc = self._task.exception() if self._task.done() else None
            raise OcppscopeError(f"the proxy did not start: {exc!r}")

    def _bind_results(self) -> list[str]:
        from mitmproxy.proxy.mode_specs import ProxyMode

        proxyserver = self._master.addons.get("proxyserver")
        instances = {server.mode.full_spec: server for server in proxyserver.servers}
        failures = []
        for route in self.routes:
            server = instances.get(ProxyMode.parse(route.mode_spec()).full_spec)
            if server is None or not server.is_running:
                reason = server.last_exception if server is not None else "no listener"
                failures.append(f"cannot listen on {route.listen_host}:{route.listen_port}: {reason}")
                continue
            host, port = server.listen_addrs[0][:2]
            self.listening.append(Listening(route, host, port))
        return failures

    async def stop(self, code: int = SHUTDOWN_CODE, reason: str = SHUTDOWN_REASON, *, report: bool = True) -> None:
        """Close the listeners, close every WebSocket with ``code`` both ways, flush the listeners, stop.

        ``report`` False (a start that failed) skips the listeners' end-of-run report.
        """
        if self._stopped or self._master is None:
            return
        self._stopped = True
        from ocppscope.proxy.engine.closing import request_close

        master = self._master
        proxyserver = master.addons.get("proxyserver")
        for server in list(proxyserver.servers):
            if server.is_running:
                await server.stop()
        for flow in list(self.inspector.live.values()):
            if not request_close(proxyserver, flow, code, reason):
                log.debug("ocppscope: could not close %s cleanly; dropping it", flow.id)
        await _wait_until(lambda: not self.inspector.live, _SETTLE_SECONDS)
        for handler in list(proxyserver.connections.values()):
            io = handler.transports.get(handler.client)
            if io is not None and io.handler is not None:
                io.handler.cancel("ocppscope is shutting down")
        await _wait_until(lambda: not proxyserver.connections, _SETTLE_SECONDS)
        await self.inspector.stop()
        if report:
            self.publisher.finish()
        await self._stop_worker(report)
        master.shutdown()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(self._task, _SETTLE_SECONDS)

    async def _start_worker(self, spec: WorkerSpec) -> EventStream:
        worker = self._worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ocppscope.proxy.engine.worker", stdin=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (_ROOT, os.environ.get("PYTHONPATH"))))},
        )
        pipe = worker.stdin
        assert pipe is not None
        pipe.write(frame(spec))
        return EventStream(pipe.transport, spec.backlog_limit)  # type: ignore[arg-type]

    async def _stop_worker(self, report: bool) -> None:
        worker = self._worker
        if worker is None or worker.returncode is not None:
            return
        if not report:
            worker.kill()  # a start that failed: nothing to report
        elif worker.stdin is not None:
            worker.stdin.close()  # the end of the stream: the worker reports and closes its captures
        try:
            await asyncio.wait_for(worker.wait(), _WORKER_SECONDS)
        except TimeoutError:
            log.error("ocppscope: the analysis process did not finish in %s s; stopping it", _WORKER_SECONDS)
            worker.kill()
            await worker.wait()

    async def __aenter__(self) -> ProxyEngine:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        """Run until the task is cancelled (Ctrl-C), then stop cleanly."""
        try:
            assert self._task is not None
            await asyncio.shield(self._task)
        finally:
            await self.stop()


class _Nested:
    """ocppscope's addons as one entry of mitmproxy's chain.

    mitmproxy walks the whole chain twice per frame (the hook and an ``update``), paying a context manager and
    a coroutine per entry whether or not the addon has the hook; nested addons share one entry.
    """

    name = "ocppscope"

    def __init__(self, addons: Sequence[object]) -> None:
        self.addons = list(addons)


def _distinct_ports(routes: Sequence[Route]) -> list[Route]:
    """Routes with OS-chosen ports for every "port 0" after the first on a host.

    mitmproxy refuses two listeners with the same spelled address, and ``127.0.0.1:0`` twice is that.
    """
    seen: set[str] = set()
    resolved = []
    for route in routes:
        if route.listen_port == 0 and route.listen_host in seen:
            with socket.socket(socket.AF_INET6 if ":" in route.listen_host else socket.AF_INET) as probe:
                probe.bind((route.listen_host, 0))
                route = replace(route, listen_port=probe.getsockname()[1])
        seen.add(route.listen_host)
        resolved.append(route)
    return resolved


async def _wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.01)
    return True

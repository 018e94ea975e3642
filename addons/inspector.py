"""The inspector: feeds the inspection core from mitmproxy's hooks. Its one job is the translation.

Every hook only reads the flow and returns; mitmproxy relays the frame whatever happens here, and the hub
catches what the analysis or a listener raises. Other addons (capture, console, an app) subscribe to the hub::

    ctx.master.addons.get("ocppinspector").hub.subscribe(listener)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from mitmproxy import ctx, http
from ocppscope.proxy.core.analyzer import AnalyzerOptions
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import Direction, Ping
from ocppscope.proxy.engine import bridge
from ocppscope.proxy.engine.hub import Hub, Publisher
from ocppscope.proxy.engine.pingtap import PingTap

log = logging.getLogger("ocppscope.inspector")

FINDINGS_KEY = "ocppscope.findings"
"""``flow.metadata`` key: findings per message index, for the content view (only while messages are kept)."""


class OcppInspector:
    name = "ocppinspector"

    def __init__(self, hub: Publisher | None = None, tick_interval: float = 1.0,
                 finish_on_done: bool = True) -> None:
        self.hub: Publisher = hub or Hub(default_checkers(), AnalyzerOptions())
        """A :class:`Hub` (analysis here) or an event stream to an analysis process."""
        self.finish_on_done = finish_on_done
        """Under mitmdump the end of the run is mitmproxy's ``done``; an embedding engine finishes the hub itself."""
        self.tick_interval = tick_interval
        self.live: dict[str, http.HTTPFlow] = {}
        """Open WebSockets by mitmproxy client connection id."""
        self._by_peer: dict[tuple, str] = {}
        self._uninstall_tap: Callable[[], None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._warned_insecure = False
        self._keep_messages = True
        self._verified = True
        self.started = asyncio.Event()
        """Set once mitmproxy has brought its listeners up (or failed to)."""

    def load(self, loader) -> None:
        loader.add_option(
            "ocpp_keep_messages", bool, True,
            "Keep WebSocket messages in each flow (mitmproxy's UIs need them; a long-running headless proxy "
            "does not, and they cost about 400 bytes per frame forever).",
        )

    def configure(self, updated: set[str]) -> None:
        # Read here, not per frame: an option lookup costs as much as a small rule.
        self._keep_messages = ctx.options.ocpp_keep_messages
        self._verified = not ctx.options.ssl_insecure

    def running(self) -> None:
        self._uninstall_tap = PingTap(self._ping).install()
        if self.tick_interval > 0:
            self._ticker = asyncio.get_running_loop().create_task(self._tick())
        self.started.set()

    async def done(self) -> None:
        await self.stop()
        if self.finish_on_done:
            self.hub.finish()

    async def stop(self) -> None:
        """Stop the clock and the ping tap (the engine calls this before the hub's final report)."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._uninstall_tap is not None:
            self._uninstall_tap()
            self._uninstall_tap = None

    # -- handshake ---------------------------------------------------------------------------------------

    def response(self, flow: http.HTTPFlow) -> None:
        if bridge.is_websocket_upgrade(flow):
            self._opened(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        if bridge.is_websocket_upgrade(flow) and flow.websocket is None:
            self._opened(flow)

    def _opened(self, flow: http.HTTPFlow) -> None:
        if flow.metadata.get("ocppscope.opened"):
            return
        flow.metadata["ocppscope.opened"] = True
        if not self._verified and flow.request.scheme == "https" and not self._warned_insecure:
            self._warned_insecure = True
            self.hub.warn("upstream TLS certificates are NOT verified (--insecure-upstream)")
        event = bridge.opened(flow, self.hub.next_seq(), upstream_verified=self._verified)
        if event.status == 101 and flow.websocket is not None:
            self.live[flow.client_conn.id] = flow
            if flow.client_conn.peername:
                self._by_peer[tuple(flow.client_conn.peername)] = event.conn_id
        self.hub.publish(event)

    # -- frames ------------------------------------------------------------------------------------------

    def websocket_message(self, flow: http.HTTPFlow) -> None:
        websocket = flow.websocket
        assert websocket is not None
        message = websocket.messages[-1]
        inspection = self.hub.publish(bridge.message(flow, message, self.hub.next_seq()))
        if not self._keep_messages:
            # mitmproxy keeps every frame of a flow for its UIs; a proxy that runs for days must not.
            websocket.messages.clear()
        elif inspection is not None and inspection.findings:
            flow.metadata.setdefault(FINDINGS_KEY, {})[str(len(websocket.messages) - 1)] = [
                finding.to_json() for finding in inspection.findings
            ]

    def websocket_end(self, flow: http.HTTPFlow) -> None:
        self.live.pop(flow.client_conn.id, None)
        if flow.client_conn.peername:
            self._by_peer.pop(tuple(flow.client_conn.peername), None)
        self.hub.publish(bridge.closed(flow, self.hub.next_seq()))

    def _ping(self, peer: tuple, direction: Direction, payload: bytes, pong: bool, when: float) -> None:
        conn_id = self._by_peer.get(peer)
        if conn_id is not None:
            self.hub.publish(Ping(conn_id, when, direction, payload, pong, self.hub.next_seq()))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.tick_interval)
            self.hub.tick(time.time())

"""Bounded handshakes: a charger that never finishes its upgrade request, or a backend that never answers it,
does not hold a connection open forever.

mitmproxy closes a connection only after ten minutes without traffic. A charger (or anything else) that opens
TCP and stalls mid-request would keep a file descriptor that long, and a thousand of them leave a real charger
unanswered; a backend that accepts TCP and never answers the upgrade leaves the charger waiting minutes. This
addon closes both after ``ocpp_handshake_timeout`` / ``ocpp_upstream_timeout`` seconds and reports it: the
stalled request as a refused handshake without a path (``handshake.charger-stalled``), the unanswered upgrade
as a 504 (``handshake.backend-timeout``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from mitmproxy import ctx, http
from ocppscope.proxy.core.events import ConnectionOpened
from ocppscope.proxy.engine import bridge
from ocppscope.proxy.engine.closing import close_client

_CHECK_EVERY = 0.5


class OcppHandshakeTimeout:
    name = "ocpphandshaketimeout"

    def __init__(self) -> None:
        self._clients: dict[str, tuple[float, Any]] = {}
        """Connections still waiting for their request: client id → (connected at, client)."""
        self._upstream: dict[str, tuple[float, http.HTTPFlow]] = {}
        """Upgrades sent to the backend and not answered yet: client id → (sent at, flow)."""
        self._watch: asyncio.Task[None] | None = None

    def load(self, loader: Any) -> None:
        loader.add_option("ocpp_handshake_timeout", float, 10.0,
                          "Seconds a charger has, once connected, to send its complete upgrade request.")
        loader.add_option("ocpp_upstream_timeout", float, 30.0,
                          "Seconds the backend has to answer a charger's upgrade request.")

    def running(self) -> None:
        self._watch = asyncio.get_running_loop().create_task(self._watchdog())

    async def done(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None

    # -- what is waiting ---------------------------------------------------------------------------------

    def client_connected(self, client: Any) -> None:
        self._clients[client.id] = (time.monotonic(), client)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        self._clients.pop(flow.client_conn.id, None)

    def request(self, flow: http.HTTPFlow) -> None:
        if bridge.is_websocket_upgrade(flow):
            self._upstream[flow.client_conn.id] = (time.monotonic(), flow)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        self._upstream.pop(flow.client_conn.id, None)

    def error(self, flow: http.HTTPFlow) -> None:
        self._upstream.pop(flow.client_conn.id, None)

    def client_disconnected(self, client: Any) -> None:
        self._clients.pop(client.id, None)
        self._upstream.pop(client.id, None)

    # -- the clock ---------------------------------------------------------------------------------------

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(_CHECK_EVERY)
            self.expire(time.monotonic())

    def expire(self, now: float) -> None:
        """Close what waited too long (the watchdog calls this twice a second)."""
        request_limit = ctx.options.ocpp_handshake_timeout
        answer_limit = ctx.options.ocpp_upstream_timeout
        proxyserver = ctx.master.addons.get("proxyserver")
        for client_id, (since, client) in list(self._clients.items()):
            if request_limit > 0 and now - since >= request_limit:
                del self._clients[client_id]
                if close_client(proxyserver, client_id):
                    self._report_stalled(client, request_limit)
        for client_id, (since, flow) in list(self._upstream.items()):
            if answer_limit > 0 and now - since >= answer_limit:
                del self._upstream[client_id]
                # Read by the inspector when mitmproxy reports the flow's end: a 504 of ours, not a charger that
                # gave up.
                flow.metadata[bridge.HANDSHAKE_TIMED_OUT] = (
                    f"the backend did not answer the upgrade within {answer_limit:g} s; ocppscope closed the "
                    "charger's connection")
                close_client(proxyserver, client_id)

    def _report_stalled(self, client: Any, limit: float) -> None:
        inspector = ctx.master.addons.get("ocppinspector")
        if inspector is None:
            return
        hub = inspector.hub
        hub.publish(ConnectionOpened(
            conn_id=client.id, time=time.time(), client=bridge.address(client.peername), path="",
            status=408, seq=hub.next_seq(),
            error=f"no complete upgrade request within {limit:g} s of connecting; ocppscope closed the connection",
        ))

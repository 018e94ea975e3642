"""The stream server: a hub listener in the proxy process that serves every event and finding to UIs.

Built so that a watching UI cannot slow the relay: per event the listener only encodes one line (a few
microseconds); every ``flush_interval`` the lines go out as one WebSocket message per client, and a client
that cannot keep up loses records (it is told how many) instead of growing the proxy's memory. A client that
attaches late first gets the handshakes of the connections still open and the last ``history`` records.

Loopback by default and protected by a token: anyone who can connect sees the traffic (redacted like a
capture unless the proxy runs with ``--no-redact``) and can inject CALLs.

The hub may call the listener methods from another thread than the one serving (the analysis process serves
from a thread of its own): they only append to a deque, which the serving loop drains.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson
from ocppscope.proxy.capture.redact import Redactor
from ocppscope.proxy.core.analyzer import Inspection
from ocppscope.proxy.core.events import ConnectionClosed as Closed
from ocppscope.proxy.core.events import ConnectionOpened, Event, Message
from ocppscope.proxy.core.findings import Finding
from ocppscope.proxy.engine.hub import Listener, Summary
from ocppscope.proxy.stream import wire
from ocppscope.proxy.stream.injection import Injection
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

log = logging.getLogger("ocppscope.stream")

_CLOSE_SECONDS = 1.0
"""How long a stream client gets to answer our close: a UI that already exited never does."""

HISTORY_RECORDS = 50_000
MAX_CLIENT_BACKLOG = 64 * 1024 * 1024
"""Bytes queued for one client before its oldest batches are dropped (and it is told)."""


@dataclass(eq=False)
class _Client:
    ws: ServerConnection
    queue: deque[bytes | str] = field(default_factory=deque)
    queued_bytes: int = 0
    lost_records: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def put(self, message: bytes | str, records: int = 0) -> None:
        size = len(message)
        if isinstance(message, bytes) and self.queued_bytes + size > MAX_CLIENT_BACKLOG:
            self.lost_records += records
            return
        self.queue.append(message)
        self.queued_bytes += size
        self.wake.set()


class StreamServer(Listener):
    """Serves the hub's events over WebSockets at ``host:port`` (port 0: the OS chooses)."""

    name = "stream"

    def __init__(self, host: str, port: int, token: str, *, redactor: Redactor | None = None,
                 injection: Injection | None = None, routes: Sequence[str] = (), history: int = HISTORY_RECORDS,
                 flush_interval: float = 0.05) -> None:
        self.host = host
        self.port = port
        self._token = token
        self._redactor = redactor
        self.injection = injection
        self.routes = list(routes)
        self._history: deque[tuple[int, bytes]] = deque(maxlen=history)
        self._history_size = history
        self._pending: deque[bytes | str] = deque()
        self._last_seq = 0
        self._open: dict[str, tuple[int, bytes]] = {}
        self._clients: set[_Client] = set()
        self._flush_interval = flush_interval
        self._server: Server | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._closing = False
        self.instance = secrets.token_hex(8)
        """Tells a reconnecting client whether this is the proxy it saw before."""

    # -- lifecycle -------------------------------------------------------------------------------------------

    async def start(self) -> tuple[str, int]:
        self._server = await serve(self._serve, self.host, self.port, process_request=self._authenticate,
                                   compression=None, max_size=2**20, ping_interval=20, ping_timeout=60,
                                   close_timeout=_CLOSE_SECONDS)
        self.host, self.port = self._server.sockets[0].getsockname()[:2]
        self._flusher = asyncio.get_running_loop().create_task(self._flush_forever(), name="stream flush")
        return self.host, self.port

    async def stop(self) -> None:
        self._closing = True
        self._flush()
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        for client in list(self._clients):
            client.wake.set()
        await asyncio.sleep(0)
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2 * _CLOSE_SECONDS)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}"

    # -- hub listener (on the proxy's loop, once per event: keep it cheap) -------------------------------------

    def on_inspection(self, event: Event, inspection: Inspection | None) -> None:
        injected = self.injection.classify(event) if self.injection is not None else None
        kind = type(event)
        if self._redactor is not None:
            if kind is Message:
                event = self._redactor.message(event)  # type: ignore[arg-type]
            elif kind is ConnectionOpened:
                event = self._redactor.opened(event)  # type: ignore[arg-type]
        line = wire.event_line(event, inspection, injected)
        self._last_seq = event.seq
        if kind is ConnectionOpened and event.status == 101:  # type: ignore[union-attr]
            self._open[event.conn_id] = (event.seq, line)
        elif kind is Closed:
            self._open.pop(event.conn_id, None)
        self._pending.append(line)
        if inspection is not None and inspection.findings:
            self._pending.extend(wire.finding_line(finding) for finding in inspection.findings)

    def on_findings(self, findings: Sequence[Finding]) -> None:
        self._pending.extend(wire.finding_line(finding) for finding in findings)

    def on_close(self, summary: Summary) -> None:
        from ocppscope.addons.console import summary_record

        self._pending.append(wire.control("bye", summary=summary_record(summary)))

    # -- sending ---------------------------------------------------------------------------------------------

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self._flush_interval)
            self._flush()

    def _flush(self) -> None:
        pending = self._pending
        lines: list[bytes] = []
        while pending:
            item = pending.popleft()
            if isinstance(item, str):  # a control message: after the lines before it
                self._send_lines(lines)
                lines = []
                for client in self._clients:
                    client.put(item)
            else:
                lines.append(item)
        self._send_lines(lines)

    def _send_lines(self, lines: list[bytes]) -> None:
        if not lines:
            return
        seq = self._last_seq
        self._history.extend((seq, line) for line in lines)
        if self._clients:
            batch = b"".join(lines)
            for client in self._clients:
                client.put(batch, len(lines))

    async def _authenticate(self, connection: ServerConnection, request: Request) -> Response | None:
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {self._token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            log.warning("ocppscope stream: refused a client from %s (wrong or missing token)",
                        connection.remote_address)
            return connection.respond(401, "wrong or missing stream token\n")
        return None

    async def _serve(self, ws: ServerConnection) -> None:
        client = _Client(ws)
        client.put(wire.hello(redacted=self._redactor is not None, routes=self.routes, history=self._history_size,
                              instance=self.instance))
        first = self._history[0][0] if self._history else self._last_seq + 1
        opens = [line for seq, line in list(self._open.values()) if seq < first]
        backlog = opens + [line for _, line in self._history]
        if backlog:
            client.put(b"".join(backlog), len(backlog))
        self._clients.add(client)
        receiver = asyncio.get_running_loop().create_task(self._receive(client))
        try:
            await self._send(client)
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await receiver

    async def _send(self, client: _Client) -> None:
        ws = client.ws
        while True:
            if client.lost_records:
                lost, client.lost_records = client.lost_records, 0
                await ws.send(wire.control("gap", lost=lost))
            while client.queue:
                message = client.queue.popleft()
                client.queued_bytes -= len(message)
                await ws.send(message)
            if self._closing:
                await ws.close(1001, "ocppscope proxy stopped")
                return
            client.wake.clear()
            await client.wake.wait()

    async def _receive(self, client: _Client) -> None:
        async for message in client.ws:
            try:
                request = orjson.loads(message)
            except orjson.JSONDecodeError:
                continue
            if isinstance(request, dict) and request.get("type") == "inject":
                client.put(await self._inject(request))

    async def _inject(self, request: dict[str, object]) -> str:
        if self.injection is None:
            error: str | None = "this proxy does not accept injected messages"
        else:
            error = await self.injection.inject(str(request.get("conn")), str(request.get("to")),
                                                str(request.get("text")))
        return wire.control("inject-result", id=request.get("id"), ok=error is None, error=error)

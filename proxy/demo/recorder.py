"""A small recording WebSocket relay: charger ──ws──▶ relay ──ws──▶ backend, every message seen as an event.

It stands in for the mitmproxy-based proxy in tests and when producing the bundled captures. For each
charger it opens the upstream connection with the same path, subprotocol offer and ``Authorization``
header, answers the charger the way the backend answered (status, subprotocol, non-handshake headers),
relays messages both ways unchanged and hands :mod:`proxy.core.events` to a callback:
``ConnectionOpened`` with the full handshake, ``Message`` with the exact bytes and their direction,
``ConnectionClosed`` with the code, reason and who closed.

Text messages are relayed as the ``str`` websockets decoded; re-encoding valid UTF-8 (which websockets
enforces on text frames) gives back the same bytes, so the relay is exact at the message level.
Fragmentation and ping/pong are not reproduced: websockets answers pings itself on each leg.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

from ocppscope.proxy.core.events import ClosedBy, ConnectionClosed, ConnectionOpened, Direction, Event, Message
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed as WebSocketClosed
from websockets.exceptions import InvalidHandshake, InvalidStatus
from websockets.http11 import Request, Response

log = logging.getLogger("ocppscope.demo.recorder")

EventSink = Callable[[Event], None]

UPSTREAM_OPEN_TIMEOUT = 5.0
CLOSE_TIMEOUT = 2.0
MAX_MESSAGE = 16 * 2**20
"""Bytes: far above any OCPP message, but a bound."""

# Headers that belong to one leg's WebSocket handshake; everything else the backend said is passed on.
_HANDSHAKE_HEADERS = frozenset({
    "connection", "upgrade", "sec-websocket-accept", "sec-websocket-extensions", "sec-websocket-protocol",
    "content-length", "transfer-encoding",
})
# Close codes that never travel in a close frame (RFC 6455 §7.4.1), so cannot be forwarded as such.
_LOCAL_ONLY_CODES = frozenset({1005, 1006, 1015})


@dataclass
class _Leg:
    """One charger connection from its upgrade request on."""

    conn_id: str
    upstream_url: str
    upstream: ClientConnection | None = None
    refusal: Response | None = None
    error: str | None = None


class RecordingRelay:
    """Relay chargers to ``upstream`` (``ws://host:port``, no path) and report every event to ``sink``."""

    def __init__(self, upstream: str, sink: EventSink, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstream = upstream.rstrip("/")
        self.sink = sink
        self._bind = (host, port)
        self._server: Server | None = None
        self._seq = itertools.count(1)
        self._conn_ids = itertools.count(1)
        self._legs: dict[ServerConnection, _Leg] = {}

    @property
    def url(self) -> str:
        """``ws://host:port`` of the relay; chargers use it in place of the backend's."""
        if self._server is None:
            raise RuntimeError("relay not started")
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"ws://{host}:{port}"

    async def start(self) -> RecordingRelay:
        """Start listening; a no-op when already started."""
        if self._server is not None:
            return self
        host, port = self._bind
        self._server = await serve(
            self._relay,
            host,
            port,
            process_request=self._open_upstream,
            process_response=self._answer_charger,
            select_subprotocol=self._select_subprotocol,
            server_header=None,
            compression=None,
            ping_interval=None,
            max_size=MAX_MESSAGE,
            logger=log,
        )
        return self

    async def stop(self) -> None:
        """Stop accepting chargers and wait (bounded) for open relays to finish their close handshakes."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close(close_connections=False)
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT * 2):
                await server.wait_closed()
        except TimeoutError:
            server.close(close_connections=True)
            await server.wait_closed()
        for leg in self._legs.values():  # handshakes that never reached the relay handler
            if leg.upstream is not None:
                await leg.upstream.close()
        self._legs.clear()

    async def __aenter__(self) -> RecordingRelay:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- handshake ---------------------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        try:
            self.sink(event)
        except Exception:  # a broken sink must not break the relayed connection
            log.exception("recording relay: event sink failed")

    async def _open_upstream(self, connection: ServerConnection, request: Request) -> Response | None:
        leg = _Leg(f"c{next(self._conn_ids)}", self.upstream + request.path)
        self._legs[connection] = leg
        headers = request.headers
        offered = [p.strip() for value in headers.get_all("Sec-WebSocket-Protocol") for p in value.split(",")]
        authorization = headers.get("Authorization")
        try:
            leg.upstream = await connect(
                leg.upstream_url,
                subprotocols=[p for p in offered if p] or None,  # type: ignore[misc]
                additional_headers={"Authorization": authorization} if authorization is not None else None,
                user_agent_header=headers.get("User-Agent"),
                compression=None,
                proxy=None,
                open_timeout=UPSTREAM_OPEN_TIMEOUT,
                close_timeout=CLOSE_TIMEOUT,
                ping_interval=None,
                max_size=MAX_MESSAGE,
            )
        except InvalidStatus as exc:
            # The backend refused the upgrade: the charger gets the backend's answer.
            upstream = exc.response
            leg.refusal = Response(upstream.status_code, upstream.reason_phrase,
                                   Headers(upstream.headers.raw_items()), upstream.body)
            return leg.refusal
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            leg.error = f"upstream {leg.upstream_url} unreachable: {type(exc).__name__}: {exc}"
            return connection.respond(HTTPStatus.BAD_GATEWAY, "ocppscope relay: backend unreachable\n")
        return None

    def _select_subprotocol(self, connection: ServerConnection, offered: object) -> str | None:
        leg = self._legs.get(connection)
        return leg.upstream.subprotocol if leg is not None and leg.upstream is not None else None

    def _answer_charger(self, connection: ServerConnection, request: Request, response: Response) -> None:
        leg = self._legs.get(connection)
        if leg is None:
            return
        if leg.upstream is not None and leg.upstream.response is not None:
            for name, value in leg.upstream.response.headers.raw_items():
                if name.lower() not in _HANDSHAKE_HEADERS and name not in response.headers:
                    response.headers[name] = value
        remote = connection.remote_address
        self._emit(ConnectionOpened(
            conn_id=leg.conn_id,
            time=time.time(),
            client=f"{remote[0]}:{remote[1]}" if remote else "",
            path=request.path,
            request_headers=tuple(request.headers.raw_items()),
            status=response.status_code,
            response_headers=tuple(response.headers.raw_items()),
            subprotocol=response.headers.get("Sec-WebSocket-Protocol"),
            upstream=leg.upstream_url,
            seq=next(self._seq),
            error=leg.error,
        ))
        if response.status_code != HTTPStatus.SWITCHING_PROTOCOLS:
            self._legs.pop(connection, None)

    # -- relaying ----------------------------------------------------------------------------------------

    async def _relay(self, charger: ServerConnection) -> None:
        leg = self._legs.pop(charger)
        backend = leg.upstream
        assert backend is not None  # the handshake only succeeds with an upstream connection
        pumps = {
            asyncio.create_task(self._pump(leg, charger, backend, Direction.FROM_CHARGER)): "charger",
            asyncio.create_task(self._pump(leg, backend, charger, Direction.FROM_BACKEND)): "backend",
        }
        done, _ = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        # Whichever leg ended first is the side that closed; the relay then closes the other leg alike.
        first = min(done, key=lambda task: 0 if pumps[task] == "charger" else 1)
        closed_by: ClosedBy = pumps[first]  # type: ignore[assignment]
        source, other = (charger, backend) if closed_by == "charger" else (backend, charger)
        code, reason = source.close_code, source.close_reason or ""
        relayed: int | None = None
        if code is None or code in _LOCAL_ONLY_CODES:
            if code == 1005:
                await other.close(code=None, reason="")  # type: ignore[arg-type]  # an empty close frame
            else:
                relayed = 1000
                await other.close(1000, "")
        else:
            await other.close(code, reason)
        await asyncio.wait(pumps, timeout=CLOSE_TIMEOUT)
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        self._emit(ConnectionClosed(
            conn_id=leg.conn_id,
            time=time.time(),
            code=code,
            reason=reason,
            closed_by=closed_by,
            seq=next(self._seq),
            relayed_code=relayed,
        ))

    async def _pump(self, leg: _Leg, source: ServerConnection | ClientConnection,
                    target: ServerConnection | ClientConnection, direction: Direction) -> None:
        with contextlib.suppress(WebSocketClosed):
            async for message in source:
                is_text = isinstance(message, str)
                content = message.encode("utf-8") if isinstance(message, str) else bytes(message)
                self._emit(Message(leg.conn_id, time.time(), direction, content, is_text, next(self._seq)))
                # When the other side is already gone the message is lost, as it would be without the
                # relay; the close is reported once both legs ended.
                with contextlib.suppress(WebSocketClosed):
                    await target.send(message)

"""The recording relay: transparent for both peers, and an exact account of what crossed it.

Plain websockets peers on loopback, so each test controls exactly what goes on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from http import HTTPStatus

import pytest
from ocppscope.proxy.core.events import ConnectionClosed as Closed
from ocppscope.proxy.core.events import ConnectionOpened, Direction, Event, Message, header
from ocppscope.proxy.demo.recorder import RecordingRelay
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.http11 import Request, Response

Handler = Callable[[ServerConnection], Awaitable[None]]
LIMIT = 5.0


@contextlib.asynccontextmanager
async def relay_to(handler: Handler, **server: object) -> AsyncIterator[tuple[RecordingRelay, list[Event]]]:
    """A websockets backend running ``handler`` with the relay in front; yields (relay, recorded events)."""
    events: list[Event] = []
    async with serve(handler, "127.0.0.1", 0, **server) as backend:  # type: ignore[arg-type]
        port = backend.sockets[0].getsockname()[1]
        async with RecordingRelay(f"ws://127.0.0.1:{port}", events.append) as relay:
            yield relay, events
    # Leaving: the relay has finished every connection it relayed.


async def test_messages_cross_unchanged_and_are_recorded_as_exact_bytes() -> None:
    to_backend: list[str | bytes] = ["[2,\"1\",\"Heartbeat\",{}]", "{\n  \"pretty\": \"é€😀\"\n}", b"\x00\xff\x80",
                                     "", "not json ["]
    to_charger: list[str | bytes] = ["[3,\"1\",{\"currentTime\":\"2025-01-01T00:00:00Z\"}]", b"\x01binary", "ü"]
    received: list[str | bytes] = []

    async def backend(ws: ServerConnection) -> None:
        for _ in to_backend:
            received.append(await ws.recv())
        for message in to_charger:
            await ws.send(message)
        await ws.wait_closed()

    async with (
        asyncio.timeout(LIMIT),
        relay_to(backend) as (relay, events),
        connect(f"{relay.url}/ocpp/CP1", proxy=None) as ws,
    ):
        for message in to_backend:
            await ws.send(message)
        got = [await ws.recv() for _ in to_charger]
    assert received == to_backend
    assert got == to_charger
    recorded = [e for e in events if isinstance(e, Message)]
    expected = [(Direction.FROM_CHARGER, m) for m in to_backend] + [(Direction.FROM_BACKEND, m) for m in to_charger]
    assert [(e.direction, e.content, e.is_text) for e in recorded] == [
        (d, m.encode() if isinstance(m, str) else m, isinstance(m, str)) for d, m in expected
    ]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len({e.conn_id for e in events}) == 1


async def test_handshake_is_forwarded_and_recorded() -> None:
    seen: list[Request] = []

    async def backend(ws: ServerConnection) -> None:
        assert ws.request is not None
        seen.append(ws.request)
        await ws.wait_closed()

    async with (
        asyncio.timeout(LIMIT),
        relay_to(backend, subprotocols=["ocpp2.0.1", "ocpp1.6"]) as (relay, events),
        connect(f"{relay.url}/ocpp/CS%2042?site=7", subprotocols=["ocpp1.6", "ocpp2.0.1"],  # type: ignore[list-item]
                additional_headers={"Authorization": "Basic Q1MgNDI6c2VjcmV0"}, proxy=None) as ws,
    ):
        assert ws.subprotocol == "ocpp2.0.1"  # the backend's choice, not the relay's
    [upstream] = seen
    assert upstream.path == "/ocpp/CS%2042?site=7"
    assert upstream.headers["Authorization"] == "Basic Q1MgNDI6c2VjcmV0"
    assert upstream.headers["Sec-WebSocket-Protocol"] == "ocpp1.6, ocpp2.0.1"
    opened = events[0]
    assert isinstance(opened, ConnectionOpened)
    assert (opened.status, opened.subprotocol, opened.path) == (101, "ocpp2.0.1", "/ocpp/CS%2042?site=7")
    assert header(opened.request_headers, "Authorization") == "Basic Q1MgNDI6c2VjcmV0"
    assert header(opened.response_headers, "Sec-WebSocket-Protocol") == "ocpp2.0.1"
    assert opened.upstream is not None and opened.upstream.endswith("/ocpp/CS%2042?site=7")
    assert opened.client.startswith("127.0.0.1:")


async def test_backend_close_reaches_the_charger_and_names_the_backend() -> None:
    async def backend(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.close(4001, "go away")

    async with (
        asyncio.timeout(LIMIT),
        relay_to(backend) as (relay, events),
        connect(f"{relay.url}/ocpp/CP1", proxy=None) as ws,
    ):
        await ws.send("[2,\"1\",\"Heartbeat\",{}]")
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert (ws.close_code, ws.close_reason) == (4001, "go away")
    close = events[-1]
    assert isinstance(close, Closed)
    assert (close.code, close.reason, close.closed_by, close.relayed_code) == (4001, "go away", "backend", None)


async def test_charger_dropping_tcp_is_recorded_as_1006_and_relayed_as_1000() -> None:
    backend_saw: list[int | None] = []

    async def backend(ws: ServerConnection) -> None:
        await ws.wait_closed()
        backend_saw.append(ws.close_code)

    async with asyncio.timeout(LIMIT), relay_to(backend) as (relay, events):
        ws = await connect(f"{relay.url}/ocpp/CP1", proxy=None)
        ws.transport.abort()
    close = events[-1]
    assert isinstance(close, Closed)
    assert (close.code, close.closed_by, close.relayed_code) == (1006, "charger", 1000)
    assert backend_saw == [1000]


async def test_refused_upgrade_is_passed_on_and_recorded_without_a_close() -> None:
    def refuse(connection: ServerConnection, request: Request) -> Response:
        response = connection.respond(HTTPStatus.FORBIDDEN, "unknown charger\n")
        response.headers["X-Reason"] = "not provisioned"
        return response

    async def backend(ws: ServerConnection) -> None:
        raise AssertionError("the upgrade should have been refused")

    async with asyncio.timeout(LIMIT), relay_to(backend, process_request=refuse) as (relay, events):
        with pytest.raises(InvalidStatus) as refused:
            await connect(f"{relay.url}/ocpp/CP9", proxy=None)
    assert refused.value.response.status_code == 403
    assert refused.value.response.body == b"unknown charger\n"
    assert refused.value.response.headers["X-Reason"] == "not provisioned"
    [opened] = events
    assert isinstance(opened, ConnectionOpened)
    assert (opened.status, opened.subprotocol, opened.error) == (403, None, None)
    assert header(opened.response_headers, "X-Reason") == "not provisioned"


async def test_unreachable_backend_gives_the_charger_502_and_says_why() -> None:
    # A port that was just free: nothing listens there any more.
    async with serve(lambda ws: ws.wait_closed(), "127.0.0.1", 0) as gone:
        port = gone.sockets[0].getsockname()[1]
    events: list[Event] = []
    async with asyncio.timeout(LIMIT), RecordingRelay(f"ws://127.0.0.1:{port}", events.append) as relay:
        with pytest.raises(InvalidStatus) as refused:
            await connect(f"{relay.url}/ocpp/CP1", proxy=None)
    assert refused.value.response.status_code == 502
    [opened] = events
    assert isinstance(opened, ConnectionOpened)
    assert opened.status == 502
    assert opened.error is not None and "unreachable" in opened.error


async def test_a_failing_sink_does_not_break_the_relayed_connection() -> None:
    def sink(event: Event) -> None:
        raise RuntimeError("disk full")

    async def backend(ws: ServerConnection) -> None:
        await ws.send(await ws.recv())
        await ws.wait_closed()

    async with serve(backend, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with (
            asyncio.timeout(LIMIT),
            RecordingRelay(f"ws://127.0.0.1:{port}", sink) as relay,
            connect(f"{relay.url}/ocpp/CP1", proxy=None) as ws,
        ):
            await ws.send("ping")
            assert await ws.recv() == "ping"

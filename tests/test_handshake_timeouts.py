"""Bounded handshakes: stalled upgrade requests and unanswered upgrades are closed, and said so."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
from ocppscope.proxy.core.analyzer import Analyzer
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.events import ConnectionOpened
from ocppscope.proxy.engine import open_proxy
from websockets.exceptions import InvalidHandshake, InvalidStatus

from tests import engine_support
from tests.engine_support import Backend, connect_direct, record_only

ocppscope_home = engine_support.ocppscope_home
pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(60)]

STALLED = "no complete upgrade request within 10 s of connecting; ocppscope closed the connection"


def _rules(event: ConnectionOpened) -> list[str]:
    return [f.rule for f in Analyzer(default_checkers()).feed(event).findings]


def test_a_stalled_request_is_one_finding_not_a_list_of_missing_headers() -> None:
    rules = _rules(ConnectionOpened("c1", 100.0, "10.0.0.7:50312", "", status=408, error=STALLED))
    assert rules == ["handshake.charger-stalled"]


def test_a_504_from_the_backend_itself_is_not_called_our_timeout() -> None:
    rules = _rules(ConnectionOpened("c1", 100.0, "10.0.0.7:50312", "/ocpp/CP01",
                                    (("Sec-WebSocket-Protocol", "ocpp1.6"),), status=504))
    assert "handshake.http-5xx" in rules and "handshake.backend-timeout" not in rules


def test_a_408_with_a_path_is_the_backend_refusing() -> None:
    rules = _rules(ConnectionOpened("c1", 100.0, "10.0.0.7:50312", "/ocpp/CP01",
                                    (("Sec-WebSocket-Protocol", "ocpp1.6"),), status=408))
    assert "handshake.http-refused" in rules and "handshake.charger-stalled" not in rules


async def test_stalled_upgrade_requests_are_closed_and_reported() -> None:
    async with Backend(record_only) as backend, open_proxy(backend.url("/ocpp"), handshake_timeout=1.0) as proxy:
        host, port = proxy.address
        stalled = []
        for n in range(20):  # bounded: 20 connections that send half a request and wait
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET /ocpp/CP{n:02d} HTTP/1.1\r\nHost: x\r\n".encode())
            await writer.drain()
            stalled.append((reader, writer))
        started = time.monotonic()
        for reader, _ in stalled:
            assert await asyncio.wait_for(reader.read(), 10) == b""  # the proxy closed it
        waited = time.monotonic() - started
        for _, writer in stalled:
            writer.close()
        async with connect_direct(proxy.url + "/CP99", subprotocols=["ocpp1.6"]):  # a real charger still gets in
            await backend.connected.wait()
    assert waited < 9  # closed by the 1 s timeout, not mitmproxy's ten minutes (the read would time out first)
    stalls = [f for f in proxy.findings if f.rule == "handshake.charger-stalled"]
    assert len(stalls) == 20
    assert "within 1 s" in stalls[0].message
    assert not [f for f in proxy.findings if f.rule.startswith("identity.")]


@contextlib.asynccontextmanager
async def silent_backend() -> AsyncIterator[int]:
    """A backend that accepts TCP, reads the upgrade request and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        with contextlib.suppress(ConnectionError):
            await reader.read()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_an_unanswered_upgrade_is_closed_after_the_upstream_timeout() -> None:
    async with silent_backend() as port, open_proxy(f"ws://127.0.0.1:{port}/ocpp", upstream_timeout=1.0) as proxy:
        started = time.monotonic()
        with pytest.raises((InvalidHandshake, InvalidStatus, EOFError, OSError)):
            async with connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"], open_timeout=20):
                pass
        waited = time.monotonic() - started
    assert waited < 10
    [timeout] = [f for f in proxy.findings if f.rule == "handshake.backend-timeout"]
    assert "within 1 s" in timeout.message and timeout.evidence["status"] == 504
    assert not [f for f in proxy.findings if f.rule == "handshake.charger-gave-up"]


async def test_a_backend_that_answers_in_time_is_not_timed_out() -> None:
    async with (
        Backend(record_only) as backend,
        open_proxy(backend.url("/ocpp"), handshake_timeout=1.0, upstream_timeout=1.0) as proxy,
        connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"]) as charger,
    ):
        await asyncio.sleep(2.5)  # idle well past both timeouts: an open WebSocket is not a handshake
        await charger.send('[2,"1","Heartbeat",{}]')
        await asyncio.sleep(0.2)
    assert backend.connections[0].received == ['[2,"1","Heartbeat",{}]']
    assert not [f for f in proxy.findings if f.rule in ("handshake.charger-stalled", "handshake.backend-timeout")]

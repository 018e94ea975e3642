"""The transparency promise, proved with real mitmproxy between a real websockets charger and backend.

Both ends record what they sent and received; the tests compare them byte for byte, and compare the
proxy's own events with the wire.
"""

from __future__ import annotations

import asyncio
import logging
import ssl

import pytest
from ocppscope.proxy.core.analyzer import Checker, Context, Inspection
from ocppscope.proxy.core.checks import default_checkers
from ocppscope.proxy.core.connection import Connection
from ocppscope.proxy.core.events import ConnectionClosed as Closed
from ocppscope.proxy.core.events import ConnectionOpened, Direction, Event, Message, Ping
from ocppscope.proxy.engine import CallbackListener, open_proxy
from ocppscope.proxy.engine.ca import ensure_ca
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests import engine_support
from tests.engine_support import (
    Backend,
    BackendConnection,
    basic,
    connect_direct,
    record_only,
    rules,
)

ocppscope_home = engine_support.ocppscope_home  # the session's own config directory, as a fixture
pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(60)]

MIB = 1024 * 1024
CHARGER_FRAMES: list[str | bytes] = [
    '[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"}]',
    '[2,"2","Heartbeat",{}',  # invalid JSON
    "  [2, \"3\" ,\n \"Heartbeat\" , { } ]  ",  # odd whitespace, kept as it is
    '[2,"4","DataTransfer",{"vendorId":"ü€𝄞","data":"\\u0000"}]',
    b"\x00\x01\xfe\xff binary",
    "x" * MIB,
    bytes(range(256)) * (MIB // 256),
]
BACKEND_FRAMES: list[str | bytes] = [
    '[3,"19223201",{"status":"Accepted","currentTime":"2024-01-01T00:00:00.000Z","interval":300}]',
    "not json at all",
    b"\xff\x00",
    "y" * MIB,
]


async def talk_back(conn: BackendConnection) -> None:
    async for message in conn.ws:
        conn.received.append(message)
        if message == "__your_turn__":
            for frame in BACKEND_FRAMES:
                await conn.ws.send(frame)
            await conn.ws.send(["[4,", '"9",', '"GenericError","",{}]'])  # fragmented


async def test_frames_relay_byte_for_byte_both_ways() -> None:
    async with (
        Backend(talk_back) as backend,
        open_proxy(backend.url("/base")) as proxy,
        connect_direct(proxy.url + "/ocpp/CP01", subprotocols=["ocpp1.6"], max_size=None,
                       ping_interval=None) as charger,
    ):
        for frame in CHARGER_FRAMES:
            await charger.send(frame)
        await charger.send(["[2,", '"10","Heart', 'beat",{}]'])  # fragmented
        await charger.send("__your_turn__")
        received = [await charger.recv() for _ in range(len(BACKEND_FRAMES) + 1)]
    [conn] = backend.connections
    assert conn.path == "/base/ocpp/CP01"
    assert conn.received == [*CHARGER_FRAMES, '[2,"10","Heartbeat",{}]', "__your_turn__"]
    assert received == [*BACKEND_FRAMES, '[4,"9","GenericError","",{}]']
    # The proxy's own record is the wire, in order, types included.
    messages = [e for e in proxy.events if isinstance(e, Message)]
    wire = [(Direction.FROM_CHARGER, f) for f in conn.received] + [(Direction.FROM_BACKEND, f) for f in received]
    assert [(m.direction, m.content if not m.is_text else m.content.decode()) for m in messages] == wire
    assert [e.seq for e in proxy.events] == list(range(1, len(proxy.events) + 1))


async def test_fragments_keep_their_boundaries() -> None:
    seen: list[list[str]] = []

    async def streaming(conn: BackendConnection) -> None:
        seen.append([part async for part in conn.ws.recv_streaming()])

    async def send_fragmented(url: str) -> None:
        async with connect_direct(url, subprotocols=["ocpp1.6"], compression=None) as charger:
            await charger.send(['[2,"1",', '"Heartbeat",', "{}]"])

    async with Backend(streaming) as backend, open_proxy(backend.url()) as proxy:
        await send_fragmented(backend.url("/CP01"))  # the same sender, without the proxy
        await send_fragmented(proxy.url + "/CP01")
        await asyncio.wait_for(backend.connections[1].closed.wait(), 5)
    direct, proxied = seen
    assert direct[:3] == ['[2,"1",', '"Heartbeat",', "{}]"]
    assert proxied == direct


async def test_upgrade_request_reaches_the_backend_as_sent() -> None:
    headers = [("Authorization", basic("CP01", "0123456789abcdef0123")), ("X-Vendor-Serial", "AC22 000123"),
               ("User-Agent", "wallbox-fw/1.8.2")]
    async with (
        Backend(record_only) as backend,
        open_proxy(backend.url("/ocpp")) as proxy,
        connect_direct(proxy.url + "/CP01?x=1", subprotocols=["ocpp2.0.1", "ocpp1.6"],
                       additional_headers=headers) as charger,
    ):
        assert charger.subprotocol == "ocpp2.0.1"  # what the backend chose, relayed
    [request] = backend.requests
    assert request.path == "/ocpp/CP01?x=1"
    sent = {name.lower(): value for name, value in headers}
    got = dict((name.lower(), value) for name, value in request.headers.raw_items())
    for name, value in sent.items():
        assert got[name] == value
    assert got["sec-websocket-protocol"] == "ocpp2.0.1, ocpp1.6"
    names = [name for name, _ in request.headers.raw_items()]
    assert names.index("Authorization") < names.index("X-Vendor-Serial") < names.index("User-Agent")
    [opened] = [e for e in proxy.events if isinstance(e, ConnectionOpened)]
    assert opened.path == "/CP01?x=1" and opened.upstream.endswith("/ocpp/CP01?x=1")


@pytest.mark.parametrize("status", [401, 404, 400, 503])
async def test_backend_refusals_reach_the_charger(status: int) -> None:
    async with Backend(status=status) as backend, open_proxy(backend.url()) as proxy:
        with pytest.raises(InvalidStatus) as refused:
            await connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"])
    assert refused.value.response.status_code == status
    assert refused.value.response.body == f"refused with {status}\n".encode()
    [opened] = proxy.events
    assert isinstance(opened, ConnectionOpened) and opened.status == status


async def test_unreachable_backend_gives_502_and_names_the_reason() -> None:
    async with Backend() as backend:
        gone = backend.url()
    async with open_proxy(gone) as proxy:
        with pytest.raises(InvalidStatus) as refused:
            await connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"])
    assert refused.value.response.status_code == 502
    [finding] = [f for f in proxy.findings if f.rule == "handshake.backend-unreachable"]
    assert "nothing listens" in finding.message


class _FrameLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_pings_are_relayed_observed_and_never_originated() -> None:
    seen = _FrameLog()
    logger = logging.getLogger("websockets")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(seen)
    try:
        async with (
            Backend(record_only) as backend,
            open_proxy(backend.url()) as proxy,
            connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"], ping_interval=None) as charger,
        ):
            await asyncio.wait_for(await charger.ping(b"from-charger"), 5)
            await backend.connected.wait()
            await asyncio.wait_for(await backend.connections[0].ws.ping(b"from-backend"), 5)
            before = len(seen.lines)
            await asyncio.sleep(1.5)  # idle: a proxy that pinged would show up here
            idle_frames = seen.lines[before:]
    finally:
        logger.removeHandler(seen)
        logger.setLevel(level)
    assert not [line for line in idle_frames if "PING" in line or "PONG" in line]
    pings = [(e.direction, e.data, e.pong) for e in proxy.events if isinstance(e, Ping)]
    assert pings == [
        (Direction.FROM_CHARGER, b"from-charger", False), (Direction.FROM_BACKEND, b"from-charger", True),
        (Direction.FROM_BACKEND, b"from-backend", False), (Direction.FROM_CHARGER, b"from-backend", True),
    ]


async def test_close_codes_and_reasons_relay_both_ways() -> None:
    async def close_on_request(conn: BackendConnection) -> None:
        async for message in conn.ws:
            await conn.ws.close(4001, "unknown charge point")
            conn.received.append(message)

    async with Backend(record_only) as backend, open_proxy(backend.url()) as proxy:
        async with connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"]) as charger:
            await backend.connected.wait()
        await asyncio.wait_for(backend.connections[0].closed.wait(), 5)
        backend.handler = close_on_request
        charger = await connect_direct(proxy.url + "/CP02", subprotocols=["ocpp1.6"])
        await charger.send("close me")
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(charger.recv(), 5)
    first, _ = backend.connections
    assert (first.close.code, first.close.reason) == (1000, "")  # type: ignore[union-attr]
    assert (charger.close_code, charger.close_reason) == (4001, "unknown charge point")
    closes = [(e.code, e.reason, e.closed_by) for e in proxy.events if isinstance(e, Closed)]
    assert closes == [(1000, "", "charger"), (4001, "unknown charge point", "backend")]
    assert "lifecycle.application-close" in rules(proxy.findings)


async def test_charger_close_code_reaches_the_backend() -> None:
    async with Backend(record_only) as backend, open_proxy(backend.url()) as proxy:
        charger = await connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"])
        await charger.close(4000, "rebooting")
        await asyncio.wait_for(backend.connections[0].closed.wait(), 5)
    assert (backend.connections[0].close.code, backend.connections[0].close.reason) == (4000, "rebooting")  # type: ignore[union-attr]


async def test_backend_dropping_tcp_is_1006_here_and_1000_at_the_charger() -> None:
    async def drop(conn: BackendConnection) -> None:
        async for _ in conn.ws:
            conn.ws.transport.abort()

    async with Backend(drop) as backend, open_proxy(backend.url()) as proxy:
        charger = await connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"])
        await charger.send('[2,"1","Heartbeat",{}]')
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(charger.recv(), 5)
    assert charger.close_code == 1000
    [closed] = [e for e in proxy.events if isinstance(e, Closed)]
    assert (closed.code, closed.closed_by, closed.relayed_code) == (1006, "backend", 1000)
    [finding] = [f for f in proxy.findings if f.rule == "lifecycle.abnormal-close"]
    assert "the charger received 1000" in finding.message


async def test_charger_dropping_tcp_is_reported_as_1006() -> None:
    async with Backend(record_only) as backend, open_proxy(backend.url()) as proxy:
        charger = await connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"])
        await backend.connected.wait()
        charger.transport.abort()
        await asyncio.wait_for(backend.connections[0].closed.wait(), 5)
    assert backend.connections[0].close.code == 1000  # type: ignore[union-attr]
    [closed] = [e for e in proxy.events if isinstance(e, Closed)]
    assert (closed.code, closed.closed_by, closed.relayed_code) == (1006, "charger", 1000)
    [finding] = [f for f in proxy.findings if f.rule == "lifecycle.abnormal-close"]
    assert "the backend received 1000" in finding.message


async def test_shutdown_closes_both_sides_with_1001() -> None:
    async with Backend(record_only) as backend:
        async with open_proxy(backend.url()) as proxy:
            charger = await connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"])
            await backend.connected.wait()
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(charger.recv(), 5)
        await asyncio.wait_for(backend.connections[0].closed.wait(), 5)
    assert (charger.close_code, charger.close_reason) == (1001, "ocppscope is shutting down")
    assert backend.connections[0].close.code == 1001  # type: ignore[union-attr]
    [closed] = [e for e in proxy.events if isinstance(e, Closed)]
    assert (closed.code, closed.closed_by) == (1001, "proxy")
    assert proxy.summary is not None and proxy.summary.closed == 1


class _Exploding(Checker):
    name = "exploding"

    def on_message(self, ctx: Context, conn: Connection, inspection: Inspection) -> None:
        raise RuntimeError("a rule with a bug")


async def test_failures_in_analysis_and_listeners_never_stop_a_frame() -> None:
    def broken_listener(event: Event, inspection: Inspection | None) -> None:
        raise OSError("a listener with a bug")

    listener = CallbackListener(broken_listener, name="broken")
    async with Backend() as backend, open_proxy(
        backend.url(), checkers=lambda: [*default_checkers(), _Exploding()], addons=()
    ) as proxy:
        proxy.engine.subscribe(listener)
        async with connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"]) as charger:
            for i in range(3):
                await charger.send(f'[2,"{i}","Heartbeat",{{}}]')
                assert await charger.recv() == f'[2,"{i}","Heartbeat",{{}}]'
    assert backend.connections[0].received == [f'[2,"{i}","Heartbeat",{{}}]' for i in range(3)]
    summary = proxy.summary
    assert summary is not None
    assert summary.listener_errors["broken"] >= 7  # the handshake, six frames, the close
    assert summary.analysis_errors == 6  # one per frame, reported as findings too
    assert rules(proxy.findings).count("ocppscope.internal-error") == 6


async def test_charger_with_wss_trusting_ocppscope_ca() -> None:
    context = ssl.create_default_context(cafile=str(ensure_ca()))
    async with Backend(record_only) as backend, open_proxy(backend.url()) as proxy:
        wss = proxy.url.replace("ws://", "wss://")
        async with connect_direct(wss + "/CP01", subprotocols=["ocpp1.6"], ssl=context) as charger:
            await charger.send('[2,"1","Heartbeat",{}]')
            await backend.connected.wait()
    [opened] = [e for e in proxy.events if isinstance(e, ConnectionOpened)]
    assert opened.client_tls is not None and opened.client_tls.version in ("TLSv1.2", "TLSv1.3")
    assert "auth.basic-over-plain-ws" not in rules(proxy.findings)
    assert backend.connections[0].received == ['[2,"1","Heartbeat",{}]']


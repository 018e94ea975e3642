"""Shared pieces of the TUI and stream tests: small captures, a screen reader, a live proxy with its stream."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
from ocppscope.proxy.capture.writer import CaptureWriter
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Message
from ocppscope.proxy.stream.client import StreamClient
from rich.console import Console
from textual.app import App

T0 = 1_700_000_000.0
TOKEN = "test-token-0123456789"


def screen_text(app: App[object]) -> str:
    """What the terminal shows, as plain text (no colours): what a person reads off the screen."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, force_terminal=True,
                      color_system=None, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


async def wait_for(condition: Callable[[], bool], pilot: object | None = None, timeout: float = 10.0) -> None:
    """Let the app run until ``condition`` holds; fails the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        if pilot is not None:
            await pilot.pause(0.02)  # type: ignore[attr-defined]
        else:
            await asyncio.sleep(0.02)


async def screen_with(app: App[object], pilot: object, *texts: str, timeout: float = 10.0) -> str:
    """The screen, once it shows every one of ``texts``: one reading, so what follows checks that same screen."""
    seen = ""

    def shows() -> bool:
        nonlocal seen
        seen = screen_text(app)
        return all(text in seen for text in texts)

    await wait_for(shows, pilot, timeout)
    return seen


def session_events(charger: str = "CP01", conn: str = "c1", t0: float = T0, extra: Sequence[tuple[str, str]] = ()
                   ) -> list[Event]:
    """A short OCPP 1.6 session with a few deliberate faults, as a capture would hold it."""
    frames: list[tuple[Direction, str]] = [
        (Direction.FROM_CHARGER, '[2,"b1","BootNotification",{"chargePointVendor":"VendorX",'
                                 '"chargePointModel":"Model1"}]'),
        (Direction.FROM_BACKEND, '[3,"b1",{"status":"Accepted","currentTime":"2024-01-01T00:00:00Z",'
                                 '"interval":300}]'),
        (Direction.FROM_CHARGER, '[2,"h1","Heartbeat",{}]'),
        (Direction.FROM_BACKEND, '[3,"h1",{"currentTime":"2024-01-01T00:00:01Z"}]'),
        (Direction.FROM_CHARGER, '[2,"s1","StatusNotification",{"connectorId":1,"errorCode":"NoError",'
                                 '"status":"Charging"}]'),
        (Direction.FROM_BACKEND, '[3,"s1",{}]'),
        (Direction.FROM_CHARGER, '[2,"m1","MeterValues",{"connectorId":"one"}]'),
        (Direction.FROM_BACKEND, '[4,"m1","FormatViolation","bad connectorId",{}]'),
        (Direction.FROM_BACKEND, '[3,"zz",{}]'),
        (Direction.FROM_CHARGER, '[2,"h2","Heartbeat",{}'),
    ]
    frames += [(Direction.FROM_CHARGER if d == "charger" else Direction.FROM_BACKEND, text) for d, text in extra]
    events: list[Event] = [ConnectionOpened(conn, t0, "127.0.0.1:40001", f"/ocpp/{charger}",
                                            request_headers=(("Sec-WebSocket-Protocol", "ocpp1.6"),
                                                             ("Authorization", "Basic Q1AwMTpzZWNyZXQ=")),
                                            response_headers=(("Sec-WebSocket-Protocol", "ocpp1.6"),),
                                            subprotocol="ocpp1.6", upstream="ws://backend/ocpp/" + charger, seq=1)]
    for n, (direction, text) in enumerate(frames, 2):
        events.append(Message(conn, t0 + n, direction, text.encode(), True, n))
    events.append(ConnectionClosed(conn, t0 + len(frames) + 3, 1000, "bye", "charger", len(frames) + 2))
    return events


def write_capture(path: Path, events: Sequence[Event]) -> Path:
    with CaptureWriter(path, redact=True, salt=b"test-salt") as writer:
        for event in events:
            writer.write(event)
    return path


@contextlib.asynccontextmanager
async def live_proxy(**stream_options: object) -> AsyncIterator[tuple[object, object, str]]:
    """A central system from the ``ocpp`` package, ocppscope between it and chargers, and the proxy's stream.

    Yields (central system, running proxy, stream URL).
    """
    from ocppscope.proxy.demo.backend import start_central_system
    from ocppscope.proxy.engine import open_proxy
    from ocppscope.proxy.stream.addon import OcppStream

    stream = OcppStream("127.0.0.1", 0, TOKEN, **stream_options)  # type: ignore[arg-type]
    central = await start_central_system()
    try:
        async with open_proxy(central.url, addons=[stream]) as proxy:
            await wait_for(lambda: stream.server is not None and stream.server.port != 0)
            assert stream.server is not None
            yield central, proxy, stream.server.url
    finally:
        await central.stop()


class Collector:
    """What a stream client delivered: its records and its state changes."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.states: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, records: list[dict[str, Any]]) -> None:
        self.records.extend(records)

    def state(self, state: str, info: dict[str, Any]) -> None:
        self.states.append((state, info))

    def frames(self) -> list[Any]:
        return [orjson.loads(r["text"]) for r in self.records if r["type"] == "msg" and "text" in r]


@contextlib.asynccontextmanager
async def attached(url: str, token: str = TOKEN, **options: Any) -> AsyncIterator[tuple[StreamClient, Collector]]:
    collector = Collector()
    client = StreamClient(url, token, collector, collector.state, **options)
    task = asyncio.create_task(client.run())
    try:
        yield client, collector
    finally:
        await client.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

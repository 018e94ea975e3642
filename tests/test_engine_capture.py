"""Captures written by the live proxy: every relayed frame in order, no secrets, rotation, per-day files."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from ocppscope.addons.capture import OcppCapture
from ocppscope.proxy.capture import read_capture
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Message, Ping
from ocppscope.proxy.engine import open_proxy
from websockets.exceptions import InvalidStatus

from tests import engine_support
from tests.engine_support import Backend, BackendConnection, basic, connect_direct

ocppscope_home = engine_support.ocppscope_home  # the session's own config directory, as a fixture
pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(60)]

KEY = "5ECF1D2A3B4C5D6E7F8091A2B3C4D5E6F7A8B9C0"
PASSWORD = "s3cr3t-Pa55word-for-CS-2001"
CHANGE_KEY = f'[2,"c1","ChangeConfiguration",{{"key":"AuthorizationKey","value":"{KEY}"}}]'
SET_PASSWORD = ('[2,"s1","SetVariables",{"setVariableData":[{"attributeValue":"' + PASSWORD + '",'
                '"component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"}}]}]')


def capture_options(directory: Path, **more: Any) -> dict[str, Any]:
    return {"listeners": [OcppCapture(directory, **more)]}


def events_in(directory: Path) -> list[Event]:
    return [event for path in sorted(directory.glob("*.jsonl")) for event in read_capture(path)]


async def answer_calls(conn: BackendConnection) -> None:
    async for message in conn.ws:
        conn.received.append(message)
        if message == "please":
            await conn.ws.send(CHANGE_KEY)
            await conn.ws.send(SET_PASSWORD)
            await conn.ws.send(b"\x01\x02binary")


async def test_capture_holds_every_relayed_frame_in_order_without_secrets(tmp_path: Path) -> None:
    frames = ['[2,"1","Heartbeat",{}]', "not json", '[3,"c1",{"status":"Accepted"}]', "please"]
    auth = [("Authorization", basic("CP01", KEY))]
    async with (
        Backend(answer_calls) as backend,
        open_proxy(backend.url("/ocpp"), **capture_options(tmp_path)) as proxy,
        connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"], additional_headers=auth, ping_interval=None)
        as charger,
    ):
        for frame in frames:
            await charger.send(frame)
        from_backend = [await charger.recv() for _ in range(3)]
        await charger.ping(b"are you there")
    [file] = tmp_path.glob("CP01_*.jsonl")
    captured = list(read_capture(file))
    relayed = [e for e in proxy.events]
    # The same events, in the same order, as the proxy published them (secrets aside).
    assert [(type(e), e.seq, e.conn_id) for e in captured] == [(type(e), e.seq, e.conn_id) for e in relayed]
    messages = [e for e in captured if isinstance(e, Message)]
    assert [m.content for m in messages if m.direction is Direction.FROM_CHARGER] == [f.encode() for f in frames]
    backend_side = [m for m in messages if m.direction is Direction.FROM_BACKEND]
    assert backend_side[2].content == from_backend[2] == b"\x01\x02binary" and not backend_side[2].is_text
    assert [m.redacted for m in backend_side] == [True, True, False]
    assert [m.content.decode().replace(KEY, "?") for m in backend_side[:2]] != from_backend[:2]
    assert any(isinstance(e, Ping) for e in captured)
    assert isinstance(captured[0], ConnectionOpened) and captured[0].auth is not None
    assert captured[0].auth.user == "CP01" and captured[0].auth.password_kind == "hex-text"
    assert isinstance(captured[-1], ConnectionClosed)
    raw = file.read_bytes()
    for secret in (KEY, PASSWORD, base64.b64encode(f"CP01:{KEY}".encode()).decode()):
        assert secret.encode() not in raw


async def test_capture_continues_in_parts_at_the_size_limit(tmp_path: Path) -> None:
    frames = [f'[2,"{i}","DataTransfer",{{"vendorId":"x","data":"{"z" * 500}"}}]' for i in range(300)]
    async with (
        Backend() as backend,
        open_proxy(backend.url(), **capture_options(tmp_path, max_size="40k")) as proxy,
        connect_direct(proxy.url + "/CP01", subprotocols=["ocpp1.6"]) as charger,
    ):
        for frame in frames:
            await charger.send(frame)
            await charger.recv()
    parts = sorted(tmp_path.glob("*.jsonl"))
    assert len(parts) >= 5
    assert all(path.stat().st_size < 40 * 1024 + 64 * 700 for path in parts)
    messages = [e for e in events_in(tmp_path) if isinstance(e, Message)]
    assert [m.seq for m in messages] == sorted(m.seq for m in messages)
    assert [m.content.decode() for m in messages if m.direction is Direction.FROM_CHARGER] == frames


async def test_one_file_per_connection_and_one_for_refused_handshakes(tmp_path: Path) -> None:
    async with Backend() as backend, open_proxy(backend.url(), **capture_options(tmp_path)) as proxy:
        for identity in ("CP01", "CP02"):
            async with connect_direct(proxy.url + f"/{identity}", subprotocols=["ocpp1.6"]) as charger:
                await charger.send('[2,"1","Heartbeat",{}]')
                await charger.recv()
        backend.status = 401
        for _ in range(2):
            with pytest.raises(InvalidStatus):
                await connect_direct(proxy.url + "/CP03", subprotocols=["ocpp1.6"])
    names = sorted(path.name.split("_")[0] for path in tmp_path.glob("*.jsonl"))
    assert names[:2] == ["CP01", "CP02"] and names[2].startswith("handshakes-") and len(names) == 3
    [refused] = tmp_path.glob("handshakes-*.jsonl")
    assert [e.status for e in read_capture(refused)] == [401, 401]  # type: ignore[union-attr]


async def test_one_file_per_day_never_overwrites_an_earlier_run(tmp_path: Path) -> None:
    for run in range(2):
        async with Backend() as backend, open_proxy(
            backend.url(), **capture_options(tmp_path, split="day")
        ) as proxy:
            for identity in ("CP01", "CP02"):
                async with connect_direct(proxy.url + f"/{identity}", subprotocols=["ocpp1.6"]) as charger:
                    await charger.send(f'[2,"{run}","Heartbeat",{{}}]')
                    await charger.recv()
    files = sorted(tmp_path.glob("ocppscope-*.jsonl"))
    assert len(files) == 2
    for path in files:
        opened = [e for e in read_capture(path) if isinstance(e, ConnectionOpened)]
        assert [e.path for e in opened] == ["/CP01", "/CP02"]

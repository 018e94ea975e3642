"""The proxy's event stream, end to end on loopback: a real proxy, real OCPP peers, a real stream client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from ocppscope.addons.capture import OcppCapture
from ocppscope.proxy.capture import read_capture
from ocppscope.proxy.core.events import Direction, Message
from ocppscope.proxy.demo.chargers import Charger16, charger_connection
from ocppscope.proxy.diff import diff_events
from ocppscope.proxy.engine import open_proxy
from ocppscope.proxy.replay.plan import build_scripts
from ocppscope.proxy.stream.addon import OcppStream
from ocppscope.proxy.stream.wire import FINDING, batch_lines, event_line
from websockets.asyncio.client import connect

from tests.engine_support import Backend, BackendConnection, ocppscope_home  # noqa: F401
from tests.tui_support import TOKEN, attached, live_proxy, wait_for

pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(60)]


async def test_stream_carries_events_pairings_and_findings_as_the_proxy_saw_them() -> None:
    async with live_proxy() as (_central, proxy, url), attached(url) as (client, seen):
        await wait_for(lambda: client.state == "connected")
        async with charger_connection(proxy.url, "CP01", Charger16) as charger:  # type: ignore[attr-defined]
            await charger.call(_boot())
            await charger.send_raw('[2,"bad","Heartbeat",{"unexpected":1}]', answer_id="bad")
        await wait_for(lambda: any(r["type"] == "close" for r in seen.records))
        await wait_for(lambda: len([r for r in seen.records if r["type"] != FINDING]) >= len(proxy.events))
    kinds = [r["type"] for r in seen.records if r["type"] != FINDING]
    assert kinds[0] == "open" and kinds[-1] == "close"
    # Every event the proxy's hub published arrived, in relay order, as the capture record of that event.
    assert [r["seq"] for r in seen.records if r["type"] != FINDING] == [e.seq for e in proxy.events]
    boot_call = next(r for r in seen.records if r["type"] == "msg" and '"BootNotification"' in r.get("text", ""))
    boot_answer = next(r for r in seen.records if r.get("ins", {}).get("call") == boot_call["seq"])
    assert boot_answer["ins"]["latency"] >= 0
    findings = [r for r in seen.records if r["type"] == FINDING]
    assert {f["rule"] for f in findings} == {f.rule for f in proxy.findings}
    assert any(f["seq"] == next(r["seq"] for r in seen.records if '"bad"' in r.get("text", "")) for f in findings)


async def test_wrong_token_is_refused_and_said_so() -> None:
    async with live_proxy() as (_central, _proxy, url), attached(url, token="wrong") as (client, seen):
        await wait_for(lambda: client.state == "refused")
    assert seen.states[-1][1]["reason"] == "wrong token"
    assert not seen.records


async def test_a_late_client_gets_the_open_connections_and_recent_history() -> None:
    async with (live_proxy() as (_central, proxy, url),
                charger_connection(proxy.url, "CP-LATE", Charger16) as charger):  # type: ignore[attr-defined]
        await charger.call(_boot())
        async with attached(url) as (_client, seen):
            await wait_for(lambda: any('"BootNotification"' in r.get("text", "") for r in seen.records))
            assert seen.records[0]["type"] == "open" and seen.records[0]["path"].endswith("/CP-LATE")


async def test_history_keeps_open_handshakes_beyond_its_length() -> None:
    stream = OcppStream("127.0.0.1", 0, TOKEN)
    async with Backend(_answering) as backend, open_proxy(backend.url(), addons=[stream]) as proxy:
        await wait_for(lambda: stream.server is not None and stream.server.port != 0)
        assert stream.server is not None
        stream.server._history = type(stream.server._history)(maxlen=5)
        async with connect(proxy.url + "/CP-OLD", subprotocols=["ocpp1.6"], proxy=None) as ws:  # type: ignore[list-item]
            for n in range(10):
                await ws.send(f'[2,"{n}","Heartbeat",{{}}]')
                await ws.recv()
            await asyncio.sleep(0.2)
            async with attached(stream.server.url) as (_client, seen):
                await wait_for(lambda: len(seen.records) >= 6)
    assert seen.records[0]["type"] == "open"
    assert len([r for r in seen.records if r["type"] == "msg"]) == 5


async def test_injected_call_reaches_the_charger_and_its_answer_is_held_back_from_the_backend() -> None:
    stream = OcppStream("127.0.0.1", 0, TOKEN)
    async with Backend(_answering) as backend, open_proxy(backend.url("/ocpp"), addons=[stream]) as proxy:
        await wait_for(lambda: stream.server is not None and stream.server.port != 0)
        assert stream.server is not None
        async with (attached(stream.server.url) as (client, seen),
                    charger_connection(proxy.url, "CP01", Charger16) as charger):  # type: ignore[attr-defined]
            await charger.call(_boot())
            await wait_for(lambda: client.state == "connected" and any(r["type"] == "open" for r in seen.records))
            conn = next(r["conn"] for r in seen.records if r["type"] == "open")
            error = await client.inject(conn, "charger", '[2,"inj-1","TriggerMessage",'
                                                         '{"requestedMessage":"Heartbeat"}]')
            assert error is None
            await charger.wait_for_request("TriggerMessage")
            await wait_for(lambda: any(r.get("ins", {}).get("injected") == "answer" for r in seen.records))
            await asyncio.sleep(0.3)
        received = [orjson.loads(m) for c in backend.connections for m in c.received if isinstance(m, str)]
    marks = {r["ins"]["injected"]: r for r in seen.records if "injected" in r.get("ins", {})}
    assert orjson.loads(marks["call"]["text"])[1] == "inj-1"
    assert orjson.loads(marks["answer"]["text"]) == [3, "inj-1", {"status": "Accepted"}]
    assert marks["answer"]["ins"]["call"] == marks["call"]["seq"]
    assert all(frame[1] != "inj-1" for frame in received), "the backend must not see the answer"
    assert any(frame[2] == "BootNotification" for frame in received if frame[0] == 2)


async def test_injected_call_to_the_backend_answer_never_reaches_the_charger() -> None:
    stream = OcppStream("127.0.0.1", 0, TOKEN)
    async with Backend(_answering) as backend, open_proxy(backend.url(), addons=[stream]) as proxy:
        await wait_for(lambda: stream.server is not None and stream.server.port != 0)
        assert stream.server is not None
        async with (attached(stream.server.url) as (client, seen),
                    connect(proxy.url + "/CP02", subprotocols=["ocpp1.6"], proxy=None) as ws):  # type: ignore[list-item]
            await wait_for(lambda: any(r["type"] == "open" for r in seen.records))
            conn = next(r["conn"] for r in seen.records if r["type"] == "open")
            assert await client.inject(conn, "backend", '[2,"inj-2","Heartbeat",{}]') is None
            await wait_for(lambda: any(r.get("ins", {}).get("injected") == "answer" for r in seen.records))
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.5)
            assert await client.inject(conn, "charger", '[2,"x","Nope"') is not None
            assert await client.inject("no-such-conn", "charger", '[2,"y","Reset",{"type":"Soft"}]') is not None
        assert any(orjson.loads(m)[1] == "inj-2" for c in backend.connections for m in c.received)


def test_event_lines_are_capture_records() -> None:
    from ocppscope.proxy.capture.format import decoders

    from tests.tui_support import session_events

    for event in session_events():
        record = orjson.loads(next(batch_lines(event_line(event, None))))
        assert decoders()[record["type"]](record) == event


# -- peers ---------------------------------------------------------------------------------------------------

def _boot() -> Any:
    from ocpp.v16 import call

    return call.BootNotification(charge_point_vendor="VendorX", charge_point_model="Model1")


async def _answering(conn: BackendConnection) -> None:
    """A minimal backend that answers what the tests send and records everything."""
    async for message in conn.ws:
        conn.received.append(message)
        frame = orjson.loads(message)
        if frame[0] != 2:
            continue
        payload: dict[str, Any] = {}
        if frame[2] == "BootNotification":
            payload = {"status": "Accepted", "currentTime": "2024-01-01T00:00:00Z", "interval": 300}
        elif frame[2] == "Heartbeat":
            payload = {"currentTime": "2024-01-01T00:00:00Z"}
        await conn.ws.send(orjson.dumps([3, frame[1], payload]).decode())


async def test_injected_traffic_is_recorded_as_such_and_left_out_of_replay_and_diff(tmp_path: Path) -> None:
    stream = OcppStream("127.0.0.1", 0, TOKEN)
    async with (
        Backend(_answering) as backend,
        open_proxy(backend.url("/ocpp"), addons=[stream], listeners=[OcppCapture(tmp_path)]) as proxy,
    ):
        await wait_for(lambda: stream.server is not None and stream.server.port != 0)
        assert stream.server is not None
        async with (attached(stream.server.url) as (client, seen),
                    charger_connection(proxy.url, "CP01", Charger16) as charger):  # type: ignore[attr-defined]
            await charger.call(_boot())
            await wait_for(lambda: client.state == "connected" and any(r["type"] == "open" for r in seen.records))
            conn = next(r["conn"] for r in seen.records if r["type"] == "open")
            assert await client.inject(conn, "charger", '[2,"inj-1","TriggerMessage",'
                                                        '{"requestedMessage":"Heartbeat"}]') is None
            await charger.wait_for_request("TriggerMessage")
            await wait_for(lambda: any(r.get("ins", {}).get("injected") == "answer" for r in seen.records))
            await asyncio.sleep(0.3)
    [capture] = tmp_path.glob("CP01_*.jsonl")
    events = list(read_capture(capture))
    injected = [orjson.loads(e.content) for e in events if type(e) is Message and e.injected]
    assert injected == [[2, "inj-1", "TriggerMessage", {"requestedMessage": "Heartbeat"}],
                        [3, "inj-1", {"status": "Accepted"}]]
    assert any(type(e) is Message and b"BootNotification" in e.content and not e.injected for e in events)
    # Replayed against a backend, the charger does not answer a TriggerMessage nobody sends, and nothing
    # expects the backend to send one.
    [script] = build_scripts(events, Direction.FROM_CHARGER)
    [connection] = script.connections
    assert [step.action for step in connection.steps if step.kind == "call"] == ["BootNotification"]
    assert "TriggerMessage" not in connection.replies
    # The same session without the injection: nothing differs.
    plain = [e for e in events if not (type(e) is Message and e.injected)]
    differences, _ = diff_events(events, plain)
    assert differences == []

"""call.handler-failed: a CALLERROR that says the receiver's handler crashed, from a real ``ocpp`` backend too."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, RegistrationStatus
from ocppscope.proxy.core.events import ConnectionOpened, Direction, Event, Message
from ocppscope.proxy.core.findings import Severity
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from tests.traffic import Wire, analyze, hits


def _answered(description: str, code: str = "InternalError", message_id: str = "17") -> list[Event]:
    wire = Wire()
    wire.boot()
    wire.cp(f'[2,"{message_id}","StartTransaction",{{"connectorId":1,"idTag":"04E8F1A2","meterStart":0,'
            '"timestamp":"2024-01-01T00:00:00Z"}]')
    wire.cs(f'[4,"{message_id}","{code}",{description},{{}}]')
    return wire.events


@pytest.mark.parametrize("description", [
    '"An unexpected error occurred."',
    '"An internal error occurred and the receiver was not able to process the requested Action successfully"',
    '""',
    "\"Cannot read properties of undefined (reading 'transactionId')\"",
    '"Traceback (most recent call last):\\n  File \\"app.py\\", line 3\\nKeyError: \'idTag\'"',
    '"java.lang.NullPointerException"',
])
def test_stock_and_exception_descriptions_mean_a_crashed_handler(description: str) -> None:
    [failed] = hits(analyze(_answered(description)), "call.handler-failed")
    assert failed.severity is Severity.WARNING and failed.action == "StartTransaction"
    assert failed.message.startswith("the backend's handler for StartTransaction (id 17) crashed")
    assert failed.evidence["call_seq"] == 4 and failed.evidence["error_code"] == "InternalError"


def test_generic_error_from_a_node_backend() -> None:
    events = _answered('"db.query is not a function"', code="GenericError", message_id="a" * 36)
    [failed] = hits(analyze(events), "call.handler-failed")
    assert failed.evidence["why"] == "an exception's message" and "a" * 36 in failed.message


def test_the_charger_crashing_on_a_backend_request() -> None:
    wire = Wire()
    wire.boot()
    wire.cs('[2,"g1","GetConfiguration",{}]')
    wire.cp('[4,"g1","InternalError","Internal error",{}]')
    [failed] = hits(analyze(wire.events), "call.handler-failed")
    assert "the charger's handler for GetConfiguration" in failed.message


@pytest.mark.parametrize(("code", "description"), [
    ("InternalError", '"Transaction 42 is unknown to this backend"'),
    ("GenericError", '"Connector 3 is not defined"'),
    ("NotImplemented", '"An unexpected error occurred."'),
    ("FormationViolation", '""'),
])
def test_a_refusal_that_names_its_reason_is_no_crash(code: str, description: str) -> None:
    assert hits(analyze(_answered(description, code=code)), "call.handler-failed") == []


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Recorder:
    """The charger's side of a real websocket: every frame sent and received becomes an event."""

    def __init__(self, connection: Any, events: list[Event]) -> None:
        self._connection = connection
        self._events = events

    def _record(self, direction: Direction, text: str) -> None:
        self._events.append(Message("c1", time.time(), direction, text.encode(), seq=len(self._events) + 1))

    async def send(self, text: str) -> None:
        self._record(Direction.FROM_CHARGER, text)
        await self._connection.send(text)

    async def recv(self) -> str:
        text = await self._connection.recv()
        self._record(Direction.FROM_BACKEND, text)
        return text


class _CrashingCentralSystem(ChargePoint):
    @on(Action.boot_notification)
    def on_boot(self, **_: Any) -> call_result.BootNotification:
        return call_result.BootNotification(current_time=_now(), interval=300,
                                            status=RegistrationStatus.accepted)

    @on(Action.start_transaction)
    def on_start(self, **_: Any) -> call_result.StartTransaction:
        raise RuntimeError("the tariff service is down")


@pytest.mark.timeout(30)
async def test_a_real_ocpp_backend_whose_handler_raises() -> None:
    async def serve_one(connection: ServerConnection) -> None:
        await _CrashingCentralSystem("CP01", connection).start()

    headers = (("Host", "127.0.0.1"), ("Sec-WebSocket-Protocol", "ocpp1.6"))
    events: list[Event] = [ConnectionOpened("c1", time.time(), "127.0.0.1:1", "/ocpp/CP01", headers,
                                            subprotocol="ocpp1.6")]
    async with serve(serve_one, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:  # type: ignore[list-item]
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CP01", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            charger = ChargePoint("CP01", _Recorder(ws, events))
            reader = asyncio.create_task(charger.start())
            await charger.call(call.BootNotification(charge_point_model="AC22", charge_point_vendor="Acme"))
            await charger.call(call.StartTransaction(connector_id=1, id_tag="04E8F1A2", meter_start=0,
                                                     timestamp=_now()))
            reader.cancel()
    found = analyze(events)
    [failed] = hits(found, "call.handler-failed")
    assert "'An unexpected error occurred.'" in failed.message and "Python ocpp package" in failed.message
    assert [f.rule for f in found if f.severity >= Severity.WARNING] == ["rpc.call-error", "call.handler-failed"]

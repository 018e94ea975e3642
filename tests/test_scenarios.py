"""Every scenario, played end to end by real ``ocpp`` peers through the recording relay on loopback.

Each test checks that the recording shows what the scenario is for, and that it has the same shape as the
bundled capture made from it (so ``python -m ocppscope.proxy.demo.record_captures`` reproduces the committed files).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ocppscope.proxy.capture.reader import read_capture
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Message, header
from ocppscope.proxy.core.payload import timestamp
from ocppscope.proxy.demo.record_captures import main as record_main
from ocppscope.proxy.demo.runner import record_scenario, run_scenario
from ocppscope.proxy.demo.scenarios import AUTH_PASSWORD, CLOCK_AHEAD, SCENARIOS, UNANSWERED_CHARGER_TIMEOUT

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
CP, CS = Direction.FROM_CHARGER, Direction.FROM_BACKEND


@dataclass
class Frame:
    """A recorded message, decoded loosely: enough to say what the scenario put on the wire."""

    event: Message
    value: Any

    @property
    def direction(self) -> Direction:
        return self.event.direction

    @property
    def kind(self) -> Any:
        return self.value[0] if isinstance(self.value, list) and self.value else None

    @property
    def id(self) -> Any:
        return self.value[1] if isinstance(self.value, list) and len(self.value) > 1 else None

    @property
    def action(self) -> str | None:
        return self.value[2] if self.kind == 2 and len(self.value) > 2 else None

    @property
    def payload(self) -> Any:
        return self.value[-1] if isinstance(self.value, list) else None


def frames(events: list[Event]) -> list[Frame]:
    result = []
    for event in events:
        if isinstance(event, Message):
            try:
                value = json.loads(event.content)
            except ValueError:
                value = None
            result.append(Frame(event, value))
    return result


def calls(events: list[Event], direction: Direction) -> list[str | None]:
    return [f.action for f in frames(events) if f.kind == 2 and f.direction is direction]


def answers_to(events: list[Event], action: str) -> list[Frame]:
    """The CALLRESULT/CALLERRORs answering the CALLs of ``action``, in order."""
    ids = {f.id for f in frames(events) if f.action == action}
    return [f for f in frames(events) if f.kind in (3, 4) and f.id in ids]


def opened(events: list[Event]) -> list[ConnectionOpened]:
    return [e for e in events if isinstance(e, ConnectionOpened)]


def closed(events: list[Event]) -> list[ConnectionClosed]:
    return [e for e in events if isinstance(e, ConnectionClosed)]


def skeleton(events: list[Event]) -> list[tuple[Any, ...]]:
    """What stays the same between two recordings of a scenario: order, kinds, actions, handshakes."""
    shape: list[tuple[Any, ...]] = []
    for event in events:
        if isinstance(event, Message):
            frame = Frame(event, frames([event])[0].value)
            shape.append(("message", event.seq, event.conn_id, event.direction, event.is_text, frame.kind,
                          frame.action))
        elif isinstance(event, ConnectionOpened):
            shape.append(("open", event.seq, event.conn_id, event.path, event.status, event.subprotocol))
        elif isinstance(event, ConnectionClosed):
            shape.append(("close", event.seq, event.conn_id, event.code, event.closed_by))
    return shape


def assert_one_clean_connection(events: list[Event], subprotocol: str | None) -> None:
    [handshake] = opened(events)
    assert handshake.status == 101
    assert handshake.subprotocol == subprotocol
    [close] = closed(events)
    assert (close.code, close.closed_by) == (1000, "charger")
    assert events[0] is handshake and events[-1] is close
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


def assert_every_call_answered_once(events: list[Event]) -> None:
    recorded = frames(events)
    call_ids = [f.id for f in recorded if f.kind == 2]
    answer_ids = [f.id for f in recorded if f.kind in (3, 4)]
    assert sorted(call_ids) == sorted(answer_ids)


def shows_clean_ocpp16(events: list[Event]) -> None:
    assert_one_clean_connection(events, "ocpp1.6")
    assert calls(events, CP) == [
        "BootNotification", "StatusNotification", "StatusNotification", "Authorize", "StatusNotification",
        "StartTransaction", "StatusNotification", "MeterValues", "MeterValues", "StopTransaction",
        "StatusNotification", "StatusNotification", "Heartbeat",
    ]
    assert calls(events, CS) == ["GetConfiguration"]
    assert_every_call_answered_once(events)
    assert all(f.kind == 3 for f in frames(events) if f.kind != 2)
    statuses = [f.payload["status"] for f in frames(events) if f.action == "StatusNotification"]
    assert statuses == ["Available", "Available", "Preparing", "Charging", "Finishing", "Available"]
    # The Heartbeat comes after a real interval of silence, as the backend's interval asks.
    recorded = frames(events)
    heartbeat = next(i for i, f in enumerate(recorded) if f.action == "Heartbeat")
    assert recorded[heartbeat].event.time - recorded[heartbeat - 1].event.time >= 1.0


def shows_clean_ocpp201(events: list[Event]) -> None:
    assert_one_clean_connection(events, "ocpp2.0.1")
    assert calls(events, CS) == ["SetVariables", "GetVariables"]
    assert_every_call_answered_once(events)
    assert all(f.kind == 3 for f in frames(events) if f.kind != 2)
    transaction = [f.payload for f in frames(events) if f.action == "TransactionEvent"]
    assert [t["eventType"] for t in transaction] == ["Started", "Updated", "Ended"]
    assert [t["seqNo"] for t in transaction] == [0, 1, 2]
    assert len({t["transactionInfo"]["transactionId"] for t in transaction}) == 1
    assert calls(events, CP)[0] == "BootNotification" and calls(events, CP)[-1] == "Heartbeat"


def shows_schema_violation(events: list[Event]) -> None:
    assert_one_clean_connection(events, "ocpp1.6")
    errors = [(f.value[2], calls_by_id(events)[f.id]) for f in frames(events) if f.kind == 4]
    assert errors == [("ProtocolError", "StatusNotification"), ("TypeConstraintViolation", "MeterValues"),
                      ("FormatViolation", "StopTransaction")]
    [start_answer] = answers_to(events, "StartTransaction")
    assert start_answer.payload["idTagInfo"]["status"] == "Valid"
    [heartbeat_answer] = answers_to(events, "Heartbeat")
    assert not heartbeat_answer.payload["currentTime"].endswith("Z")


def calls_by_id(events: list[Event]) -> dict[Any, str | None]:
    return {f.id: f.action for f in frames(events) if f.kind == 2}


def shows_unknown_ids(events: list[Event]) -> None:
    assert_one_clean_connection(events, "ocpp1.6")
    asked = {f.id for f in frames(events) if f.kind == 2}
    stray_errors = [f for f in frames(events) if f.kind == 4 and f.id not in asked]
    assert len(stray_errors) == 2 and all(f.direction is CS for f in stray_errors)
    heartbeat_answers = answers_to(events, "Heartbeat")
    assert len(heartbeat_answers) == 2 and heartbeat_answers[0].event.content == heartbeat_answers[1].event.content


def shows_unanswered_call(events: list[Event]) -> None:
    assert_one_clean_connection(events, "ocpp1.6")
    recorded = frames(events)
    answered = {f.id for f in recorded if f.kind in (3, 4)}
    [silent] = [f for f in recorded if f.kind == 2 and f.id not in answered]
    assert silent.action == "StatusNotification" and silent.direction is CP
    after = recorded[recorded.index(silent) + 1]
    waited = after.event.time - silent.event.time
    assert UNANSWERED_CHARGER_TIMEOUT <= waited < UNANSWERED_CHARGER_TIMEOUT + 1
    assert after.action == "StatusNotification" and after.payload["connectorId"] == silent.payload["connectorId"]


def shows_boot_loop(events: list[Event]) -> None:
    assert_one_clean_connection(events, "ocpp1.6")
    answers = answers_to(events, "BootNotification")
    assert [a.payload["status"] for a in answers] == ["Pending", "Rejected", "Rejected", "Accepted"]
    boots = [f for f in frames(events) if f.action == "BootNotification"]
    gaps = [later.event.time - answer.event.time for answer, later in zip(answers, boots[1:], strict=False)]
    assert gaps[0] >= 1.0 and gaps[1] < 1.0 and gaps[2] >= 1.0  # the second retry comes too early
    between = calls(events, CP)[calls(events, CP).index("BootNotification") + 2]
    assert between == "StatusNotification"  # sent while Rejected


def shows_missing_subprotocol(events: list[Event]) -> None:
    assert_one_clean_connection(events, None)
    [handshake] = opened(events)
    assert header(handshake.request_headers, "Sec-WebSocket-Protocol") is None
    assert header(handshake.response_headers, "Sec-WebSocket-Protocol") is None
    assert calls(events, CP)[0] == "BootNotification"
    assert_every_call_answered_once(events)


def shows_bad_basic_auth(events: list[Event]) -> None:
    handshakes = opened(events)
    assert [h.status for h in handshakes] == [401, 401, 401, 101]
    assert all(h.path == "/ocpp/CP-AUTH-16" for h in handshakes)
    assert all(header(h.request_headers, "Authorization").startswith("Basic ") for h in handshakes)
    assert all(header(h.response_headers, "WWW-Authenticate") for h in handshakes[:3])
    assert len({header(h.request_headers, "Authorization") for h in handshakes}) == 4
    [close] = closed(events)
    assert close.conn_id == handshakes[-1].conn_id
    assert {e.conn_id for e in events if isinstance(e, Message)} == {handshakes[-1].conn_id}


def shows_broken_frames(events: list[Event]) -> None:
    assert_one_clean_connection(events, "ocpp1.6")
    sent = [f for f in frames(events) if f.direction is CP]
    assert any(b"\n" in f.event.content and f.kind == 2 for f in sent)
    assert [f.kind for f in sent if not f.event.is_text] == [2]
    assert any(f.id == 4711 for f in sent)
    assert any(isinstance(f.id, str) and len(f.id) > 36 for f in sent)
    assert any(f.kind == 2 and len(f.value) == 3 for f in sent)
    assert any(f.value is None for f in sent)  # truncated JSON
    assert any(f.kind == 7 for f in sent)
    # The backend answers what it can parse, and nothing else.
    assert len([f for f in frames(events) if f.direction is CS]) == 6


def shows_meter_values(events: list[Event]) -> None:
    assert_one_clean_connection(events, "ocpp1.6")
    assert calls(events, CS) == ["TriggerMessage"]
    assert_every_call_answered_once(events)
    assert all(f.kind == 3 for f in frames(events) if f.kind != 2)  # every fault is beyond the schema
    [start_answer] = answers_to(events, "StartTransaction")
    assert start_answer.payload["transactionId"] > 2**31 - 1
    values = [s["value"] for f in frames(events) if f.action == "MeterValues"
              for mv in f.payload["meterValue"] for s in mv["sampledValue"]]
    assert "1.8575E+4" in values and "230,1" in values


def shows_vendor_data(events: list[Event]) -> None:
    assert_one_clean_connection(events, "ocpp1.6")
    assert calls(events, CS) == ["GetConfiguration"]
    assert [f.payload["messageId"] for f in frames(events) if f.action == "DataTransfer"] == [
        "Diagnostics", "Counters", "MeterInfo"]
    assert [a.payload["status"] for a in answers_to(events, "DataTransfer")] == ["UnknownVendorId"] * 3
    [refused] = answers_to(events, "SecurityEventNotification")
    assert refused.kind == 4 and refused.value[2] == "NotImplemented"


def shows_measurands_201(events: list[Event]) -> None:
    assert_one_clean_connection(events, "ocpp2.0.1")
    assert calls(events, CS) == ["SetVariables"]
    [answer] = answers_to(events, "SetVariables")
    assert answer.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"
    assert calls(events, CP) == ["BootNotification", "StatusNotification", "NotifyEvent"]


def shows_demo_session(events: list[Event]) -> None:
    assert_one_clean_connection(events, "ocpp1.6")
    assert calls(events, CS) == ["ChangeConfiguration", "GetConfiguration"]
    change = next(f for f in frames(events) if f.action == "ChangeConfiguration")
    assert change.payload["key"] == "AuthorizationKey"
    assert [f.value[2] for f in frames(events) if f.kind == 4] == ["TypeConstraintViolation", "FormatViolation"]
    assert len(answers_to(events, "Heartbeat")) == 2
    start = next(f for f in frames(events) if f.action == "StartTransaction")
    assert not start.payload["timestamp"].endswith("Z")


def stamps(events: list[Event]) -> list[tuple[str | None, float]]:
    """(action, charger timestamp − receipt time) of each charger CALL that carries its own time."""
    found = []
    for f in frames(events):
        if f.kind == 2 and f.direction is CP:
            payload = f.payload
            written = payload.get("timestamp") or payload.get("generatedAt")
            if written is None and payload.get("meterValue"):
                written = payload["meterValue"][-1]["timestamp"]
            if written is not None:
                found.append((f.action, timestamp(written) - f.event.time))
    return found


def shows_clock_ahead(events: list[Event]) -> None:
    assert_one_clean_connection(events, "ocpp2.0.1")
    assert_every_call_answered_once(events)
    assert [action for action, _ in stamps(events)] == ["StatusNotification", "NotifyEvent"]
    assert all(CLOCK_AHEAD - 5 < offset < CLOCK_AHEAD + 5 for _, offset in stamps(events))


def shows_clock_never_set(events: list[Event]) -> None:
    assert_one_clean_connection(events, "ocpp1.6")
    [boot_answer] = answers_to(events, "BootNotification")
    assert boot_answer.payload["currentTime"].endswith("Z")
    written = [f.payload.get("timestamp") or f.payload["meterValue"][0]["timestamp"]
               for f in frames(events) if f.action in ("StatusNotification", "MeterValues")]
    assert len(written) == 3 and all(w.startswith("1970-01-01T00:00:") for w in written)


def shows_offline_replay(events: list[Event]) -> None:
    assert_one_clean_connection(events, "ocpp1.6")
    assert_every_call_answered_once(events)
    assert calls(events, CP) == ["BootNotification", "MeterValues", "MeterValues", "StartTransaction", "MeterValues",
                                 "StopTransaction", "StatusNotification", "StatusNotification"]
    ages = [round(-offset / 60) for _, offset in stamps(events)]
    assert ages == [30, 15, 12, 8, 4, 0, 0]  # minutes: the queue in the order it was filled, then live


def shows_message_relations(events: list[Event]) -> None:
    assert [(o.path, o.status) for o in opened(events)] == [("/ocpp/CP-RELATE-16", 101), ("/ocpp/CP-RESUME-16", 101)]
    assert [(c.code, c.closed_by) for c in closed(events)] == [(1000, "charger"), (1000, "charger")]
    assert_every_call_answered_once(events)
    first, second = (e.conn_id for e in opened(events))
    relate = [e for e in events if e.conn_id == first]
    resume = [e for e in events if e.conn_id == second]
    assert calls(relate, CP)[:2] == ["StatusNotification", "BootNotification"]  # it reports before it boots
    assert calls(relate, CS) == ["TriggerMessage", "TriggerMessage", "RemoteStopTransaction"]
    assert [f.payload["status"] for f in frames(relate) if f.kind == 3 and f.direction is CP] == [
        "Accepted", "Accepted", "Rejected"]
    assert "MeterValues" not in calls(relate, CP)  # the triggered meter values never come
    assert [f.payload["idTag"] for f in frames(relate) if f.action == "StartTransaction"] == ["FreeCharging"]
    assert "BootNotification" not in calls(resume, CP) and "Authorize" not in calls(resume, CP)
    contexts = [f.payload["meterValue"][0]["sampledValue"][0]["context"] for f in frames(resume)
                if f.action == "MeterValues"]
    assert contexts == ["Sample.Periodic", "Trigger"]


SHOWS = {
    "clean-ocpp16": shows_clean_ocpp16,
    "clean-ocpp201": shows_clean_ocpp201,
    "schema-violation": shows_schema_violation,
    "unknown-ids": shows_unknown_ids,
    "unanswered-call": shows_unanswered_call,
    "boot-loop": shows_boot_loop,
    "missing-subprotocol": shows_missing_subprotocol,
    "bad-basic-auth": shows_bad_basic_auth,
    "broken-frames": shows_broken_frames,
    "clock-ahead": shows_clock_ahead,
    "clock-never-set": shows_clock_never_set,
    "offline-replay": shows_offline_replay,
    "meter-values": shows_meter_values,
    "vendor-data": shows_vendor_data,
    "measurands-201": shows_measurands_201,
    "message-relations": shows_message_relations,
    "demo-session": shows_demo_session,
}


def test_every_scenario_is_checked() -> None:
    assert set(SHOWS) == set(SCENARIOS)


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_scenario_through_the_recording_relay(name: str) -> None:
    events = await record_scenario(SCENARIOS[name])
    SHOWS[name](events)
    # Same order, kinds and actions as the bundled capture: regenerating it changes only ids and times.
    assert skeleton(events) == skeleton(list(read_capture(CAPTURES / f"{name}.jsonl")))


async def test_scenarios_run_straight_against_the_backend_too() -> None:
    backend = await run_scenario(SCENARIOS["bad-basic-auth"])
    assert [(status, why) for _, status, why in backend.refused] == [
        (401, "wrong password"),
        (401, "Basic user is not the charger identity"),
        (401, "Basic credentials are not valid base64"),
    ]
    assert backend.boots == {"CP-AUTH-16": 1}
    backend = await run_scenario(SCENARIOS["demo-session"])
    assert backend.boots == {"DEMO-CP-01": 1} and backend.refused == []


def test_record_captures_writes_a_readable_redacted_capture(tmp_path: Path) -> None:
    assert record_main(["bad-basic-auth", "--out", str(tmp_path)]) == 0
    [written] = tmp_path.iterdir()
    assert written.name == "bad-basic-auth.jsonl"
    assert AUTH_PASSWORD.encode() not in written.read_bytes()
    events = list(read_capture(written))
    assert skeleton(events) == skeleton(list(read_capture(CAPTURES / written.name)))

"""TriggerMessage follow-up: the requested message after Accepted (on time, late, never, the wrong one), and
messages that claim to be triggered without a trigger in view. 1.6 and 2.x.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ocppscope.proxy.core.findings import Severity

from tests.traffic import Wire, analyze, hits

NONE, SLOW, WRONG, UNREQUESTED = ("trigger.no-follow-up", "trigger.slow-follow-up", "trigger.wrong-message",
                                  "trigger.unrequested")
TRIGGER_RULES = (NONE, SLOW, WRONG, UNREQUESTED)


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def trigger(wire: Wire, requested: str, status: str = "Accepted", msg_id: str = "t1", pretty: bool = False,
            **where: Any) -> int:
    """The backend sends TriggerMessage and the charger answers ``status``; returns the CALL's seq."""
    seq = wire.cs(json.dumps([2, msg_id, "TriggerMessage", {"requestedMessage": requested, **where}],
                             indent=2 if pretty else None))
    wire.cp(json.dumps([3, msg_id, {"status": status}]), after=0.2)
    return seq


def send(wire: Wire, action: str, payload: dict[str, Any], after: float = 1.0, msg_id: str | None = None,
         answer: dict[str, Any] | None = None) -> int:
    msg_id = msg_id or f"m{wire.seq + 1}"
    seq = wire.cp(json.dumps([2, msg_id, action, payload]), after=after)
    wire.cs(json.dumps([3, msg_id, answer or {}]), after=0.1)
    return seq


def status(wire: Wire, connector: int = 1, after: float = 1.0, msg_id: str | None = None) -> int:
    return send(wire, "StatusNotification", {"connectorId": connector, "errorCode": "NoError",
                                             "status": "Available", "timestamp": iso(wire.time + after)}, after,
                msg_id)


def heartbeat(wire: Wire, after: float = 1.0) -> int:
    return send(wire, "Heartbeat", {}, after, answer={"currentTime": iso(wire.time + after)})


def meter(wire: Wire, context: str | None = "Trigger", connector: int = 1, after: float = 1.0) -> int:
    sample: dict[str, Any] = {"value": "1200"}
    if context is not None:
        sample["context"] = context
    return send(wire, "MeterValues", {"connectorId": connector, "meterValue": [
        {"timestamp": iso(wire.time + after), "sampledValue": [sample]}]}, after)


def trigger_findings(wire: Wire) -> list[tuple[str, int | None, Severity]]:
    return [(f.rule, f.seq, f.severity) for f in analyze(wire.events) if f.rule in TRIGGER_RULES]


def booted() -> Wire:
    wire = Wire()
    wire.boot()
    return wire


# -- the follow-up --------------------------------------------------------------------------------------------

def test_triggered_message_on_time_is_clean() -> None:
    wire = booted()
    trigger(wire, "StatusNotification", msg_id="f" * 36, pretty=True, connectorId=1)
    status(wire, msg_id="0" * 36)
    trigger(wire, "MeterValues", msg_id="t2", connectorId=1)
    meter(wire, "Trigger")
    trigger(wire, "Heartbeat", msg_id="t3")
    heartbeat(wire)
    wire.close()
    assert [f.rule for f in analyze(wire.events)] == ["frame.multiline"]  # info, the pretty-printed CALL


def test_late_follow_up_says_how_late() -> None:
    wire = booted()
    trigger(wire, "StatusNotification", connectorId=1)
    seq = status(wire, after=25)
    findings = hits(analyze(wire.events), SLOW)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.INFO)]
    assert "25.0 s after" in findings[0].message and findings[0].evidence["waited"] == 25.0


def test_follow_up_that_never_comes_within_the_bound() -> None:
    wire = booted()
    seq = trigger(wire, "MeterValues", connectorId=1)
    hb1 = heartbeat(wire, after=30)
    heartbeat(wire, after=40)
    findings = hits(analyze(wire.events), NONE)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.WARNING)]
    assert "within 60 s" in findings[0].message and f"Heartbeat (#{hb1})" in findings[0].message


def test_follow_up_missing_at_close_or_at_the_end() -> None:
    wire = booted()
    seq = trigger(wire, "StatusNotification")
    wire.close(after=3)
    findings = hits(analyze(wire.events), NONE)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.WARNING)]
    assert "before the connection closed" in findings[0].message
    wire = booted()
    seq = trigger(wire, "StatusNotification")
    wire.cs('[2,"g","GetConfiguration",{}]', after=90)
    wire.cp('[3,"g",{"configurationKey":[]}]')
    findings = hits(analyze(wire.events), NONE)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.WARNING)]
    assert "until the capture ended" in findings[0].message
    wire = booted()  # the capture ends 5 s after: the message may still come
    trigger(wire, "StatusNotification")
    wire.cs('[2,"g","GetConfiguration",{}]', after=5)
    wire.cp('[3,"g",{"configurationKey":[]}]')
    assert trigger_findings(wire) == []


def test_rejected_or_unsupported_triggers_need_no_follow_up() -> None:
    wire = booted()
    trigger(wire, "MeterValues", status="Rejected")
    trigger(wire, "DiagnosticsStatusNotification", status="NotImplemented", msg_id="t2")
    wire.close(after=70)
    assert trigger_findings(wire) == []


def test_message_sent_before_the_trigger_answer_counts() -> None:
    wire = booted()
    wire.cs('[2,"t1","TriggerMessage",{"requestedMessage":"StatusNotification","connectorId":1}]')
    status(wire, after=0.1)
    wire.cp('[3,"t1",{"status":"Accepted"}]')
    wire.close(after=3)
    assert trigger_findings(wire) == []


def test_status_trigger_without_connector_and_other_connectors_first() -> None:
    wire = booted()
    trigger(wire, "StatusNotification")
    status(wire, 0)
    status(wire, 1)
    trigger(wire, "MeterValues", msg_id="t2", connectorId=1)
    meter(wire, "Sample.Periodic", connector=2)  # connector 2's periodic values: not the triggered ones
    meter(wire, "Trigger", connector=1)
    wire.close()
    assert trigger_findings(wire) == []


def test_wrong_message_marked_triggered() -> None:
    wire = booted()
    seq_trigger = trigger(wire, "StatusNotification", connectorId=1)
    seq = meter(wire, "Trigger")
    wire.close(after=2)
    findings = [(f.rule, f.seq, f.severity) for f in analyze(wire.events) if f.rule in TRIGGER_RULES]
    assert findings == [(WRONG, seq, Severity.WARNING), (NONE, seq_trigger, Severity.WARNING)]
    none = hits(analyze(wire.events), NONE)[0]
    assert f"MeterValues (#{seq})" in none.message


# -- claims of a trigger --------------------------------------------------------------------------------------

def test_meter_values_claiming_a_trigger_after_a_boot_in_view() -> None:
    wire = booted()
    seq = meter(wire, "Trigger")
    meter(wire, "Trigger")  # said once per connection
    findings = hits(analyze(wire.events), UNREQUESTED)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.WARNING)]
    assert "booted on this connection (#2)" in findings[0].message


def test_claims_without_boot_or_handshake_in_view_are_info() -> None:
    wire = Wire()  # a reconnect without boot
    seq = meter(wire, "Trigger")
    assert trigger_findings(wire) == [(UNREQUESTED, seq, Severity.INFO)]
    wire = Wire(opened=False)
    seq = meter(wire, "Trigger")
    findings = hits(analyze(wire.events), UNREQUESTED)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.INFO)]
    assert "mid-connection" in findings[0].message


def test_a_trigger_on_the_previous_connection_explains_a_queued_claim() -> None:
    first = Wire(conn_id="c1")
    first.boot()
    trigger(first, "MeterValues", connectorId=1)
    first.close()
    second = Wire(conn_id="c2", t0=first.time + 5)
    meter(second, "Trigger")
    assert [f for f in analyze(first.events + second.events) if f.rule in (UNREQUESTED, WRONG)] == []


def test_plain_meter_values_claim_nothing() -> None:
    wire = booted()
    meter(wire, None)
    meter(wire, "Sample.Periodic")
    assert trigger_findings(wire) == []


# -- 2.x ------------------------------------------------------------------------------------------------------

def wire201() -> Wire:
    wire = Wire(subprotocol="ocpp2.0.1")
    send(wire, "BootNotification", {"reason": "PowerUp", "chargingStation": {"model": "DC50", "vendorName": "Acme"}},
         answer={"currentTime": iso(wire.time), "interval": 300, "status": "Accepted"}, msg_id="boot")
    return wire


def event(wire: Wire, trigger_reason: str, after: float = 1.0) -> int:
    return send(wire, "TransactionEvent", {"eventType": "Updated", "timestamp": iso(wire.time + after),
                                           "triggerReason": trigger_reason, "seqNo": 1,
                                           "transactionInfo": {"transactionId": "TX-1"}}, after)


def test_201_transaction_event_triggered_and_claimed() -> None:
    wire = wire201()
    send(wire, "TransactionEvent", {"eventType": "Started", "timestamp": iso(wire.time + 1),
                                    "triggerReason": "CablePluggedIn", "seqNo": 0,
                                    "transactionInfo": {"transactionId": "TX-1"}})
    trigger(wire, "TransactionEvent", evse={"id": 1})
    event(wire, "Trigger")
    assert trigger_findings(wire) == []
    seq = event(wire, "Trigger", after=120)  # long after, nothing asked for it
    assert trigger_findings(wire) == [(UNREQUESTED, seq, Severity.WARNING)]


def test_201_status_trigger_never_answered_by_the_station() -> None:
    wire = wire201()
    seq = trigger(wire, "StatusNotification", evse={"id": 1, "connectorId": 1})
    hb = heartbeat(wire, after=61)
    findings = hits(analyze(wire.events), NONE)
    assert [(f.seq, f.severity) for f in findings] == [(seq, Severity.WARNING)]
    assert f"Heartbeat (#{hb})" in findings[0].message

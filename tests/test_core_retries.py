"""call.retry-loop: one CALL resent unchanged and refused the same way, and the legal traffic it must leave alone."""

from __future__ import annotations

import json
import uuid
from typing import Any

from ocppscope.proxy.core.findings import Severity

from tests.traffic import Wire, analyze, hits

STATUS = {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted"}


def _send(wire: Wire, action: str, payload: Any, answer: str, *, after: float = 30.0, message_id: str | None = None,
          backend: bool = False, pretty: bool = False) -> None:
    """One CALL and its answer (``answer`` is the answer frame's JSON after the id)."""
    message_id = message_id or uuid.uuid4().hex[:8]
    text = json.dumps([2, message_id, action, payload], indent=2 if pretty else None)
    reply = f'[{answer[0]},"{message_id}",{answer[2:]}]'
    if backend:
        wire.cs(text, after=after)
        wire.cp(reply, after=0.2)
    else:
        wire.cp(text, after=after)
        wire.cs(reply, after=0.2)


def test_a_refused_status_notification_resent_three_times() -> None:
    wire = Wire()
    wire.boot()
    for minute in range(3):
        payload = {**STATUS, "timestamp": f"2024-01-01T00:0{minute}:00Z"}  # restamped on each resend
        _send(wire, "StatusNotification", payload, '4,"FormationViolation","errorCode unknown",{}')
    [loop] = hits(analyze(wire.events), "call.retry-loop")
    assert loop.severity is Severity.WARNING and loop.action == "StatusNotification"
    assert loop.evidence["attempts"] == 3 and loop.evidence["answer"] == "CALLERROR FormationViolation"
    assert loop.evidence["sender"] == "charger" and 30 <= loop.evidence["period"] <= 31
    assert "3 times with the same payload, one every 30 s" in loop.message
    assert "answered CALLERROR FormationViolation each time" in loop.message


def test_the_backend_looping_on_a_rejected_remote_start() -> None:
    wire = Wire()
    wire.boot()
    for _ in range(4):
        _send(wire, "RemoteStartTransaction", {"idTag": "04E8F1A2"}, '3,{"status":"Rejected"}', backend=True)
    [loop] = hits(analyze(wire.events), "call.retry-loop")  # once per run, not at the fourth again
    assert loop.evidence["sender"] == "backend" and loop.evidence["answer"] == "Rejected"
    assert "the charger answered Rejected each time" in loop.message


def test_a_loop_across_reconnects_of_one_charger() -> None:
    events = []
    t0 = Wire().time
    for number in range(3):
        wire = Wire(conn_id=f"c{number}", t0=t0 + 120 * number)
        _send(wire, "DataTransfer", {"vendorId": "com.acme", "messageId": "Tariff"}, '3,{"status":"UnknownVendorId"}')
        wire.close(code=1006)
        events += wire.events
    [loop] = hits(analyze(events), "call.retry-loop")
    assert loop.evidence["answer"] == "UnknownVendorId" and loop.conn_id == "c2"


def test_legal_variants_are_the_same_call() -> None:
    """36-character ids, pretty-printed JSON and key order do not make a resend a different request."""
    wire = Wire()
    wire.boot()
    payloads = [STATUS, dict(reversed(STATUS.items())), STATUS]
    for number, payload in enumerate(payloads):
        _send(wire, "StatusNotification", payload, '4,"InternalError","",{}', message_id=str(uuid.uuid4()),
              pretty=number == 1)
    assert len(hits(analyze(wire.events), "call.retry-loop")) == 1


def test_an_authorize_loop_may_be_a_driver() -> None:
    wire = Wire()
    wire.boot()
    for _ in range(3):
        _send(wire, "Authorize", {"idTag": "BLOCKED01"}, '3,{"idTagInfo":{"status":"Blocked"}}', after=8)
    [loop] = hits(analyze(wire.events), "call.retry-loop")
    assert loop.severity is Severity.INFO and loop.evidence["answer"] == "Blocked"


def test_must_not_flag_what_is_no_pointless_retry() -> None:
    wire = Wire()
    wire.boot()
    # twice only
    for _ in range(2):
        _send(wire, "StatusNotification", STATUS, '4,"FormationViolation","",{}')
    # a different payload each time (the status changes), optional fields absent
    for status in ("Available", "Preparing", "Charging"):
        _send(wire, "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": status},
              '4,"InternalError","",{}')
    # accepted: resending what succeeded is no loop of refusals
    for _ in range(3):
        _send(wire, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "60"},
              '3,{"status":"Accepted"}', backend=True)
    # the answer changes between attempts
    for answer in ('3,{"status":"Rejected"}', '3,{"status":"Accepted"}', '3,{"status":"Rejected"}'):
        _send(wire, "RemoteStopTransaction", {"transactionId": 7}, answer, backend=True)
    # periodic by design, and boots have their own rules
    for _ in range(4):
        _send(wire, "Heartbeat", {}, '4,"InternalError","",{}')
    assert hits(analyze(wire.events), "call.retry-loop") == []


def test_an_unreadable_payload_is_compared_without_raising() -> None:
    wire = Wire()
    wire.boot()
    for _ in range(3):
        wire.cp('[2,"x1","StatusNotification",[1,2,' + "9" * 30 + "]]", after=5)
        wire.cs('[4,"x1","FormationViolation","",{}]')
    found = analyze(wire.events)
    assert [f for f in found if f.rule == "ocppscope.internal-error"] == []
    assert len(hits(found, "call.retry-loop")) == 1

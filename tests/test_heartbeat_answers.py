"""Heartbeats judged per answered CALL, and a charger silent past its HeartbeatInterval before the close."""

from __future__ import annotations

import json
import uuid

import pytest
from ocppscope.proxy.core.findings import Severity
from ocppscope.proxy.diagnose import diagnose

from tests.traffic import Wire, analyze, hits

ANSWER = '[3,"{}",{{"currentTime":"2024-01-01T00:00:00Z"}}]'


def test_one_heartbeat_sent_twice_under_one_id_is_one_heartbeat() -> None:
    wire = Wire()
    wire.boot(interval=300)
    for beat in range(3):
        message_id = str(uuid.uuid4())
        wire.cp(f'[2,"{message_id}","Heartbeat",{{}}]', after=300)
        wire.cp(f'[2,"{message_id}","Heartbeat",{{}}]', after=0.05)  # the same frame again, back to back
        wire.cs(ANSWER.format(message_id))
        if beat == 2:
            wire.cs(ANSWER.format(message_id))  # and answered twice
    found = analyze(wire.events)
    assert hits(found, "heartbeat.too-frequent") == [] and hits(found, "heartbeat.late") == []
    assert len(hits(found, "rpc.duplicate-id")) == 3


def test_answered_heartbeats_too_close_together_are_still_too_frequent() -> None:
    wire = Wire()
    wire.boot(interval=300)
    seqs = []
    for number in range(3):
        seqs.append(wire.cp(f'[2,"h{number}","Heartbeat",{{}}]', after=60))
        wire.cs(ANSWER.format(f"h{number}"), after=0.3)
    found = hits(analyze(wire.events), "heartbeat.too-frequent")
    assert [f.seq for f in found] == seqs[1:]  # on the CALL, though judged at its answer
    assert found[0].evidence == {"gap": 60.3, "interval": 300}


def _silent_then_closed(closed_by: str, code: int, silence: float, interval_frames: list[str]) -> Wire:
    wire = Wire()
    for frame in interval_frames:
        (wire.cp if frame.startswith("cp:") else wire.cs)(frame[3:])
    wire.cp('[2,"h1","Heartbeat",{}]', after=60)
    wire.cs(ANSWER.format("h1"))
    wire.close(code=code, after=silence, closed_by=closed_by)
    return wire


BOOT = ['cp:[2,"b","BootNotification",{"chargePointVendor":"Acme","chargePointModel":"AC22"}]',
        'cs:' + json.dumps([3, "b", {"status": "Accepted", "currentTime": "2024-01-01T00:00:00Z", "interval": 60}],
                           indent=2)]
CHANGED = ['cs:[2,"c1","ChangeConfiguration",{"key":"heartbeatinterval","value":"60"}]',
           'cp:[3,"c1",{"status":"Accepted"}]']


@pytest.mark.parametrize(("closed_by", "code", "frames"), [
    ("backend", 1000, BOOT), ("charger", 1006, BOOT), ("unknown", 1006, CHANGED), ("charger", 1001, CHANGED)])
def test_silent_past_the_interval_then_closed(closed_by: str, code: int, frames: list[str]) -> None:
    wire = _silent_then_closed(closed_by, code, 400, frames)
    [silent] = hits(analyze(wire.events), "heartbeat.silent-before-close")
    assert silent.severity is Severity.WARNING and silent.seq == wire.seq
    assert silent.evidence == {"silence": 400.2, "interval": 60, "closed_by": closed_by, "close_code": code}
    assert silent.message.startswith("the charger sent nothing for 400 s (6.7 × the HeartbeatInterval 60 s")


def test_must_not_flag_a_close_within_the_interval_or_without_one() -> None:
    within = _silent_then_closed("backend", 1000, 90, BOOT)  # 1.5 × 60 + 5 = 95
    unknown = _silent_then_closed("backend", 1000, 400, [])
    disabled = _silent_then_closed("charger", 1006, 400, [
        'cp:[2,"b","BootNotification",{"chargePointVendor":"Acme","chargePointModel":"AC22"}]',
        'cs:[3,"b",{"status":"Accepted","currentTime":"2024-01-01T00:00:00Z","interval":0}]'])
    for wire in (within, unknown, disabled):
        assert hits(analyze(wire.events), "heartbeat.silent-before-close") == []


def test_diagnose_ranks_the_silence_even_when_only_the_rule_knew_the_interval() -> None:
    wire = _silent_then_closed("backend", 1000, 400, CHANGED)
    [charger] = diagnose(wire.events).chargers
    assert charger.causes[0].kind == "missing-heartbeats"
    assert charger.causes[0].facts["interval"] == 60

"""Heartbeat cadence against the interval from BootNotification, ChangeConfiguration and SetVariables."""

from __future__ import annotations

from tests.traffic import Wire, analyze, hits, rules

HB = '[2,"{}","Heartbeat",{{}}]'
HB_ANSWER = '[3,"{}",{{"currentTime":"2024-01-01T00:00:00Z"}}]'


def beats(wire: Wire, gaps: list[float]) -> list[int]:
    seqs = []
    for n, gap in enumerate(gaps):
        seqs.append(wire.cp(HB.format(f"h{n}"), after=gap))
        wire.cs(HB_ANSWER.format(f"h{n}"))
    return seqs


def test_regular_heartbeats_are_clean() -> None:
    wire = Wire()
    wire.boot(interval=300)
    beats(wire, [300, 300, 300])
    assert analyze(wire.events) == []


def test_late_heartbeat() -> None:
    wire = Wire()
    wire.boot(interval=300)
    seqs = beats(wire, [300, 600, 300])
    assert [f.seq for f in hits(analyze(wire.events), "heartbeat.late")] == [seqs[1]]


def test_other_traffic_counts_as_activity() -> None:
    wire = Wire()
    wire.boot(interval=300)
    beats(wire, [300])
    wire.cp('[2,"s","StatusNotification",{"connectorId":1,"status":"Charging","errorCode":"NoError"}]', after=290)
    wire.cs('[3,"s",{}]')
    beats(wire, [300])
    assert "heartbeat.late" not in rules(analyze(wire.events))


def test_too_frequent() -> None:
    wire = Wire()
    wire.boot(interval=300)
    seqs = beats(wire, [60, 60])
    assert [f.seq for f in hits(analyze(wire.events), "heartbeat.too-frequent")] == [seqs[1]]


def test_interval_from_change_configuration() -> None:
    wire = Wire()
    wire.boot(interval=300)
    wire.cs('[2,"c","ChangeConfiguration",{"key":"HeartbeatInterval","value":"60"}]')
    wire.cp('[3,"c",{"status":"Accepted"}]')
    seqs = beats(wire, [60, 60, 200])
    found = analyze(wire.events)
    assert [f.seq for f in hits(found, "heartbeat.late")] == [seqs[2]]
    assert "heartbeat.too-frequent" not in rules(found)


def test_rejected_change_keeps_old_interval() -> None:
    wire = Wire()
    wire.boot(interval=300)
    wire.cs('[2,"c","ChangeConfiguration",{"key":"HeartbeatInterval","value":"60"}]')
    wire.cp('[3,"c",{"status":"Rejected"}]')
    beats(wire, [300, 300])
    assert analyze(wire.events) == []


def test_interval_from_201_set_variables() -> None:
    wire = Wire(subprotocol="ocpp2.0.1")
    wire.cp('[2,"b","BootNotification",{"chargingStation":{"model":"M","vendorName":"V"},"reason":"PowerUp"}]')
    wire.cs('[3,"b",{"status":"Accepted","currentTime":"2024-01-01T00:00:00Z","interval":300}]')
    wire.cs('[2,"v","SetVariables",{"setVariableData":[{"attributeValue":"30","component":{"name":"OCPPCommCtrlr"},'
            '"variable":{"name":"HeartbeatInterval"}}]}]')
    wire.cp('[3,"v",{"setVariableResult":[{"attributeStatus":"Accepted","component":{"name":"OCPPCommCtrlr"},'
            '"variable":{"name":"HeartbeatInterval"}}]}]')
    seqs = beats(wire, [30, 5])
    found = analyze(wire.events)
    assert [f.seq for f in hits(found, "heartbeat.too-frequent")] == [seqs[1]]

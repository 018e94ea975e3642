"""Requests a charger sends on a connection before its BootNotification (boot.request-before-boot).

What comes after the BootNotification (before its answer, while Pending or Rejected) is test_core_boot.py's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ocppscope.proxy.core.checks.registration import WINDOW_CALLS, WINDOW_SECONDS
from ocppscope.proxy.core.events import ConnectionOpened
from ocppscope.proxy.core.findings import Severity

from tests.traffic import BOOT_16, T0, Wire, analyze, hits

RULE = "boot.request-before-boot"


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def send(wire: Wire, action: str, payload: dict[str, Any], answer: dict[str, Any] | None = None,
         after: float = 1.0, msg_id: str | None = None, pretty: bool = False) -> int:
    msg_id = msg_id or f"m{wire.seq + 1}"
    seq = wire.cp(json.dumps([2, msg_id, action, payload], indent=2 if pretty else None), after=after)
    wire.cs(json.dumps([3, msg_id, answer or {}]), after=0.1)
    return seq


def status(wire: Wire, after: float = 1.0, **kw: Any) -> int:
    return send(wire, "StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available",
                                             "timestamp": iso(wire.time + after)}, after=after, **kw)


def heartbeat(wire: Wire, after: float = 1.0) -> int:
    return send(wire, "Heartbeat", {}, {"currentTime": iso(wire.time + after)}, after=after)


def boot(wire: Wire, after: float = 1.0) -> int:
    return send(wire, "BootNotification", json.loads(BOOT_16),
                {"status": "Accepted", "currentTime": iso(wire.time + after), "interval": 300}, after=after)


def test_requests_before_the_boot_on_a_connection_in_view() -> None:
    wire = Wire()
    first = status(wire)
    second = heartbeat(wire)
    boot_seq = boot(wire)
    findings = analyze(wire.events)
    found = hits(findings, RULE)
    assert [(f.seq, f.severity) for f in found] == [(first, Severity.WARNING)]
    assert f"StatusNotification (#{first}), Heartbeat (#{second})" in found[0].message
    assert f"BootNotification (#{boot_seq})" in found[0].message and found[0].evidence["count"] == 2
    assert "boot.request-before-accepted" not in {f.rule for f in findings}  # that rule is for after the boot


def test_capture_begun_mid_connection_then_a_boot_is_info() -> None:
    wire = Wire(opened=False)
    first = status(wire)
    boot(wire)
    found = hits(analyze(wire.events), RULE)
    assert [(f.seq, f.severity) for f in found] == [(first, Severity.INFO)]
    assert "mid-connection" in found[0].message
    wire = Wire(opened=False)
    wire.events.append(ConnectionOpened("c1", T0, "", "/ocpp/CP01", subprotocol="ocpp1.6", synthetic=True))
    first = status(wire)
    boot(wire)
    assert [(f.seq, f.severity) for f in hits(analyze(wire.events), RULE)] == [(first, Severity.INFO)]


def test_many_requests_are_counted_and_listed_in_part() -> None:
    wire = Wire()
    first = status(wire)
    for _ in range(6):
        heartbeat(wire)
    boot(wire)
    found = hits(analyze(wire.events), RULE)
    assert [f.seq for f in found] == [first]
    assert found[0].evidence["count"] == 7 and "and 2 more" in found[0].message


def test_201_station_reporting_before_its_boot() -> None:
    wire = Wire(subprotocol="ocpp2.0.1")
    first = send(wire, "StatusNotification", {"timestamp": iso(wire.time + 1), "connectorStatus": "Available",
                                              "evseId": 1, "connectorId": 1})
    send(wire, "BootNotification", {"reason": "PowerUp", "chargingStation": {"model": "DC50", "vendorName": "A"}},
         {"currentTime": iso(wire.time + 1), "interval": 300, "status": "Accepted"})
    assert [(f.seq, f.severity) for f in hits(analyze(wire.events), RULE)] == [(first, Severity.WARNING)]


def test_boot_first_and_connections_that_never_boot_are_clean() -> None:
    wire = Wire()
    boot(wire, after=0.5)
    status(wire, pretty=True, msg_id="s" * 36)
    assert [f.rule for f in analyze(wire.events)] == ["frame.multiline"]  # info, the layout
    wire = Wire()  # a reconnect: no boot needed
    status(wire)
    heartbeat(wire)
    wire.close()
    assert analyze(wire.events) == []


def test_boot_the_backend_asked_for() -> None:
    wire = Wire()
    status(wire)
    wire.cs('[2,"t","TriggerMessage",{"requestedMessage":"BootNotification"}]')
    wire.cp('[3,"t",{"status":"Accepted"}]')
    boot(wire)
    assert hits(analyze(wire.events), RULE) == []
    wire = Wire()
    status(wire)
    wire.cs('[2,"r","Reset",{"type":"Soft"}]')
    wire.cp('[3,"r",{"status":"Accepted"}]')
    boot(wire)
    assert hits(analyze(wire.events), RULE) == []


def test_a_boot_long_into_the_connection_is_a_reboot_not_judged() -> None:
    wire = Wire()
    for _ in range(WINDOW_CALLS + 1):
        heartbeat(wire)
    boot(wire)
    assert hits(analyze(wire.events), RULE) == []
    wire = Wire()
    status(wire)
    heartbeat(wire, after=WINDOW_SECONDS + 1)
    boot(wire)
    assert hits(analyze(wire.events), RULE) == []
    wire = Wire()
    status(wire)
    boot(wire, after=WINDOW_SECONDS + 1)
    assert hits(analyze(wire.events), RULE) == []

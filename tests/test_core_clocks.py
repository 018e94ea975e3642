"""Clock rules: every timestamp a charger writes against the moment its frame was received.

Each rule has a stream that triggers it and the legal variants that must not: a few seconds of skew,
fractional seconds, any RFC 3339 offset, queued messages after a reconnect (info, never a warning).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocppscope.proxy.core.checks.clocks import charger_stamp, zone_like
from ocppscope.proxy.core.events import ConnectionOpened
from ocppscope.proxy.core.findings import Severity

from tests.traffic import T0, Wire, analyze, hits

CLOCK_RULES = ("clock.ahead", "clock.queued", "clock.behind", "clock.never-set", "clock.offline-transaction")


def stamp(offset: float, *, zone: str = "Z", fraction: bool = True, base: float = 0.0) -> str:
    """The wire time ``offset`` seconds from the next frame's receipt (``base``), written as firmware does."""
    moment = datetime.fromtimestamp(base + offset, UTC)
    if zone != "Z":
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        shift = timedelta(hours=hours, minutes=minutes) * (1 if zone[0] == "+" else -1)
        text = (moment + shift).strftime("%Y-%m-%dT%H:%M:%S") + zone  # the wall time of that zone
    else:
        text = moment.strftime("%Y-%m-%dT%H:%M:%S") + ("." + moment.strftime("%f")[:3] if fraction else "") + "Z"
    return text


def send(wire: Wire, action: str, payload: dict[str, Any], after: float = 1.0, msg_id: str | None = None) -> int:
    msg_id = msg_id or f"m{wire.seq}"
    seq = wire.cp(json.dumps([2, msg_id, action, payload]), after=after)
    wire.cs(f'[3,"{msg_id}",{{}}]', after=0.1)
    return seq


def status(wire: Wire, offset: float, after: float = 1.0, **kw: Any) -> int:
    """A StatusNotification stamped ``offset`` seconds from its own receipt."""
    at = wire.time + after
    return send(wire, "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": stamp(offset, base=at,
                                                                                                   **kw)}, after)


def clock_findings(wire: Wire) -> list[tuple[str, int | None]]:
    return [(f.rule, f.seq) for f in analyze(wire.events) if f.rule.startswith("clock.")]


def booted(**kw: Any) -> Wire:
    wire = Wire(**kw)
    wire.boot()
    return wire


# -- what a charger's timestamp is -------------------------------------------------------------------------------

def test_the_stamp_of_each_action() -> None:
    assert charger_stamp("StatusNotification", {"timestamp": "2024-01-01T00:00:00Z"})[0] == 1704067200.0
    assert charger_stamp("NotifyEvent", {"generatedAt": "2024-01-01T00:00:00+01:00"})[0] == 1704063600.0
    values = {"meterValue": [{"timestamp": "2024-01-01T00:00:00Z"}, {"timestamp": "2024-01-01T00:05:00Z"}]}
    assert charger_stamp("MeterValues", values)[1] == "2024-01-01T00:05:00Z"  # the latest sample
    assert charger_stamp("Heartbeat", {}) is None
    for junk in (None, [], "x", 5, {"timestamp": 5}, {"timestamp": "soon"}, {"meterValue": [1, None, "x"]},
                 {"timestamp": "9999-12-31T23:59:59-01:00"}):
        assert charger_stamp("StatusNotification", junk) is None
        assert charger_stamp("MeterValues", junk) is None


def test_zone_like_offsets() -> None:
    assert zone_like(3600) and zone_like(-7200 + 20) and zone_like(19800)  # +05:30
    assert not zone_like(0) and not zone_like(1800 + 300) and not zone_like(20 * 3600)


# -- legal variants --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("offset", [0.0, 3.5, -4.0, 59.0, -59.0])
def test_a_few_seconds_of_skew_are_no_finding(offset: float) -> None:
    wire = booted()
    status(wire, offset)
    status(wire, offset, fraction=False)
    assert clock_findings(wire) == []


@pytest.mark.parametrize("zone", ["+02:00", "-05:00", "+05:30", "+00:00"])
def test_any_rfc3339_offset_reads_the_same_instant(zone: str) -> None:
    wire = booted()
    status(wire, 1.0, zone=zone)
    assert clock_findings(wire) == []


def test_pretty_printed_frame_and_any_id_of_36_characters() -> None:
    wire = booted()
    at = wire.time + 1
    frame = [2, "x" * 36, "StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available",
                                                 "timestamp": stamp(2, base=at)}]
    wire.cp(json.dumps(frame, indent=2))
    wire.cs(f'[3,"{"x" * 36}",{{}}]')
    assert clock_findings(wire) == []


def test_optional_timestamp_absent_and_payloads_of_any_shape() -> None:
    wire = booted()
    send(wire, "StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available"})
    for n, junk in enumerate(([], "x", 5, None, {"meterValue": "x"}, {"meterValue": [{"timestamp": []}]})):
        wire.cp(json.dumps([2, f"j{n}", "MeterValues", junk]))
    wire.cp('[2,"t","TransactionEvent",{"offline":"yes","timestamp":7}]')
    found = analyze(wire.events)
    assert [f for f in found if f.rule.startswith("clock.") or f.rule == "ocppscope.internal-error"] == []


# -- ahead -----------------------------------------------------------------------------------------------------

def test_clock_ahead_once_per_stretch() -> None:
    wire = booted()
    first = status(wire, 600)
    status(wire, 601)
    status(wire, 0)  # back in step
    again = status(wire, 3600)
    found = analyze(wire.events)
    ahead = hits(found, "clock.ahead")
    assert [f.seq for f in ahead] == [first, again]
    assert ahead[0].severity is Severity.WARNING
    assert "10 min ahead" in ahead[0].message and "StatusNotification" in ahead[0].message
    assert ahead[0].evidence["ahead"] == pytest.approx(600, abs=0.01)


def test_meter_values_2x_transaction_event_and_notify_event_are_read() -> None:
    wire = booted(subprotocol="ocpp2.0.1")
    at = wire.time + 1
    event = send(wire, "NotifyEvent", {"generatedAt": stamp(900, base=at), "seqNo": 0, "eventData": []})
    wire2 = booted(subprotocol="ocpp2.0.1")
    at = wire2.time + 1
    meter = send(wire2, "MeterValues", {"evseId": 1, "meterValue": [
        {"timestamp": stamp(-5, base=at), "sampledValue": [{"value": 1}]},
        {"timestamp": stamp(900, base=at), "sampledValue": [{"value": 2}]}]})
    assert clock_findings(wire) == [("clock.ahead", event)]
    assert clock_findings(wire2) == [("clock.ahead", meter)]


# -- queued, behind -------------------------------------------------------------------------------------------

def test_queued_messages_after_a_reconnect_are_one_info() -> None:
    wire = booted()
    first = status(wire, -7200, after=0.2)
    for age in (-6000, -4000, -2000):
        status(wire, age, after=0.1)
    status(wire, 0)
    found = analyze(wire.events)
    assert [(f.rule, f.seq) for f in found if f.rule.startswith("clock.")] == [("clock.queued", first)]
    [queued] = hits(found, "clock.queued")
    assert queued.severity is Severity.INFO
    assert "2.0 h later" in queued.message and "after the connection opened" in queued.message
    assert "clock.ahead" not in {f.rule for f in found}


def test_a_clock_that_runs_behind_holds_its_offset_over_minutes() -> None:
    wire = booted()
    first = status(wire, -900)
    for _ in range(3):
        last = status(wire, -900, after=60)
    found = hits(analyze(wire.events), "clock.behind")
    assert [f.seq for f in found] == [last - 2]  # the first frame 120 s after the first of the run
    assert found[0].evidence["first_seq"] == first and "15 min behind" in found[0].message
    assert last


# -- never set ---------------------------------------------------------------------------------------------------

def test_clock_never_set_names_the_boots_current_time() -> None:
    wire = booted()
    seq = send(wire, "StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available",
                                           "timestamp": "1970-01-01T00:03:12Z"})
    send(wire, "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available",
                                      "timestamp": "1970-01-01T00:03:13Z"})
    [never] = hits(analyze(wire.events), "clock.never-set")
    assert never.seq == seq and never.severity is Severity.WARNING
    assert "currentTime 2024-01-01T00:00:00Z" in never.message and "(#3)" in never.message
    assert "53.9 years behind" in never.message
    assert never.evidence["boot_current_time"] == "2024-01-01T00:00:00Z"
    assert [f.rule for f in analyze(wire.events) if f.rule.startswith("clock.")] == ["clock.never-set"]


def test_clock_never_set_without_a_boot_in_view_and_years_ahead() -> None:
    wire = Wire()
    at = wire.time + 1
    send(wire, "StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available",
                                      "timestamp": stamp(3 * 365 * 86400, base=at)})
    [never] = hits(analyze(wire.events), "clock.never-set")
    assert "ahead of its receipt" in never.message and "no BootNotification answer" in never.message


# -- offline transactions ----------------------------------------------------------------------------------------

def test_transaction_stamped_before_the_boot_is_replayed_offline() -> None:
    wire = Wire()
    boot_at = wire.time + 1
    wire.boot()
    start = send(wire, "StartTransaction", {"connectorId": 1, "idTag": "04A2", "meterStart": 0,
                                            "timestamp": stamp(-3600, base=boot_at)}, after=0.3)
    stop = send(wire, "StopTransaction", {"transactionId": 7, "meterStop": 900,
                                          "timestamp": stamp(-600, base=boot_at)}, after=0.3)
    found = analyze(wire.events)
    offline = hits(found, "clock.offline-transaction")
    assert [f.seq for f in offline] == [start, stop]
    assert all(f.severity is Severity.INFO for f in offline)
    assert "60 min before its BootNotification (#2)" in offline[0].message
    assert "transaction 7" in offline[1].message
    assert "clock.queued" not in {f.rule for f in found}  # told once, as what it is


def test_transaction_event_marked_offline() -> None:
    wire = booted(subprotocol="ocpp2.0.1")
    at = wire.time + 1
    seq = send(wire, "TransactionEvent", {"eventType": "Ended", "timestamp": stamp(-2, base=at), "offline": True,
                                          "triggerReason": "EVCommunicationLost", "seqNo": 3,
                                          "transactionInfo": {"transactionId": "tx-9"}})
    [offline] = hits(analyze(wire.events), "clock.offline-transaction")
    assert offline.seq == seq and "tx-9" in offline.message and "marked offline" in offline.message


def test_transaction_started_now_is_not_offline() -> None:
    wire = booted()
    at = wire.time + 1
    send(wire, "StartTransaction", {"connectorId": 1, "idTag": "04A2", "meterStart": 0,
                                    "timestamp": stamp(-1, base=at)})
    assert clock_findings(wire) == []


# -- imported logs without a zone ----------------------------------------------------------------------------------

def assumed(zone: str) -> Wire:
    wire = Wire(opened=False)
    wire.events.append(ConnectionOpened("c1", T0, "", "/ocpp/CP01", subprotocol="ocpp1.6", synthetic=True,
                                        assumed_zone=zone, seq=1))
    wire.seq = 1
    return wire


def test_assumed_zone_whole_hours_are_info_and_say_so() -> None:
    wire = assumed("UTC")
    status(wire, 3600)
    [ahead] = hits(analyze(wire.events), "clock.ahead")
    assert ahead.severity is Severity.INFO
    assert "read as UTC, assumed" in ahead.message and "zone" in ahead.message
    other = assumed("local (UTC+01:00)")
    status(other, 1000)  # not a zone's difference: the clock
    [ahead] = hits(analyze(other.events), "clock.ahead")
    assert ahead.severity is Severity.WARNING and "read as local (UTC+01:00), assumed" in ahead.message


def test_rules_are_declared_with_examples() -> None:
    from ocppscope.proxy.core.findings import RULES

    for rule_id in CLOCK_RULES:
        assert RULES[rule_id].example and RULES[rule_id].area == "clock"


def test_a_recorder_whose_clock_is_unset_too_gives_nothing_to_compare_with() -> None:
    wire = Wire(t0=100.0)  # a trace written by a tool whose own clock reads 1970
    at = wire.time + 1
    send(wire, "StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available",
                                      "timestamp": stamp(0.5, base=at)})
    assert clock_findings(wire) == []


def test_a_log_of_times_without_a_date_gives_nothing_to_compare_with() -> None:
    """A charger's serial log prints times of day only: read on 1970-01-01, a stamp of today is no clock fault."""
    wire = Wire(t0=62_499.0)  # 17:21:39 on the first day of the epoch
    send(wire, "StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available",
                                      "timestamp": "2024-06-01T17:21:40Z"})
    assert clock_findings(wire) == []
    wire = Wire()  # the same stamp received on a dated clock years later is the charger's never-set clock
    send(wire, "StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available",
                                      "timestamp": "1970-01-01T00:00:05Z"})
    assert [rule for rule, _ in clock_findings(wire)] == ["clock.never-set"]

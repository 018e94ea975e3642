"""Connector faults and status transitions, refused idTags, failed firmware/diagnostics (meters: test_core_metering)."""

from __future__ import annotations

from tests.traffic import Wire, analyze, hits, rules

NOW = "2023-11-14T22:13:20Z"
"""The wire's start time (tests.traffic.T0): charger clocks here are right."""


def status(wire: Wire, msg_id: str, connector: int, state: str, error: str = "NoError") -> int:
    seq = wire.cp(f'[2,"{msg_id}","StatusNotification",{{"connectorId":{connector},"status":"{state}",'
                  f'"errorCode":"{error}"}}]')
    wire.cs(f'[3,"{msg_id}",{{}}]')
    return seq


def meter(wire: Wire, msg_id: str, wh: str, unit: str = "Wh", tx: int = 42) -> int:
    seq = wire.cp(f'[2,"{msg_id}","MeterValues",{{"connectorId":1,"transactionId":{tx},"meterValue":[{{'
                  f'"timestamp":"{NOW}","sampledValue":[{{"value":"{wh}","unit":"{unit}",'
                  f'"measurand":"Energy.Active.Import.Register"}}]}}]}}]')
    wire.cs(f'[3,"{msg_id}",{{}}]')
    return seq


def start(wire: Wire, meter_start: int = 1000, tx: int = 42, tag_status: str = "Accepted") -> None:
    wire.cp(f'[2,"st","StartTransaction",{{"connectorId":1,"idTag":"TAG1","meterStart":{meter_start},'
            f'"timestamp":"{NOW}"}}]')
    wire.cs(f'[3,"st",{{"idTagInfo":{{"status":"{tag_status}"}},"transactionId":{tx}}}]')


def test_clean_session_statuses_and_meters() -> None:
    wire = Wire()
    wire.boot()
    for n, state in enumerate(["Available", "Preparing", "Charging", "SuspendedEV", "Charging", "Finishing",
                               "Available"]):
        status(wire, f"s{n}", 1, state)
    wire.cp('[2,"a","Authorize",{"idTag":"TAG1"}]')  # without it the start is a transaction.local-start (info)
    wire.cs('[3,"a",{"idTagInfo":{"status":"Accepted"}}]')
    start(wire)
    meter(wire, "m1", "1200")
    meter(wire, "m2", "1.3", unit="kWh")
    wire.cp(f'[2,"sp","StopTransaction",{{"transactionId":42,"meterStop":1400,"timestamp":"{NOW}"}}]')
    wire.cs('[3,"sp",{}]')
    assert analyze(wire.events) == []


def test_fault() -> None:
    wire = Wire()
    wire.boot()
    seq = status(wire, "f", 1, "Faulted", "GroundFailure")
    [fault] = hits(analyze(wire.events), "status.fault")
    assert fault.seq == seq and "GroundFailure" in fault.message
    wire = Wire()
    wire.boot()
    seq = status(wire, "w", 1, "Available", "WeakSignal")  # an error code without Faulted counts too
    assert [f.seq for f in hits(analyze(wire.events), "status.fault")] == [seq]


def test_fault_in_201() -> None:
    wire = Wire(subprotocol="ocpp2.0.1")
    wire.cp(f'[2,"f","StatusNotification",{{"timestamp":"{NOW}","connectorStatus":"Faulted","evseId":1,'
            '"connectorId":1}]')
    wire.cs('[3,"f",{}]')
    assert rules(analyze(wire.events)) == ["status.fault"]


def test_invalid_transition() -> None:
    wire = Wire()
    wire.boot()
    status(wire, "a", 1, "Available")
    seq = status(wire, "b", 1, "Finishing")
    status(wire, "c", 2, "Charging")  # another connector: its own history
    [bad] = hits(analyze(wire.events), "status.invalid-transition")
    assert bad.seq == seq and bad.evidence == {"connector": 1, "from": "Available", "to": "Finishing"}


def test_authorization_rejected() -> None:
    wire = Wire()
    wire.boot()
    wire.cp('[2,"a","Authorize",{"idTag":"BADCARD"}]')
    seq = wire.cs('[3,"a",{"idTagInfo":{"status":"Invalid"}}]')
    [refused] = hits(analyze(wire.events), "authorize.rejected")
    assert refused.seq == seq and refused.evidence == {"id_tag": "BADCARD", "status": "Invalid"}
    wire = Wire()
    wire.boot()
    start(wire, tag_status="Accepted")
    assert "authorize.rejected" not in rules(analyze(wire.events))


def test_firmware_and_diagnostics_failures() -> None:
    wire = Wire()
    wire.boot()
    seq = wire.cp('[2,"d","DiagnosticsStatusNotification",{"status":"UploadFailed"}]')
    wire.cs('[3,"d",{}]')
    wire.cp('[2,"e","FirmwareStatusNotification",{"status":"Installed"}]')
    wire.cs('[3,"e",{}]')
    assert [f.seq for f in hits(analyze(wire.events), "firmware.failed")] == [seq]

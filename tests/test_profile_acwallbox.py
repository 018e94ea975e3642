"""Every constraint of the AC wallbox implementation overview (AC EV WALLBOX OCPP 1.6 Implementation
Overview rev. 1.09), and clean traffic passing clean."""

from __future__ import annotations

import pytest

from tests.test_profile_support import boot, call, change, only, reported, rules_of, run, send
from tests.traffic import Wire

PROFILE = "ac-wallbox"

# (key, value, rule, words)
CHANGES = [
    ("HeartbeatInterval", "5", "config.value-clamped", "runs 10"),
    ("MeterValueSampleInterval", "2", "config.out-of-range", "below 4 the charger rejects it"),
    ("MeterValueSampleInterval", "65535", "config.out-of-range", "0 or 4–65534"),
    ("MeterValuesSampleInterval", "60", "config.unsupported-key", "did you mean MeterValueSampleInterval"),
    ("WebSocketPingInterval", "5", "config.out-of-range", "0 or 10–65535"),
    ("WebSocketPingInterval", "65536", "config.out-of-range", "0 or 10–65535"),
    ("ConnectionTimeOut", "9", "config.out-of-range", "10–240"),
    ("ConnectionTimeOut", "241", "config.out-of-range", "10–240"),
    ("ClockAlignedDataInterval", "29", "config.out-of-range", "0 or 30–86399"),
    ("ClockAlignedDataInterval", "86400", "config.out-of-range", "0 or 30–86399"),
    ("ResetRetries", "1", "config.out-of-range", "only supports 0"),
    ("AllowOfflineTxForUnknownId", "true", "config.value-note", "local authorization list"),
    ("AllowOfflineTxForUnknownId", "yes", "config.wrong-type", "true or false"),
    ("GetConfigurationMaxKeys", "20", "config.read-only", "read-only"),
    ("LocalAuthListMaxLength", "50", "config.read-only", "read-only"),
    ("MeterValuesSampledData", "Voltage,Frequency", "config.csl-item", "'Frequency'"),
    ("MeterValuesSampledData", "Voltage,Voltage,Voltage,Voltage,Voltage,Voltage", "config.too-many-items",
     "at most 5"),
    ("MeterValuesAlignedData", "Power.Offered,SoC", "config.csl-item", "'SoC'"),
    ("MeterValuesAlignedData", "Voltage,Voltage,Voltage,Voltage,Voltage,Voltage", "config.too-many-items",
     "at most 5"),
    ("StopTxnAlignedData", "Voltage", "config.unsupported-key", "to be supported"),
    ("StopTxnSampledData", "Voltage", "config.unsupported-key", "to be supported"),
    ("StopTxnSampledDataMaxLength", "1", "config.unsupported-key", "to be supported"),
    ("MinimumStatusDuration", "5", "config.unsupported-key", "not supported"),
    ("BlinkRepeat", "3", "config.unsupported-key", "not supported"),
    ("ConnectorPhaseRotationMaxLength", "1", "config.unsupported-key", "not supported"),
    ("LightIntensity", "50", "config.unsupported-key", "not supported"),
    ("ConnectorSwitch3to1PhaseSupported", "true", "config.unsupported-key", "not supported"),
    ("VendorSpecificThing", "1", "config.unlisted-key", "does not list this key"),
]


@pytest.mark.parametrize(("key", "value", "rule_id", "words"), CHANGES, ids=[f"{c[0]}-{c[2]}" for c in CHANGES])
def test_each_stated_key_constraint(key: str, value: str, rule_id: str, words: str) -> None:
    found = run(PROFILE, lambda w: change(w, key, value, status=None))
    hits = only(found, rule_id)
    assert hits and any(words in f.message for f in hits), [f.message for f in found]


@pytest.mark.parametrize(("key", "value"), [
    ("HeartbeatInterval", "10"), ("MeterValueSampleInterval", "0"), ("MeterValueSampleInterval", "4"),
    ("MeterValueSampleInterval", "65534"), ("WebSocketPingInterval", "0"), ("WebSocketPingInterval", "10"),
    ("WebSocketPingInterval", "65535"), ("ConnectionTimeOut", "10"), ("ConnectionTimeOut", "240"),
    ("ClockAlignedDataInterval", "30"), ("ClockAlignedDataInterval", "86399"), ("ResetRetries", "0"),
    ("MeterValuesSampledData", "Energy.Active.Import.Register,Current.Import,Power.Active.Import,Current.Offered,"
                               "Voltage"),
    ("MeterValuesAlignedData", "Current.Import,Current.Offered,Energy.Active.Import.Register,Power.Active.Import,"
                               "Voltage"),
    ("MeterValuesAlignedData", "Energy.Active.Import.Interval,Power.Offered"),
])
def test_values_inside_the_ranges_pass(key: str, value: str) -> None:
    assert [f for f in run(PROFILE, lambda w: change(w, key, value)) if f.severity >= 20] == []


def test_get_configuration_key_limit() -> None:
    keys = [f"Key{i}" for i in range(11)]
    found = run(PROFILE, lambda w: call(w, "GetConfiguration", {"key": keys}))
    assert rules_of(found) == ["config.get-too-many-keys"]
    assert "at most 10" in found[-1].message
    assert rules_of(run(PROFILE, lambda w: call(w, "GetConfiguration", {"key": keys[:10]}))) == []


def _entries(count: int, length: int = 8, prefix: str = "T") -> list[dict[str, object]]:
    return [{"idTag": f"{prefix}{i:0{length - len(prefix)}d}", "idTagInfo": {"status": "Accepted"}}
            for i in range(count)]


def test_send_local_list_limits() -> None:
    too_many = run(PROFILE, lambda w: call(w, "SendLocalList", {"listVersion": 1, "updateType": "Full",
                                                                "localAuthorizationList": _entries(6)}))
    assert rules_of(too_many) == ["limit.local-list"] and "at most 5 per message" in too_many[-1].message
    long_tag = run(PROFILE, lambda w: call(w, "SendLocalList", {"listVersion": 1, "updateType": "Full",
                                                                "localAuthorizationList": _entries(1, 21)}))
    assert rules_of(long_tag) == ["limit.id-tag-length"]

    def total_over_20(w: Wire) -> None:
        call(w, "SendLocalList", {"listVersion": 1, "updateType": "Full",
                                  "localAuthorizationList": _entries(5, prefix="A")}, {"status": "Accepted"})
        for version, prefix in enumerate("BCDE", start=2):
            call(w, "SendLocalList", {"listVersion": version, "updateType": "Differential",
                                      "localAuthorizationList": _entries(4 if prefix != "E" else 5, prefix=prefix)},
                 {"status": "Accepted"})

    found = run(PROFILE, total_over_20)
    assert rules_of(found) == ["limit.local-list"]
    assert "leave 22 idTags" in found[-1].message and "at most 20" in found[-1].message


def _profile(stack: int, periods: int, profile_id: int = 1, purpose: str = "TxDefaultProfile") -> dict[str, object]:
    return {"chargingProfileId": profile_id, "stackLevel": stack, "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [
                {"startPeriod": 60 * i, "limit": 16.0} for i in range(periods)]}}


def test_smart_charging_limits() -> None:
    found = run(PROFILE, lambda w: call(w, "SetChargingProfile", {"connectorId": 1,
                                                                  "csChargingProfiles": _profile(2, 15)}))
    assert rules_of(found) == ["limit.stack-level", "limit.schedule-periods"]

    def two_installed(w: Wire) -> None:
        call(w, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": _profile(0, 2, 1)},
             {"status": "Accepted"})
        call(w, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": _profile(1, 2, 2)},
             {"status": "Accepted"})

    assert rules_of(run(PROFILE, two_installed)) == ["limit.profiles-installed"]

    def replaced_then_cleared(w: Wire) -> None:
        call(w, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": _profile(0, 2, 1)},
             {"status": "Accepted"})
        call(w, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": _profile(1, 2, 1)},
             {"status": "Accepted"})  # same id: replaces
        call(w, "ClearChargingProfile", {}, {"status": "Accepted"})
        call(w, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": _profile(0, 2, 3)},
             {"status": "Accepted"})

    assert rules_of(run(PROFILE, replaced_then_cleared)) == []
    remote = run(PROFILE, lambda w: call(w, "RemoteStartTransaction", {
        "idTag": "X" * 21, "connectorId": 1, "chargingProfile": _profile(2, 3, purpose="TxProfile")}))
    assert rules_of(remote) == ["limit.stack-level", "limit.id-tag-length"]
    reserve = run(PROFILE, lambda w: call(w, "ReserveNow", {"connectorId": 1, "expiryDate": "2024-01-01T00:00:00Z",
                                                            "idTag": "Y" * 21, "reservationId": 1}))
    assert rules_of(reserve) == ["limit.id-tag-length"]


def test_trigger_message_subset() -> None:
    found = run(PROFILE, lambda w: call(w, "TriggerMessage", {"requestedMessage": "LogStatusNotification"}))
    assert rules_of(found) == ["limit.trigger-unsupported"]
    for message in ("BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat",
                    "MeterValues", "StatusNotification"):
        assert rules_of(run(PROFILE, lambda w, m=message: call(w, "TriggerMessage", {"requestedMessage": m},
                                                               {"status": "Accepted"}))) == []
    disagree = run(PROFILE, lambda w: call(w, "TriggerMessage", {"requestedMessage": "Heartbeat"},
                                           {"status": "NotImplemented"}))
    assert rules_of(disagree) == ["profile.firmware-disagrees"]


def test_measurands_outside_the_supported_set() -> None:
    def meter(w: Wire) -> None:
        for _ in range(2):  # reported once per connection
            send(w, "MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": "2024-01-01T00:00:00Z",
                                                                      "sampledValue": [
                                                                          {"value": "50", "measurand": "Frequency"},
                                                                          {"value": "1000"},
                                                                          {"value": "230", "measurand": "Voltage"}]}]},
                 {})

    found = run(PROFILE, meter)
    assert rules_of(found) == ["profile.measurand-unsupported"] and "Frequency" in found[-1].message


@pytest.mark.parametrize(("action", "payload", "severity", "words"), [
    ("Reset", {"type": "Hard"}, "warning", "lost"),
    ("Reset", {"type": "Soft"}, "info", "stops the transaction"),
    ("UnlockConnector", {"connectorId": 1}, "info", "cable variant does nothing"),
    ("GetDiagnostics", {"location": "https://logs.example.com/upload"}, "warning", "FTP only"),
    ("UpdateFirmware", {"location": "http://fw.example.com/x.bin", "retrieveDate": "2024-01-01T00:00:00Z"},
     "warning", "FTP only"),
])
def test_reset_unlock_and_transfer_caveats(action: str, payload: dict[str, object], severity: str,
                                           words: str) -> None:
    found = only(run(PROFILE, lambda w: call(w, action, payload)), "profile.caveat")
    assert [str(f.severity) for f in found] == [severity] and words in found[0].message


def test_ftp_transfers_have_no_caveat() -> None:
    found = run(PROFILE, lambda w: call(w, "GetDiagnostics", {"location": "ftp://logs.example.com/"}))
    assert rules_of(found) == []


def test_firmware_status_the_vendor_does_not_list() -> None:
    found = run(PROFILE, lambda w: send(w, "FirmwareStatusNotification", {"status": "Installing"}, {}))
    assert rules_of(found) == ["profile.caveat"]


def test_messages_the_sheet_does_not_list() -> None:
    found = run(PROFILE, lambda w: call(w, "ExtendedTriggerMessage", {"requestedMessage": "Heartbeat"}))
    assert rules_of(found) == ["profile.action-undocumented"] and str(found[-1].severity) == "warning"
    found = run(PROFILE, lambda w: send(w, "SecurityEventNotification",
                                        {"type": "X", "timestamp": "2024-01-01T00:00:00Z"}, {}))
    assert rules_of(found) == ["profile.action-undocumented"] and str(found[-1].severity) == "info"
    found = run(PROFILE, lambda w: call(w, "SendLocalList", {"listVersion": 1, "updateType": "Full"},
                                        error="NotImplemented"))
    assert rules_of(found) == ["profile.firmware-disagrees"]


def test_reported_configuration_against_the_sheet() -> None:
    found = run(PROFILE, lambda w: reported(w, {"GetConfigurationMaxKeys": "20", "NumberOfConnectors": "1"},
                                            unknown=["HeartbeatInterval", "BlinkRepeat"],
                                            readonly={"GetConfigurationMaxKeys": True}))
    messages = [f.message for f in only(found, "profile.firmware-disagrees")]
    assert len(messages) == 3
    assert any("ac-wallbox says 10" in m for m in messages)
    assert any("NumberOfConnectors is reported writable" in m for m in messages)
    assert any("does not know HeartbeatInterval" in m for m in messages)
    clamped = run(PROFILE, lambda w: reported(w, {"HeartbeatInterval": "5"}))
    assert rules_of(clamped) == ["config.value-clamped"]


def test_clean_traffic_is_clean() -> None:
    def session(w: Wire) -> None:
        boot(w, vendor="AC", model="Wallbox", serial="2103252121090001")
        send(w, "StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available"}, {})
        call(w, "GetConfiguration", {"key": ["HeartbeatInterval", "WebSocketPingInterval"]},
             {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "60"},
                                   {"key": "WebSocketPingInterval", "readonly": False, "value": "60"}]})
        change(w, "HeartbeatInterval", "300")
        change(w, "MeterValuesSampledData", "Energy.Active.Import.Register,Voltage")
        call(w, "SendLocalList", {"listVersion": 1, "updateType": "Full",
                                  "localAuthorizationList": _entries(5)}, {"status": "Accepted"})
        call(w, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": _profile(1, 14)},
             {"status": "Accepted"})
        call(w, "TriggerMessage", {"requestedMessage": "MeterValues"}, {"status": "Accepted"})
        send(w, "MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": "2024-01-01T00:00:00Z",
                                                                  "sampledValue": [{"value": "10"}]}]}, {})

    assert rules_of(run(PROFILE, session)) == []

"""Schema validation of requests and answers, error codes per version, date-times."""

from __future__ import annotations

import pytest
from ocppscope.proxy.core.schemas import schema_for

from tests.traffic import Wire, analyze, hits, rules


def stop(reason: str) -> str:
    return (f'[2,"s","StopTransaction",{{"transactionId":1,"meterStop":10,'
            f'"timestamp":"2024-01-01T10:00:00Z","reason":"{reason}"}}]')


def test_request_violation_names_path_value_and_code() -> None:
    wire = Wire()
    wire.boot()
    seq = wire.cp(stop("Unplugged"))
    wire.cs('[3,"s",{}]')
    [violation] = hits(analyze(wire.events), "schema.violation")
    assert violation.seq == seq
    assert violation.evidence["path"] == "$.reason"
    assert violation.evidence["value"] == "Unplugged"
    assert violation.evidence["error_code"] == "PropertyConstraintViolation"
    assert "StopTransaction request" in violation.message
    wire = Wire()
    wire.boot()
    wire.cp(stop("EVDisconnected"))
    wire.cs('[3,"s",{}]')
    assert "schema.violation" not in rules(analyze(wire.events))


def test_response_validated_with_schema_of_its_call() -> None:
    wire = Wire()
    wire.cp('[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]')
    seq = wire.cs('[3,"b",{"status":"Maybe","currentTime":"2024-01-01T00:00:00Z","interval":300}]')
    [violation] = hits(analyze(wire.events), "schema.violation")
    assert violation.seq == seq and violation.action == "BootNotification"
    assert "response" in violation.message


@pytest.mark.parametrize(
    ("version", "payload", "code"),
    [
        ("1.6", '{"chargePointVendor":"V"}', "OccurenceConstraintViolation"),
        ("1.6", '{"chargePointVendor":5,"chargePointModel":"M"}', "TypeConstraintViolation"),
        ("1.6", '{"chargePointVendor":"V","chargePointModel":"M","extra":1}', "FormationViolation"),
        ("1.6", '{"chargePointVendor":"' + "V" * 21 + '","chargePointModel":"M"}', "PropertyConstraintViolation"),
        ("2.0.1", '{"reason":"PowerUp"}', "OccurrenceConstraintViolation"),
        ("2.0.1", '{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"},"x":1}', "FormatViolation"),
    ],
)
def test_error_code_spelling_follows_version(version: str, payload: str, code: str) -> None:
    wire = Wire(subprotocol=f"ocpp{version}")
    wire.cp(f'[2,"b","BootNotification",{payload}]')
    [violation] = hits(analyze(wire.events), "schema.violation")
    assert violation.evidence["error_code"] == code


def test_missing_fields_are_named() -> None:
    wire = Wire()
    wire.cp('[2,"b","BootNotification",{}]')
    [violation] = hits(analyze(wire.events), "schema.violation")
    assert violation.evidence["expected"] == ["chargePointVendor", "chargePointModel"]
    assert "missing required fields chargePointVendor, chargePointModel" in violation.message


def test_datetime_without_timezone_is_a_warning_not_a_violation() -> None:
    wire = Wire()
    wire.cp('[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]')
    seq = wire.cs('[3,"b",{"status":"Accepted","currentTime":"2024-01-01T00:00:00","interval":300}]')
    found = analyze(wire.events)
    assert [(f.rule, f.seq) for f in found] == [("schema.datetime-no-timezone", seq)]
    assert found[0].evidence["path"] == "$.currentTime"


def test_nested_datetimes_and_unparseable_datetime() -> None:
    wire = Wire()
    wire.boot()
    seq = wire.cp('[2,"m","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2024-01-01T00:00:00Z",'
                  '"sampledValue":[{"value":"1"}]},{"timestamp":"yesterday","sampledValue":[{"value":"2"}]},'
                  '{"timestamp":"2024-01-01T00:00:10","sampledValue":[{"value":"3"}]}]}]')
    wire.cs('[3,"m",{}]')
    found = analyze(wire.events)
    assert [f.evidence["path"] for f in hits(found, "schema.violation")] == ["$.meterValue[1].timestamp"]
    assert [(f.seq, f.evidence["path"]) for f in hits(found, "schema.datetime-no-timezone")] == [
        (seq, "$.meterValue[2].timestamp")
    ]


def test_20_datetimes_behind_refs_are_found() -> None:
    schema = schema_for("2.0.1", "TransactionEvent", "request")
    assert schema is not None
    assert ("timestamp",) in schema.datetime_paths
    assert ("meterValue", "*", "timestamp") in schema.datetime_paths


def test_every_bundled_schema_compiles() -> None:
    from ocppscope.proxy.core.protocol import VERSIONS, actions

    missing = []
    for version in VERSIONS:
        for action, entry in actions(version).items():
            if schema_for(version, action, "request") is None:
                missing.append((version, action, "request"))
            if entry["type"] == "CALL" and schema_for(version, action, "response") is None:
                missing.append((version, action, "response"))
    assert missing == []


def test_extra_properties_are_named_in_the_frame_s_order() -> None:
    """The validator prints them as a Python set, whose order changes between runs: reports must not."""
    wire = Wire()
    wire.cp('[2,"h","Heartbeat",{"zeta":1,"alpha":2,"mid":3}]')
    wire.cs('[3,"h",{"currentTime":"2024-01-01T00:00:00Z"}]')
    [violation] = hits(analyze(wire.events), "schema.violation")
    assert "must not contain properties zeta, alpha, mid" in violation.message
    wire = Wire()
    wire.cp('[2,"h","Heartbeat",{}]')
    wire.cs('[3,"h",{"currentTime":"2024-01-01T00:00:00Z"}]')
    assert "schema.violation" not in rules(analyze(wire.events))

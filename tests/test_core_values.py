"""Numbers and strings implementations choke on: big and sentinel ids, empty strings, identifiers, placeholders."""

from __future__ import annotations

import json
from typing import Any

from ocppscope.proxy.core.findings import Severity

from tests.traffic import Wire, analyze, hits, rules

LONG_ID = "3f2b8c1e-9d4a-4e7b-a1c5-0b9e8d7f6a51"
VALUE_RULES = ("value.id-beyond-int32", "value.sentinel-id", "value.empty-required", "value.empty-optional",
               "value.identifier-kind", "value.placeholder")
NOW = "2023-11-14T22:13:20Z"
REAL_BOOT = {
    "chargePointVendor": "Acme", "chargePointModel": "AC22-Wallbox", "chargePointSerialNumber": "AC22-000123",
    "chargeBoxSerialNumber": "AC22-000123-B", "firmwareVersion": "1.8.2", "iccid": "89314404000123456789",
    "imsi": "204080123456789", "meterType": "EM340", "meterSerialNumber": "EM340-0042",
}


def values(findings: list[Any]) -> list[str]:
    return [rule for rule in rules(findings) if rule in VALUE_RULES]


def boot(wire: Wire, payload: dict[str, Any], msg_id: str = "b1") -> int:
    seq = wire.cp(json.dumps([2, msg_id, "BootNotification", payload]))
    wire.cs(json.dumps([3, msg_id, {"status": "Accepted", "currentTime": NOW, "interval": 300}]))
    return seq


def start(wire: Wire, tx: int, msg_id: str = "st") -> int:
    wire.cp(json.dumps([2, msg_id, "StartTransaction", {"connectorId": 1, "idTag": "04A2B3C4D5E6F7",
                                                         "meterStart": 1000, "timestamp": NOW}]))
    return wire.cs(json.dumps([3, msg_id, {"idTagInfo": {"status": "Accepted"}, "transactionId": tx}]))


def test_a_real_boot_and_transaction_are_fine() -> None:
    wire = Wire()
    boot(wire, REAL_BOOT)
    start(wire, 2_147_483_647)  # the largest int32 still fits
    wire.cp(json.dumps([2, LONG_ID, "MeterValues", {"connectorId": 1, "transactionId": 2_147_483_647,
                                                    "meterValue": [{"timestamp": NOW,
                                                                    "sampledValue": [{"value": "1"}]}]}], indent=2))
    wire.cs(json.dumps([3, LONG_ID, {}]))
    assert values(analyze(wire.events)) == []


def test_a_boot_with_optional_fields_absent_is_fine() -> None:
    wire = Wire()
    boot(wire, {"chargePointVendor": "Acme", "chargePointModel": "AC22"})
    assert values(analyze(wire.events)) == []


def test_transaction_id_beyond_int32_from_the_backend_and_in_later_messages() -> None:
    wire = Wire()
    wire.boot()
    seq = start(wire, 3_000_000_000)
    wire.cp('[2,"m1","MeterValues",{"connectorId":1,"transactionId":3000000000,"meterValue":[{"timestamp":'
            f'"{NOW}","sampledValue":[{{"value":"1"}}]}}]}}]')
    wire.cs('[3,"m1",{}]')
    found = hits(analyze(wire.events), "value.id-beyond-int32")
    assert [f.seq for f in found] == [seq]  # the same id again: said once
    assert found[0].message == ("StartTransaction answer: transactionId 3000000000 does not fit in 32 bits (at most "
                                "2147483647); backends and chargers that store it as int32 overflow")


def test_other_integer_ids_beyond_int32() -> None:
    wire = Wire(subprotocol="ocpp2.0.1")
    seq = wire.cs('[2,"r1","RequestStartTransaction",{"idToken":{"idToken":"A","type":"ISO14443"},'
                  '"remoteStartId":4294967296}]')
    wire.cp('[3,"r1",{"status":"Accepted"}]')
    [found] = hits(analyze(wire.events), "value.id-beyond-int32")
    assert found.seq == seq and found.evidence == {"field": "remoteStartId", "value": 4294967296}


def test_sentinel_transaction_ids() -> None:
    wire = Wire()
    wire.boot()
    seq = start(wire, 0)
    [found] = hits(analyze(wire.events), "value.sentinel-id")
    assert found.seq == seq and found.severity is Severity.WARNING
    wire = Wire()
    wire.boot()
    seq = wire.cp(f'[2,"sp","StopTransaction",{{"transactionId":-1,"meterStop":1400,"timestamp":"{NOW}"}}]')
    wire.cs('[3,"sp",{}]')
    [found] = hits(analyze(wire.events), "value.sentinel-id")
    assert found.seq == seq and found.severity is Severity.INFO and "errata 3.18" in found.message


def test_sentinel_transaction_id_in_201() -> None:
    wire = Wire(subprotocol="ocpp2.0.1")
    event = {"eventType": "Started", "timestamp": NOW, "triggerReason": "Authorized", "seqNo": 0,
             "transactionInfo": {"transactionId": "0"}}
    seq = wire.cp(json.dumps([2, "t1", "TransactionEvent", event]))
    wire.cs('[3,"t1",{}]')
    event["transactionInfo"]["transactionId"] = LONG_ID
    wire.cp(json.dumps([2, "t2", "TransactionEvent", event]))
    wire.cs('[3,"t2",{}]')
    assert [f.seq for f in hits(analyze(wire.events), "value.sentinel-id")] == [seq]


def test_empty_vendor_is_a_warning_not_a_schema_error() -> None:
    wire = Wire()
    seq = boot(wire, {"chargePointVendor": "", "chargePointModel": "AC22"})
    found = analyze(wire.events)
    [empty] = hits(found, "value.empty-required")
    assert empty.seq == seq and empty.severity is Severity.WARNING
    assert empty.message == ("BootNotification: chargePointVendor is ''; the schema allows it, but backends refuse "
                             "or cannot register a charger without a vendor")
    assert "schema.violation" not in rules(found)


def test_empty_model_in_201_and_empty_id_tag() -> None:
    wire = Wire(subprotocol="ocpp2.0.1")
    seq = wire.cp('[2,"b","BootNotification",{"chargingStation":{"model":" ","vendorName":"Acme"},'
                  '"reason":"PowerUp"}]')
    wire.cs(f'[3,"b",{{"status":"Accepted","currentTime":"{NOW}","interval":300}}]')
    assert [(f.seq, f.evidence["field"]) for f in hits(analyze(wire.events), "value.empty-required")] == [
        (seq, "chargingStation.model")]
    wire = Wire()
    wire.boot()
    seq = wire.cp('[2,"a","Authorize",{"idTag":""}]')
    wire.cs('[3,"a",{"idTagInfo":{"status":"Invalid"}}]')
    assert [f.seq for f in hits(analyze(wire.events), "value.empty-required")] == [seq]


def test_empty_optional_fields() -> None:
    wire = Wire()
    seq = boot(wire, {**REAL_BOOT, "iccid": "", "imsi": ""})
    wire.cp(f'[2,"s1","StatusNotification",{{"connectorId":1,"errorCode":"NoError","status":"Available",'
            f'"vendorErrorCode":"","timestamp":"{NOW}"}}]')
    wire.cs('[3,"s1",{}]')
    wire.cp(f'[2,"s2","StatusNotification",{{"connectorId":1,"errorCode":"NoError","status":"Available",'
            f'"vendorErrorCode":"","timestamp":"{NOW}"}}]')
    wire.cs('[3,"s2",{}]')
    found = hits(analyze(wire.events), "value.empty-optional")
    assert [(f.seq, f.evidence["field"]) for f in found] == [(seq, "iccid"), (seq, "imsi"), (seq + 2,
                                                                                              "vendorErrorCode")]
    assert all(f.severity is Severity.INFO for f in found)


def test_identifiers_that_are_not_of_their_kind() -> None:
    wire = Wire()
    seq = boot(wire, {**REAL_BOOT, "iccid": "204080123456789", "imsi": "89314404000123456789"})  # swapped
    found = hits(analyze(wire.events), "value.identifier-kind")
    assert [(f.seq, f.evidence["field"]) for f in found] == [(seq, "iccid"), (seq, "imsi")]
    assert found[0].message == "BootNotification: iccid '204080123456789' is not an ICCID (19 or 20 digits)"


def test_identifiers_of_their_kind() -> None:
    wire = Wire(subprotocol="ocpp2.0.1")
    wire.cp('[2,"b","BootNotification",{"chargingStation":{"model":"DC50","vendorName":"Acme","modem":'
            '{"iccid":"8931440400012345678F","imsi":"204080123456789"}},"reason":"PowerUp"}]')
    wire.cs(f'[3,"b",{{"status":"Accepted","currentTime":"{NOW}","interval":300}}]')
    assert values(analyze(wire.events)) == []


def test_placeholders_in_model_and_serial_fields() -> None:
    for name, value in (("chargePointModel", "string"), ("chargePointSerialNumber", "0000000000"),
                        ("chargePointVendor", "*"), ("chargeBoxSerialNumber", "N/A"), ("meterSerialNumber", "xxx"),
                        ("chargePointModel", "Unknown")):
        wire = Wire()
        seq = boot(wire, {**REAL_BOOT, name: value})
        [found] = hits(analyze(wire.events), "value.placeholder")
        assert found.seq == seq and found.evidence == {"field": name, "value": value}, value
    wire = Wire()
    seq = boot(wire, {**REAL_BOOT, "chargePointModel": "string"})
    [found] = hits(analyze(wire.events), "value.placeholder")
    assert found.message == ("BootNotification: chargePointModel 'string' is a placeholder, not a model; the charger "
                             "was not provisioned")


def test_real_models_and_serials_that_look_a_little_like_placeholders() -> None:
    wire = Wire()
    boot(wire, {**REAL_BOOT, "chargePointModel": "X", "chargePointSerialNumber": "000123",
                "meterSerialNumber": "10000000", "chargePointVendor": "N.A.C."})
    assert values(analyze(wire.events)) == []


def test_payloads_of_any_shape() -> None:
    wire = Wire()
    for n, text in enumerate(('[2,"a","BootNotification",{"chargePointVendor":[],"chargingStation":"x"}]',
                              '[2,"b","StopTransaction",{"transactionId":1e30}]',
                              '[2,"c","SetChargingProfile",{"csChargingProfiles":[1]}]',
                              '[2,"d","TransactionEvent",{"transactionInfo":{"transactionId":{}}}]')):
        wire.cp(text)
        wire.cs(f'[3,"{"abcd"[n]}",{{"transactionId":"x"}}]')
    assert "ocppscope.internal-error" not in rules(analyze(wire.events))

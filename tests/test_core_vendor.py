"""Vendor data shown, not hidden: DataTransfer decoded, vendor status detail, vendor configuration keys, and
Security Whitepaper messages on plain ocpp1.6 named as that extension."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ocppscope.proxy.core.checks.vendor import HIDDEN, decode_data, standard_keys
from ocppscope.proxy.core.findings import Severity

from tests.traffic import Wire, analyze, hits, rules

LONG_ID = "3f2b8c1e-9d4a-4e7b-a1c5-0b9e8d7f6a51"
NOW = "2023-11-14T22:13:20Z"
REFERENCE = Path(__file__).parent / "data" / "reference" / "ocpp16-config-keys.json"


def data_transfer(wire: Wire, payload: dict[str, Any], answer: dict[str, Any], from_charger: bool = True) -> int:
    send, reply = (wire.cp, wire.cs) if from_charger else (wire.cs, wire.cp)
    seq = send(json.dumps([2, LONG_ID, "DataTransfer", payload]))
    reply(json.dumps([3, LONG_ID, answer]))
    return seq


def test_data_is_decoded_where_it_has_a_shape() -> None:
    assert decode_data('{"temp": 41.5, "fan": "on"}') == ("json", {"temp": 41.5, "fan": "on"})
    assert decode_data("relayCycles=1204;plugCycles=311") == ("key=value", {"relayCycles": "1204",
                                                                           "plugCycles": "311"})
    assert decode_data("a=1&b=2") == ("key=value", {"a": "1", "b": "2"})
    assert decode_data("EM340;7043221;1.2") == ("csv", ["EM340", "7043221", "1.2"])
    assert decode_data("QUJDRA==") == ("text", "QUJDRA==")  # base64 padding is no key=value pair
    assert decode_data("just words") == ("text", "just words")
    assert decode_data(None) == ("none", None)
    assert decode_data({"a": [1, 2]}) == ("json", {"a": [1, 2]})  # 2.x: any JSON value


def test_values_of_secret_looking_keys_are_hidden() -> None:
    assert decode_data('{"ssid":"site","wifi_psk":"hunter22"}') == ("json", {"ssid": "site", "wifi_psk": HIDDEN})
    assert decode_data("user=ops;password=hunter22") == ("key=value", {"user": "ops", "password": HIDDEN})
    wire = Wire()
    wire.boot()
    data_transfer(wire, {"vendorId": "com.acme", "messageId": "SetPassword", "data": "hunter22"},
                  {"status": "Accepted"})
    [found] = hits(analyze(wire.events), "vendor.data-transfer")
    assert "hunter22" not in found.message and "hunter22" not in json.dumps(found.evidence)


def test_data_transfer_from_the_charger_and_its_refusal() -> None:
    wire = Wire()
    wire.boot()
    seq = data_transfer(wire, {"vendorId": "com.acme", "messageId": "Counters", "data": "relayCycles=1204"},
                        {"status": "UnknownVendorId"})
    found = analyze(wire.events)
    [call] = hits(found, "vendor.data-transfer")
    assert call.seq == seq and call.severity is Severity.INFO
    assert call.message == ("DataTransfer from the charger: vendorId 'com.acme', messageId 'Counters', data "
                            '(key=value) {"relayCycles":"1204"}')
    [answer] = hits(found, "vendor.data-transfer-answer")
    assert answer.seq == seq + 1 and "UnknownVendorId: it does not implement this vendor's extension" in answer.message


def test_data_transfer_from_the_backend_accepted_with_and_without_data() -> None:
    wire = Wire()
    wire.boot()
    data_transfer(wire, {"vendorId": "org.openchargealliance.iso15118pnc", "messageId": "Authorize"},
                  {"status": "Accepted"}, from_charger=False)
    found = analyze(wire.events)
    [call] = hits(found, "vendor.data-transfer")
    assert "from the backend" in call.message and "ISO 15118 Plug & Charge" in call.message
    assert hits(found, "vendor.data-transfer-answer") == []  # a plain Accepted says nothing new
    wire = Wire()
    wire.boot()
    seq = data_transfer(wire, {"vendorId": "com.acme"}, {"status": "Accepted", "data": "[1,2]"})
    [answer] = hits(analyze(wire.events), "vendor.data-transfer-answer")
    assert answer.seq == seq + 1 and answer.evidence["data"] == [1, 2]


def test_vendor_detail_in_a_status_without_fault() -> None:
    wire = Wire()
    wire.boot()
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Preparing", "timestamp": NOW,
              "vendorId": "com.acme", "info": "cable locked"}
    seq = wire.cp(json.dumps([2, "s1", "StatusNotification", status]))
    wire.cs('[3,"s1",{}]')
    wire.cp(json.dumps([2, "s2", "StatusNotification", status]))  # the same detail again: said once
    wire.cs('[3,"s2",{}]')
    wire.cp(json.dumps([2, "s3", "StatusNotification", {**status, "status": "Faulted", "errorCode": "OtherError"}]))
    wire.cs('[3,"s3",{}]')
    found = analyze(wire.events)
    [info] = hits(found, "vendor.status-info")
    assert info.seq == seq
    assert info.message == "StatusNotification connector 1 Preparing: vendorId 'com.acme', info 'cable locked'"
    [fault] = hits(found, "status.fault")  # the fault quotes the vendor's words itself
    assert "com.acme, cable locked" in fault.message and fault.evidence["vendor_id"] == "com.acme"


@pytest.mark.parametrize("name", ["vendorId", "vendorErrorCode", "info"])
def test_each_vendor_field_alone_is_shown(name: str) -> None:
    wire = Wire()
    wire.boot()
    wire.cp(json.dumps([2, "s1", "StatusNotification", {"connectorId": 2, "errorCode": "NoError",
                                                        "status": "Available", name: "X7"}]))
    wire.cs('[3,"s1",{}]')
    [info] = hits(analyze(wire.events), "vendor.status-info")
    assert info.message == f"StatusNotification connector 2 Available: {name} 'X7'"


def test_statuses_without_vendor_detail_are_quiet() -> None:
    wire = Wire()
    wire.boot()
    wire.cp(json.dumps([2, "s1", "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                        "status": "Available", "vendorErrorCode": " "}], indent=2))
    wire.cs('[3,"s1",{}]')
    assert [r for r in rules(analyze(wire.events)) if r.startswith("vendor.")] == []


def test_vendor_detail_in_a_201_notify_event() -> None:
    wire = Wire(subprotocol="ocpp2.0.1")
    event = {"generatedAt": NOW, "seqNo": 0, "eventData": [
        {"eventId": 1, "timestamp": NOW, "trigger": "Delta", "actualValue": "Faulted", "techCode": "E042",
         "eventNotificationType": "HardWiredNotification", "component": {"name": "Connector", "evse": {"id": 1}},
         "variable": {"name": "AvailabilityState"}},
        {"eventId": 2, "timestamp": NOW, "trigger": "Delta", "actualValue": "Available",
         "eventNotificationType": "HardWiredNotification", "component": {"name": "Connector"},
         "variable": {"name": "AvailabilityState"}},
    ]}
    seq = wire.cp(json.dumps([2, "e1", "NotifyEvent", event]))
    wire.cs('[3,"e1",{}]')
    [found] = hits(analyze(wire.events), "vendor.status-info")
    assert found.seq == seq
    assert found.message == "NotifyEvent Connector.AvailabilityState (EVSE 1) = 'Faulted': techCode 'E042'"


def get_configuration(wire: Wire, entries: list[dict[str, Any]], msg_id: str = "g1") -> int:
    wire.cs(json.dumps([2, msg_id, "GetConfiguration", {}]))
    return wire.cp(json.dumps([3, msg_id, {"configurationKey": entries}]), after=0.1)


def test_vendor_keys_in_a_get_configuration_answer() -> None:
    wire = Wire()
    wire.boot()
    seq = get_configuration(wire, [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "heartbeatinterval", "readonly": False, "value": "300"},  # CiString: still the standard key
        {"key": "com_OCPPID", "readonly": False, "value": "NL*ECO*1000"},
        {"key": "Cfg_UserPin", "readonly": False, "value": "4711"},
        {"key": "WifiSSID", "readonly": True},
    ])
    get_configuration(wire, [{"key": "com_OCPPID", "readonly": False, "value": "NL*ECO*1000"}], "g2")  # listed
    [found] = hits(analyze(wire.events), "vendor.configuration-keys")
    assert found.seq == seq
    assert found.message == ("GetConfiguration: 3 keys are the vendor's, not OCPP 1.6: com_OCPPID='NL*ECO*1000', "
                             "Cfg_UserPin=<hidden>, WifiSSID=None")
    assert found.evidence == {"keys": {"com_OCPPID": "NL*ECO*1000", "Cfg_UserPin": HIDDEN, "WifiSSID": None}}
    assert "4711" not in found.message


def test_standard_keys_only_say_nothing() -> None:
    wire = Wire()
    wire.boot()
    get_configuration(wire, [{"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                             {"key": "AuthorizationKey", "readonly": False, "value": "x"},
                             {"key": "ISO15118PnCEnabled", "readonly": False, "value": "false"}])
    assert "vendor.configuration-keys" not in rules(analyze(wire.events))


def test_standard_key_list_is_the_reference_table() -> None:
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    assert standard_keys() == {entry["key"].casefold() for entry in reference["keys"]}


def test_security_whitepaper_messages_on_plain_ocpp16() -> None:
    wire = Wire()
    wire.boot()
    seq = wire.cp(f'[2,"e1","SecurityEventNotification",{{"type":"FirmwareUpdated","timestamp":"{NOW}"}}]')
    wire.cs('[3,"e1",{}]')
    wire.cp(f'[2,"e2","SecurityEventNotification",{{"type":"SettingSystemTime","timestamp":"{NOW}"}}]')
    wire.cs('[3,"e2",{}]')
    later = wire.cs('[2,"l1","GetLog",{"logType":"DiagnosticsLog","requestId":1,"log":{"remoteLocation":'
                    '"ftp://logs.example.com/"}}]')
    wire.cp('[3,"l1",{"status":"Accepted"}]')
    found = analyze(wire.events)
    named = hits(found, "extension.security-whitepaper")
    assert [(f.seq, f.evidence["action"]) for f in named] == [(seq, "SecurityEventNotification"), (later, "GetLog")]
    assert named[1].message == ("GetLog from the backend belongs to the OCPP 1.6 Security Whitepaper (edition 3), "
                                "an extension of 1.6: both ends must implement it")
    assert "rpc.unknown-action" not in rules(found)


def test_the_same_messages_in_201_are_core() -> None:
    wire = Wire(subprotocol="ocpp2.0.1")
    wire.cp(f'[2,"e1","SecurityEventNotification",{{"type":"FirmwareUpdated","timestamp":"{NOW}"}}]')
    wire.cs('[3,"e1",{}]')
    assert "extension.security-whitepaper" not in rules(analyze(wire.events))


def test_payloads_of_any_shape() -> None:
    wire = Wire()
    wire.boot()
    for n, text in enumerate(('{"vendorId":[],"data":{"password":[1]}}', '{"vendorId":"a","data":"=;=;"}',
                              '{"vendorId":"a","messageId":7,"data":"' + "x=1;" * 1000 + '"}')):
        wire.cp(f'[2,"d{n}","DataTransfer",{text}]')
        wire.cs(f'[3,"d{n}",{{"status":{{"a":1}},"data":{{"pin":2}}}}]')
    wire.cs('[2,"g","GetConfiguration",{}]')
    wire.cp('[3,"g",{"configurationKey":[{"key":5},{"key":"X","value":[1]},"y"]}]')
    wire.cp('[2,"n","NotifyEvent",{"eventData":[{"techCode":1},5]}]')
    wire.cs('[3,"n",{}]')
    assert "ocppscope.internal-error" not in rules(analyze(wire.events))

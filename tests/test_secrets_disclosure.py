"""security.secret-disclosed: a charger that gives a secret back on the wire, never quoting it."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import orjson
import pytest
from ocppscope.proxy.capture import CaptureWriter, read_capture
from ocppscope.proxy.core.findings import Finding

from tests.traffic import Wire, analyze

RULE = "security.secret-disclosed"
HEX_KEY = "8f1c2a9e0b7d4c6f8a1e3b5d7c9f0a2b4c6d8e0f"
SALT = b"disclosure-tests"


def get_configuration(wire: Wire, entries: list[dict[str, object]], msg_id: str = "gc1") -> None:
    wire.cs(f'[2,"{msg_id}","GetConfiguration",{{}}]')
    wire.cp(json.dumps([3, msg_id, {"configurationKey": entries}]))


def disclosed(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.rule == RULE]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def assert_quiet_about(findings: list[Finding], *secrets: str) -> None:
    text = orjson.dumps([f.to_json() for f in findings], default=str).decode()
    for secret in secrets:
        assert secret not in text


def test_a_readable_authorization_key_is_reported_without_its_value() -> None:
    wire = Wire()
    get_configuration(wire, [{"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                             {"key": "AuthorizationKey", "readonly": False, "value": HEX_KEY}])
    found = analyze(wire.events)
    [finding] = disclosed(found)
    assert str(finding.severity) == "warning" and finding.action == "GetConfiguration"
    assert "AuthorizationKey" in finding.message and "40 bytes" in finding.message
    assert finding.evidence == {"name": "AuthorizationKey", "bytes": 40, "kind": "hex-text", "redacted": False,
                                "connection_password": False}
    assert_quiet_about(found, HEX_KEY)


def test_the_password_the_charger_connects_with_is_an_error() -> None:
    wire = Wire(headers=(("Authorization", basic("CP01", HEX_KEY)),))
    get_configuration(wire, [{"key": "AuthorizationKey", "readonly": False, "value": HEX_KEY}])
    [finding] = disclosed(analyze(wire.events))
    assert str(finding.severity) == "error" and "the password this connection authenticated with" in finding.message


@pytest.mark.parametrize(("entry", "name"), [
    ({"key": "Cfg_UserPin", "readonly": False, "value": "4711"}, "Cfg_UserPin"),
    ({"key": "wifi_psk", "readonly": False, "value": "Wl4n-Passphrase"}, "wifi_psk"),
    ({"key": "com_Options", "readonly": False,
      "value": "Events=1,authorizationKey=NL*ECO*1000:53Umkk1q7rEM,useTLS=1"}, "authorizationKey"),
])
def test_vendor_secrets_in_a_get_configuration_answer(entry: dict[str, object], name: str) -> None:
    wire = Wire()
    get_configuration(wire, [entry])
    found = analyze(wire.events)
    [finding] = disclosed(found)
    assert finding.evidence["name"] == name
    assert_quiet_about(found, "4711", "Wl4n-Passphrase", "53Umkk1q7rEM")


def test_2x_basic_auth_password_in_get_variables_and_notify_report() -> None:
    wire = Wire(subprotocol="ocpp2.0.1")
    wire.cs('[2,"gv","GetVariables",{"getVariableData":[{"component":{"name":"SecurityCtrlr"},'
            '"variable":{"name":"BasicAuthPassword"}}]}]')
    wire.cp('[3,"gv",{"getVariableResult":[{"attributeStatus":"Accepted","attributeValue":"Sup3r-Secret-2x",'
            '"component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"}}]}]')
    wire.cp('[2,"nr","NotifyReport",{"requestId":1,"generatedAt":"2024-01-01T00:00:00Z","seqNo":0,"reportData":['
            '{"component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"},'
            '"variableAttribute":[{"type":"Actual","value":"Sup3r-Secret-2x"}]}]}]')
    found = analyze(wire.events)
    assert [f.action for f in disclosed(found)] == ["GetVariables", "NotifyReport"]
    assert_quiet_about(found, "Sup3r-Secret-2x")


@pytest.mark.parametrize("value", ["", "*****", "••••••••", "hidden"])
def test_a_write_only_answer_is_not_a_disclosure(value: str) -> None:
    wire = Wire()
    get_configuration(wire, [{"key": "AuthorizationKey", "readonly": False, "value": value},
                             {"key": "GetConfigurationMaxKeys", "readonly": True, "value": "20"}])
    assert disclosed(analyze(wire.events)) == []


def test_look_alikes_absent_values_and_the_backend_side_are_not_disclosures() -> None:
    wire = Wire()
    get_configuration(wire, [{"key": "AuthorizeRemoteTxRequests", "readonly": False, "value": "true"},
                             {"key": "AuthorizationCacheEnabled", "readonly": False, "value": "false"},
                             {"key": "AuthorizationKey", "readonly": False}])
    # The backend setting a key is its job, not a disclosure.
    wire.cs(f'[2,"cc","ChangeConfiguration",{{"key":"AuthorizationKey","value":"{HEX_KEY}"}}]')
    wire.cp('[3,"cc",{"status":"Accepted"}]')
    wire.cs('[2,"dt","DataTransfer",{"vendorId":"V","data":"{\\"password\\":\\"from-backend\\"}"}]')
    wire.cp('[3,"dt",{"status":"Accepted"}]')
    assert disclosed(analyze(wire.events)) == []


def test_a_redacted_capture_still_shows_the_disclosure_and_matches_the_password(tmp_path: Path) -> None:
    # The marker stands where the charger sent the value: check on the capture finds what the live proxy found.
    wire = Wire(headers=(("Authorization", basic("CP01", HEX_KEY)),))
    get_configuration(wire, [{"key": "AuthorizationKey", "readonly": False, "value": HEX_KEY}])
    path = tmp_path / "leak.jsonl"
    with CaptureWriter(path, salt=SALT) as writer:
        for event in wire.events:
            writer.write(event)
    assert HEX_KEY.encode() not in path.read_bytes()
    [finding] = disclosed(analyze(list(read_capture(path))))
    assert finding.evidence["redacted"] is True and str(finding.severity) == "error"
    assert "the capture holds it redacted" in finding.message

"""``ocppscope endpoint URL --profile P``: golden tests with every example of the Ecotap
connection guide (English and French), the ECClite User Guide and Zaptec Cloud and OCPP Integration."""

from __future__ import annotations

import base64
import json

import pytest
from ocppscope.proxy.cli import main
from ocppscope.proxy.endpoint.forward import plan_endpoint
from ocppscope.proxy.errors import OcppscopeError
from ocppscope.proxy.profiles.values import check_value

from tests.test_profile_support import bundled


def settings(plan) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {s.name: s.value for s in plan.settings}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


SEED_OPTIONS_EVC = "Events=1,BlockBeforeBoot=1,Wdt=0,updSendInIdle=0,blockLgFull=0,useTLS={},comMaster=0"


# -- Ecotap OCPP connection configuration v1.4 §A: CPA -----------------------------------------------------------------

def test_cpa_unsecured_example() -> None:
    plan = plan_endpoint(bundled()["ecotap-cpa"], "ws://www.example.com:80/ocpp1.6/path/TEST-OCPPID")
    assert settings(plan) == {"BackOffice-URL": "ws://www.example.com", "BackOffice-Portnr": "80",
                              "BackOffice-Path": "/ocpp1.6/path/", "OCPPID": "TEST-OCPPID"}
    assert plan.charger_url == "ws://www.example.com:80/ocpp1.6/path/TEST-OCPPID"
    assert [s.where for s in plan.settings] == ["ChangeConfiguration"] * 4 and plan.problems == []


def test_cpa_example_url_with_the_guides_typo() -> None:
    # The guide's URL ends in TESTOCPPID while OCPPID is TEST-OCPPID: read as a typo, and said so.
    plan = plan_endpoint(bundled()["ecotap-cpa"], "ws://www.example.com:80/ocpp1.6/path/TESTOCPPID", "TEST-OCPPID")
    assert settings(plan)["BackOffice-Path"] == "/ocpp1.6/path/"
    assert any("ends in TESTOCPPID" in note for note in plan.notes)


def test_cpa_secured_example_with_its_key() -> None:
    plan = plan_endpoint(bundled()["ecotap-cpa"], "wss://192.168.255.8:443/ocpp1.6/secured/TEST-OCPPID",
                         key="9N8gGyS8Un7g4IY9dRIC")
    assert settings(plan) == {"BackOffice-URL": "wss://192.168.255.8", "BackOffice-Portnr": "443",
                              "BackOffice-Path": "/ocpp1.6/secured/", "AuthorizationKey": "9N8gGyS8Un7g4IY9dRIC",
                              "OCPPID": "TEST-OCPPID"}
    # "the Sec-WebSocket-Key inside the header will be TEST-OCPPID:9N8gGyS8Un7g4IY9dRIC" (HTTP Basic, really)
    assert plan.authorization == basic("TEST-OCPPID", "9N8gGyS8Un7g4IY9dRIC")
    assert plan.changes[-1] == ("OCPPID", "TEST-OCPPID")


def test_cpa_key_given_as_user_and_password() -> None:
    plan = plan_endpoint(bundled()["ecotap-cpa"], "wss://192.168.255.8/ocpp1.6/secured/TEST-OCPPID",
                         key="TEST-OCPPID:9N8gGyS8Un7g4IY9dRIC")
    assert settings(plan)["AuthorizationKey"] == "9N8gGyS8Un7g4IY9dRIC"
    assert any("takes the password only" in note for note in plan.notes)


# -- Ecotap OCPP connection configuration v1.4 §B and §C: EVC 4.x and 5.x ----------------------------------------------

@pytest.mark.parametrize(("profile", "identity_key", "identity"), [
    ("ecotap-evc4", "com_OCPCPID", "TEST-OCPCPID"), ("ecotap-evc5", "com_OCPPID", "TEST-OCPPID")])
def test_evc_unsecured_examples(profile: str, identity_key: str, identity: str) -> None:
    plan = plan_endpoint(bundled()[profile], f"ws://www.example.com:80/ocpp1.6/path/{identity}")
    assert settings(plan) == {"com_Endpoint": "www.example.com:80/ocpp1.6/path/#OSN#", "com_ProtType": "OCPP1.6J",
                              "com_Options": SEED_OPTIONS_EVC.format(0), identity_key: identity}
    assert plan.problems == [] and any(f"{identity_key} restarts the charger 60 s later" in n for n in plan.notes)


def test_the_guides_own_com_options_examples_are_flagged() -> None:
    spec = bundled()["ecotap-evc5"].key("com_Options")
    assert spec is not None
    english = "Events=1,BlockBeforeBoot=1,Wdt=0,updSendInIdle=0blockLgFull=0,useTLS=0,conMaster=0"
    french_evc4 = "Events=1,BlockBeforeBoot=1,Wdt=0,updSendInIdle=0,blockLgFull=0,useTLS=0,conMaster=0"
    ecclite = "comMaster=0,Events=1,BlockBeforeBoot=1,Wdt=0,updSendIdle=0,UseTLS=1,blockLgFull=0"
    assert [p.text.split(":")[0] for p in check_value(spec, english)] == [
        "option updSendInIdle has the value '0blockLgFull=0'",
        "'conMaster' is not one of its options (did you mean comMaster?); known"]
    assert len(check_value(spec, french_evc4)) == 1
    assert [p.evidence["option"] for p in check_value(spec, ecclite)] == ["updSendIdle"]


def test_evc5_secured_example_gets_one_port() -> None:
    plan = plan_endpoint(bundled()["ecotap-evc5"], "wss://192.168.255.8:443/ocpp1.6/secured/TEST-OCPPID",
                         key="9N8gGyS8Un7g4IY9dRIC")
    assert settings(plan) == {"com_Endpoint": "192.168.255.8:443/ocpp1.6/secured/#OSN#",  # the guide: 443:80
                              "com_ProtType": "OCPP1.6J", "com_Options": SEED_OPTIONS_EVC.format(1),
                              "authorizationKey": "TEST-OCPPID:9N8gGyS8Un7g4IY9dRIC", "com_OCPPID": "TEST-OCPPID"}
    assert plan.authorization == basic("TEST-OCPPID", "9N8gGyS8Un7g4IY9dRIC") and plan.problems == []


def test_evc4_cannot_do_wss_unless_through_ocppscope() -> None:
    url = "wss://192.168.255.8:443/ocpp1.6/secured/TEST-OCPCPID"
    plan = plan_endpoint(bundled()["ecotap-evc4"], url)
    assert any("does not support secured WebSocket" in p for p in plan.problems)
    assert any("--via" in note for note in plan.notes)
    via = plan_endpoint(bundled()["ecotap-evc4"], url, via="10.0.0.5:8080")
    assert settings(via)["com_Endpoint"] == "10.0.0.5:8080/ocpp1.6/secured/#OSN#"
    assert settings(via)["com_Options"] == SEED_OPTIONS_EVC.format(0) and via.problems == []
    assert via.charger_url == "ws://10.0.0.5:8080/ocpp1.6/secured/TEST-OCPCPID"
    assert via.backend_url == "wss://192.168.255.8:443/ocpp1.6/secured/TEST-OCPCPID"


# -- the connection guide's ECCLite section and the ECClite User Guide -------------------------------------------------

@pytest.mark.parametrize("key", ["53Umkk1q7rEM", "NL*ECO*1000:53Umkk1q7rEM"])
def test_ecclite_example(key: str) -> None:
    plan = plan_endpoint(bundled()["ecotap-evc5"], "wss://devices.ecotap.com/registry/ocpp/NL*ECO*1000", key=key)
    assert settings(plan) == {"com_Endpoint": "devices.ecotap.com:443/registry/ocpp/#OSN#",
                              "com_ProtType": "OCPP1.6J", "com_Options": SEED_OPTIONS_EVC.format(1),
                              "authorizationKey": "NL*ECO*1000:53Umkk1q7rEM", "com_OCPPID": "NL*ECO*1000"}
    assert plan.charger_url == "wss://devices.ecotap.com:443/registry/ocpp/NL*ECO*1000" and plan.problems == []


def test_ecclite_guide_example_without_asterisks() -> None:
    plan = plan_endpoint(bundled()["ecotap-ecclite"], "wss://devices.ecotap.com/registry/ocpp/NLECO1000")
    assert settings(plan)["com_OCPPID"] == "NLECO1000"


def test_ecclite_dictionary_key_example() -> None:
    plan = plan_endpoint(bundled()["ecotap-ecclite"], "ws://ws.evc.net:80/ECOTAP-1802500",
                         key="9N8gGyS8Un7g4lY9dRICK")
    assert settings(plan)["authorizationKey"] == "ECOTAP-1802500:9N8gGyS8Un7g4lY9dRICK"
    assert any("only sends the key over wss://" in note for note in plan.notes)


def test_key_for_another_user_is_a_problem() -> None:
    plan = plan_endpoint(bundled()["ecotap-evc5"], "wss://devices.ecotap.com/registry/ocpp/NL*ECO*1000",
                         key="OTHER:53Umkk1q7rEM")
    assert plan.problems == ["the key's user 'OTHER' is not the identity 'NL*ECO*1000': the backend checks the "
                             "user name against the identity"]


def test_identity_too_long_for_the_model() -> None:
    plan = plan_endpoint(bundled()["ecotap-evc5"], "ws://h:80/ocpp/ECOTAP-STATION-AMSTERDAM-01")
    assert any("allows at most 25" in p for p in plan.problems)


# -- Zaptec Cloud and OCPP Integration ---------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["ws://ocpp.example.com/devices/{deviceId}", "ws://ocpp.example.com/devices/ZCS000143"])
def test_zaptec_url_template(url: str) -> None:
    plan = plan_endpoint(bundled()["zaptec"], url, identity="ZCS000143" if "{" in url else None)
    assert settings(plan) == {"URL (Zaptec Portal, installation OCPP settings)":
                              "ws://ocpp.example.com/devices/{deviceId}"}
    assert any("ws://ocpp.example.com/devices/ZCS000143" in note for note in plan.notes)
    assert plan.changes == [] and plan.problems == []


def test_zaptec_per_charger_password() -> None:
    plan = plan_endpoint(bundled()["zaptec"], "ws://ocpp.example.com/devices/ZCS000143",
                         key="0001020304050607FFFFFFFFFFFFFFFFFFFFFFFF")
    assert plan.changes == [("AuthorizationKey", "0001020304050607FFFFFFFFFFFFFFFFFFFFFFFF")]
    assert any("initial device password" in note for note in plan.notes)


# -- the AC EV WALLBOX Implementation Overview and the generic URL + identity ------------------------------------------

def test_url_and_identity_models() -> None:
    plan = plan_endpoint(bundled()["ac-wallbox"], "ws://some.ocppserver.com:22991/ocpp", identity="2103252121090001")
    assert settings(plan) == {"OCPP server URL (charger parameter page or Smart Life app)":
                              "ws://some.ocppserver.com:22991/ocpp",
                              "Charger ID (defaults to the S/N on the display)": "2103252121090001"}
    assert plan.charger_url == "ws://some.ocppserver.com:22991/ocpp/2103252121090001"
    generic = plan_endpoint(bundled()["ocpp16-generic"], "wss://csms.example.com/ocpp/CP001", key="not hex")
    assert settings(generic)["OCPP server URL"] == "wss://csms.example.com/ocpp"
    assert any("32–40 hex digits" in note for note in generic.notes)


@pytest.mark.parametrize(("url", "message"), [
    ("http2://x/y/CP1", "must start with ws:// or wss://"), ("ws:///ocpp/CP1", "has no host"),
    ("ws://host/", "does not end in a charger identity"), ("ws://host:99999/a/CP1", "port"),
    ("ws://host/a/CP1?x=1", "no ?query"),
])
def test_unusable_urls(url: str, message: str) -> None:
    with pytest.raises(OcppscopeError, match=message.replace("?", r"\?")):
        plan_endpoint(bundled()["ocpp16-generic"], url)


# -- the command --------------------------------------------------------------------------------------------------

GOLDEN_TEXT = """\
ecotap-evc5 (Ecotap EVC 5.x controller): the charger connects to wss://devices.ecotap.com:443/registry/ocpp/NL*ECO*1000

Settings (send as ChangeConfiguration, in this order):
  com_Endpoint      devices.ecotap.com:443/registry/ocpp/#OSN#
  com_ProtType      OCPP1.6J
  com_Options       Events=1,BlockBeforeBoot=1,Wdt=0,updSendInIdle=0,blockLgFull=0,useTLS=1,comMaster=0
  authorizationKey  NL*ECO*1000:53Umkk1q7rEM
  com_OCPPID        NL*ECO*1000

ChangeConfiguration frames a backend can send:
  [2,"ocppscope-1","ChangeConfiguration",{"key":"com_Endpoint","value":"devices.ecotap.com:443/registry/ocpp/#OSN#"}]
  [2,"ocppscope-2","ChangeConfiguration",{"key":"com_ProtType","value":"OCPP1.6J"}]
  [2,"ocppscope-3","ChangeConfiguration",{"key":"com_Options","value":"Events=1,BlockBeforeBoot=1,Wdt=0,updSendInIdle=0,blockLgFull=0,useTLS=1,comMaster=0"}]
  [2,"ocppscope-4","ChangeConfiguration",{"key":"authorizationKey","value":"NL*ECO*1000:53Umkk1q7rEM"}]
  [2,"ocppscope-5","ChangeConfiguration",{"key":"com_OCPPID","value":"NL*ECO*1000"}]

The charger will authenticate with the header  Authorization: Basic TkwqRUNPKjEwMDA6NTNVbWtrMXE3ckVN

Notes:
  - the key is write-only: it can be set but never read back to check it (Ecotap OCPP connection configuration \
v1.4 §C Additional information; ECClite User Guide ch. 11, authorizationKey)
  - changing com_OCPPID restarts the charger 60 s later: send it last
"""


def test_command_text_output(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                             tmp_path: object) -> None:
    monkeypatch.setenv("OCPPSCOPE_HOME", str(tmp_path))
    code = main(["endpoint", "wss://devices.ecotap.com/registry/ocpp/NL*ECO*1000", "--profile", "ecotap-evc5",
                 "--key", "53Umkk1q7rEM"])
    assert code == 0
    assert capsys.readouterr().out == GOLDEN_TEXT


def test_command_json_output(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                             tmp_path: object) -> None:
    monkeypatch.setenv("OCPPSCOPE_HOME", str(tmp_path))
    code = main(["endpoint", "wss://192.168.255.8:443/ocpp1.6/secured/TEST-OCPCPID", "--profile", "ecotap-evc4",
                 "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["problems"] and data["profile"] == "ecotap-evc4"
    endpoint = {"key": "com_Endpoint", "value": "192.168.255.8:443/ocpp1.6/secured/#OSN#"}
    assert json.loads(data["frames"][0]) == [2, "ocppscope-1", "ChangeConfiguration", endpoint]
    assert data["change_configuration"][-1] == {"key": "com_OCPCPID", "value": "TEST-OCPCPID"}


def test_command_needs_one_profile(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                   tmp_path: object) -> None:
    monkeypatch.setenv("OCPPSCOPE_HOME", str(tmp_path))
    assert main(["endpoint", "ws://h/ocpp/CP1"]) == 4  # a usage error
    assert "--profile PROFILE" in capsys.readouterr().err
    assert main(["endpoint", "ws://h/ocpp/CP1", "--profile", "ecotap-evc6"]) == 2
    assert "did you mean ecotap-evc5?" in capsys.readouterr().err

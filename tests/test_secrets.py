"""Secrets recognised by what their names say, across naming styles; look-alikes, every standard 1.6 key and
every key of the vendor dictionaries stay visible."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from ocppscope.proxy.capture.redact import Redactor
from ocppscope.proxy.core import secrets
from ocppscope.proxy.core.secrets import find_secrets, is_masked, looks_secret, may_name_secret, scrub_finding
from ocppscope.proxy.profiles.loader import BUNDLED_DIR, ProfileLibrary

REFERENCE = Path("/work/shared/reference/ocpp16-config-keys.json")
SALT = b"secret-names"

SECRET_NAMES = [
    # 1.6 and 2.x standard names
    "AuthorizationKey", "authorizationKey", "BasicAuthPassword", "apnPassword", "simPin", "password",
    # vendor styles (the examples and the like)
    "Cfg_UserPin", "wifi_psk", "AuthKey", "authKey", "AUTH_KEY", "auth-key", "WiFiPassword", "ApnPass", "apn_pass",
    "com_AuthorizationKey", "gsm_pin", "GSM_PIN", "SimPIN", "PinCode", "pin_code", "UserPIN", "AdminPin",
    "WifiPassphrase", "wlan.passphrase", "PassWord", "pass_phrase", "Passwd", "vpn_pwd", "ftpPw", "WPAPSK",
    "wpa2_psk", "Wifi-PSK", "VpnPsk", "ClientSecret", "shared_secret", "SECRET", "AccessToken", "auth_token",
    "BearerToken", "ApiKey", "api_key", "PrivateKey", "SecretKey", "EncryptionKey", "NetworkKey", "WifiKey",
    "Credentials", "UserCredentials", "wifi_psk_hex", "Password2", "PasswordValue", "PasswordHash", "puk",
    "SimPuk", "ocpp_wachtwoord", "Kennwort", "MasterPassCode", "WIFIPASSWORD", "gsmApnPassword",
]

LOOK_ALIKES = [
    "GetConfigurationMaxKeys", "AuthorizeRemoteTxRequests", "LocalAuthorizeOffline", "AuthorizationCacheEnabled",
    "PinningEnabled", "MeterValuesSampledData", "SpinDelay", "ChargingScheduleAllowedChargingRateUnit",
    "TokenType", "idToken", "groupIdToken", "AdditionalInfoItemsPerMessage", "MasterPassGroupId", "AuthCtrlr",
    "AuthEnabled", "PasswordMinLength", "PasswordEnabled", "PskIdentity", "AuthorizationKeyLength",
    "configurationKey", "unknownKey", "key", "value", "RelayPin", "LedPin", "apnUserName", "apnAuthentication",
    "Identity", "issuerKeyHash", "PublicKey", "ErrorCode", "vendorErrorCode", "password_bytes", "password_kind",
    "BypassMode", "WebSocketPingInterval", "SecurityProfile", "CpoName", "TokenReaderEnabled", "Mapping",
    "Shipping", "PingInterval", "StopTransactionOnInvalidId", "AllowOfflineTxForUnknownId", "KeyboardLayout",
    "OrganizationName", "CertificateEntries", "SecretsRotationInterval", "Keys", "reservationId", "ssid",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_names_that_say_secret_are_secret(name: str) -> None:
    assert looks_secret(name)
    assert may_name_secret(name) and may_name_secret(f'{{"{name}": 1}}'.encode())


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_look_alikes_stay_visible(name: str) -> None:
    assert not looks_secret(name)


def _reference_keys() -> list[str]:
    return [entry["key"] for entry in json.loads(REFERENCE.read_text(encoding="utf-8"))["keys"]]


def test_every_standard_1_6_key_but_the_authorization_key_stays_visible() -> None:
    keys = _reference_keys()
    assert len(keys) >= 50
    assert [key for key in keys if looks_secret(key)] == ["AuthorizationKey"]


def _bundled_keys() -> Iterator[tuple[str, str, bool]]:
    library = ProfileLibrary(include_user=False)
    for profile_id, profile in library.all().items():
        for spec in profile.keys.values():
            yield profile_id, spec.name, spec.secret
            for option in (*spec.options, *spec.fields):
                yield profile_id, option.name, option.name.casefold() == "password"


def test_the_vendor_dictionaries_are_visible_but_for_their_secrets() -> None:
    # ECClite User Guide dictionary, Ecotap connection guide (CPA and EVC keys), AC wallbox overview, Zaptec.
    rows = list(_bundled_keys())
    assert len(rows) > 100
    wrong = [(profile, name) for profile, name, secret in rows if looks_secret(name) != secret]
    assert wrong == []
    assert {"chg_Debug", "com_Options", "com_OCPPID", "gsm_APN", "eth_cfg", "useTLS"} <= {n for _, n, _ in rows}


def test_placeholders_are_not_secrets() -> None:
    for value in ("", "   ", "*****", "••••", "hidden", "<redacted kind=text bytes=4>",
                  "<redacted kind=hex-text bytes=40 hmac=0011223344556677>"):
        assert is_masked(value), value
    for value in ("xxxx", "1234", "NL*ECO*1000:53Umkk1q7rEM", "####"):
        assert not is_masked(value), value


def secrets_of(payload: object) -> list[tuple[str, str]]:
    return [(found.name, found.secret) for found in find_secrets(payload)]


def test_secrets_are_found_in_every_shape_they_travel_in() -> None:
    assert secrets_of({"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                                            {"key": "Cfg_UserPin", "readonly": False, "value": "4711"},
                                            {"key": "WiFiPassword", "readonly": True, "value": "*****"}]}) == [
        ("Cfg_UserPin", "4711")]
    assert secrets_of({"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "wl4n-pa55",
                                              "component": {"name": "NetworkCtrlr"},
                                              "variable": {"name": "WifiPassphrase"}}]}) == [
        ("WifiPassphrase", "wl4n-pa55")]
    assert secrets_of({"apn": {"apn": "m2m", "apnUserName": "u", "apnPassword": "Apn-Pw", "simPin": 1234}}) == [
        ("apnPassword", "Apn-Pw"), ("simPin", "1234")]
    assert secrets_of({"key": "com_Options", "value": "Events=1,authorizationKey=NL*ECO*1000:53Umkk1q7rEM,useTLS=1"}
                      ) == [("authorizationKey", "NL*ECO*1000:53Umkk1q7rEM")]
    assert secrets_of({"vendorId": "V", "data": json.dumps({"wifi": {"ssid": "site", "psk": "Ps-K3y!"}})}) == [
        ("psk", "Ps-K3y!")]
    assert secrets_of({"vendorId": "V", "data": "ssid=site;wifi_psk=Ps-K3y!;channel=6"}) == [("wifi_psk", "Ps-K3y!")]
    assert secrets_of({"idToken": {"idToken": "04A2B3C4D5", "type": "ISO14443"}, "key": "TokenType"}) == []


@pytest.mark.parametrize(("template", "secret"), [
    ('[2,"1","ChangeConfiguration",{"key":"Cfg_UserPin","value":"%s"}]', "4711"),
    ('[3,"2",{"configurationKey":[{"key":"wifi_psk","readonly":false,"value":"%s"}]}]', "Wl4n-Passphrase"),
    ('[2,"3","SetVariables",{"setVariableData":[{"attributeValue":"%s","component":{"name":"NetworkCtrlr"},'
     '"variable":{"name":"ApnPass"}}]}]', "ApnSecret-9"),
    ('[2,"4","DataTransfer",{"vendorId":"V","data":"gsm_pin=%s,apn=m2m"}]', "8642"),
    ('[2,"5","ChangeConfiguration",{"key":"AUTH_KEY","value":"%s"', "Br0kenFrameKey"),  # not valid JSON
])
def test_vendor_secrets_are_redacted_in_frames(template: str, secret: str) -> None:
    frame = (template % secret).encode()
    redacted = Redactor(SALT).frame(frame)
    assert redacted is not None and secret.encode() not in redacted and b"<redacted kind=" in redacted
    assert redacted.replace(b"<redacted", b"") != frame


def test_a_numeric_sim_pin_becomes_a_marker() -> None:
    frame = b'[2,"6","SetNetworkProfile",{"configurationSlot":1,"connectionData":{"apn":{"apn":"m2m","simPin":1234}}}]'
    redacted = Redactor(SALT).frame(frame)
    assert redacted is not None and b"1234" not in redacted
    assert orjson.loads(redacted)[3]["connectionData"]["apn"]["simPin"].startswith("<redacted kind=text bytes=4 ")


def test_frames_with_look_alikes_only_are_left_alone() -> None:
    redactor = Redactor(SALT)
    for frame in (
        b'[3,"1",{"configurationKey":[{"key":"GetConfigurationMaxKeys","readonly":true,"value":"20"},'
        b'{"key":"AuthorizeRemoteTxRequests","readonly":false,"value":"true"}]}]',
        b'[2,"2","Authorize",{"idToken":{"idToken":"04A2B3C4D5","type":"ISO14443"}}]',
        b'[3,"3",{"configurationKey":[{"key":"AuthorizationKey","readonly":false,"value":"********"}]}]',
        b'[3,"4",{"configurationKey":[{"key":"AuthorizationKey","readonly":false,"value":""}]}]',
    ):
        assert redactor.frame(frame) is None, frame


def test_findings_lose_secrets_but_keep_the_rest() -> None:
    message = ("ChangeConfiguration com_Options = 'Events=1,authorizationKey=ECOTAP-1802500:9N8gGyS8Un7g4lY9dRICK,"
               "useTLS=1': 'Turbo' is not one of its options")
    evidence = {"key": "com_Options", "value": "Events=1,authorizationKey=ECOTAP-1802500:9N8gGyS8Un7g4lY9dRICK",
                "nested": {"wifi_psk": "Wl4n-Pass", "simPin": 1234, "count": 3}, "profile": "ecotap-evc5"}
    new_message, new_evidence = scrub_finding(message, evidence)
    for text in (new_message, orjson.dumps(new_evidence).decode()):
        assert "9N8gGyS8Un7g4lY9dRICK" not in text and "Wl4n-Pass" not in text and "1234" not in text
    assert "ECOTAP-1802500:<redacted kind=text bytes=21>" in new_message and "'Turbo'" in new_message
    assert new_evidence["nested"]["count"] == 3 and new_evidence["profile"] == "ecotap-evc5"
    plain = {"message_id": "abc", "latency": 1.5}
    assert scrub_finding("answer came 40.0 s after the CALL", plain) == ("answer came 40.0 s after the CALL", plain)
    assert scrub_finding("x", plain)[1] is plain


def test_a_profile_declares_names_that_say_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "_DECLARED", set())
    monkeypatch.setattr(secrets, "_needles", secrets._NEEDLES)
    secrets.looks_secret.cache_clear()
    try:
        assert not looks_secret("gsm_Cfg3")
        (tmp_path / "site.toml").write_text('extends = "ecotap-evc5"\nsecret_names = ["gsm_Cfg3", "x_Zugang"]\n',
                                            encoding="utf-8")
        profile = ProfileLibrary([tmp_path], include_user=False).get("site")
        assert profile.secret_names == ("gsm_Cfg3", "x_Zugang")
        assert "authorizationKey" in profile.secrets  # the keys marked secret count too
        assert looks_secret("gsm_Cfg3") and looks_secret("GSM_CFG3") and looks_secret("x_zugang")
        frame = b'[2,"1","ChangeConfiguration",{"key":"gsm_Cfg3","value":"m2m,user,Sim-Secret"}]'
        redacted = Redactor(SALT).frame(frame)
        assert redacted is not None and b"Sim-Secret" not in redacted
    finally:
        secrets.looks_secret.cache_clear()


def test_the_bundled_profiles_parse_with_the_new_field() -> None:
    assert BUNDLED_DIR.is_dir()
    for profile in ProfileLibrary(include_user=False).all().values():
        assert isinstance(profile.secret_names, tuple)

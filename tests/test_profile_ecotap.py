"""Every constraint the Ecotap profiles state (the OCPP connection configuration guide v1.4 in English and French,
the ECClite User Guide), triggered by real traffic, and the documents' own correct examples passing clean."""

from __future__ import annotations

import pytest
from ocppscope.proxy.core.events import ConnectionOpened, TlsInfo

from tests.test_profile_support import boot, call, change, only, reported, rules_of, run
from tests.traffic import Wire, analyze

# (profile, key, value, rule, words the message must contain)
CHANGES = [
    # -- ecotap-cpa (Ecotap OCPP connection configuration v1.4 §A) --
    ("ecotap-cpa", "BackOffice-URL", "www.example.com", "config.bad-format", "ws:// or wss://"),
    ("ecotap-cpa", "BackOffice-URL", "ws://www.example.com:80", "config.bad-format", "port key"),
    ("ecotap-cpa", "BackOffice-URL", "ws://www.example.com/ocpp1.6", "config.bad-format", "path key"),
    ("ecotap-cpa", "BackOffice-Portnr", "eighty", "config.wrong-type", "whole number"),
    ("ecotap-cpa", "BackOffice-Portnr", "70000", "config.out-of-range", "1–65535"),
    ("ecotap-cpa", "BackOffice-Path", "/ocpp1.6/path", "config.bad-format", "must end with /"),
    ("ecotap-cpa", "BackOffice-Path", "ocpp1.6/path/", "config.bad-format", "must start with /"),
    ("ecotap-cpa", "AuthorizationKey", "CP01:9N8gGyS8Un7g4IY9dRIC", "config.inconsistent", "password only"),
    ("ecotap-cpa", "AuthorizationKey", "9N8gGyS8Un7g4IY9dRIC", "config.value-note", "write-only"),
    # -- the ECClite User Guide's dictionary (ch. 11), on an EVC 5.x --
    ("ecotap-evc5", "authorizationKey", "9N8gGyS8Un7g4IY9dRIC", "config.bad-format", "user:password"),
    ("ecotap-evc5", "authorizationKey", "OTHER:9N8gGyS8Un7g4IY9dRIC", "config.inconsistent", "names user 'OTHER'"),
    ("ecotap-evc5", "chg_Debug", "ctrl=8", "config.out-of-range", "levels 1–3"),
    ("ecotap-evc5", "chg_Debug", "warn=2", "config.out-of-range", "levels 1–1"),
    ("ecotap-evc5", "chg_Debug", "ctrl=high", "config.wrong-type", "whole number"),
    ("ecotap-evc5", "chg_Debug", "verbose=1", "config.bad-format", "not one of its options"),
    ("ecotap-evc5", "chg_KWH3", "EASTR_SDM72D,3,9600,X,1", "config.not-allowed", "parity"),
    ("ecotap-evc5", "chg_KWH3", "EASTR_SDM72D,3,9600,N,3", "config.not-allowed", "stop bits"),
    ("ecotap-evc5", "chg_KWH1", "EASTR_SDM72D,three,9600,N,1", "config.wrong-type", "modbus address"),
    ("ecotap-evc5", "chg_KWH2", "EASTR_SDM72D,3,9600,N,1,7", "config.bad-format", "6 comma-separated fields"),
    ("ecotap-evc5", "chg_KWH1", ",3,9600,N,1", "config.bad-format", "meter type) is empty"),
    ("ecotap-evc5", "chg_Reader1", "sl033,CH1", "config.not-allowed", "reader type"),
    ("ecotap-evc5", "chg_Reader2", "sl032,CH3", "config.not-allowed", "channel"),
    ("ecotap-evc5", "chg_MinChargingCurrent", "64", "config.out-of-range", "0–63"),
    ("ecotap-evc5", "chg_MinChargingCurrent", "6,6,6", "config.too-many-items", "at most 2"),
    ("ecotap-evc5", "chg_RatedCurrent", "16,16,16", "config.too-many-items", "at most 2"),
    ("ecotap-evc5", "chg_RatedCurrent", "16,sixteen", "config.wrong-type", "whole number"),
    ("ecotap-evc5", "chg_StationMaxCurrent", "-1", "config.out-of-range", "0 or more"),
    ("ecotap-evc5", "chg_Ch1Options", "PlugAndCharge=2", "config.not-allowed", "PlugAndCharge"),
    ("ecotap-evc5", "chg_Ch2Options", "PlugAndCharge=1,Turbo=1", "config.bad-format", "'Turbo'"),
    ("ecotap-evc5", "com_Options", "Events=1,useTLS=2", "config.not-allowed", "useTLS"),
    ("ecotap-evc5", "com_Options",
     "Events=1,BlockBeforeBoot=1,Wdt=0,updSendInIdle=0blockLgFull=0,useTLS=0,comMaster=0",
     "config.bad-format", "comma is missing before blockLgFull"),
    ("ecotap-evc5", "com_Options", "Events=1,conMaster=0", "config.bad-format", "did you mean comMaster"),
    ("ecotap-evc5", "com_Options", "Events=1,Events=0", "config.bad-format", "twice"),
    ("ecotap-evc5", "com_Endpoint", "wss://devices.ecotap.com:443/registry/ocpp/#OSN#", "config.bad-format",
     "no scheme"),
    ("ecotap-evc5", "com_Endpoint", "devices.ecotap.com/registry/ocpp/#OSN#", "config.bad-format", "no port"),
    ("ecotap-evc5", "com_Endpoint", "192.168.255.8:443:80/ocpp1.6/secured/#OSN#", "config.bad-format", "2 ports"),
    ("ecotap-evc5", "com_OCPPID", "ECOTAP-STATION-AMSTERDAM-01", "config.too-long", "at most 25"),
    ("ecotap-evc5", "com_OCPPID", "NL*ECO*1000", "config.restarts-charger", "60 s"),
    ("ecotap-evc5", "com_OCPPInfo", "modelname=DC60,vendorname=Ecotap", "config.bad-format", "lacks CpSn"),
    ("ecotap-evc5", "com_OCPPInfo", "", "config.bad-format", "hampers the connection"),
    ("ecotap-evc5", "com_OCPPInfo", "modelname=DC60-WITH-A-VERY-LONG-NAME,vendorname=Ecotap,CpSn=1891351",
     "config.too-long", "modelname"),
    ("ecotap-evc5", "com_ProtCh", "WIFI", "config.not-allowed", "GSM, ETH"),
    ("ecotap-evc5", "com_ProtType", "OCPP2.0.1J", "config.not-allowed", "OCPP1.6J"),
    ("ecotap-evc5", "com_ProtType", "LMS", "config.value-note", "stops speaking OCPP"),
    ("ecotap-evc5", "com_ProtType", "OCPP1.5J", "config.value-note", "deprecated"),
    ("ecotap-evc5", "com_ProtType", "Clear", "config.value-note", "event buffer"),
    ("ecotap-evc5", "eth_cfg", "type=auto,ip=0.0.0.0", "config.not-allowed", "static, dhcp"),
    ("ecotap-evc5", "eth_cfg", "type=static,ip=300.1.1.1", "config.bad-format", "IPv4"),
    ("ecotap-evc5", "eth_cfg", "ip=10.0.0.2", "config.bad-format", "lacks type"),
    ("ecotap-evc5", "grid_InstallationMaxcurrent", "10000", "config.out-of-range", "0–9999"),
    ("ecotap-evc5", "grid_InstallationSaveCurrent", "10000", "config.out-of-range", "0–9999"),
    ("ecotap-evc5", "grid_Role", "Supervisor", "config.not-allowed", "Station_ctrl"),
    ("ecotap-evc5", "gsm_APN", "a" * 40 + ",,", "config.too-long", "at most 39"),
    ("ecotap-evc5", "gsm_APN", "m2mservices," + "u" * 25 + ",", "config.too-long", "at most 24"),
    ("ecotap-evc5", "gsm_APN", "m2mservices,user," + "p" * 25, "config.too-long", "password"),
    ("ecotap-evc5", "gsm_Oper", "2040", "config.bad-format", "LLLXX"),
    ("ecotap-evc5", "gsm_Options", "noSmsChk=0,AutoAPN=2", "config.not-allowed", "AutoAPN"),
    ("ecotap-evc5", "gsm_SigQ", "20", "config.read-only", "read-only"),
    ("ecotap-evc5", "com_OCPCID", "NL*ECO*1000", "config.unlisted-key", "did you mean com_OCPPID"),
    # -- EVC 4.x (Ecotap OCPP connection configuration v1.4 §B) --
    ("ecotap-evc4", "com_OCPPID", "TEST-OCPPID", "config.unsupported-key", "com_OCPCPID"),
    ("ecotap-evc4", "com_OCPCPID", "ECOTAP-STATION-AMSTERDAM-01", "config.too-long", "com_OCPCPID holds"),
    ("ecotap-evc4", "com_OCPCPID", "TEST-OCPCPID", "config.restarts-charger", "60 s"),
    ("ecotap-evc4", "com_Options",
     "Events=1,BlockBeforeBoot=1,Wdt=0,updSendInIdle=0,blockLgFull=0,useTLS=1,comMaster=0",
     "config.not-allowed", "does not support secured WebSocket"),
]


@pytest.mark.parametrize(("profile", "key", "value", "rule_id", "words"), CHANGES,
                         ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in CHANGES])
def test_each_stated_constraint_is_checked(profile: str, key: str, value: str, rule_id: str, words: str) -> None:
    found = run(profile, lambda w: change(w, key, value, status=None))
    hits = only(found, rule_id)
    assert hits, rules_of(found)
    assert any(words in f.message for f in hits), [f.message for f in hits]


# The vendor documents' own correct values, key by key (ECClite User Guide ch. 11 examples, Ecotap OCPP connection
# configuration v1.4 settings).
CLEAN = [
    ("ecotap-cpa", "BackOffice-URL", "ws://www.example.com"),
    ("ecotap-cpa", "BackOffice-URL", "wss://192.168.255.8"),
    ("ecotap-cpa", "Backoffice-Portnr", "80"),
    ("ecotap-cpa", "BackOffice-Portnr", "443"),
    ("ecotap-cpa", "Backoffice-Path", "/ocpp1.6/path/"),
    ("ecotap-cpa", "BackOffice-Path", "/ocpp1.6/secured/"),
    ("ecotap-evc5", "chg_Debug", "warn=1,error=1,date=1,syslog=0,gsm=1,events=1,com=0,ocpp=0,eth=0,grid=0,ctrl=3,"
                                 "general=3, sensors=0,fw=0,modbus=0,canbus=0,sys=0"),
    ("ecotap-evc5", "chg_KWH3", "EASTR_SDM72D,3,9600,N,1"),
    ("ecotap-evc5", "chg_Reader1", "sl032,CH1"),
    ("ecotap-evc5", "chg_Reader2", "sl032,CH2"),
    ("ecotap-evc5", "chg_Reader1", "sl032,any"),
    ("ecotap-evc5", "chg_Reader2", "none,CH2"),
    ("ecotap-evc5", "chg_MinChargingCurrent", "6"),
    ("ecotap-evc5", "chg_RatedCurrent", "16,16"),
    ("ecotap-evc5", "chg_StationMaxCurrent", "25"),
    ("ecotap-evc5", "chg_Ch1Options", "PlugAndCharge=0,OvercurrentSens=0,StopOnChargeComplete=0, "
                                      "OfflineStopOnDisconnect=0, StopOnLowCosphi=0, Rel2OnLowCosphi=0"),
    ("ecotap-evc5", "com_Options", "Events=1,BlockBeforeBoot=1,Wdt=0,updSendInIdle=0,blockLgFull=0,useTLS=0,"
                                   "comMaster=0"),
    ("ecotap-evc5", "com_Endpoint", "ws.evc.net:80/#SN#"),
    ("ecotap-evc5", "com_Endpoint", "www.example.com:80/ocpp1.6/path/#OSN#"),
    ("ecotap-evc5", "com_Endpoint", "devices.ecotap.com:443/registry/ocpp/#OSN#"),
    ("ecotap-evc5", "com_OCPPInfo", "modelname=ECC-AC,vendorname=Ecotap,CpSn=G48229*1"),
    ("ecotap-evc5", "com_OCPPInfo", "modelName=DC60,vendorname=Ecotap,CpSn=1891351"),
    ("ecotap-evc5", "com_ProtCh", "GSM"),
    ("ecotap-evc5", "com_ProtCh", "ETH"),
    ("ecotap-evc5", "com_ProtType", "OCPP1.6J"),
    ("ecotap-evc5", "eth_cfg", "Type=dhcp,ip=0.0.0.0,netmask=0.0.0.0,dns=0.0.0.0,gw=0.0.0.0"),
    ("ecotap-evc5", "grid_InstallationMaxcurrent", "250"),
    ("ecotap-evc5", "grid_InstallationSaveCurrent", "100"),
    ("ecotap-evc5", "grid_Role", "Station_ctrl"),
    ("ecotap-evc5", "gsm_APN", "m2mservices,,"),
    ("ecotap-evc5", "gsm_Oper", "0"),
    ("ecotap-evc5", "gsm_Oper", "20404"),
    ("ecotap-evc5", "gsm_Options", "noSmsChk=0,AutoAPN=0,3G4G=0"),
    ("ecotap-evc4", "com_OCPCPID", "TEST-OCPCPID"),
    ("ecotap-evc4", "com_Options", "Events=1,BlockBeforeBoot=1,Wdt=0,updSendInIdle=0,blockLgFull=0,useTLS=0,"
                                   "conMaster=0".replace("conMaster", "comMaster")),
    ("ecotap-ecclite", "com_OCPPID", "EcotapTestID"),
]


@pytest.mark.parametrize(("profile", "key", "value"), CLEAN, ids=[f"{c[0]}-{c[1]}" for c in CLEAN])
def test_seed_examples_pass_clean(profile: str, key: str, value: str) -> None:
    found = run(profile, lambda w: change(w, key, value))
    noisy = [f for f in found if f.severity >= 20 and f.rule != "config.restarts-charger"]
    assert noisy == [], [f.message for f in noisy]


def test_the_seeds_authorization_key_examples() -> None:
    # ECClite User Guide ch. 11: ECOTAP-1802500:9N8gGyS8Un7g4lY9dRICK (user = the charger's OCPP id);
    # Ecotap OCPP connection configuration v1.4 §C
    found = run("ecotap-evc5", lambda w: change(w, "authorizationKey", "ECOTAP-1802500:9N8gGyS8Un7g4lY9dRICK"),
                charger="ECOTAP-1802500")
    assert rules_of(found) == ["config.value-note"]
    assert "9N8g" not in " ".join(f.message + str(f.evidence) for f in found)  # never the password
    found = run("ecotap-cpa", lambda w: change(w, "AuthorizationKey", "9N8gGyS8Un7g4IY9dRIC"), charger="TEST-OCPPID")
    assert rules_of(found) == ["config.value-note"]


def test_key_only_used_over_tls_on_ecclite_controllers() -> None:
    def script(w: Wire) -> None:
        reported(w, {"com_Options": "Events=1,useTLS=0"})
        change(w, "authorizationKey", "CP01:secret-password")

    hits = only(run("ecotap-evc5", script), "config.inconsistent")
    assert [h.message.split(": ", 1)[1] for h in hits] == \
        ["authorizationKey is only used over wss:// on ecotap-evc5, and TLS is off"]
    assert only(run("ecotap-evc4", script), "config.inconsistent") == []  # reading: EVC 4.x has no TLS at all


def test_use_tls_against_the_port() -> None:
    def tls_on_port_80(w: Wire) -> None:
        change(w, "com_Endpoint", "www.example.com:80/ocpp1.6/path/#OSN#")
        change(w, "com_Options", "Events=1,useTLS=1")

    hits = only(run("ecotap-evc5", tls_on_port_80), "config.inconsistent")
    assert len(hits) == 1 and "useTLS asks for wss but the port is 80" in hits[0].message

    def plain_on_port_443(w: Wire) -> None:
        reported(w, {"com_Options": "Events=1,UseTLS=0"})
        change(w, "com_Endpoint", "devices.ecotap.com:443/registry/ocpp/#OSN#")

    hits = only(run("ecotap-evc5", plain_on_port_443), "config.inconsistent")
    assert len(hits) == 1 and "asks for ws but the port is 443" in hits[0].message

    def cpa_wss_on_80(w: Wire) -> None:
        change(w, "BackOffice-URL", "wss://192.168.255.8")
        change(w, "BackOffice-Portnr", "80")

    assert len(only(run("ecotap-cpa", cpa_wss_on_80), "config.inconsistent")) == 1


def test_identity_change_leaves_the_key_naming_the_old_identity() -> None:
    def script(w: Wire) -> None:
        change(w, "authorizationKey", "CP01:secret-password")
        change(w, "com_OCPPID", "NL*ECO*1000")

    hits = only(run("ecotap-evc5", script), "config.inconsistent")
    assert len(hits) == 1 and "still names user 'CP01'" in hits[0].message


def test_get_configuration_of_the_write_only_key() -> None:
    found = run("ecotap-cpa", lambda w: call(w, "GetConfiguration", {"key": ["AuthorizationKey", "OCPPID"]}))
    assert rules_of(found) == ["config.write-only"]


def test_gsm_signal_quality_reported() -> None:
    weak = run("ecotap-evc5", lambda w: reported(w, {"gsm_SigQ": "5"}, readonly={"gsm_SigQ": True}))
    assert [(f.rule, str(f.severity)) for f in weak if f.rule != "profile.selected"] == \
        [("config.value-note", "warning")]
    unknown = run("ecotap-evc5", lambda w: reported(w, {"gsm_SigQ": "99"}, readonly={"gsm_SigQ": True}))
    assert [(f.rule, str(f.severity)) for f in unknown if f.rule != "profile.selected"] == \
        [("config.value-note", "info")]
    impossible = run("ecotap-evc5", lambda w: reported(w, {"gsm_SigQ": "150"}, readonly={"gsm_SigQ": True}))
    assert rules_of(impossible) == ["profile.firmware-disagrees"]


def test_broken_settings_found_in_get_configuration() -> None:
    found = run("ecotap-evc5", lambda w: reported(w, {"com_Endpoint": "192.168.255.8:443:80/ocpp1.6/secured/#OSN#",
                                                      "com_OCPPInfo": ""}))
    messages = [f.message for f in only(found, "config.bad-format")]
    assert any("current setting" in m and "2 ports" in m for m in messages)
    assert any("lacks modelname, vendorname, CpSn" in m for m in messages)


def test_wiped_ocpp_info_shows_in_the_boot_notification() -> None:
    found = run(None, lambda w: boot(w, vendor="Ecotap", model="", serial="1891351"))
    hits = only(found, "profile.boot-field")
    assert len(hits) == 1 and "chargePointModel" in hits[0].message and "com_OCPPInfo" in hits[0].message


def test_evc4_has_no_tls() -> None:
    wire = Wire("CP01", opened=False)
    wire.events.append(ConnectionOpened("c1", 1.0, "10.0.0.9:5000", "/ocpp/CP01",
                                        (("Host", "backend.example.com:443"),), subprotocol="ocpp1.6",
                                        client_tls=TlsInfo(version="TLSv1.2"), seq=1))
    from tests.test_profile_support import checker

    found = analyze(wire.events, [checker("CP01=ecotap-evc4")])
    assert [f.rule for f in found if f.rule != "profile.selected"] == ["profile.firmware-disagrees"]
    assert "no TLS" in found[-1].message


def test_identity_longer_than_the_ocpp_id_key_holds() -> None:
    found = run("ecotap-evc5", lambda w: None, charger="ECOTAP-STATION-AMSTERDAM-01")
    assert rules_of(found) == ["profile.identity"]


def test_endpoint_settings_that_point_elsewhere() -> None:
    def script(w: Wire) -> None:
        reported(w, {"com_Endpoint": "new.example.com:80/ocpp/#OSN#", "com_OCPPID": "CP01",
                     "com_Options": "Events=1,useTLS=0"})

    hits = only(run("ecotap-evc5", script), "config.endpoint-mismatch")
    assert len(hits) == 1
    assert hits[0].evidence["configured"] == "ws://new.example.com:80/ocpp/CP01"
    assert "host: the configuration says new.example.com, the charger connected to 127.0.0.1" in hits[0].message

    def matching(w: Wire) -> None:
        reported(w, {"com_Endpoint": "127.0.0.1:9000/ocpp/#OSN#", "com_OCPPID": "CP01",
                     "com_Options": "Events=1,useTLS=0"})

    assert only(run("ecotap-evc5", matching), "config.endpoint-mismatch") == []


def test_charger_answer_contradicting_the_profile() -> None:
    found = run("ecotap-evc4", lambda w: change(w, "com_OCPPID", "X", status="Accepted"))
    assert rules_of(found) == ["config.unsupported-key", "profile.firmware-disagrees"]
    found = run("ecotap-evc5", lambda w: change(w, "com_ProtType", "OCPP1.6J", status="NotSupported"))
    assert rules_of(found) == ["profile.firmware-disagrees"]
